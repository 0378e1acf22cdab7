import * as diagnostics from 'node:diagnostics_channel';
import {
  createOperationRecorder,
  describeValue,
  type Endpoint,
  type OperationToken,
  registerChannelInstrumentation,
} from '@redisotel/core-hooks';
import { detectClient } from './client-kind.js';
import { describeClient, detectLibrary, FIRST_VERSION_WITH_CHANNELS } from './describe.js';
import { isNodeRedisReplyError, toRedisotelError } from './errors.js';
import type { ClientHandle, NodeRedisCluster, NodeRedisSentinel } from './internal-types.js';
import { normalizeReply } from './reply.js';
import { isSuppressed } from './suppress.js';
import type { InstrumentNodeRedisOptions, NodeRedisInstrumentation } from './types.js';

/** node-redis channel names (`CHANNELS` in `@redis/client/dist/lib/client/tracing`). */
export const CHANNELS = {
  command: 'node-redis:command',
  batch: 'node-redis:batch',
  connect: 'node-redis:connect',
  error: 'node-redis:error',
} as const;

interface CommandContext {
  command: string;
  args: readonly string[];
  database: number;
  serverAddress: string;
  serverPort: number | undefined;
  clientId: string;
  batchMode?: 'MULTI' | 'PIPELINE';
  batchSize?: number;
  result?: unknown;
  error?: unknown;
}

interface BatchContext {
  batchMode: 'MULTI' | 'PIPELINE';
  batchSize: number;
  database: number;
  serverAddress: string;
  serverPort: number | undefined;
  clientId: string;
  result?: unknown;
  error?: unknown;
}

interface ConnectContext {
  serverAddress: string;
  serverPort: number | undefined;
  clientId: string;
  error?: unknown;
}

type Handlers<T> = {
  start: (context: T) => void;
  end: (context: T) => void;
  asyncStart: (context: T) => void;
  asyncEnd: (context: T) => void;
  error: (context: T) => void;
};

const TOKEN = Symbol('redisotel.token');
const COUNTED = Symbol('redisotel.counted');
type Traced = { [TOKEN]?: OperationToken | undefined; [COUNTED]?: boolean };

/**
 * Application-level instrumentation: record every command your code sends through its own node-redis
 * client — standalone, cluster or sentinel — as the same spans and `db.client.operation.duration`
 * points as {@link fromNodeRedis}, from node-redis' published `diagnostics_channel` tracing channels
 * (`node-redis:command`, `node-redis:batch`, `node-redis:connect`; node-redis ≥ 5.12.0). Nothing is
 * patched. A pipeline is one span (its commands are children only with `batchCommandSpans`); a
 * `MULTI` is one span. Commands sent through a `RedisLike` made by `fromNodeRedis` on the same client
 * are skipped here (that path records them), so combining both gives one span per command.
 *
 * @example
 * ```ts
 * const client = await createClient().connect();
 * const instrumentation = instrumentNodeRedis(client);
 * await client.get('user:1'); // one CLIENT span "GET"
 * instrumentation.disable();
 * ```
 * @throws {TypeError} when `client` is not a node-redis client, an option is invalid, or the
 *   installed node-redis publishes no channels (older than 5.12.0) and `onUnsupported` is `'throw'`
 */
export function instrumentNodeRedis(
  client: unknown,
  options: InstrumentNodeRedisOptions = {},
): NodeRedisInstrumentation {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`instrumentNodeRedis: options must be an object, received ${describeValue(options)}`);
  }
  const { onUnsupported = 'throw', ...telemetryOptions } = options;
  if (onUnsupported !== 'throw' && onUnsupported !== 'warn') {
    throw new TypeError(
      `instrumentNodeRedis: "onUnsupported" must be 'throw' or 'warn', received ${describeValue(onUnsupported)}`,
    );
  }
  const handle = detectClient(client, 'instrumentNodeRedis');
  const library = detectLibrary(handle.client);
  if (!library.diagnosticsChannel || typeof diagnostics.tracingChannel !== 'function') {
    const message = `instrumentNodeRedis: the installed node-redis (redis ${library.version}) publishes no diagnostics_channel events; upgrade to redis >= ${FIRST_VERSION_WITH_CHANNELS} (or use fromNodeRedis, which works with every 5.x and 6.x)`;
    if (onUnsupported === 'throw') throw new TypeError(message);
    process.emitWarning(message, { code: 'REDISOTEL_NODE_REDIS_NO_CHANNELS' });
    return { disable() {}, enabled: false };
  }
  const description = describeClient(handle, library, {});
  const recorder = createOperationRecorder(telemetryOptions, description);
  const belongs = membership(handle);
  const server = description.server;

  // The pipeline whose synchronous part is running, per node-redis client id: its commands' start
  // events fire inside it and carry batchMode PIPELINE.
  const openPipelines = new Map<string, OperationToken | undefined>();
  const respond = typeof telemetryOptions.responseHook === 'function';

  // Operations of this client awaiting their reply, per node-redis connection: a connection with one
  // is `used`, a ready one without is `idle` (db.client.connection.count).
  const inFlight = new Map<string, number>();
  const track = (context: { clientId: string } & Traced) => {
    context[COUNTED] = true;
    inFlight.set(context.clientId, (inFlight.get(context.clientId) ?? 0) + 1);
  };
  const untrack = (context: { clientId: string } & Traced) => {
    if (context[COUNTED] !== true) return;
    context[COUNTED] = false;
    const left = (inFlight.get(context.clientId) ?? 1) - 1;
    if (left <= 0) inFlight.delete(context.clientId);
    else inFlight.set(context.clientId, left);
  };
  const stopCounting = recorder.observeConnections(() => connectionCounts(handle, inFlight));

  const commandHandlers: Handlers<CommandContext & Traced> = {
    start(context) {
      if (isSuppressed() || !belongs(context)) return;
      if (context.batchMode === 'PIPELINE') {
        const batch = openPipelines.get(context.clientId);
        if (batch === undefined) return;
        context[TOKEN] = recorder.startCommand({
          operation: context.command,
          args: context.args.slice(1),
          database: context.database,
          server,
          batch,
        });
        return;
      }
      track(context);
      context[TOKEN] = recorder.startCommand({
        operation: context.command,
        args: context.args.slice(1),
        database: context.database,
        server,
      });
    },
    end() {},
    asyncStart() {},
    asyncEnd(context) {
      untrack(context);
      const token = context[TOKEN];
      if (token === undefined) return;
      context[TOKEN] = undefined;
      if (respond) {
        let reply: ReturnType<typeof normalizeReply> | undefined;
        try {
          reply = normalizeReply(context.result, context.command);
        } catch {
          reply = undefined;
        }
        recorder.end(token, { peer: peerOf(context), ...(reply !== undefined ? { reply } : {}) });
      } else {
        recorder.end(token, { peer: peerOf(context) });
      }
    },
    error(context) {
      untrack(context);
      const token = context[TOKEN];
      if (token === undefined) return;
      context[TOKEN] = undefined;
      recorder.end(token, { error: toRedisotelError(context.error, context.command), peer: peerOf(context) });
    },
  };

  const batchHandlers: Handlers<BatchContext & Traced> = {
    start(context) {
      if (isSuppressed() || !belongs(context)) return;
      track(context);
      const token = recorder.startBatch({
        atomic: context.batchMode === 'MULTI',
        size: context.batchSize,
        database: context.database,
        server,
      });
      context[TOKEN] = token;
      if (context.batchMode === 'PIPELINE') openPipelines.set(context.clientId, token);
    },
    end(context) {
      if (context.batchMode === 'PIPELINE') openPipelines.delete(context.clientId);
    },
    asyncStart() {},
    asyncEnd(context) {
      untrack(context);
      const token = context[TOKEN];
      if (token === undefined) return;
      context[TOKEN] = undefined;
      const failedCommands = Array.isArray(context.result)
        ? context.result.filter((entry) => isNodeRedisReplyError(entry)).length
        : undefined;
      recorder.end(token, {
        peer: peerOf(context),
        ...(failedCommands !== undefined ? { failedCommands } : {}),
      });
    },
    error(context) {
      untrack(context);
      const token = context[TOKEN];
      if (token === undefined) return;
      context[TOKEN] = undefined;
      recorder.end(token, {
        error: toRedisotelError(context.error, context.batchMode),
        peer: peerOf(context),
      });
    },
  };

  const connectHandlers: Handlers<ConnectContext & Traced> = {
    start(context) {
      if (!belongs(context)) return;
      context[TOKEN] = recorder.startConnect({
        address: context.serverAddress,
        ...(context.serverPort !== undefined ? { port: context.serverPort } : {}),
        purpose: 'command',
      });
    },
    end() {},
    asyncStart() {},
    asyncEnd(context) {
      const token = context[TOKEN];
      context[TOKEN] = undefined;
      recorder.end(token);
    },
    error(context) {
      const token = context[TOKEN];
      context[TOKEN] = undefined;
      recorder.end(token, { error: toRedisotelError(context.error, 'CONNECT') });
    },
  };

  const onError = (message: unknown) => {
    const event = message as { error?: unknown; internal?: boolean; clientId?: string; origin?: string };
    if (event.internal === true || event.clientId === undefined) return;
    if (!belongs({ clientId: event.clientId, serverAddress: undefined, serverPort: undefined })) return;
    if (event.origin !== 'client') return; // socket-level failures only; command errors are on spans
    recorder.recordConnectionError(toRedisotelError(event.error, 'CONNECT'), server);
  };

  const commandChannel = diagnostics.tracingChannel(CHANNELS.command);
  const batchChannel = diagnostics.tracingChannel(CHANNELS.batch);
  const connectChannel = diagnostics.tracingChannel(CHANNELS.connect);
  commandChannel.subscribe(commandHandlers as never);
  batchChannel.subscribe(batchHandlers as never);
  connectChannel.subscribe(connectHandlers as never);
  diagnostics.subscribe(CHANNELS.error, onError);
  const unregister = registerChannelInstrumentation();

  let enabled = true;
  return {
    get enabled() {
      return enabled;
    },
    disable() {
      if (!enabled) return;
      enabled = false;
      commandChannel.unsubscribe(commandHandlers as never);
      batchChannel.unsubscribe(batchHandlers as never);
      connectChannel.unsubscribe(connectHandlers as never);
      diagnostics.unsubscribe(CHANNELS.error, onError);
      unregister();
      stopCounting();
      openPipelines.clear();
      inFlight.clear();
    },
  };
}

/**
 * `db.client.connection.count` by state: the ready connections of the client (a cluster's node and
 * pub/sub connections; a sentinel's, whose node clients are private, as one), `used` while an operation
 * recorded here awaits its reply on it, else `idle`.
 */
function connectionCounts(
  handle: ClientHandle,
  inFlight: ReadonlyMap<string, number>,
): { idle: number; used: number } {
  let idle = 0;
  let used = 0;
  const count = (ready: boolean, busy: boolean) => {
    if (!ready) return;
    if (busy) used++;
    else idle++;
  };
  switch (handle.kind) {
    case 'standalone': {
      const id = handle.client._clientId;
      count(handle.client.isReady, id !== undefined && inFlight.has(id));
      break;
    }
    case 'cluster': {
      type NodeClient = { _clientId?: string; isReady?: boolean };
      const seen = new Set<NodeClient>();
      const visit = (client: NodeClient | undefined) => {
        if (client === undefined || seen.has(client)) return;
        seen.add(client);
        count(client.isReady === true, client._clientId !== undefined && inFlight.has(client._clientId));
      };
      type WithClients = { client?: NodeClient; pubSub?: { client?: NodeClient } };
      for (const node of [...handle.client.masters, ...handle.client.replicas] as WithClients[]) {
        visit(node.client);
        visit(node.pubSub?.client);
      }
      visit((handle.client as unknown as { pubSubNode?: WithClients }).pubSubNode?.client);
      break;
    }
    case 'sentinel':
      count(handle.client.isReady, inFlight.size > 0);
      break;
  }
  return { idle, used };
}

function peerOf(context: { serverAddress: string; serverPort: number | undefined }): Endpoint {
  return context.serverPort === undefined
    ? { address: context.serverAddress }
    : { address: context.serverAddress, port: context.serverPort };
}

type Membership = (context: {
  clientId: string;
  serverAddress: string | undefined;
  serverPort: number | undefined;
}) => boolean;

/**
 * Which channel events belong to the instrumented client. Events carry node-redis' `clientId` of the
 * connection that sent them: the client's own id (standalone); a node client of the cluster
 * (re-read from the cluster's node list when an unknown id shows up); for sentinel, whose node
 * clients are private, the endpoint of its current master or replicas.
 */
function membership(handle: ClientHandle): Membership {
  switch (handle.kind) {
    case 'standalone': {
      const id = handle.client._clientId;
      return (context) => context.clientId === id;
    }
    case 'cluster':
      return clusterMembership(handle.client);
    case 'sentinel':
      return sentinelMembership(handle.client);
  }
}

function clusterMembership(cluster: NodeRedisCluster): Membership {
  let known = new Set<string>();
  const foreign = new Set<string>();
  const refresh = () => {
    const ids = new Set<string>();
    type WithClient = { client?: { _clientId?: string }; pubSub?: { client?: { _clientId?: string } } };
    for (const node of [...cluster.masters, ...cluster.replicas] as WithClient[]) {
      const id = node.client?._clientId;
      if (id !== undefined) ids.add(id);
      const pubSubId = node.pubSub?.client?._clientId;
      if (pubSubId !== undefined) ids.add(pubSubId);
    }
    const pubSubNode = (cluster as unknown as { pubSubNode?: WithClient }).pubSubNode;
    const pubSubId = pubSubNode?.client?._clientId;
    if (pubSubId !== undefined) ids.add(pubSubId);
    known = ids;
  };
  return (context) => {
    const id = context.clientId;
    if (known.has(id)) return true;
    if (foreign.has(id)) return false;
    refresh();
    if (known.has(id)) return true;
    if (foreign.size > 1024) foreign.clear();
    foreign.add(id);
    return false;
  };
}

function sentinelMembership(sentinel: NodeRedisSentinel): Membership {
  return (context) => {
    if (context.serverAddress === undefined) return false;
    try {
      const master = sentinel.getMasterNode();
      if (master && master.host === context.serverAddress && master.port === context.serverPort) return true;
      for (const replica of sentinel.getReplicaNodes().keys()) {
        if (replica.host === context.serverAddress && replica.port === context.serverPort) return true;
      }
    } catch {
      return false;
    }
    return false;
  };
}
