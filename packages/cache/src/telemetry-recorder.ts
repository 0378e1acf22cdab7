import {
  type Attributes,
  type Context,
  type Counter,
  context,
  type Histogram,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  metrics,
  type Span,
  SpanKind,
  type SpanOptions,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { ResolvedCacheOptions } from './options.js';
import {
  ATTR_CACHE_COALESCE_SCOPE,
  ATTR_CACHE_KEY,
  ATTR_CACHE_LOADER_OUTCOME,
  ATTR_CACHE_NAME,
  ATTR_CACHE_OPERATION,
  ATTR_CACHE_RESULT,
  ATTR_CACHE_TIER,
  ATTR_ERROR_TYPE,
  type CacheErrorType,
  type CacheResult,
  type CacheTier,
  INSTRUMENTATION_SCOPE,
  type LoaderOutcome,
  METRIC_COALESCED_LOADS,
  METRIC_ERRORS,
  METRIC_LOADER_DURATION,
  METRIC_REQUESTS,
} from './telemetry.js';
import { VERSION } from './version.js';

/** A span of no SDK (the API's no-op tracer): not recording, and an invalid context (checked by identity first). */
function isNoop(span: Span): boolean {
  if (span.isRecording()) return false;
  const spanContext = span.spanContext();
  return spanContext === INVALID_SPAN_CONTEXT || !isSpanContextValid(spanContext);
}

/** The tracer, instruments and pre-built (frozen, bounded) metric attribute sets of one cache. */
export class CacheTelemetry {
  readonly tracer: Tracer;
  readonly #requests: Counter;
  readonly #loaderDuration: Histogram;
  readonly #coalesced: Counter;
  readonly #errors: Counter;
  readonly #name: string;
  readonly #includeKeys: boolean;
  readonly #attributeSets = new Map<string, Attributes>();
  /** Shared (never mutated) start options of spans without a key: no allocation per operation. */
  readonly #spanOptions: SpanOptions;

  constructor(options: ResolvedCacheOptions) {
    const tracerProvider = options.tracerProvider ?? trace.getTracerProvider();
    const meterProvider = options.meterProvider ?? metrics.getMeterProvider();
    this.tracer = tracerProvider.getTracer(INSTRUMENTATION_SCOPE, VERSION);
    const meter = meterProvider.getMeter(INSTRUMENTATION_SCOPE, VERSION);
    this.#name = options.name;
    this.#includeKeys = options.includeKeys;
    this.#spanOptions = Object.freeze({
      kind: SpanKind.INTERNAL,
      attributes: Object.freeze({ [ATTR_CACHE_NAME]: options.name }),
    });
    this.#requests = meter.createCounter(METRIC_REQUESTS, {
      description: 'Cache lookups by result (hit, miss, stale) and tier',
      unit: '{request}',
    });
    this.#loaderDuration = meter.createHistogram(METRIC_LOADER_DURATION, {
      description: 'Duration of loader calls made on misses and refreshes',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] },
    });
    this.#coalesced = meter.createCounter(METRIC_COALESCED_LOADS, {
      description: 'getOrLoad calls that waited for a load already running (in this process or another)',
      unit: '{load}',
    });
    this.#errors = meter.createCounter(METRIC_ERRORS, {
      description: 'Errors the cache absorbed or surfaced, by type',
      unit: '{error}',
    });
  }

  /** Start an operation span; the key is an attribute only when `includeKeys` is on. */
  startSpan(name: string, key?: string): Span {
    if (!this.#includeKeys || key === undefined) return this.tracer.startSpan(name, this.#spanOptions);
    return this.tracer.startSpan(name, {
      kind: SpanKind.INTERNAL,
      attributes: { [ATTR_CACHE_NAME]: this.#name, [ATTR_CACHE_KEY]: key },
    });
  }

  /**
   * The active context with `span` in it. With no SDK registered the span is a no-op with an invalid
   * context: the caller's context is returned as is (nothing to parent, and it saves the allocation).
   */
  contextWith(span: Span): Context {
    const active = context.active();
    return isNoop(span) ? active : trace.setSpan(active, span);
  }

  /** Run `fn` with `span` active (so Redis command spans become its children). */
  withSpan<T>(span: Span, fn: () => T): T {
    return isNoop(span) ? fn() : context.with(trace.setSpan(context.active(), span), fn);
  }

  #attributes(id: string, build: () => Attributes): Attributes {
    let set = this.#attributeSets.get(id);
    if (set === undefined) {
      set = Object.freeze({ [ATTR_CACHE_NAME]: this.#name, ...build() });
      this.#attributeSets.set(id, set);
    }
    return set;
  }

  readonly #requestSets: Record<string, Attributes | undefined> = {};

  request(operation: string, result: CacheResult, tier: CacheTier | undefined, count = 1): void {
    if (count <= 0) return;
    const id = tier === undefined ? operation + result : operation + result + tier;
    const known = this.#requestSets[id];
    if (known !== undefined) {
      this.#requests.add(count, known);
      return;
    }
    const attributes = this.#attributes(`r|${operation}|${result}|${tier ?? ''}`, () => {
      const a: Attributes = { [ATTR_CACHE_OPERATION]: operation, [ATTR_CACHE_RESULT]: result };
      if (tier !== undefined) a[ATTR_CACHE_TIER] = tier;
      return a;
    });
    this.#requestSets[id] = attributes;
    this.#requests.add(count, attributes);
  }

  loader(seconds: number, outcome: LoaderOutcome): void {
    this.#loaderDuration.record(
      seconds,
      this.#attributes(`l|${outcome}`, () => ({ [ATTR_CACHE_LOADER_OUTCOME]: outcome })),
    );
  }

  coalesced(scope: 'process' | 'distributed'): void {
    this.#coalesced.add(
      1,
      this.#attributes(`c|${scope}`, () => ({ [ATTR_CACHE_COALESCE_SCOPE]: scope })),
    );
  }

  error(operation: string, type: CacheErrorType): void {
    this.#errors.add(
      1,
      this.#attributes(`e|${operation}|${type}`, () => ({
        [ATTR_CACHE_OPERATION]: operation,
        [ATTR_ERROR_TYPE]: type,
      })),
    );
  }
}
