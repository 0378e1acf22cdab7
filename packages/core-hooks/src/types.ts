import type { Meter, MeterProvider, Span, Tracer, TracerProvider } from '@opentelemetry/api';
import type { RedisotelError } from './errors.js';

/** An argument of a Redis command. Numbers are sent as their decimal text. */
export type RedisArgument = string | number | Buffer;

/**
 * A reply in one shape whatever the client and protocol: RESP2 shapes. Simple and bulk strings are
 * `string` (or `Buffer` when the command asked for `binary`), integers are `number`, nil is `null`,
 * arrays are arrays. RESP3-only types are mapped to their RESP2 form: maps and sets become flat arrays,
 * booleans become 1/0, doubles and big numbers become strings. Error replies are never values: they
 * reject with a {@link RedisReplyError}.
 */
export type RedisReply = string | number | null | Buffer | RedisReply[];

/** One command for {@link RedisLike.send} / {@link RedisLike.batch}. */
export interface RedisCommand {
  /** The command name as the caller writes it: `GET`, `set`, `CLIENT`. Subcommands go in `args`. */
  readonly name: string;
  /** The arguments after the name. */
  readonly args: readonly RedisArgument[];
  /**
   * Positions in `args` of the key arguments. Cluster adapters route by them (no command table is
   * consulted), batches are checked to stay in one slot, and telemetry keeps them in `db.query.text`.
   * Omitted or empty: the command touches no key.
   */
  readonly keys?: readonly number[];
  /** Return bulk strings as `Buffer` instead of UTF-8 `string`. @default false */
  readonly binary?: boolean;
  /** The command only reads; adapters configured for replica reads may send it to a replica. @default false */
  readonly readOnly?: boolean;
}

/** One entry of a batch reply: the value, or the error that command got. */
export type BatchResult =
  | { readonly ok: true; readonly value: RedisReply }
  | { readonly ok: false; readonly error: RedisotelError };

/** Options of {@link RedisLike.batch}. */
export interface BatchOptions {
  /**
   * Run the commands as one `MULTI`/`EXEC` transaction (all or nothing) instead of a plain pipeline.
   * A command that Redis refuses to queue aborts the whole transaction (`EXECABORT`).
   * @default false
   */
  readonly atomic?: boolean;
}

/** A Lua script made by {@link defineScript}: its source and the SHA1 computed once. */
export interface RedisScript {
  /** A short, stable, low-cardinality name: it becomes `db.stored_procedure.name`. */
  readonly name: string;
  /** The Lua source. */
  readonly source: string;
  /** The lowercase hex SHA1 of `source`, as `SCRIPT LOAD` returns it. */
  readonly sha1: string;
  /** The script never writes (`EVALSHA_RO` is not used; this only marks it for replica routing). */
  readonly readOnly: boolean;
}

/** A message delivered to a subscription listener. */
export interface RedisMessage {
  /** The channel the message was published to. */
  readonly channel: string;
  /** The payload, as UTF-8 text. */
  readonly message: string;
  /** The pattern that matched, for pattern subscriptions. */
  readonly pattern?: string;
}

/** Called for each message of a subscription. */
export type RedisMessageListener = (message: RedisMessage) => void;

/** Ends one subscription (other listeners of the same channel keep theirs). */
export type Unsubscribe = () => Promise<void>;

/**
 * The dedicated subscriber connection of a {@link RedisLike}. It is opened on first use (the only
 * connection an adapter ever opens by itself) and resubscribes to everything after a reconnect.
 */
export interface RedisSubscriber {
  /** Subscribe to channels (`SUBSCRIBE`). Resolves once Redis confirmed the subscription. */
  subscribe(channels: string | readonly string[], listener: RedisMessageListener): Promise<Unsubscribe>;
  /** Subscribe to glob patterns (`PSUBSCRIBE`). */
  psubscribe(patterns: string | readonly string[], listener: RedisMessageListener): Promise<Unsubscribe>;
  /**
   * Subscribe to sharded channels (`SSUBSCRIBE`, Redis 7+). On a cluster the subscription goes to the
   * node that owns each channel's slot. Requires the `shardedPubSub` capability.
   */
  ssubscribe(channels: string | readonly string[], listener: RedisMessageListener): Promise<Unsubscribe>;
  /**
   * Called after the subscriber connection came back and resubscribed: messages published while it was
   * away are lost (pub/sub is at-most-once), so caches should drop what they learnt from it.
   * Returns a function that removes the listener.
   */
  onReconnect(listener: () => void): () => void;
  /** Unsubscribe from everything and close the dedicated connection. */
  close(): Promise<void>;
}

/** The topology of the deployment an adapter talks to. */
export type RedisTopology = 'standalone' | 'cluster' | 'sentinel';

/** What an adapter can do; building blocks check these instead of probing. */
export interface RedisCapabilities {
  /** Sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`). */
  readonly shardedPubSub: boolean;
  /** Multi-key commands, batches and scripts must keep their keys in one hash slot. */
  readonly requiresSameSlot: boolean;
  /** The client publishes `diagnostics_channel` tracing events (`instrumentX` works). */
  readonly diagnosticsChannel: boolean;
}

/** What {@link RedisLike.describe} returns: enough for telemetry and topology-aware code. */
export interface RedisDescription {
  /** The client library behind the adapter. */
  readonly library: { readonly name: string; readonly version: string };
  /** The adapter package and version (`@redisotel/node-redis`, …). */
  readonly adapter: { readonly name: string; readonly version: string };
  readonly topology: RedisTopology;
  /**
   * The configured endpoint: the server (standalone), the first seed node (cluster) or the first
   * sentinel (sentinel). `port` is absent for a unix socket.
   */
  readonly server: { readonly address: string; readonly port?: number };
  /** The database index (always 0 on a cluster). */
  readonly database: number;
  /** On sentinel, the master group name. */
  readonly masterName?: string;
  readonly capabilities: RedisCapabilities;
}

/** One node of a deployment, from {@link RedisLike.nodes}. */
export interface RedisNode {
  readonly address: string;
  readonly port: number;
  readonly role: 'master' | 'replica' | 'sentinel';
  /** Cluster node id, when known. */
  readonly id?: string;
  /** Cluster: the slot ranges `[from, to]` this master serves. */
  readonly slots?: readonly (readonly [number, number])[];
}

/** Per-call options of {@link RedisLike.send} and friends. */
export interface SendOptions {
  /**
   * Reject with {@link RedisTimeoutError} when no reply came in this many milliseconds. The command
   * may still run on the server. No timer is armed when omitted.
   */
  readonly timeoutMs?: number;
  /** Reject with the signal's reason when it aborts (the command may still run on the server). */
  readonly signal?: AbortSignal;
}

/**
 * The small interface every building block depends on, implemented by the adapters
 * (`fromNodeRedis`, `fromIoredis`) for standalone, cluster and sentinel clients.
 * Written by hand: no client library type appears in it.
 */
export interface RedisLike {
  /** The contract version this object implements. */
  readonly specificationVersion: 1;
  /** Send one command. Rejects with {@link RedisReplyError} on an error reply. */
  send(command: RedisCommand, options?: SendOptions): Promise<RedisReply>;
  /**
   * Send several commands in one round trip. Resolves with one result per command, in order; an error
   * reply of one command does not reject the batch. On a cluster every key must hash to one slot
   * ({@link CrossSlotError} before anything is sent).
   */
  batch(commands: readonly RedisCommand[], options?: BatchOptions & SendOptions): Promise<BatchResult[]>;
  /**
   * Run a script by SHA (`EVALSHA`); on `NOSCRIPT` (after `SCRIPT FLUSH`, a restart or a failover) the
   * source is sent once with `EVAL`, which loads it on that node, in the same logical call.
   */
  runScript(
    script: RedisScript,
    keys: readonly RedisArgument[],
    args: readonly RedisArgument[],
    options?: SendOptions,
  ): Promise<RedisReply>;
  /** The dedicated subscriber connection (opened on first use, shared by all callers). */
  subscriber(): RedisSubscriber;
  /** What this adapter talks to. Cheap: no I/O. */
  describe(): RedisDescription;
  /** The nodes of the deployment with their roles (standalone: the one server). */
  nodes(): Promise<RedisNode[]>;
  /** Add a hook around dial, command and batch processing (runs inside the ones added before). */
  addHook(hook: RedisHook): void;
  /** The telemetry this instance was created with; building blocks use its tracer/meter providers. */
  readonly telemetry: TelemetryHandle;
}

/** What hooks learn about the command being processed. */
export interface CommandInfo {
  /** Upper-cased command name (`GET`, `EVALSHA`). */
  readonly operation: string;
  /** For script runs ({@link RedisLike.runScript}): the script; its `name` is `db.stored_procedure.name`. */
  readonly script?: RedisScript;
  /**
   * The node that served the command, filled in by the adapter when it knows it (cluster, sentinel,
   * standalone socket). Hooks read it after `next` resolved or rejected.
   */
  peer?: { address: string; port?: number };
  /**
   * The caller's deadline and signal. The base of the chain enforces them, so hooks see a missed
   * deadline as the command's {@link RedisTimeoutError} (and the span ends when the caller gave up).
   */
  readonly deadline?: SendOptions;
}

/** What hooks learn about a batch being processed. */
export interface BatchInfo {
  readonly atomic: boolean;
  /** Upper-cased command names, in order. */
  readonly operations: readonly string[];
  /** Same as {@link CommandInfo.peer}. */
  peer?: { address: string; port?: number };
  /** Same as {@link CommandInfo.deadline}. */
  readonly deadline?: SendOptions;
}

/** What dial hooks learn about a connection being made. */
export interface DialInfo {
  readonly address: string;
  readonly port?: number;
  /** `command` for the client's own connections, `subscriber` for the dedicated subscriber connection. */
  readonly purpose: 'command' | 'subscriber';
}

export type ProcessFn = (command: RedisCommand, info: CommandInfo) => Promise<RedisReply>;
export type ProcessBatchFn = (commands: readonly RedisCommand[], info: BatchInfo) => Promise<BatchResult[]>;
export type DialFn = (info: DialInfo) => Promise<void>;

/**
 * go-redis-style middleware. Each member receives the next function in the chain and returns a
 * function with the same signature; call `next` to go on, or answer without it.
 * @example
 * ```ts
 * redis.addHook({
 *   process: (next) => async (command, info) => {
 *     const started = performance.now();
 *     try { return await next(command, info); }
 *     finally { console.log(info.operation, performance.now() - started); }
 *   },
 * });
 * ```
 */
export interface RedisHook {
  dial?(next: DialFn): DialFn;
  process?(next: ProcessFn): ProcessFn;
  processBatch?(next: ProcessBatchFn): ProcessBatchFn;
}

/** The tracer, meter and instruments one {@link RedisLike} (or building block) records with. */
export interface TelemetryHandle {
  readonly tracerProvider: TracerProvider;
  readonly meterProvider: MeterProvider;
  /** The tracer of `@redisotel/core-hooks` for this instance. */
  readonly tracer: Tracer;
  /** The meter of `@redisotel/core-hooks` for this instance. */
  readonly meter: Meter;
}

/** A function that turns a command into the `db.query.text` to record, or `undefined` for none. */
export type DbStatementSerializer = (
  name: string,
  args: readonly RedisArgument[],
  keys: readonly number[],
) => string | undefined;

/** Telemetry options shared by `fromNodeRedis`, `fromIoredis`, `instrumentNodeRedis` and `instrumentIoredis`. */
export interface RedisTelemetryOptions {
  /** Where spans go. @default the global tracer provider */
  readonly tracerProvider?: TracerProvider;
  /** Where metrics go. @default the global meter provider */
  readonly meterProvider?: MeterProvider;
  /** Record spans at all. @default true */
  readonly tracing?: boolean;
  /** Record the `db.client.operation.duration` histogram and connection metrics. @default true */
  readonly metrics?: boolean;
  /** Only trace these commands (case-insensitive). @default all */
  readonly includeCommands?: readonly string[];
  /** Never trace these commands (case-insensitive). @default none */
  readonly excludeCommands?: readonly string[];
  /** Create command spans only when there is an active parent span. @default false */
  readonly requireParentSpan?: boolean;
  /**
   * What `db.query.text` keeps of keys: `'keep'` them, `'hash'` them (a short SHA-256 prefix) or
   * `'drop'` them (`?`). Values are always `?`. @default 'keep'
   */
  readonly keys?: 'keep' | 'hash' | 'drop';
  /** Longest `db.query.text`, in characters; longer ones end with `…`. @default 1000 */
  readonly maxQueryTextLength?: number;
  /** Record `db.query.text` at all. @default true (sanitized) */
  readonly queryText?: boolean;
  /** Replace the built-in sanitizer (you own what it leaks). */
  readonly dbStatementSerializer?: DbStatementSerializer;
  /** Trace each command of a batch as its own child span, besides the batch span. @default false */
  readonly batchCommandSpans?: boolean;
  /** Called with each command span before it ends, to add attributes. Errors it throws are swallowed. */
  readonly responseHook?: (
    span: Span,
    info: { operation: string; reply?: RedisReply; error?: unknown },
  ) => void;
}
