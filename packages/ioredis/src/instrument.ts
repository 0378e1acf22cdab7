import * as diagnosticsChannel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { type Context, context as contextApi } from '@opentelemetry/api';
import {
  createOperationRecorder,
  type Endpoint,
  isChannelTracingSuppressed,
  type OperationRecorder,
  type OperationToken,
  type RedisotelError,
  type RedisReply,
  registerChannelInstrumentation,
} from '@redisotel/core-hooks';
import {
  configuredEndpoint,
  describeClient,
  detectClient,
  FIRST_VERSION_WITH_CHANNELS,
  versionAtLeast,
} from './describe.js';
import { isReplyError, toRedisotelError } from './errors.js';
import type { IoredisCluster, IoredisRedis } from './internal-types.js';
import { normalizeReply } from './reply.js';
import { dialObserved, socketBaselines } from './shared-state.js';
import type { InstrumentIoredisOptions, IoredisClient, IoredisInstrumentation } from './types.js';

/** The context ioredis publishes on `ioredis:command` (built/tracing.d.ts `CommandTraceContext`). */
interface CommandContext {
  readonly command: string;
  readonly args: string[];
  readonly database: number;
  readonly serverAddress: string;
  readonly serverPort: number | undefined;
  result?: unknown;
  error?: unknown;
}

/** The context of `ioredis:batch` (`BatchOperationContext`): `multi().exec()` only. */
interface BatchContext {
  readonly batchMode: 'MULTI';
  readonly batchSize: number;
  readonly database: number;
  readonly serverAddress: string;
  readonly serverPort: number | undefined;
  result?: unknown;
  error?: unknown;
}

/** The context of `ioredis:connect` (`ConnectTraceContext`). */
interface ConnectContext {
  readonly serverAddress: string;
  readonly serverPort: number | undefined;
  readonly connectionEpoch: number;
  error?: unknown;
}

/** A command seen on `ioredis:command`, waiting for the end of its synchronous run to be classified. */
interface Seen {
  readonly context: CommandContext;
  readonly parent: Context;
  readonly socket: Socket | undefined;
  /** `socket.bytesWritten` when the start event fired. */
  readonly bytes: number;
  /** What the command is recorded as, once classified. */
  token?: OperationToken;
  group?: PipelineGroup;
  /** The command settled before it was classified (rejected synchronously). */
  settled?: boolean;
}

interface PipelineGroup {
  token: OperationToken | undefined;
  pending: number;
  failed: number;
  error?: RedisotelError;
  peer?: Endpoint;
}

interface OpenBatch {
  readonly context: BatchContext;
  readonly parent: Context;
  readonly commands: CommandContext[];
  token?: OperationToken;
}

type Handlers<T> = {
  start?(message: T): void;
  end?(message: T): void;
  asyncStart?(message: T): void;
  asyncEnd?(message: T): void;
  error?(message: T): void;
};

interface TracingChannelLike<T> {
  subscribe(handlers: Handlers<T>): void;
  unsubscribe(handlers: Handlers<T>): boolean;
}

const tracingChannel = (
  diagnosticsChannel as unknown as { tracingChannel?: <T>(name: string) => TracingChannelLike<T> }
).tracingChannel;

/**
 * Record the commands the application sends through its own ioredis client (`client.get(…)`,
 * pipelines, `multi()`), from the `diagnostics_channel` tracing channels ioredis ≥ 5.11 publishes,
 * with the same spans and metrics as {@link fromIoredis}. Nothing is patched. Commands sent through a
 * `fromIoredis` RedisLike of the same client are not recorded twice.
 *
 * ioredis publishes its events process-wide without naming the client; events are matched to
 * `client` by the server address ioredis reports (see the README for what that implies).
 *
 * @example
 * ```ts
 * const client = new Redis();
 * const instrumentation = instrumentIoredis(client);
 * await client.set('k', 'v'); // one `SET` span
 * instrumentation.disable();
 * ```
 * @throws {TypeError} when `client` is not an ioredis client or an option is invalid
 * @throws {Error} when the installed ioredis publishes no channels (before 5.11.0)
 */
export function instrumentIoredis(
  client: IoredisClient,
  options: InstrumentIoredisOptions = {},
): IoredisInstrumentation {
  const detected = detectClient(client, 'instrumentIoredis');
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`instrumentIoredis: options must be an object, received ${String(options)}`);
  }
  const { groupPipelines = true } = options;
  if (typeof groupPipelines !== 'boolean') {
    throw new TypeError(
      `instrumentIoredis: "groupPipelines" must be a boolean, received ${String(groupPipelines)}`,
    );
  }
  if (detected.version !== 'unknown' && !versionAtLeast(detected.version, FIRST_VERSION_WITH_CHANNELS)) {
    throw new Error(
      `instrumentIoredis: ioredis ${detected.version} publishes no diagnostics_channel events; ` +
        `ioredis >= ${FIRST_VERSION_WITH_CHANNELS} is needed (or use fromIoredis, which works with every 5.x and 6.x)`,
    );
  }
  if (tracingChannel === undefined) {
    throw new Error(
      'instrumentIoredis: this Node.js has no diagnostics_channel.tracingChannel (Node >= 18.19 is needed)',
    );
  }
  if (detected.version === 'unknown') {
    process.emitWarning(
      `instrumentIoredis: could not read the ioredis version; events are only published by ioredis >= ${FIRST_VERSION_WITH_CHANNELS}`,
      { code: 'REDISOTEL_IOREDIS_VERSION' },
    );
  }
  const description = describeClient(detected);
  const recorder = createOperationRecorder(options, {
    server: description.server,
    database: description.database,
    topology: description.topology,
  });
  const instrumentation = new Instrumentation(
    detected.kind,
    detected.client as IoredisRedis | IoredisCluster,
    recorder,
    groupPipelines,
    options.responseHook !== undefined,
  );
  return instrumentation.enable(tracingChannel);
}

class Instrumentation {
  readonly #kind: 'standalone' | 'cluster' | 'sentinel';
  readonly #client: IoredisRedis | IoredisCluster;
  readonly #recorder: OperationRecorder;
  readonly #groupPipelines: boolean;
  readonly #wantReplies: boolean;
  readonly #endpoint: Endpoint | undefined;
  readonly #seen = new WeakMap<object, Seen>();
  /** Commands of the current synchronous run, classified in a microtask at its end. */
  #run: Seen[] = [];
  /** `socket.bytesWritten` when the previous run was classified (or fromIoredis last wrote), per socket. */
  readonly #baseline = socketBaselines.bytes;
  /** The `multi().exec()` whose synchronous part is running (its commands are published inside it). */
  #openBatch: OpenBatch | undefined;
  readonly #batches = new WeakMap<object, OpenBatch>();
  readonly #connects = new WeakMap<object, OperationToken>();
  #nodes: Map<string, IoredisRedis> | undefined;

  constructor(
    kind: 'standalone' | 'cluster' | 'sentinel',
    client: IoredisRedis | IoredisCluster,
    recorder: OperationRecorder,
    groupPipelines: boolean,
    wantReplies: boolean,
  ) {
    this.#kind = kind;
    this.#client = client;
    this.#recorder = recorder;
    this.#groupPipelines = groupPipelines;
    this.#wantReplies = wantReplies;
    this.#endpoint = kind === 'cluster' ? undefined : configuredEndpoint((client as IoredisRedis).options);
    if (kind === 'cluster') {
      const reset = () => {
        this.#nodes = undefined;
      };
      client.on('+node', reset);
      client.on('-node', reset);
      client.on('refresh', reset);
    }
  }

  enable(factory: <T>(name: string) => TracingChannelLike<T>): IoredisInstrumentation {
    const commands = factory<CommandContext>('ioredis:command');
    const batches = factory<BatchContext>('ioredis:batch');
    const connects = factory<ConnectContext>('ioredis:connect');
    const commandHandlers: Handlers<CommandContext> = {
      start: (message) => this.#commandStart(message),
      asyncEnd: (message) => this.#commandEnd(message),
    };
    const batchHandlers: Handlers<BatchContext> = {
      start: (message) => this.#batchStart(message),
      end: (message) => this.#batchSyncEnd(message),
      asyncEnd: (message) => this.#batchEnd(message),
    };
    const connectHandlers: Handlers<ConnectContext> = {
      start: (message) => this.#connectStart(message),
      asyncEnd: (message) => this.#connectEnd(message),
    };
    commands.subscribe(commandHandlers);
    batches.subscribe(batchHandlers);
    connects.subscribe(connectHandlers);
    const unregister = registerChannelInstrumentation();
    socketBaselines.active++;
    // What was written before now is not ours to classify: start every known socket's count here.
    for (const connection of this.#connections()) {
      if (connection.stream !== undefined)
        this.#baseline.set(connection.stream, connection.stream.bytesWritten);
    }
    const stopCounting = this.#recorder.observeConnections(() => this.#connectionCounts());
    let enabled = true;
    return {
      disable: () => {
        if (!enabled) return;
        enabled = false;
        socketBaselines.active--;
        unregister();
        stopCounting();
        commands.unsubscribe(commandHandlers);
        batches.unsubscribe(batchHandlers);
        connects.unsubscribe(connectHandlers);
      },
    };
  }

  /**
   * `db.client.connection.count`: the client's ready connections (a cluster's node connections), `used`
   * while replies are awaited on them (ioredis' internal `commandQueue`), else `idle`.
   */
  #connections(): IoredisRedis[] {
    return this.#kind === 'cluster'
      ? (this.#client as IoredisCluster).nodes('all')
      : [this.#client as IoredisRedis];
  }

  #connectionCounts(): { idle: number; used: number } {
    const connections = this.#connections();
    let idle = 0;
    let used = 0;
    for (const connection of connections) {
      if (connection.status !== 'ready') continue;
      const pending = (connection as unknown as { commandQueue?: { length?: number } }).commandQueue?.length;
      if (typeof pending === 'number' && pending > 0) used++;
      else idle++;
    }
    return { idle, used };
  }

  // ---- which events are ours -------------------------------------------------------------------------

  /** The connection an event with this address belongs to, `undefined` when it is another client's. */
  #connectionFor(address: string, port: number | undefined): IoredisRedis | undefined {
    if (this.#kind !== 'cluster') {
      const endpoint = this.#endpoint!;
      return endpoint.address === address && endpoint.port === port
        ? (this.#client as IoredisRedis)
        : undefined;
    }
    if (this.#nodes === undefined) {
      this.#nodes = new Map();
      for (const node of (this.#client as IoredisCluster).nodes('all')) {
        this.#nodes.set(`${node.options.host}:${node.options.port}`, node);
      }
    }
    return this.#nodes.get(`${address}:${port}`);
  }

  #isOwnCommand(message: CommandContext, connection: IoredisRedis): boolean {
    // The connection handshake (HELLO, AUTH, SELECT, CLIENT SETNAME, the INFO ready check) runs
    // before the connection is `ready`; the application's commands only once it is.
    if (connection.status !== 'ready') return false;
    if (this.#kind === 'cluster') {
      // The periodic slot refresh (on a duplicate of a node) and the READONLY a replica connection
      // sends once ready are the cluster's own commands, not the application's.
      if (message.command === 'cluster' && /^slots$/i.test(message.args[0] ?? '')) return false;
      if (message.command === 'readonly' && message.args.length === 0) return false;
    }
    return true;
  }

  // ---- commands ----------------------------------------------------------------------------------

  #commandStart(message: CommandContext): void {
    if (isChannelTracingSuppressed() || !this.#recorder.isRecording()) return;
    const connection = this.#connectionFor(message.serverAddress, message.serverPort);
    if (connection === undefined || !this.#isOwnCommand(message, connection)) return;
    const batch = this.#openBatch;
    if (batch !== undefined) {
      // MULTI / the queued commands / EXEC of the `multi().exec()` being run: part of its one span.
      batch.commands.push(message);
      return;
    }
    const socket = connection.stream;
    const seen: Seen = {
      context: message,
      parent: contextApi.active(),
      socket,
      bytes: socket?.bytesWritten ?? 0,
    };
    this.#seen.set(message, seen);
    if (!this.#groupPipelines) {
      this.#startSingle(seen);
      return;
    }
    if (this.#run.length === 0) queueMicrotask(() => this.#classifyRun());
    this.#run.push(seen);
  }

  /**
   * Classify the commands published during one synchronous run. ioredis writes a plain command to the
   * socket before publishing its start event, while a pipeline (built/Pipeline.js) buffers its commands
   * and writes them all when the last one is sent: so a command whose start event shows no bytes
   * written on its socket since the previous event is buffered, i.e. part of a pipeline that the next
   * command that wrote bytes closes.
   */
  #classifyRun(): void {
    const run = this.#run;
    this.#run = [];
    const last = new Map<Socket | undefined, number>();
    let members: Seen[] = [];
    let membersSocket: Socket | undefined;
    const closeGroup = (closing: Seen | undefined) => {
      if (closing !== undefined) members.push(closing);
      else if (members.length > 0 && membersSocket !== undefined && members[0]!.bytes > 0) {
        // Commands that show no write on our (ready, so written-to) socket and that no write closes
        // were not written by our client: another client's with the same address (its connection
        // handshake, say). Not ours. (A socket whose counter stays 0 gives no such evidence.)
        for (const member of members) this.#seen.delete(member.context);
        members = [];
        return;
      }
      if (members.length === 1) this.#startSingle(members[0]!);
      else if (members.length > 1) this.#startPipeline(members);
      members = [];
    };
    for (const seen of run) {
      const socket = seen.socket;
      const previous = last.get(socket) ?? (socket === undefined ? undefined : this.#baseline.get(socket));
      last.set(socket, seen.bytes);
      const wrote = socket === undefined || previous === undefined || seen.bytes !== previous;
      if (members.length > 0 && socket !== membersSocket) {
        // Another node's command in between (cluster): pipelines never interleave, close what is open.
        closeGroup(undefined);
      }
      if (wrote) {
        if (members.length > 0) closeGroup(seen);
        else this.#startSingle(seen);
      } else {
        members.push(seen);
        membersSocket = socket;
      }
    }
    closeGroup(undefined);
    for (const [socket, bytes] of last) if (socket !== undefined) this.#baseline.set(socket, bytes);
  }

  #startSingle(seen: Seen): void {
    const message = seen.context;
    seen.token = this.#recorder.startCommand({
      operation: message.command,
      args: message.args,
      database: message.database,
      context: seen.parent,
    });
    if (seen.settled) this.#finishSingle(seen);
  }

  #startPipeline(members: Seen[]): void {
    const first = members[0]!;
    // A cluster's `multi().exec()` publishes no batch event (only `Redis` builds its context): its
    // MULTI … EXEC arrives as a pipeline, recorded as the transaction it is.
    const atomic =
      members.length >= 2 &&
      first.context.command === 'multi' &&
      members[members.length - 1]!.context.command === 'exec';
    const commands = (atomic ? members.slice(1, -1) : members).map((member) => ({
      name: member.context.command,
      args: member.context.args,
    }));
    const group: PipelineGroup = {
      token: this.#recorder.startBatch({
        atomic,
        commands,
        database: first.context.database,
        context: first.parent,
      }),
      pending: members.length,
      failed: 0,
    };
    for (const member of members) member.group = group;
    for (const member of members) if (member.settled) this.#finishMember(member);
  }

  #commandEnd(message: CommandContext): void {
    const seen = this.#seen.get(message);
    if (seen === undefined) return;
    if (seen.token === undefined && seen.group === undefined) {
      // Settled before its run was classified (a synchronous rejection): finish once classified.
      seen.settled = true;
      return;
    }
    if (seen.group !== undefined) this.#finishMember(seen);
    else this.#finishSingle(seen);
  }

  #finishSingle(seen: Seen): void {
    this.#seen.delete(seen.context);
    const token = seen.token;
    if (token === undefined) return;
    const message = seen.context;
    const peer = this.#peer(message);
    if (message.error !== undefined) {
      const error = toRedisotelError(message.error, message.command, this.#client.status === 'end');
      this.#recorder.end(token, peer === undefined ? { error } : { error, peer });
      return;
    }
    const reply = this.#wantReplies ? this.#reply(message) : undefined;
    this.#recorder.end(token, {
      ...(reply === undefined ? {} : { reply }),
      ...(peer === undefined ? {} : { peer }),
    });
  }

  #finishMember(seen: Seen): void {
    this.#seen.delete(seen.context);
    const group = seen.group!;
    const message = seen.context;
    if (message.error !== undefined) {
      if (isReplyError(message.error)) group.failed++;
      else group.error ??= toRedisotelError(message.error, message.command, this.#client.status === 'end');
    }
    group.peer ??= this.#peer(message);
    if (--group.pending > 0) return;
    const outcome = {
      failedCommands: group.failed,
      ...(group.error === undefined ? {} : { error: group.error }),
      ...(group.peer === undefined ? {} : { peer: group.peer }),
    };
    this.#recorder.end(group.token, outcome);
  }

  #reply(message: CommandContext): RedisReply | undefined {
    try {
      return normalizeReply(message.result, message.command.toLowerCase(), false, false);
    } catch {
      return undefined;
    }
  }

  /** The node that served: the socket's remote end (standalone, sentinel), the node (cluster). */
  #peer(message: { serverAddress: string; serverPort: number | undefined }): Endpoint | undefined {
    const connection = this.#connectionFor(message.serverAddress, message.serverPort) ?? this.#client;
    const stream = (connection as IoredisRedis).stream;
    if (stream?.remoteAddress !== undefined) {
      return stream.remotePort === undefined
        ? { address: stream.remoteAddress }
        : { address: stream.remoteAddress, port: stream.remotePort };
    }
    if (this.#kind === 'cluster') {
      return message.serverPort === undefined
        ? { address: message.serverAddress }
        : { address: message.serverAddress, port: message.serverPort };
    }
    return undefined;
  }

  // ---- MULTI ------------------------------------------------------------------------------------------

  #batchStart(message: BatchContext): void {
    if (isChannelTracingSuppressed() || !this.#recorder.isRecording()) return;
    const connection = this.#connectionFor(message.serverAddress, message.serverPort);
    // A cluster's `multi()` runs on the Cluster object; its context reports the Cluster's options.
    if (connection === undefined && this.#kind !== 'cluster') return;
    const batch: OpenBatch = { context: message, parent: contextApi.active(), commands: [] };
    this.#batches.set(message, batch);
    this.#openBatch = batch;
  }

  /** The synchronous part of `exec()` is over: its commands are known, start the one span. */
  #batchSyncEnd(message: BatchContext): void {
    const batch = this.#batches.get(message);
    if (batch === undefined) return;
    if (this.#openBatch === batch) this.#openBatch = undefined;
    const queued = batch.commands.filter(
      (command) => command.command !== 'multi' && command.command !== 'exec',
    );
    batch.token = this.#recorder.startBatch({
      atomic: true,
      ...(queued.length === message.batchSize
        ? { commands: queued.map((command) => ({ name: command.command, args: command.args })) }
        : { size: message.batchSize }),
      database: message.database,
      context: batch.parent,
    });
  }

  #batchEnd(message: BatchContext): void {
    const batch = this.#batches.get(message);
    if (batch === undefined) return;
    this.#batches.delete(message);
    const peerSource = batch.commands[0] ?? message;
    const peer = this.#peer(peerSource);
    if (message.error !== undefined) {
      const error = toRedisotelError(message.error, 'EXEC', this.#client.status === 'end');
      this.#recorder.end(batch.token, peer === undefined ? { error } : { error, peer });
      return;
    }
    const results = Array.isArray(message.result) ? (message.result as unknown[]) : [];
    let failed = 0;
    for (const entry of results) if (Array.isArray(entry) && entry[0]) failed++;
    this.#recorder.end(batch.token, { failedCommands: failed, ...(peer === undefined ? {} : { peer }) });
  }

  // ---- connections ----------------------------------------------------------------------------------

  #connectStart(message: ConnectContext): void {
    if (!this.#recorder.isRecording()) return;
    const connection = this.#connectionFor(message.serverAddress, message.serverPort);
    // Not another client's (ours is not connected while it connects), and not one whose dials a
    // fromIoredis RedisLike already records.
    if (connection === undefined || connection.status === 'ready' || dialObserved.has(connection)) return;
    const endpoint =
      this.#kind === 'cluster'
        ? { address: message.serverAddress, port: message.serverPort }
        : (this.#endpoint as Endpoint);
    const token = this.#recorder.startConnect({
      address: endpoint.address,
      ...(endpoint.port === undefined ? {} : { port: endpoint.port }),
      purpose: 'command',
      context: contextApi.active(),
    });
    if (token !== undefined) this.#connects.set(message, token);
  }

  #connectEnd(message: ConnectContext): void {
    const token = this.#connects.get(message);
    if (token === undefined) return;
    this.#connects.delete(message);
    if (message.error !== undefined) {
      this.#recorder.end(token, { error: toRedisotelError(message.error, 'CONNECT') });
    } else {
      this.#recorder.end(token);
    }
  }
}
