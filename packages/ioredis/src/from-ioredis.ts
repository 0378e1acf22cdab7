import {
  type BatchInfo,
  type BatchResult,
  type CommandInfo,
  createRedisLike,
  type DialInfo,
  keySlot,
  type RedisArgument,
  type RedisCommand,
  RedisConnectionError,
  type RedisDescription,
  type RedisDriver,
  type RedisLike,
  type RedisNode,
  type RedisotelError,
  type RedisReply,
  RedisReplyError,
  type RedisSubscriber,
  TimerEntry,
  timeoutError,
} from '@redisotel/core-hooks';
import {
  configuredEndpoint,
  describeClient,
  detectClient,
  parseClusterNodes,
  parseStartupNode,
  splitNodeKey,
} from './describe.js';
import { isReplyError, toRedisotelError } from './errors.js';
import type {
  DetectedClient,
  IoredisCluster,
  IoredisClusterNodeTarget,
  IoredisCommand,
  IoredisCommandOptions,
  IoredisPipeline,
  IoredisRedis,
} from './internal-types.js';
import { normalizeReply } from './reply.js';
import { dialObserved, noteUntracedWrite, socketBaselines } from './shared-state.js';
import { IoredisSubscriber } from './subscriber.js';
import type { FromIoredisOptions, IoredisClient } from './types.js';

type Peer = { address: string; port?: number };
type Dial = (info: DialInfo, connected: Promise<void>) => void;

/** The options of the commands we build, by `binary` (1) and `readOnly` (2): read, never changed. */
const COMMAND_OPTIONS: readonly IoredisCommandOptions[] = [
  { replyEncoding: 'utf8', readOnly: false },
  { replyEncoding: null, readOnly: false },
  { replyEncoding: 'utf8', readOnly: true },
  { replyEncoding: null, readOnly: true },
];
const noop = () => {};
const identity = (value: unknown) => value;

/** Lower-case command names (what ioredis' name checks expect), computed once per distinct name. */
const lowerNames = new Map<string, string>();
function lowerCase(name: string): string {
  let lower = lowerNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    // Names are a small closed set in practice; the bound only guards against a caller that makes them up.
    if (lowerNames.size < 1024) lowerNames.set(name, lower);
  }
  return lower;
}

/** ioredis' `Command` with the members a subclass overrides (built/Command.js, 5.x and 6.x). */
type CommandBase = new (
  name: string,
  args?: unknown[],
  options?: IoredisCommandOptions,
) => IoredisCommand & { reject(error: unknown): void; initPromise(): void };

/** A command sent alone by {@link IoredisDriver.send}: it settles itself in the RedisLike shape. */
interface SendCommand extends IoredisCommand {
  info: CommandInfo | undefined;
  binary: boolean;
  /** The caller's command name, for error messages. */
  commandName: string;
  target: IoredisClusterNodeTarget | undefined;
  /** The caller's deadline, while armed. */
  deadline: CommandDeadline | undefined;
  reject(error: unknown): void;
}

/** A command's deadline on core-hooks' shared timer lists: rejects the command when it passes. */
class CommandDeadline extends TimerEntry {
  readonly #command: SendCommand;
  readonly #timeoutMs: number;

  constructor(command: SendCommand, timeoutMs: number) {
    super(noop, undefined);
    this.#command = command;
    this.#timeoutMs = timeoutMs;
    const now = performance.now();
    this.schedule(now + timeoutMs, now);
  }

  /** The deadline passed before the reply: the caller's promise rejects (a late reply is ignored). */
  override fire(): void {
    this.#command.reject(timeoutError(this.#timeoutMs));
  }
}
type SendCommandConstructor = new (
  name: string,
  args?: unknown[],
  options?: IoredisCommandOptions,
) => SendCommand;

/**
 * Use an ioredis client as a {@link RedisLike}: `new Redis(...)` (standalone), `new Cluster([...])`
 * or `new Redis({ sentinels, name })` (sentinel), from ioredis 5.x or 6.x. Commands go through the
 * client you made, with its options (retries, offline queue, TLS, `commandTimeout`…); the adapter opens
 * no connection itself except the subscriber connection, on the first subscription.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { fromIoredis } from '@redisotel/ioredis';
 *
 * const redis = fromIoredis(new Redis('redis://localhost:6379'));
 * await redis.send({ name: 'SET', args: ['user:1', 'Ada'], keys: [0] });
 * ```
 * @throws {TypeError} when `client` is not an ioredis client, or `options` are invalid
 */
export function fromIoredis(client: IoredisClient, options: FromIoredisOptions = {}): RedisLike {
  const detected = detectClient(client, 'fromIoredis');
  return createRedisLike(new IoredisDriver(detected), options);
}

/** The {@link RedisDriver} over one ioredis client. */
export class IoredisDriver implements RedisDriver {
  /** `send` rejects ioredis' own command when `info.deadline.timeoutMs` passes. */
  readonly enforcesDeadlines = true;
  readonly #detected: DetectedClient;
  readonly #description: RedisDescription;
  readonly #cluster: IoredisCluster | undefined;
  readonly #redis: IoredisRedis | undefined;
  #subscriber: IoredisSubscriber | undefined;
  #dial: Dial | undefined;
  /** The client decodes RESP3 with `replyMapping: 'resp3'` (objects, nested pairs, number doubles). */
  readonly #resp3: boolean;
  /** The last socket seen and its remote end, so the peer object is not rebuilt for every reply. */
  #peerSocket: unknown;
  #peer: Peer | undefined;
  /** The client's `Command` class, extended so that a single command settles in our shape. */
  readonly #SendCommand: SendCommandConstructor;
  /** The client's `keyPrefix`, applied to the keys we send (ioredis applies it only to its own methods). */
  readonly #prefix: string | undefined;

  constructor(detected: DetectedClient) {
    this.#detected = detected;
    this.#description = describeClient(detected);
    if (detected.kind === 'cluster') this.#cluster = detected.client as IoredisCluster;
    else this.#redis = detected.client as IoredisRedis;
    const options =
      this.#cluster !== undefined ? (this.#cluster.options.redisOptions ?? {}) : this.#redis!.options;
    this.#resp3 = options.protocol === 3 && options.replyMapping === 'resp3';
    const prefix = detected.client.options.keyPrefix;
    this.#prefix = typeof prefix === 'string' && prefix.length > 0 ? prefix : undefined;
    this.#SendCommand = this.#sendCommandClass(detected.Command as unknown as CommandBase);
  }

  describe(): RedisDescription {
    return this.#description;
  }

  send(command: RedisCommand, info: CommandInfo): Promise<RedisReply> {
    // One ioredis Command whose own settlement normalizes the reply, maps the error and notes the peer:
    // the caller gets ioredis' promise itself, with no `.then` wrapper per command.
    const built = this.#build(command, this.#SendCommand);
    built.info = info;
    built.binary = command.binary === true;
    built.commandName = command.name;
    const deadline = info.deadline;
    if (deadline?.timeoutMs !== undefined && deadline.signal === undefined) {
      // Rejecting ioredis' own command at the deadline, as its `commandTimeout` does: no wrapper promise.
      built.deadline = new CommandDeadline(built, deadline.timeoutMs);
    }
    const cluster = this.#cluster;
    if (cluster !== undefined) {
      const target = built.keys!.length === 0 ? this.#pickNode(cluster) : undefined;
      built.target = target;
      const promise = cluster.sendCommand(built, undefined, target);
      if (socketBaselines.active > 0 && target !== undefined) noteUntracedWrite(target.redis.stream);
      return promise as Promise<RedisReply>;
    }
    const redis = this.#redis!;
    const promise = redis.sendCommand(built);
    if (socketBaselines.active > 0) noteUntracedWrite(redis.stream);
    return promise as Promise<RedisReply>;
  }

  async batch(commands: readonly RedisCommand[], info: BatchInfo): Promise<BatchResult[]> {
    if (commands.length === 0) return [];
    const client = this.#detected.client;
    const pipeline = client.pipeline() as IoredisPipeline;
    const built = commands.map((command) => this.#build(command));
    let multi: IoredisCommand | undefined;
    if (info.atomic) {
      multi = this.#control('multi');
      // As Pipeline#multi does: MULTI and the queued commands are "in transaction", EXEC is not.
      multi.inTransaction = true;
      pipeline.sendCommand(multi);
    }
    for (const command of built) {
      pipeline.sendCommand(command);
      if (info.atomic) command.inTransaction = true;
    }
    if (info.atomic) pipeline.sendCommand(this.#control('exec', null));
    let target: IoredisClusterNodeTarget | undefined;
    if (this.#cluster !== undefined && built.every((command) => command.keys!.length === 0)) {
      target = this.#pickNode(this.#cluster);
      if (target !== undefined) pipeline.preferKey = nodeKeyOf(target.redis);
    }
    const firstName = commands[0]!.name;
    // The batch's slot (checked by core) is that of any command with keys.
    const keyed = built.find((command) => command.keys!.length > 0) ?? built[0]!;
    let raw: Array<[Error | null, unknown]> | null;
    try {
      const executed = pipeline.exec();
      if (socketBaselines.active > 0) {
        noteUntracedWrite(target !== undefined ? target.redis.stream : this.#redis?.stream);
      }
      raw = await executed;
    } catch (error) {
      info.peer = this.#peerOf(keyed, target);
      throw toRedisotelError(error, info.atomic ? 'EXEC' : firstName, this.#ended());
    }
    info.peer = this.#peerOf(keyed, target);
    if (raw === null) throw new RedisConnectionError('The pipeline got no reply', 'CONNECTION_CLOSED');
    const resp3 = this.#resp3;
    if (!info.atomic) {
      return raw.map(([error, value], i) => this.#result(error, value, commands[i]!, built[i]!, resp3));
    }
    return this.#transactionResults(raw, commands, built, resp3);
  }

  subscriber(): RedisSubscriber {
    this.#subscriber ??= new IoredisSubscriber(
      this.#detected,
      this.#dial === undefined ? undefined : (connection, purpose) => this.#watchDials(connection, purpose),
    );
    return this.#subscriber;
  }

  async nodes(): Promise<RedisNode[]> {
    const { kind } = this.#detected;
    if (kind === 'cluster') {
      const cluster = this.#cluster!;
      const command = this.#control('cluster', 'utf8', ['NODES']);
      let text: unknown;
      try {
        text = await cluster.sendCommand(command, undefined, this.#pickNode(cluster));
      } catch (error) {
        throw toRedisotelError(error, 'CLUSTER', this.#ended());
      }
      return parseClusterNodes(String(text)).map((node) => this.#natMapped(node));
    }
    const redis = this.#redis!;
    if (kind === 'standalone') {
      const endpoint = configuredEndpoint(redis.options);
      return [{ address: endpoint.address, port: endpoint.port ?? 0, role: 'master' }];
    }
    // Sentinel: the master this client is connected to, its replicas from ROLE, the known sentinels.
    let role: unknown;
    try {
      role = await redis.sendCommand(this.#control('role'));
    } catch (error) {
      throw toRedisotelError(error, 'ROLE', this.#ended());
    }
    const nodes: RedisNode[] = [];
    const connected = this.#socketPeer(redis);
    if (Array.isArray(role) && role[0] === 'slave') {
      // `role: 'slave'` clients: ROLE names the master; the connected node is a replica.
      const port = Number(role[2]);
      if (typeof role[1] === 'string' && Number.isFinite(port))
        nodes.push({ address: role[1], port, role: 'master' });
      if (connected?.port !== undefined)
        nodes.push({ address: connected.address, port: connected.port, role: 'replica' });
    } else if (connected?.port !== undefined) {
      nodes.push({ address: connected.address, port: connected.port, role: 'master' });
    }
    const replicas =
      Array.isArray(role) && role[0] === 'master' && Array.isArray(role[2]) ? (role[2] as unknown[]) : [];
    for (const replica of replicas) {
      if (!Array.isArray(replica)) continue;
      const port = Number(replica[1]);
      if (typeof replica[0] === 'string' && Number.isFinite(port))
        nodes.push({ address: replica[0], port, role: 'replica' });
    }
    for (const sentinel of redis.options.sentinels ?? []) {
      nodes.push({ address: sentinel.host || 'localhost', port: sentinel.port || 26379, role: 'sentinel' });
    }
    return nodes;
  }

  observeDials(dial: Dial): void {
    this.#dial = dial;
    const cluster = this.#cluster;
    if (cluster === undefined) {
      this.#watchDials(this.#redis!, 'command');
      return;
    }
    for (const node of cluster.nodes('all')) this.#watchDials(node, 'command');
    cluster.on('+node', (node: IoredisRedis) => this.#watchDials(node, 'command'));
  }

  // ---- internals -----------------------------------------------------------------------------------

  /** An ioredis Command for `command`: lower-case name (what ioredis' name checks expect), not traced. */
  #build<C extends IoredisCommand = IoredisCommand>(
    command: RedisCommand,
    Command: new (name: string, args?: unknown[], options?: IoredisCommandOptions) => C = this.#detected
      .Command as never,
  ): C {
    const name = lowerCase(command.name);
    const keyPositions = command.keys;
    const prefix = this.#prefix;
    let args: unknown[] = command.args as RedisArgument[];
    // Keys route cluster commands and pipelines; a standalone or sentinel client never reads them for
    // a single command, so they are only collected there when the key prefix has to be applied.
    let keys: unknown[] | undefined;
    const collect = this.#cluster !== undefined || Command === this.#detected.Command;
    if (collect) keys = [];
    if (keyPositions !== undefined && keyPositions.length > 0 && (collect || prefix !== undefined)) {
      if (prefix !== undefined) args = args.slice();
      for (const position of keyPositions) {
        let key = args[position];
        if (key === undefined) continue;
        if (prefix !== undefined) {
          key = Buffer.isBuffer(key) ? Buffer.concat([Buffer.from(prefix), key]) : `${prefix}${String(key)}`;
          args[position] = key;
        }
        keys?.push(typeof key === 'number' ? String(key) : key);
      }
    }
    // (The Command constructor copies `args` with `flat()`.)
    const built = new Command(
      name,
      args,
      COMMAND_OPTIONS[(command.binary === true ? 1 : 0) + (command.readOnly === true ? 2 : 0)],
    );
    // Already recorded by our hooks: ioredis must not publish it on `ioredis:command` again.
    built.isTraced = true;
    // Route by the caller's explicit keys, not by ioredis' command table.
    if (keys !== undefined) built.keys = keys;
    // HGETALL's reply transformer builds an object (losing binary field names); keep the flat array.
    if (name === 'hgetall' && Command === this.#detected.Command) built.transformReply = identity;
    return built;
  }

  /**
   * A subclass of the client's `Command` whose settlement does what a `.then` after `sendCommand` would
   * otherwise do: note the peer that served it, normalize the reply (`transformReply`, which ioredis
   * calls as the reply is parsed) and map a rejection to a typed error (the `reject` that
   * `initPromise` installs). ioredis resolves the caller's promise with the result directly.
   */
  #sendCommandClass(Base: CommandBase): SendCommandConstructor {
    const driver = this;
    const resp3 = this.#resp3;
    // ioredis' reply transformers by command name (a static of its Command; absent: always call it).
    const transformers = (Base as unknown as { _transformer?: { reply?: Record<string, unknown> } })
      ._transformer?.reply;
    return class RedisotelCommand extends Base implements SendCommand {
      // Fields, not properties added later: they stay inside the object V8 allocates for the command.
      info: CommandInfo | undefined = undefined;
      binary = false;
      commandName = '';
      target: IoredisClusterNodeTarget | undefined = undefined;
      deadline: CommandDeadline | undefined = undefined;
      override keys: unknown[] | undefined = undefined;

      override transformReply(value: unknown): unknown {
        this.deadline?.cancel();
        this.info!.peer = driver.#peerOf(this, this.target);
        // Buffers become strings in normalizeReply (unless binary), so ioredis' own transformReply is
        // only needed for the commands it has a reply transformer for; HGETALL's builds an object
        // (losing binary field names): we keep the flat array.
        const name = this.name;
        const converted =
          name === 'hgetall' || (transformers !== undefined && transformers[name] === undefined)
            ? value
            : super.transformReply(value);
        return normalizeReply(converted, name, this.binary, resp3);
      }

      override initPromise(): void {
        super.initPromise();
        const reject = this.reject;
        this.reject = (error: unknown) => {
          this.deadline?.cancel();
          if (this.info !== undefined) this.info.peer = driver.#peerOf(this, this.target);
          reject(toRedisotelError(error, this.commandName || this.name.toUpperCase(), driver.#ended()));
        };
      }
    };
  }

  #control(name: string, replyEncoding: BufferEncoding | null = 'utf8', args: string[] = []): IoredisCommand {
    const command = new this.#detected.Command(name, args, { replyEncoding });
    command.isTraced = true;
    command.keys = [];
    return command;
  }

  #result(
    error: Error | null,
    value: unknown,
    command: RedisCommand,
    built: IoredisCommand,
    resp3: boolean,
  ): BatchResult {
    if (error) {
      const mapped = toRedisotelError(error, command.name, this.#ended());
      if (!isReplyError(error)) throw mapped;
      return { ok: false, error: mapped };
    }
    try {
      return { ok: true, value: normalizeReply(value, built.name, command.binary === true, resp3) };
    } catch (nested) {
      return { ok: false, error: toRedisotelError(nested, command.name) };
    }
  }

  #transactionResults(
    raw: Array<[Error | null, unknown]>,
    commands: readonly RedisCommand[],
    built: IoredisCommand[],
    resp3: boolean,
  ): BatchResult[] {
    const execEntry = raw[raw.length - 1];
    const [multiError] = raw[0] ?? [null];
    if (multiError && !isReplyError(multiError)) throw toRedisotelError(multiError, 'MULTI', this.#ended());
    const [execError, execValue] = execEntry ?? [null, null];
    if (execError) {
      if (!isReplyError(execError)) throw toRedisotelError(execError, 'EXEC', this.#ended());
      // EXECABORT: a command was refused while queuing; that refusal is the cause.
      let cause: RedisotelError | undefined;
      for (let i = 0; i < commands.length; i++) {
        const queueError = raw[i + 1]?.[0];
        if (queueError) {
          cause = toRedisotelError(queueError, commands[i]!.name);
          break;
        }
      }
      const detail = cause === undefined ? '' : ` (${cause.message})`;
      throw new RedisReplyError(`${execError.message}${detail}`, 'EXEC', { cause: cause ?? execError });
    }
    if (!Array.isArray(execValue)) {
      throw new RedisReplyError('EXECABORT Transaction aborted: EXEC returned no results', 'EXEC');
    }
    return commands.map((command, i) => {
      const value = execValue[i];
      if (value instanceof Error) return this.#result(value, undefined, command, built[i]!, resp3);
      return this.#result(null, value, command, built[i]!, resp3);
    });
  }

  /** A random master (cluster) for keyless commands, so the node that serves them is known. */
  #pickNode(cluster: IoredisCluster): IoredisClusterNodeTarget | undefined {
    if (cluster.status !== 'ready') return undefined;
    const masters = cluster.nodes('master');
    if (masters.length === 0) return undefined;
    const redis = masters[Math.floor(Math.random() * masters.length)]!;
    return { slot: null, redis };
  }

  #peerOf(command: IoredisCommand, target: IoredisClusterNodeTarget | undefined): Peer | undefined {
    const cluster = this.#cluster;
    if (cluster === undefined) {
      const redis = this.#redis!;
      if (redis.stream !== undefined && redis.stream === this.#peerSocket) return this.#peer;
      this.#peerSocket = redis.stream;
      this.#peer = this.#socketPeer(redis);
      return this.#peer;
    }
    if (target !== undefined) return nodeEndpoint(target.redis);
    const key = command.keys?.[0];
    if (key === undefined) return undefined;
    // With `scaleReads` other than 'master', ioredis may send read commands to any node of the slot:
    // which one served is not observable, so no peer rather than a wrong one.
    const scaleReads = cluster.options.scaleReads;
    if (scaleReads !== undefined && scaleReads !== 'master') return undefined;
    const owner = cluster.slots[keySlot(key as RedisArgument)]?.[0];
    return owner === undefined ? undefined : splitNodeKey(owner);
  }

  /** The remote end of the client's socket: the server (standalone) or current master (sentinel). */
  #socketPeer(redis: IoredisRedis): Peer | undefined {
    const stream = redis.stream;
    if (stream?.remoteAddress !== undefined) {
      return stream.remotePort === undefined
        ? { address: stream.remoteAddress }
        : { address: stream.remoteAddress, port: stream.remotePort };
    }
    if (typeof redis.options.path === 'string' && redis.options.path.length > 0) {
      return { address: redis.options.path };
    }
    return undefined;
  }

  #natMapped(node: RedisNode): RedisNode {
    const natMap = this.#cluster?.options.natMap;
    if (typeof natMap !== 'object' || natMap === null) return node;
    const mapped = (natMap as Record<string, { host?: string; port?: number } | undefined>)[
      `${node.address}:${node.port}`
    ];
    if (mapped === undefined) return node;
    return { ...node, address: mapped.host ?? node.address, port: mapped.port ?? node.port };
  }

  #ended(): boolean {
    return this.#detected.client.status === 'end';
  }

  readonly #watched = new WeakSet<object>();

  /** Report each connection attempt of `connection` to the dial hooks, settled when it is ready. */
  #watchDials(connection: IoredisRedis, purpose: DialInfo['purpose']): void {
    const dial = this.#dial;
    if (dial === undefined || this.#watched.has(connection)) return;
    this.#watched.add(connection);
    dialObserved.add(connection);
    const sentinel = Array.isArray(connection.options.sentinels) && connection.options.sentinels.length > 0;
    let lastMaster: Peer | undefined;
    connection.on('ready', () => {
      if (sentinel) lastMaster = this.#socketPeer(connection);
    });
    connection.on('connecting', () => {
      // Sentinel: the master is only known once connected; report the previous one (or the first sentinel).
      const endpoint: Peer = sentinel
        ? (lastMaster ?? parseStartupNode(connection.options.sentinels?.[0]))
        : configuredEndpoint(connection.options);
      const connected = new Promise<void>((resolve, reject) => {
        const onReady = () => {
          cleanup();
          resolve();
        };
        const onClose = () => {
          cleanup();
          reject(new RedisConnectionError('The connection closed before it was ready', 'CONNECTION_CLOSED'));
        };
        const cleanup = () => {
          connection.off('ready', onReady);
          connection.off('close', onClose);
          connection.off('end', onClose);
        };
        connection.on('ready', onReady);
        connection.on('close', onClose);
        connection.on('end', onClose);
      });
      connected.catch(noop);
      dial(
        endpoint.port === undefined
          ? { address: endpoint.address, purpose }
          : { address: endpoint.address, port: endpoint.port, purpose },
        connected,
      );
    });
  }
}

function nodeKeyOf(redis: IoredisRedis): string {
  return `${redis.options.host}:${redis.options.port}`;
}

function nodeEndpoint(redis: IoredisRedis): Peer {
  const stream = redis.stream;
  if (stream?.remoteAddress !== undefined && stream.remotePort !== undefined) {
    return { address: stream.remoteAddress, port: stream.remotePort };
  }
  return { address: redis.options.host ?? '127.0.0.1', port: redis.options.port ?? 6379 };
}
