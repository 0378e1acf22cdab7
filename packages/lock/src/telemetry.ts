import {
  type Attributes,
  type Context,
  type Counter,
  createNoopMeter,
  type Histogram,
  INVALID_SPAN_CONTEXT,
  type Meter,
  type MeterProvider,
  metrics,
  ProxyTracerProvider,
  type Span,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { VERSION } from './version.js';

/** The instrumentation scope of this package's tracer and meter. */
export const INSTRUMENTATION_SCOPE = '@redisotel/lock';

/** What a span or metric is about: the `lock.kind` attribute and the first word of span names. */
export type LockKind = 'lock' | 'semaphore' | 'read-lock' | 'write-lock';

/** Span names: `lock acquire`, `semaphore release`, … (`{kind} {operation}`). */
export const SPAN_OPERATIONS = {
  acquire: 'acquire',
  extend: 'extend',
  release: 'release',
  withLock: 'withLock',
  lost: 'lost',
} as const;

/** Span and metric attribute keys. */
export const ATTR_LOCK_NAME = 'lock.name';
/** `lock`, `semaphore`, `read-lock` or `write-lock`. */
export const ATTR_LOCK_KIND = 'lock.kind';
/** The resource; on spans only, and only with `recordResource: true`. */
export const ATTR_LOCK_RESOURCE = 'lock.resource';
export const ATTR_LOCK_ACQUIRED = 'lock.acquired';
export const ATTR_LOCK_ATTEMPTS = 'lock.attempts';
export const ATTR_LOCK_WAIT_MS = 'lock.wait_ms';
export const ATTR_LOCK_FENCING_TOKEN = 'lock.fencing_token';
export const ATTR_LOCK_TTL_MS = 'lock.ttl_ms';
export const ATTR_LOCK_EXTENDED = 'lock.extended';
export const ATTR_LOCK_RELEASED = 'lock.released';
/** Whether an extension was automatic. */
export const ATTR_LOCK_AUTO = 'lock.auto_extend';
/** Acquire outcome: see {@link AcquireOutcome}. */
export const ATTR_LOCK_OUTCOME = 'lock.outcome';
/** Why a lease was lost: `not-held` or `expired`. */
export const ATTR_LOCK_LOST_REASON = 'lock.lost.reason';
export const ATTR_ERROR_TYPE = 'error.type';

/** The span event recorded when a lease is lost. */
export const EVENT_LOCK_LOST = 'lock.lost';

/** Metric names. */
export const METRIC_ACQUIRE_WAIT = 'lock.acquire.wait_time';
export const METRIC_HOLD_DURATION = 'lock.hold.duration';
export const METRIC_ACQUIRE_OUTCOMES = 'lock.acquire.outcomes';
export const METRIC_LOST = 'lock.lost';

/**
 * `acquired`; `timed_out` (waitMs or maxAttempts ran out); `aborted` (the caller's signal); `busy`
 * (`tryAcquire` found it held); `error` (Redis failed).
 */
export type AcquireOutcome = 'acquired' | 'timed_out' | 'aborted' | 'busy' | 'error';

/** The no-op meter of this copy of the API (what the global meter provider hands out before an SDK). */
const NOOP_METER: Meter = createNoopMeter();

const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30];
const HOLD_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

/** The tracer and instruments of one lock or semaphore. */
export interface LockTelemetry {
  readonly tracer: Tracer;
  /** Where `tracer` comes from: checked per operation, so spans start once an SDK registers. */
  readonly tracerProvider: TracerProvider;
  /** `lock.name` + `lock.kind`: the only metric attributes besides the outcome/reason enums. */
  readonly baseAttributes: Attributes;
  /** `baseAttributes` + `lock.outcome`, one frozen object per outcome. */
  readonly outcomeAttributes: Readonly<Record<AcquireOutcome, Attributes>>;
  /**
   * Whether the instruments record: false when they come from the no-op meter (no SDK when the lock was
   * made), so the uncontended path skips reading the clock for them.
   */
  readonly metered: boolean;
  readonly acquireWait: Histogram;
  readonly holdDuration: Histogram;
  readonly acquireOutcomes: Counter;
  readonly lost: Counter;
}

// One telemetry per (tracer provider, meter provider, name, kind): locks are often created per
// request, and instruments need not be.
const cache = new WeakMap<TracerProvider, WeakMap<MeterProvider, Map<string, LockTelemetry>>>();
let lastTelemetry:
  | {
      readonly tracerProvider: TracerProvider;
      readonly meterProvider: MeterProvider;
      readonly name: string;
      readonly kind: LockKind;
      readonly telemetry: LockTelemetry;
    }
  | undefined;

export function createLockTelemetry(
  tracerProviderOption: TracerProvider | undefined,
  meterProviderOption: MeterProvider | undefined,
  name: string,
  kind: LockKind,
): LockTelemetry {
  const tracerProvider = tracerProviderOption ?? trace.getTracerProvider();
  const meterProvider = meterProviderOption ?? metrics.getMeterProvider();
  // Locks made per request usually ask for the same telemetry as the previous one: no lookups then.
  const recent = lastTelemetry;
  if (
    recent !== undefined &&
    recent.tracerProvider === tracerProvider &&
    recent.meterProvider === meterProvider &&
    recent.name === name &&
    recent.kind === kind
  ) {
    return recent.telemetry;
  }
  let byMeter = cache.get(tracerProvider);
  if (byMeter === undefined) {
    byMeter = new WeakMap();
    cache.set(tracerProvider, byMeter);
  }
  let byName = byMeter.get(meterProvider);
  if (byName === undefined) {
    byName = new Map();
    byMeter.set(meterProvider, byName);
  }
  const key = `${kind}\u0000${name}`;
  let telemetry = byName.get(key);
  if (telemetry === undefined) {
    telemetry = build(tracerProvider, meterProvider, name, kind);
    // Names are low-cardinality by contract; the bound only protects against misuse.
    if (byName.size < 1000) byName.set(key, telemetry);
  }
  lastTelemetry = { tracerProvider, meterProvider, name, kind, telemetry };
  return telemetry;
}

function build(
  tracerProvider: TracerProvider,
  meterProvider: MeterProvider,
  name: string,
  kind: LockKind,
): LockTelemetry {
  const tracer = tracerProvider.getTracer(INSTRUMENTATION_SCOPE, VERSION);
  const meter = meterProvider.getMeter(INSTRUMENTATION_SCOPE, VERSION);
  const baseAttributes = Object.freeze({ [ATTR_LOCK_NAME]: name, [ATTR_LOCK_KIND]: kind });
  const outcomes: AcquireOutcome[] = ['acquired', 'timed_out', 'aborted', 'busy', 'error'];
  const outcomeAttributes = Object.fromEntries(
    outcomes.map((outcome) => [outcome, Object.freeze({ ...baseAttributes, [ATTR_LOCK_OUTCOME]: outcome })]),
  ) as unknown as Record<AcquireOutcome, Attributes>;
  return {
    tracer,
    tracerProvider,
    baseAttributes,
    outcomeAttributes,
    metered: meter !== NOOP_METER,
    acquireWait: meter.createHistogram(METRIC_ACQUIRE_WAIT, {
      description: 'How long acquire waited, whatever its outcome',
      unit: 's',
      advice: { explicitBucketBoundaries: WAIT_BUCKETS },
    }),
    holdDuration: meter.createHistogram(METRIC_HOLD_DURATION, {
      description: 'How long leases were held, from acquisition to release or loss',
      unit: 's',
      advice: { explicitBucketBoundaries: HOLD_BUCKETS },
    }),
    acquireOutcomes: meter.createCounter(METRIC_ACQUIRE_OUTCOMES, {
      description: 'Acquire calls by outcome',
      unit: '{acquisition}',
    }),
    lost: meter.createCounter(METRIC_LOST, {
      description: 'Leases lost while held',
      unit: '{lease}',
    }),
  };
}

/** The no-op tracer provider of this copy of the API (what an unset `ProxyTracerProvider` delegates to). */
const NOOP_TRACER_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate();

/** A span that records nothing, returned instead of starting one when no SDK is registered. */
export const NON_RECORDING_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Whether spans would record: false for a no-op provider (no SDK, or the global proxy before one
 * registers), the same test as `@redisotel/core-hooks`. A few property reads, so checked per operation.
 */
export function tracingOn(telemetry: LockTelemetry): boolean {
  const provider = telemetry.tracerProvider;
  const delegate = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate !== NOOP_TRACER_PROVIDER && delegate.constructor?.name !== 'NoopTracerProvider';
}

/** Start a span, or return {@link NON_RECORDING_SPAN} at no cost when no SDK is registered. */
export function startSpan(
  telemetry: LockTelemetry,
  name: string,
  attributes: Attributes,
  parent?: Context,
): Span {
  if (!tracingOn(telemetry)) return NON_RECORDING_SPAN;
  return telemetry.tracer.startSpan(name, { attributes }, parent);
}
