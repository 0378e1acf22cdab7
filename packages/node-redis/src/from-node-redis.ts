import {
  type BatchInfo,
  type BatchResult,
  type CommandInfo,
  createRedisLike,
  describeValue,
  keySlot,
  type RedisArgument,
  type RedisCommand,
  type RedisDriver,
  type RedisLike,
  type RedisReply,
  RedisReplyError,
  type RedisSubscriber,
} from '@redisotel/core-hooks';
import { type ConnectionSend, proxySend, runChain } from './batch.js';
import { detectClient } from './client-kind.js';
import { compareVersions, describeClient, detectLibrary, listNodes, standaloneEndpoint } from './describe.js';
import { type DialReporter, observeDials } from './dials.js';
import { toRedisotelError } from './errors.js';
import type { ClientHandle, NodeRedisCluster, NodeRedisCommandOptions } from './internal-types.js';
import { BINARY_MAPPING, normalizeReply, TEXT_MAPPING, toNodeRedisArgs } from './reply.js';
import { createSubscriber } from './subscriber.js';
import { suppressChannelTracing } from './suppress.js';
import type { FromNodeRedisOptions } from './types.js';

const TEXT_OPTIONS: NodeRedisCommandOptions = Object.freeze({
  typeMapping: TEXT_MAPPING,
}) as NodeRedisCommandOptions;
const BINARY_OPTIONS: NodeRedisCommandOptions = Object.freeze({
  typeMapping: BINARY_MAPPING,
}) as NodeRedisCommandOptions;

/**
 * Turn a node-redis client — `createClient()`, `createCluster()` or `createSentinel()` from `redis`
 * 5 or 6 — into a {@link RedisLike} for redisotel's building blocks, with hooks and OpenTelemetry.
 *
 * The adapter sends through the client you made and never opens connections of its own, except the
 * dedicated subscriber connection of a standalone client (`client.duplicate()`, opened on the first
 * `subscriber().subscribe…` call). It arms no timers: node-redis 6's own per-command timeout
 * (`commandOptions.timeout`, 5000 ms by default) still applies to single commands; pass `timeoutMs`
 * per call for a redisotel deadline.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { fromNodeRedis } from '@redisotel/node-redis';
 *
 * const client = await createClient({ url: 'redis://localhost:6379' }).connect();
 * const redis = fromNodeRedis(client);
 * await redis.send({ name: 'SET', args: ['greeting', 'hello'], keys: [0] });
 * ```
 * @throws {TypeError} when `client` is not a node-redis standalone, cluster or sentinel client, or
 *   an option has the wrong type (the message names it and the value received)
 */
export function fromNodeRedis(client: unknown, options: FromNodeRedisOptions = {}): RedisLike {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`fromNodeRedis: options must be an object, received ${describeValue(options)}`);
  }
  if (
    options.masterName !== undefined &&
    (typeof options.masterName !== 'string' || options.masterName === '')
  ) {
    throw new TypeError(
      `fromNodeRedis: "masterName" must be a non-empty string, received ${describeValue(options.masterName)}`,
    );
  }
  const handle = detectClient(client, 'fromNodeRedis');
  const library = detectLibrary(handle.client);
  const { masterName, ...redisLikeOptions } = options;
  const driver = createNodeRedisDriver(handle, describeClient(handle, library, { masterName }));
  return createRedisLike(driver, redisLikeOptions);
}

/** The {@link RedisDriver} over one node-redis client. */
function createNodeRedisDriver(
  handle: ClientHandle,
  description: ReturnType<typeof describeClient>,
): RedisDriver {
  let subscriber: RedisSubscriber | undefined;
  let reportDial: DialReporter | undefined;
  const standalonePeer = handle.kind === 'standalone' ? standaloneEndpoint(handle.client) : undefined;

  const useProxies = compareVersions(description.library.version, '6.0.0') >= 0;
  const send = sendFor(handle, useProxies);
  // keyPrefix exists from node-redis 6 on; redis 5 ignores the option, so must we.
  const keyPrefix = useProxies ? readKeyPrefix(handle) : undefined;

  return {
    describe: () => description,

    async send(given: RedisCommand, info: CommandInfo): Promise<RedisReply> {
      const operation = info.operation;
      const command = keyPrefix === undefined ? given : prefixCommand(given, keyPrefix);
      let reply: unknown;
      try {
        reply = await send(command);
      } catch (error) {
        info.peer = peerFor(handle, command, standalonePeer);
        throw toRedisotelError(error, operation);
      }
      info.peer = peerFor(handle, command, standalonePeer);
      return normalizeReply(reply, operation);
    },

    async batch(given: readonly RedisCommand[], info: BatchInfo): Promise<BatchResult[]> {
      if (given.length === 0) return [];
      const commands =
        keyPrefix === undefined ? given : given.map((command) => prefixCommand(command, keyPrefix));
      const operation = info.atomic ? 'MULTI' : 'PIPELINE';
      try {
        switch (handle.kind) {
          case 'standalone': {
            const client = handle.client;
            return await runChain(
              useProxies
                ? proxySend(client, suppressChannelTracing)
                : (args, options) => suppressChannelTracing(() => client.sendCommand(args, options)),
              commands,
              info.atomic,
            );
          }
          case 'cluster':
            return await clusterBatch(handle.client, commands, info.atomic, useProxies);
          case 'sentinel':
            return await handle.client.use((lease) =>
              runChain(
                (args, options) =>
                  suppressChannelTracing(() => lease.sendCommand(false, args, options), true),
                commands,
                info.atomic,
              ),
            );
        }
      } catch (error) {
        throw toRedisotelError(error, operation);
      } finally {
        info.peer = peerFor(
          handle,
          commands.find((command) => (command.keys?.length ?? 0) > 0),
          standalonePeer,
        );
      }
    },

    subscriber(): RedisSubscriber {
      subscriber ??= createSubscriber(handle, reportDial, {
        diagnosticsChannel: description.capabilities.diagnosticsChannel,
      });
      return subscriber;
    },

    nodes: () => listNodes(handle),

    observeDials(dial) {
      reportDial = dial;
      observeDials(handle, dial);
    },
  };
}

/**
 * The function that sends one command through the user's client, routed by the first key.
 *
 * node-redis 6 takes a slower path when a per-call options object carries a `typeMapping` (about 3x
 * the CPU of a bare command, measured); the `withTypeMapping()` proxies it offers for that purpose
 * keep the bare speed, so on 6 we make the two proxies (text, binary) once. node-redis 5 ignores a
 * proxy's mapping in raw `sendCommand` (it reads the base client's options) and has no such penalty,
 * so there we pass the mapping per call.
 */
function sendFor(handle: ClientHandle, useProxies: boolean): (command: RedisCommand) => Promise<unknown> {
  switch (handle.kind) {
    case 'standalone': {
      const client = handle.client;
      if (useProxies) {
        const text = client.withTypeMapping(TEXT_MAPPING);
        const binary = client.withTypeMapping(BINARY_MAPPING);
        return (command) => {
          const target = command.binary === true ? binary : text;
          const args = toNodeRedisArgs(command.name, command.args);
          return suppressChannelTracing(() => target.sendCommand(args));
        };
      }
      return (command) => {
        const args = toNodeRedisArgs(command.name, command.args);
        const options = command.binary === true ? BINARY_OPTIONS : TEXT_OPTIONS;
        return suppressChannelTracing(() => client.sendCommand(args, options));
      };
    }
    case 'cluster': {
      const cluster = handle.client;
      const text = useProxies ? cluster.withTypeMapping(TEXT_MAPPING) : cluster;
      const binary = useProxies ? cluster.withTypeMapping(BINARY_MAPPING) : cluster;
      return (command) => {
        const args = toNodeRedisArgs(command.name, command.args);
        const keyIndex = command.keys?.[0];
        const firstKey = keyIndex === undefined ? undefined : args[keyIndex + 1];
        const target = command.binary === true ? binary : text;
        const options = useProxies ? undefined : command.binary === true ? BINARY_OPTIONS : TEXT_OPTIONS;
        return suppressChannelTracing(
          () => target.sendCommand(firstKey, command.readOnly === true ? true : undefined, args, options),
          true,
        );
      };
    }
    case 'sentinel': {
      const sentinel = handle.client;
      const text = useProxies ? sentinel.withTypeMapping(TEXT_MAPPING) : sentinel;
      const binary = useProxies ? sentinel.withTypeMapping(BINARY_MAPPING) : sentinel;
      return (command) => {
        const args = toNodeRedisArgs(command.name, command.args);
        const target = command.binary === true ? binary : text;
        const options = useProxies ? undefined : command.binary === true ? BINARY_OPTIONS : TEXT_OPTIONS;
        return suppressChannelTracing(
          () => target.sendCommand(command.readOnly === true, args, options),
          true,
        );
      };
    }
  }
}

/**
 * A batch on the master of its slot. node-redis does not follow redirections inside a chain, so when
 * the slot moved (a failover, a resharding) and Redis answered `MOVED`/`ASK` for the whole batch —
 * nothing of it ran — one keyed command goes through the cluster client (which follows the redirection
 * and refreshes its slot map) and the batch runs once more on the new owner.
 */
async function clusterBatch(
  cluster: NodeRedisCluster,
  commands: readonly RedisCommand[],
  atomic: boolean,
  useProxies: boolean,
): Promise<BatchResult[]> {
  const wrap = <T>(fn: () => T): T => suppressChannelTracing(fn, true);
  const run = async () => {
    const node = await clusterNodeFor(cluster, commands);
    const connection: ConnectionSend = useProxies
      ? proxySend(node, wrap)
      : (args, options) => wrap(() => node.sendCommand(args, options));
    return runChain(connection, commands, atomic);
  };
  let redirected: boolean;
  try {
    const results = await run();
    redirected = !atomic && results.every((result) => !result.ok && isRedirection(result.error));
    if (!redirected) return results;
  } catch (error) {
    redirected =
      atomic &&
      RedisReplyError.isInstance(error) &&
      error.prefix === 'EXECABORT' &&
      isRedirection(error.cause);
    if (!redirected) throw error;
  }
  const key = firstKeyOf(commands);
  if (key !== undefined) {
    const keyArg = typeof key === 'number' ? String(key) : key;
    await suppressChannelTracing(
      () => cluster.sendCommand(keyArg, false, ['EXISTS', keyArg], { typeMapping: TEXT_MAPPING }),
      true,
    );
  }
  return run();
}

function isRedirection(error: unknown): boolean {
  return RedisReplyError.isInstance(error) && (error.prefix === 'MOVED' || error.prefix === 'ASK');
}

function firstKeyOf(commands: readonly RedisCommand[]): RedisArgument | undefined {
  for (const command of commands) {
    const index = command.keys?.[0];
    if (index !== undefined && command.args[index] !== undefined) return command.args[index];
  }
  return undefined;
}

/**
 * The client's `keyPrefix` (node-redis 6, "ioredis-compatible"): node-redis applies it in its command
 * builders but not to raw `sendCommand`, so the adapter applies it to the explicit key positions, as
 * `@redisotel/ioredis` does with ioredis' `keyPrefix`. Channels are not prefixed (as in node-redis).
 */
function readKeyPrefix(handle: ClientHandle): string | Buffer | undefined {
  let prefix: unknown;
  try {
    switch (handle.kind) {
      case 'standalone':
        prefix = (handle.client.options as { keyPrefix?: unknown } | undefined)?.keyPrefix;
        break;
      case 'cluster':
        prefix = (handle.client._options as { keyPrefix?: unknown } | undefined)?.keyPrefix;
        break;
      case 'sentinel':
        prefix = (handle.client as unknown as { _keyPrefix?: unknown })._keyPrefix;
        break;
    }
  } catch {
    return undefined;
  }
  if (typeof prefix === 'string') return prefix === '' ? undefined : prefix;
  if (Buffer.isBuffer(prefix)) return prefix.length === 0 ? undefined : prefix;
  return undefined;
}

/** `command` with `prefix` prepended to each of its key arguments. */
function prefixCommand(command: RedisCommand, prefix: string | Buffer): RedisCommand {
  const keys = command.keys;
  if (keys === undefined || keys.length === 0) return command;
  const args = [...command.args];
  for (const index of keys) {
    const key = args[index];
    if (key === undefined) continue;
    args[index] =
      typeof prefix === 'string' && typeof key !== 'object'
        ? prefix + String(key)
        : Buffer.concat([
            typeof prefix === 'string' ? Buffer.from(prefix) : prefix,
            Buffer.isBuffer(key) ? key : Buffer.from(String(key)),
          ]);
  }
  return { ...command, args };
}

/** The connection of the master that owns the batch's slot (any master for a keyless batch). */
async function clusterNodeFor(cluster: NodeRedisCluster, commands: readonly RedisCommand[]) {
  const key = firstKeyOf(commands);
  const master =
    key === undefined
      ? cluster.masters[Math.floor(Math.random() * cluster.masters.length)]
      : cluster.slots[keySlot(key)]?.master;
  if (master === undefined) {
    throw toRedisotelError(
      new Error('the cluster knows no master for this slot (is it connected?)'),
      'PIPELINE',
    );
  }
  return await cluster.nodeClient(master);
}

/**
 * The node that served a command: the configured server (standalone — node-redis does not expose
 * its socket), the slot owner after the call (cluster; keyless commands: unknown), the current
 * master (sentinel).
 */
function peerFor(
  handle: ClientHandle,
  command: RedisCommand | undefined,
  standalonePeer: { address: string; port?: number } | undefined,
): { address: string; port?: number } | undefined {
  switch (handle.kind) {
    case 'standalone':
      return standalonePeer;
    case 'cluster': {
      const index = command?.keys?.[0];
      const key = index === undefined ? undefined : command?.args[index];
      if (key === undefined) return undefined;
      const master = handle.client.slots[keySlot(key)]?.master;
      return master ? { address: master.host, port: master.port } : undefined;
    }
    case 'sentinel': {
      try {
        const master = handle.client.getMasterNode();
        return master ? { address: master.host, port: master.port } : undefined;
      } catch {
        return undefined;
      }
    }
  }
}
