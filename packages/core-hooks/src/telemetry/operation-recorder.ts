import {
  type Attributes,
  type Context,
  type Counter,
  context as contextApi,
  type Histogram,
  type Meter,
  type ObservableResult,
  type ObservableUpDownCounter,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { parseErrorPrefix, RedisConnectionError, RedisReplyError, RedisTimeoutError } from '../errors.js';
import { describeValue } from '../script.js';
import {
  ATTR_DB_CLIENT_CONNECTION_POOL_NAME,
  ATTR_DB_CLIENT_CONNECTION_STATE,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_BATCH_SIZE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_STORED_PROCEDURE_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_REDIS_BATCH_ERRORS,
  ATTR_REDIS_CONNECTION_PURPOSE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_CLIENT_OPERATION_DURATION_BUCKETS,
  DB_SYSTEM_NAME_VALUE_REDIS,
  ERROR_TYPE_VALUE_OTHER,
  METRIC_DB_CLIENT_CONNECTION_COUNT,
  METRIC_DB_CLIENT_CONNECTION_CREATE_TIME,
  METRIC_DB_CLIENT_OPERATION_DURATION,
  METRIC_REDIS_CLIENT_CONNECTION_ERRORS,
  SPAN_NAME_CONNECT,
} from '../semconv.js';
import type {
  BatchResult,
  RedisArgument,
  RedisReply,
  RedisTelemetryOptions,
  RedisTopology,
  TelemetryHandle,
} from '../types.js';
import { type ResolvedTelemetryOptions, resolveTelemetryOptions } from './options.js';
import { ProviderTracker } from './providers.js';
import { commandKeyPositions, sanitizeCommand, truncate } from './sanitize.js';

/** A server endpoint: `server.address` / `server.port`, or a `network.peer.*` pair. */
export interface Endpoint {
  readonly address: string;
  /** Absent for a unix socket. */
  readonly port?: number | undefined;
}

/**
 * Where the recorded operations go: the configured endpoint and database. A `RedisDescription`
 * (from `describe()`) is one; the `diagnostics_channel` path builds one from the channel context.
 */
export interface OperationTarget {
  /** The configured endpoint (`server.address`, `server.port`). */
  readonly server: Endpoint;
  /** The database index (`db.namespace`). */
  readonly database: number;
  /**
   * The deployment. On `standalone` the node that serves is always the configured server, so the
   * duration metric leaves `network.peer.*` out (spans keep it); absent, the metric records it too.
   */
  readonly topology?: RedisTopology | undefined;
}

/** What {@link OperationRecorder.startCommand} needs to know about one command. */
export interface CommandStart {
  /** The command name as the client has it, any case (`get`, `GET`); recorded upper-cased. */
  readonly operation: string;
  /**
   * The arguments after the command name, for `db.query.text` (sanitized, see `keys` and
   * `maxQueryTextLength`). Already-sanitized arguments (a client's own `?`) are fine. Omitted: no
   * `db.query.text`.
   */
  readonly args?: readonly RedisArgument[] | undefined;
  /** Positions in `args` of the keys; omitted: the built-in key table is used. */
  readonly keys?: readonly number[] | undefined;
  /**
   * The script run, for `db.stored_procedure.name` and the span name `EVALSHA <name>`. Without it,
   * `FCALL`/`FCALL_RO` use the function name and `EVALSHA`/`EVALSHA_RO` the SHA from `args`.
   */
  readonly script?: { readonly name: string } | undefined;
  /** Overrides the recorder's configured endpoint for this command. */
  readonly server?: Endpoint | undefined;
  /** Overrides the recorder's database index for this command. */
  readonly database?: number | undefined;
  /** The parent context. @default `context.active()` at the call (capture it in a channel's `start` event) */
  readonly context?: Context | undefined;
  /**
   * The token of the batch this command is part of (the `diagnostics_channel` path sees both). It
   * then gets a span only when `batchCommandSpans` is on, as a child of the batch span, and never a
   * metric point (a batch is one operation); otherwise `startCommand` returns `undefined`. A batch
   * started without `commands` is named after the commands started inside it (`PIPELINE GET` when
   * they are all `GET`) and gets their joined `db.query.text` and, without `size`, its batch size.
   */
  readonly batch?: OperationToken | undefined;
}

/** One command of a batch, for naming and `db.query.text` (a `RedisCommand` is one). */
export interface BatchCommandStart {
  /** The command name, any case. */
  readonly name: string;
  /** The arguments after the name; omitted: the batch has no `db.query.text`. */
  readonly args?: readonly RedisArgument[] | undefined;
  /** Positions in `args` of the keys; omitted: the built-in key table. */
  readonly keys?: readonly number[] | undefined;
}

/** What {@link OperationRecorder.startBatch} needs to know about a pipeline or transaction. */
export interface BatchStart {
  /** `MULTI`/`EXEC` (true) or a plain pipeline (false). */
  readonly atomic: boolean;
  /** The commands, when known: they name the batch (`PIPELINE GET`) and make its `db.query.text`. */
  readonly commands?: readonly BatchCommandStart[] | undefined;
  /** The number of commands when `commands` is not given (a channel that only reports a size). */
  readonly size?: number | undefined;
  /** Overrides the recorder's configured endpoint for this batch. */
  readonly server?: Endpoint | undefined;
  /** Overrides the recorder's database index for this batch. */
  readonly database?: number | undefined;
  /** The parent context. @default `context.active()` at the call */
  readonly context?: Context | undefined;
}

/** What {@link OperationRecorder.startConnect} needs to know about a connection being made. */
export interface ConnectStart {
  /** The address being connected to. */
  readonly address: string;
  /** The port; absent for a unix socket. */
  readonly port?: number | undefined;
  /** `command` for the client's connections, `subscriber` for the dedicated subscriber connection. */
  readonly purpose?: 'command' | 'subscriber' | undefined;
  /** The parent context. @default `context.active()` at the call */
  readonly context?: Context | undefined;
}

/** How an operation ended, for {@link OperationRecorder.end}. */
export interface OperationOutcome {
  /**
   * The error the operation failed with. Typed errors give a stable `error.type`: a
   * `RedisReplyError` its prefix (also `db.response.status_code`), a `RedisConnectionError` its
   * `code`, a `RedisTimeoutError` `timeout`; a client's own reply error (`ErrorReply`, `ReplyError`)
   * its parsed prefix; a Node.js system error its `code` (`ECONNREFUSED`); anything else `_OTHER`.
   * The message is never recorded.
   */
  readonly error?: unknown;
  /** The reply of a command (passed to `responseHook`). */
  readonly reply?: RedisReply | undefined;
  /** A batch's per-command results: failed ones are counted in `redis.batch.errors`. */
  readonly results?: readonly BatchResult[] | undefined;
  /** For a batch whose `results` are not available: how many of its commands failed. */
  readonly failedCommands?: number | undefined;
  /** The node that served the operation (`network.peer.address`/`network.peer.port`). */
  readonly peer?: Endpoint | undefined;
}

/** A connection pool's connections by state, for `db.client.connection.count`. */
export interface ConnectionCounts {
  readonly idle: number;
  readonly used: number;
}

/** Options of {@link OperationRecorder.observeConnections}. */
export interface ObserveConnectionsOptions {
  /**
   * `db.client.connection.pool.name`; keep it low-cardinality and unique per pool.
   * @default `server.address:server.port/db.namespace` of the recorder's target
   */
  readonly poolName?: string | undefined;
}

declare const OPERATION_TOKEN: unique symbol;

/** An operation in flight, from a `start…` method; pass it to {@link OperationRecorder.end} once. */
export interface OperationToken {
  readonly [OPERATION_TOKEN]: true;
}

/**
 * Records Redis operations as CLIENT spans and `db.client.operation.duration` points from one
 * measurement, with one schema whoever calls it: the `RedisLike` telemetry hook and the
 * `diagnostics_channel` instrumentation of the adapters (`instrumentNodeRedis`, `instrumentIoredis`).
 *
 * Every `start…` method returns `undefined` when nothing would be recorded (no SDK registered, or
 * tracing and metrics both off): callers then skip all work. Call {@link end} exactly once per token;
 * later calls are ignored.
 */
export interface OperationRecorder {
  /** The tracer and meter providers in use (the explicit ones, else the global ones, looked up lazily). */
  readonly handle: TelemetryHandle;
  /** Whether anything would be recorded now (an SDK is registered and tracing or metrics is on). Cheap. */
  isRecording(): boolean;
  /** Start one command. Returns `undefined` when nothing is recorded for it. */
  startCommand(start: CommandStart): OperationToken | undefined;
  /** Start a pipeline or `MULTI` transaction: one span and one metric point for the whole batch. */
  startBatch(start: BatchStart): OperationToken | undefined;
  /** Start a connection attempt: a `connect` span and, on success, `db.client.connection.create_time`. */
  startConnect(start: ConnectStart): OperationToken | undefined;
  /** End an operation (a no-op for `undefined` or an already-ended token). */
  end(token: OperationToken | undefined, outcome?: OperationOutcome): void;
  /**
   * Report a pool's connections for `db.client.connection.count` (with `db.client.connection.state`
   * `idle`/`used`); `read` runs at each metric collection. Returns a function that stops reporting.
   */
  observeConnections(read: () => ConnectionCounts, options?: ObserveConnectionsOptions): () => void;
  /** Count a connection failure the client reported outside a dial (`redis.client.connection.errors`). */
  recordConnectionError(error: unknown, endpoint?: Endpoint): void;
}

interface Instruments {
  readonly duration: Histogram;
  readonly createTime: Histogram;
  readonly connectionErrors: Counter;
  readonly connectionCount: ObservableUpDownCounter;
  readonly observe: (result: ObservableResult) => void;
}

const KIND_COMMAND = 0;
const KIND_BATCH = 1;
const KIND_CONNECT = 2;

const METRIC_ATTRIBUTE_CACHE_SIZE = 512;
const TOPOLOGIES: readonly unknown[] = ['standalone', 'cluster', 'sentinel'];

class Token {
  ended = false;
  /** The context the operation started in: its metric point is recorded with it. */
  parent: Context | undefined = undefined;
  /**
   * A batch started without its commands (a channel that only reports a size): the commands started
   * inside it (`startCommand({ batch })`) name it at the end (`PIPELINE GET`) and make its query text.
   */
  children:
    | {
        readonly operations: string[];
        /** The children's query texts joined so far; `null` once one had none. */
        queryText: string | null;
        readonly sized: boolean;
      }
    | undefined;
  constructor(
    readonly kind: 0 | 1 | 2,
    readonly startTime: number,
    public operation: string,
    readonly span: Span | undefined,
    /** Attributes of the metric point known at start; `undefined`: no metric for this operation. */
    readonly metricAttributes: Attributes | undefined,
    readonly spanContext: Context | undefined,
    readonly batchCommands: readonly BatchCommandStart[] | undefined,
    readonly target: OperationTarget | undefined,
  ) {}
}

const asToken = (token: Token) => token as unknown as OperationToken;

/**
 * Create the recorder for one client.
 * @param options the telemetry options (validated here: `TypeError`/`RangeError` naming the option)
 * @param target the configured endpoint and database (`describe()` of a `RedisLike`, or built from
 *   a channel context)
 * @example
 * ```ts
 * const recorder = createOperationRecorder(options, { server: { address: 'localhost', port: 6379 }, database: 0 });
 * const token = recorder.startCommand({ operation: 'GET', args: ['user:1'], keys: [0] });
 * try { recorder.end(token, { reply: await send() }); } catch (error) { recorder.end(token, { error }); throw error; }
 * ```
 */
export function createOperationRecorder(
  options: RedisTelemetryOptions,
  target: OperationTarget,
): OperationRecorder {
  const resolved = resolveTelemetryOptions(options);
  checkTarget(target);
  return new Recorder(options, resolved, target);
}

class Recorder implements OperationRecorder {
  readonly handle: TelemetryHandle;
  private readonly tracker: ProviderTracker<Instruments>;
  private readonly sources = new Set<{
    read: () => ConnectionCounts;
    attributes: [Attributes, Attributes];
  }>();
  private readonly defaultPoolName: string;
  private readonly metricAttributeCache = new Map<string, Attributes>();
  /** Whether duration points carry `network.peer.*` (not on standalone: it is the configured server). */
  private readonly metricPeers: boolean;

  constructor(
    options: RedisTelemetryOptions,
    private readonly resolved: ResolvedTelemetryOptions,
    private readonly target: OperationTarget,
  ) {
    this.tracker = new ProviderTracker<Instruments>(
      options.tracerProvider,
      options.meterProvider,
      resolved.tracing,
      resolved.metrics,
      (meter) => this.createInstruments(meter),
      (instruments) => instruments.connectionCount.removeCallback(instruments.observe),
    );
    const tracker = this.tracker;
    this.handle = {
      get tracerProvider() {
        return tracker.currentTracerProvider();
      },
      get meterProvider() {
        return tracker.currentMeterProvider();
      },
      get tracer(): Tracer {
        return tracker.scopeTracer();
      },
      get meter(): Meter {
        return tracker.scopeMeter();
      },
    };
    this.defaultPoolName = poolName(target);
    this.metricPeers = target.topology !== 'standalone';
  }

  isRecording(): boolean {
    return this.tracker.refresh();
  }

  startCommand(start: CommandStart): OperationToken | undefined {
    if (!this.tracker.refresh()) return undefined;
    const { tracer, instruments } = this.tracker;
    const operation = start.operation.toUpperCase();
    const parent = start.context ?? contextApi.active();
    const resolved = this.resolved;

    if (start.batch !== undefined) {
      const batch = start.batch as unknown as Token;
      const children = batch.children;
      if (children !== undefined && !batch.ended) {
        children.operations.push(operation);
        const joined = children.queryText;
        if (batch.span !== undefined && joined !== null && joined.length <= resolved.maxQueryTextLength) {
          const text = this.queryText(operation, start.args, start.keys);
          children.queryText = text === undefined ? null : joined === '' ? text : `${joined}; ${text}`;
        }
      }
      if (!resolved.batchCommandSpans || batch.span === undefined || tracer === undefined) return undefined;
      const startTime = performance.now();
      const attributes = this.spanAttributes(batch.target ?? this.target, operation);
      const queryText = this.queryText(operation, start.args, start.keys);
      if (queryText !== undefined) attributes[ATTR_DB_QUERY_TEXT] = queryText;
      const span = tracer.startSpan(
        operation,
        { kind: SpanKind.CLIENT, startTime, attributes },
        trace.setSpan(parent, batch.span),
      );
      return asToken(
        new Token(KIND_COMMAND, startTime, operation, span, undefined, undefined, undefined, undefined),
      );
    }

    const target = this.targetOf(start.server, start.database);
    const storedProcedure = start.script?.name ?? storedProcedureOf(operation, start.args);
    let spanAttributes: Attributes | undefined;
    if (
      tracer !== undefined &&
      this.traces(operation) &&
      (!resolved.requireParentSpan || trace.getSpan(parent) !== undefined)
    ) {
      spanAttributes = this.spanAttributes(target, operation);
      if (storedProcedure !== undefined) spanAttributes[ATTR_DB_STORED_PROCEDURE_NAME] = storedProcedure;
      const queryText = this.queryText(operation, start.args, start.keys);
      if (queryText !== undefined) spanAttributes[ATTR_DB_QUERY_TEXT] = queryText;
    }
    let metricAttributes: Attributes | undefined;
    if (instruments !== undefined) {
      metricAttributes =
        target === this.target
          ? this.sharedMetricAttributes(operation, storedProcedure)
          : this.commandMetricAttributes(target, operation, storedProcedure);
    }
    if (spanAttributes === undefined && metricAttributes === undefined) return undefined;
    // The one measurement. A span of the SDK times itself (`duration`, read at the end, is also the
    // histogram value); handing it our own stamps would cost two more clock reads and conversions per
    // command. Without such a span (metrics only, a sampled-out span, another SDK) the recorder stamps.
    const span =
      spanAttributes === undefined
        ? undefined
        : tracer!.startSpan(
            storedProcedure === undefined ? operation : `${operation} ${storedProcedure}`,
            { kind: SpanKind.CLIENT, attributes: spanAttributes },
            parent,
          );
    const startTime = span !== undefined && timesItself(span) ? SPAN_CLOCK : performance.now();
    const token = new Token(
      KIND_COMMAND,
      startTime,
      operation,
      span,
      metricAttributes,
      undefined,
      undefined,
      target,
    );
    token.parent = parent;
    return asToken(token);
  }

  startBatch(start: BatchStart): OperationToken | undefined {
    if (!this.tracker.refresh()) return undefined;
    const { tracer, instruments } = this.tracker;
    const kind = start.atomic ? 'MULTI' : 'PIPELINE';
    const commands = start.commands;
    const names = commands?.map((command) => command.name.toUpperCase());
    const first = names?.[0];
    const operation =
      first !== undefined && names!.every((name) => name === first) ? `${kind} ${first}` : kind;
    const size = start.size ?? names?.length;
    const parent = start.context ?? contextApi.active();
    const target = this.targetOf(start.server, start.database);
    let spanAttributes: Attributes | undefined;
    if (
      tracer !== undefined &&
      this.tracesBatch(kind, names) &&
      (!this.resolved.requireParentSpan || trace.getSpan(parent) !== undefined)
    ) {
      spanAttributes = this.spanAttributes(target, operation);
      if (size !== undefined && (size >= 2 || size === 0))
        spanAttributes[ATTR_DB_OPERATION_BATCH_SIZE] = size;
      const queryText = this.batchQueryText(commands);
      if (queryText !== undefined) spanAttributes[ATTR_DB_QUERY_TEXT] = queryText;
    }
    let metricAttributes: Attributes | undefined;
    if (instruments !== undefined) {
      metricAttributes = this.baseAttributes(target);
      metricAttributes[ATTR_DB_OPERATION_NAME] = operation;
    }
    if (spanAttributes === undefined && metricAttributes === undefined) return undefined;
    const startTime = performance.now();
    const span =
      spanAttributes === undefined
        ? undefined
        : tracer!.startSpan(
            operation,
            { kind: SpanKind.CLIENT, startTime, attributes: spanAttributes },
            parent,
          );
    const spanContext = span === undefined ? undefined : trace.setSpan(parent, span);
    const token = new Token(
      KIND_BATCH,
      startTime,
      operation,
      span,
      metricAttributes,
      spanContext,
      commands,
      target,
    );
    if (commands === undefined) token.children = { operations: [], queryText: '', sized: size !== undefined };
    return asToken(token);
  }

  startConnect(start: ConnectStart): OperationToken | undefined {
    if (!this.tracker.refresh()) return undefined;
    const { tracer, instruments } = this.tracker;
    const parent = start.context ?? contextApi.active();
    let spanAttributes: Attributes | undefined;
    if (tracer !== undefined && (!this.resolved.requireParentSpan || trace.getSpan(parent) !== undefined)) {
      spanAttributes = {
        [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_REDIS,
        [ATTR_SERVER_ADDRESS]: start.address,
      };
      if (start.port !== undefined) spanAttributes[ATTR_SERVER_PORT] = start.port;
      if (start.purpose !== undefined) spanAttributes[ATTR_REDIS_CONNECTION_PURPOSE] = start.purpose;
    }
    let metricAttributes: Attributes | undefined;
    if (instruments !== undefined) {
      metricAttributes = {
        [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_REDIS,
        [ATTR_DB_CLIENT_CONNECTION_POOL_NAME]: this.defaultPoolName,
        [ATTR_SERVER_ADDRESS]: start.address,
      };
      if (start.port !== undefined) metricAttributes[ATTR_SERVER_PORT] = start.port;
    }
    if (spanAttributes === undefined && metricAttributes === undefined) return undefined;
    const startTime = performance.now();
    const span =
      spanAttributes === undefined
        ? undefined
        : tracer!.startSpan(
            SPAN_NAME_CONNECT,
            { kind: SpanKind.CLIENT, startTime, attributes: spanAttributes },
            parent,
          );
    return asToken(
      new Token(
        KIND_CONNECT,
        startTime,
        SPAN_NAME_CONNECT,
        span,
        metricAttributes,
        undefined,
        undefined,
        undefined,
      ),
    );
  }

  end(operationToken: OperationToken | undefined, outcome: OperationOutcome = {}): void {
    if (operationToken === undefined) return;
    const token = operationToken as unknown as Token;
    if (token.ended) return;
    token.ended = true;
    const spanClock = token.startTime === SPAN_CLOCK;
    const endTime = spanClock ? SPAN_CLOCK : performance.now();
    const { error, peer } = outcome;
    const failed = error !== undefined;
    const classified = failed ? classifyError(error) : undefined;
    const span = token.span;
    if (token.children !== undefined && token.children.operations.length > 0) this.nameBatchByChildren(token);

    if (span !== undefined) {
      if (peer !== undefined) setPeer(span, peer);
      if (classified !== undefined) {
        if (classified.statusCode !== undefined)
          span.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, classified.statusCode);
        span.setAttribute(ATTR_ERROR_TYPE, classified.errorType);
        // Only the prefix or code: Redis error messages can echo the command's arguments.
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: classified.statusCode ?? classified.errorType,
        });
      }
      if (token.kind === KIND_BATCH) {
        const failedCommands =
          outcome.results?.filter((result) => !result.ok).length ?? outcome.failedCommands;
        if (failedCommands !== undefined && failedCommands > 0)
          span.setAttribute(ATTR_REDIS_BATCH_ERRORS, failedCommands);
        this.endBatchCommandSpans(token, outcome, endTime);
      } else if (token.kind === KIND_COMMAND) {
        this.callResponseHook(span, token.operation, outcome);
      }
      if (spanClock) span.end();
      else span.end(endTime);
    }

    const instruments = this.tracker.instruments;
    const metricAttributes = token.metricAttributes;
    if (metricAttributes === undefined || instruments === undefined) return;
    if (token.kind === KIND_CONNECT) {
      if (classified === undefined) {
        instruments.createTime.record((endTime - token.startTime) / 1000, metricAttributes);
      } else {
        metricAttributes[ATTR_ERROR_TYPE] = classified.errorType;
        instruments.connectionErrors.add(1, metricAttributes);
      }
      return;
    }
    const withPeer = peer !== undefined && this.metricPeers;
    let attributes = metricAttributes;
    if (withPeer || classified !== undefined) {
      // The start attributes may be shared between operations: the point gets its own copy.
      attributes = { ...metricAttributes };
      if (withPeer) {
        attributes[ATTR_NETWORK_PEER_ADDRESS] = peer.address;
        if (peer.port !== undefined) attributes[ATTR_NETWORK_PEER_PORT] = peer.port;
      }
      if (classified !== undefined) {
        if (classified.statusCode !== undefined)
          attributes[ATTR_DB_RESPONSE_STATUS_CODE] = classified.statusCode;
        attributes[ATTR_ERROR_TYPE] = classified.errorType;
      }
    }
    const seconds = spanClock ? spanSeconds(span!) : (endTime - token.startTime) / 1000;
    // With the operation's parent context, so the SDK does not look the active one up again.
    instruments.duration.record(seconds, attributes, token.parent);
  }

  observeConnections(read: () => ConnectionCounts, options: ObserveConnectionsOptions = {}): () => void {
    if (typeof read !== 'function') {
      throw new TypeError(`observeConnections: "read" must be a function, received ${typeof read}`);
    }
    const name = options.poolName ?? this.defaultPoolName;
    if (typeof name !== 'string' || name.length === 0) {
      throw new TypeError(
        `observeConnections: "poolName" must be a non-empty string, received ${typeof name}`,
      );
    }
    const base = {
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_REDIS,
      [ATTR_DB_CLIENT_CONNECTION_POOL_NAME]: name,
    };
    const source = {
      read,
      attributes: [
        { ...base, [ATTR_DB_CLIENT_CONNECTION_STATE]: 'idle' },
        { ...base, [ATTR_DB_CLIENT_CONNECTION_STATE]: 'used' },
      ] as [Attributes, Attributes],
    };
    this.sources.add(source);
    this.tracker.refresh();
    return () => {
      this.sources.delete(source);
    };
  }

  recordConnectionError(error: unknown, endpoint: Endpoint = this.target.server): void {
    this.tracker.refresh();
    const instruments = this.tracker.instruments;
    if (instruments === undefined) return;
    const attributes: Attributes = {
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_REDIS,
      [ATTR_DB_CLIENT_CONNECTION_POOL_NAME]: this.defaultPoolName,
      [ATTR_SERVER_ADDRESS]: endpoint.address,
      [ATTR_ERROR_TYPE]: classifyError(error).errorType,
    };
    if (endpoint.port !== undefined) attributes[ATTR_SERVER_PORT] = endpoint.port;
    instruments.connectionErrors.add(1, attributes);
  }

  // ---- internals --------------------------------------------------------------------------------

  private createInstruments(meter: Meter): Instruments {
    const observe = (result: ObservableResult) => {
      for (const source of this.sources) {
        let counts: ConnectionCounts;
        try {
          counts = source.read();
        } catch {
          continue;
        }
        result.observe(counts.idle, source.attributes[0]);
        result.observe(counts.used, source.attributes[1]);
      }
    };
    const connectionCount = meter.createObservableUpDownCounter(METRIC_DB_CLIENT_CONNECTION_COUNT, {
      description:
        'The number of connections that are currently in the state described by the state attribute.',
      unit: '{connection}',
    });
    connectionCount.addCallback(observe);
    return {
      duration: meter.createHistogram(METRIC_DB_CLIENT_OPERATION_DURATION, {
        description: 'Duration of database client operations.',
        unit: 's',
        advice: { explicitBucketBoundaries: [...DB_CLIENT_OPERATION_DURATION_BUCKETS] },
      }),
      createTime: meter.createHistogram(METRIC_DB_CLIENT_CONNECTION_CREATE_TIME, {
        description: 'The time it took to create a new connection.',
        unit: 's',
        advice: { explicitBucketBoundaries: [...DB_CLIENT_OPERATION_DURATION_BUCKETS] },
      }),
      connectionErrors: meter.createCounter(METRIC_REDIS_CLIENT_CONNECTION_ERRORS, {
        description: 'Failed attempts to connect to Redis.',
        unit: '{error}',
      }),
      connectionCount,
      observe,
    };
  }

  private traces(operation: string): boolean {
    const { includeCommands, excludeCommands } = this.resolved;
    if (includeCommands !== undefined && !includeCommands.has(operation)) return false;
    return excludeCommands === undefined || !excludeCommands.has(operation);
  }

  private tracesBatch(kind: string, names: readonly string[] | undefined): boolean {
    const { includeCommands, excludeCommands } = this.resolved;
    if (excludeCommands?.has(kind)) return false;
    if (includeCommands?.has(kind)) return true;
    if (names === undefined || names.length === 0) return includeCommands === undefined;
    return names.some((name) => this.traces(name));
  }

  private targetOf(server: Endpoint | undefined, database: number | undefined): OperationTarget {
    if (server === undefined && database === undefined) return this.target;
    return { server: server ?? this.target.server, database: database ?? this.target.database };
  }

  /**
   * The start attributes of a command's duration point on the default target, one frozen object per
   * operation (and script): the SDK reads them, nobody writes them, and no object is built per command.
   */
  private sharedMetricAttributes(operation: string, storedProcedure: string | undefined): Attributes {
    const cacheKey = storedProcedure === undefined ? operation : `${operation}\0${storedProcedure}`;
    let attributes = this.metricAttributeCache.get(cacheKey);
    if (attributes === undefined) {
      // Keys in sorted order: the SDK sorts them to hash the set on every `record`, which is cheapest
      // on sorted input.
      const built = this.commandMetricAttributes(this.target, operation, storedProcedure);
      attributes = Object.freeze(
        Object.fromEntries(
          Object.keys(built)
            .sort()
            .map((name) => [name, built[name]]),
        ),
      ) as Attributes;
      // Operation and script names are a small set; the bound guards against callers that make them up.
      if (this.metricAttributeCache.size < METRIC_ATTRIBUTE_CACHE_SIZE)
        this.metricAttributeCache.set(cacheKey, attributes);
    }
    return attributes;
  }

  private commandMetricAttributes(
    target: OperationTarget,
    operation: string,
    storedProcedure: string | undefined,
  ): Attributes {
    const attributes = this.baseAttributes(target);
    attributes[ATTR_DB_OPERATION_NAME] = operation;
    if (storedProcedure !== undefined) attributes[ATTR_DB_STORED_PROCEDURE_NAME] = storedProcedure;
    return attributes;
  }

  private baseAttributes(target: OperationTarget): Attributes {
    const attributes: Attributes = {
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_REDIS,
      [ATTR_DB_NAMESPACE]: String(target.database),
      [ATTR_SERVER_ADDRESS]: target.server.address,
    };
    if (target.server.port !== undefined) attributes[ATTR_SERVER_PORT] = target.server.port;
    return attributes;
  }

  private spanAttributes(target: OperationTarget, operation: string): Attributes {
    const attributes = this.baseAttributes(target);
    attributes[ATTR_DB_OPERATION_NAME] = operation;
    return attributes;
  }

  private queryText(
    name: string,
    args: readonly RedisArgument[] | undefined,
    keys: readonly number[] | undefined,
  ): string | undefined {
    const resolved = this.resolved;
    if (!resolved.queryText || args === undefined) return undefined;
    const serializer = resolved.dbStatementSerializer;
    if (serializer === undefined) {
      return sanitizeCommand(name, args, keys, {
        keys: resolved.keys,
        maxLength: resolved.maxQueryTextLength,
      });
    }
    try {
      const text = serializer(name, args, keys ?? commandKeyPositions(name, args));
      return text === undefined ? undefined : truncate(String(text), resolved.maxQueryTextLength);
    } catch {
      return undefined;
    }
  }

  private batchQueryText(commands: readonly BatchCommandStart[] | undefined): string | undefined {
    if (commands === undefined || commands.length === 0 || !this.resolved.queryText) return undefined;
    const max = this.resolved.maxQueryTextLength;
    let text = '';
    for (const command of commands) {
      const part = this.queryText(command.name, command.args, command.keys);
      if (part === undefined) return undefined;
      text = text.length === 0 ? part : `${text}; ${part}`;
      if (text.length > max) break;
    }
    return truncate(text, max);
  }

  /** Name a batch started without its commands after the commands seen inside it. */
  private nameBatchByChildren(token: Token): void {
    const { operations, queryText, sized } = token.children!;
    const kind = token.operation;
    const first = operations[0]!;
    const name = operations.every((operation) => operation === first) ? `${kind} ${first}` : kind;
    const span = token.span;
    if (name !== kind) {
      token.operation = name;
      span?.updateName(name);
      span?.setAttribute(ATTR_DB_OPERATION_NAME, name);
      if (token.metricAttributes !== undefined) token.metricAttributes[ATTR_DB_OPERATION_NAME] = name;
    }
    if (span === undefined) return;
    if (!sized && operations.length >= 2) span.setAttribute(ATTR_DB_OPERATION_BATCH_SIZE, operations.length);
    if (queryText !== null && queryText !== '') {
      span.setAttribute(ATTR_DB_QUERY_TEXT, truncate(queryText, this.resolved.maxQueryTextLength));
    }
  }

  private endBatchCommandSpans(token: Token, outcome: OperationOutcome, endTime: number): void {
    const tracer = this.tracker.tracer;
    const commands = token.batchCommands;
    if (!this.resolved.batchCommandSpans || tracer === undefined || commands === undefined) return;
    const target = token.target ?? this.target;
    commands.forEach((command, index) => {
      const operation = command.name.toUpperCase();
      const attributes = this.spanAttributes(target, operation);
      const queryText = this.queryText(operation, command.args, command.keys);
      if (queryText !== undefined) attributes[ATTR_DB_QUERY_TEXT] = queryText;
      const child = tracer.startSpan(
        operation,
        { kind: SpanKind.CLIENT, startTime: token.startTime, attributes },
        token.spanContext,
      );
      if (outcome.peer !== undefined) setPeer(child, outcome.peer);
      const result = outcome.results?.[index];
      const error = outcome.error ?? (result !== undefined && !result.ok ? result.error : undefined);
      if (error !== undefined) {
        const classified = classifyError(error);
        if (classified.statusCode !== undefined)
          child.setAttribute(ATTR_DB_RESPONSE_STATUS_CODE, classified.statusCode);
        child.setAttribute(ATTR_ERROR_TYPE, classified.errorType);
        child.setStatus({
          code: SpanStatusCode.ERROR,
          message: classified.statusCode ?? classified.errorType,
        });
      }
      this.callResponseHook(child, operation, {
        error,
        reply: result?.ok ? result.value : undefined,
      });
      child.end(endTime);
    });
  }

  private callResponseHook(span: Span, operation: string, outcome: OperationOutcome): void {
    const hook = this.resolved.responseHook;
    if (hook === undefined) return;
    try {
      const info: { operation: string; reply?: RedisReply; error?: unknown } = { operation };
      if (outcome.reply !== undefined) info.reply = outcome.reply;
      if (outcome.error !== undefined) info.error = outcome.error;
      hook(span, info);
    } catch {
      // A response hook must never break the command.
    }
  }
}

/** `Token.startTime` of an operation timed by its span's own clock (see {@link timesItself}). */
const SPAN_CLOCK = -1;

/**
 * Whether `span` is a span of the OpenTelemetry SDK that measures its own duration (`ReadableSpan`:
 * `duration` as `[seconds, nanoseconds]` once ended). A sampled-out span (`NonRecordingSpan`) is not.
 */
function timesItself(span: Span): boolean {
  return Array.isArray((span as Partial<TimedSpan>).duration) && span.isRecording();
}

interface TimedSpan {
  readonly duration: readonly [number, number];
}

/** The duration of an ended span that {@link timesItself}, in seconds (never negative). */
function spanSeconds(span: Span): number {
  const [seconds, nanoseconds] = (span as unknown as TimedSpan).duration;
  return seconds < 0 ? 0 : seconds + nanoseconds / 1e9;
}

function setPeer(span: Span, peer: Endpoint): void {
  span.setAttribute(ATTR_NETWORK_PEER_ADDRESS, peer.address);
  if (peer.port !== undefined) span.setAttribute(ATTR_NETWORK_PEER_PORT, peer.port);
}

/** `db.stored_procedure.name` from the arguments: the FCALL function name, or the EVALSHA SHA. */
function storedProcedureOf(
  operation: string,
  args: readonly RedisArgument[] | undefined,
): string | undefined {
  const first = args?.[0];
  if (typeof first !== 'string') return undefined;
  if (operation === 'FCALL' || operation === 'FCALL_RO') return first === '?' ? undefined : first;
  if ((operation === 'EVALSHA' || operation === 'EVALSHA_RO') && /^[0-9a-fA-F]{40}$/.test(first))
    return first.toLowerCase();
  return undefined;
}

/** Client reply-error classes whose message starts with the Redis error prefix. */
const CLIENT_REPLY_ERRORS = new Set(['ErrorReply', 'ReplyError', 'SimpleError', 'BlobError']);

/** `error.type` and `db.response.status_code` of a failure; never its message. */
export function classifyError(error: unknown): { errorType: string; statusCode?: string } {
  if (RedisReplyError.isInstance(error)) return { errorType: error.prefix, statusCode: error.prefix };
  if (RedisConnectionError.isInstance(error)) return { errorType: error.code };
  if (RedisTimeoutError.isInstance(error)) return { errorType: 'timeout' };
  if (error instanceof Error && CLIENT_REPLY_ERRORS.has(error.name) && typeof error.message === 'string') {
    const prefix = parseErrorPrefix(error.message);
    return { errorType: prefix, statusCode: prefix };
  }
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (typeof code === 'string' && SYSTEM_ERROR_CODE.test(code)) return { errorType: code };
  return { errorType: ERROR_TYPE_VALUE_OTHER };
}

/** A Node.js system error code (`ECONNREFUSED`, `ETIMEDOUT`, `EPIPE`…): stable and low-cardinality. */
const SYSTEM_ERROR_CODE = /^E[A-Z0-9_]{2,31}$/;

function poolName(target: OperationTarget): string {
  const { address, port } = target.server;
  return port === undefined ? `${address}/${target.database}` : `${address}:${port}/${target.database}`;
}

function checkTarget(target: OperationTarget): void {
  if (
    typeof target !== 'object' ||
    target === null ||
    typeof target.server !== 'object' ||
    target.server === null ||
    typeof target.server.address !== 'string'
  ) {
    throw new TypeError(
      'createOperationRecorder: "target" must have a server { address, port? } and a database',
    );
  }
  if (!Number.isInteger(target.database) || target.database < 0) {
    throw new RangeError(
      `createOperationRecorder: "target.database" must be a non-negative integer, received ${String(target.database)}`,
    );
  }
  if (target.topology !== undefined && !TOPOLOGIES.includes(target.topology)) {
    throw new TypeError(
      `createOperationRecorder: "target.topology" must be 'standalone', 'cluster' or 'sentinel', received ${describeValue(target.topology)}`,
    );
  }
}
