import {
  type MeterProvider as ApiMeterProvider,
  type TracerProvider as ApiTracerProvider,
  type Attributes,
  type AttributeValue,
  context,
  metrics,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  DataPointType,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Options of {@link captureTelemetry}. */
export interface CaptureTelemetryOptions {
  /**
   * Also register the providers as the global tracer and meter providers (`trace.getTracer()` and
   * `metrics.getMeter()` then record here). `shutdown()` unregisters them. Use it for code that reads the
   * globals; prefer passing `tracerProvider` / `meterProvider` explicitly.
   * @default false
   */
  readonly global?: boolean;
}

/** One point of a counter, up-down counter or gauge. */
export interface CollectedNumberPoint {
  readonly attributes: Attributes;
  readonly value: number;
  /** The instrumentation scope that recorded it. */
  readonly scope: { readonly name: string; readonly version?: string };
}

/** One point of a histogram. */
export interface CollectedHistogramPoint {
  readonly attributes: Attributes;
  readonly count: number;
  readonly sum: number;
  readonly min: number | undefined;
  readonly max: number | undefined;
  /** Bucket upper boundaries and the count in each bucket (one more count than boundaries: +Inf). */
  readonly buckets: { readonly boundaries: readonly number[]; readonly counts: readonly number[] };
  readonly scope: { readonly name: string; readonly version?: string };
}

/** One metric as collected: its points since the capture started or was last reset. */
export type CollectedMetric =
  | {
      readonly name: string;
      readonly kind: 'sum' | 'gauge';
      readonly unit: string;
      readonly description: string;
      readonly points: readonly CollectedNumberPoint[];
    }
  | {
      readonly name: string;
      readonly kind: 'histogram';
      readonly unit: string;
      readonly description: string;
      readonly points: readonly CollectedHistogramPoint[];
    };

/** The metrics collected, by metric name. */
export type CollectedMetrics = Readonly<Record<string, CollectedMetric>>;

/** What {@link captureTelemetry} returns. */
export interface TelemetryCapture {
  /** Pass it as `tracerProvider` to the code under test. */
  readonly tracerProvider: ApiTracerProvider;
  /** Pass it as `meterProvider` to the code under test. */
  readonly meterProvider: ApiMeterProvider;
  /** The ended spans, in the order they ended. */
  spans(): ReadableSpan[];
  /** The ended spans with this name (or matching this pattern). */
  findSpans(name: string | RegExp): ReadableSpan[];
  /**
   * The first ended span with this name.
   * @throws {Error} listing the names of the spans that did end, when none has this name.
   */
  span(name: string | RegExp): ReadableSpan;
  /** A span's attributes (by span, or by name as in {@link span}). */
  attributes(span: ReadableSpan | string | RegExp): Attributes;
  /** The ended spans whose parent is `span`. */
  children(span: ReadableSpan): ReadableSpan[];
  /** Collect the metrics recorded since the capture started or was last reset. */
  collectMetrics(): Promise<CollectedMetrics>;
  /**
   * Collect one metric.
   * @throws {Error} listing the collected metric names, when there is no metric with this name.
   */
  metric(name: string): Promise<CollectedMetric>;
  /** Forget the spans and metrics recorded so far (each test starts clean). */
  reset(): Promise<void>;
  /** Shut the providers down (and unregister them when they were registered as globals). Idempotent. */
  shutdown(): Promise<void>;
}

/** A reader that collects only when asked, with delta temporality (so `reset()` can drop what was read). */
class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

let contextManagerRegistered = false;

/** Register an AsyncLocalStorage context manager once (unless the process already has one), so parent/child works. */
function ensureContextManager(): void {
  if (contextManagerRegistered) return;
  contextManagerRegistered = true;
  const manager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(manager)) manager.disable();
}

let globalOwner: object | undefined;

function pointKey(scope: string, attributes: Attributes): string {
  const sorted = Object.keys(attributes)
    .sort()
    .map((key) => [key, attributes[key] as AttributeValue | undefined]);
  return `${scope}\u0000${JSON.stringify(sorted)}`;
}

function spanNames(spans: readonly ReadableSpan[]): string {
  return spans.length === 0 ? '(no span ended)' : [...new Set(spans.map((span) => span.name))].join(', ');
}

function matches(name: string | RegExp, candidate: string): boolean {
  return typeof name === 'string' ? candidate === name : name.test(candidate);
}

interface MetricAccumulator {
  name: string;
  kind: 'sum' | 'gauge' | 'histogram';
  unit: string;
  description: string;
  points: Map<string, CollectedNumberPoint | CollectedHistogramPoint>;
}

/**
 * Capture spans and metrics in memory: a `BasicTracerProvider` with an `InMemorySpanExporter` (through a
 * `SimpleSpanProcessor`) and a `MeterProvider` with a reader collected on demand. An AsyncLocalStorage
 * context manager is registered once so spans started inside `startActiveSpan` become parents.
 * @example
 * ```ts
 * const telemetry = captureTelemetry();
 * beforeEach(() => telemetry.reset());
 * afterAll(() => telemetry.shutdown());
 *
 * it('traces GET', async () => {
 *   const redis = fromNodeRedis(client, { tracerProvider: telemetry.tracerProvider });
 *   await redis.send({ name: 'GET', args: ['k'], keys: [0] });
 *   expect(telemetry.attributes('GET')).toMatchObject({ 'db.system.name': 'redis' });
 *   const duration = await telemetry.metric('db.client.operation.duration');
 *   expect(duration.points[0]).toMatchObject({ count: 1 });
 * });
 * ```
 */
export function captureTelemetry(options: CaptureTelemetryOptions = {}): TelemetryCapture {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`captureTelemetry: options must be an object, received ${String(options)}`);
  }
  if (options.global !== undefined && typeof options.global !== 'boolean') {
    throw new TypeError(
      `captureTelemetry: options.global must be a boolean, received ${String(options.global)}`,
    );
  }
  ensureContextManager();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const accumulated = new Map<string, MetricAccumulator>();
  const owner = {};
  let shutDown: Promise<void> | undefined;

  if (options.global) {
    // Replace whatever a previous capture (or test) registered.
    trace.disable();
    metrics.disable();
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
    globalOwner = owner;
  }

  const collectInto = async (target: Map<string, MetricAccumulator> | undefined): Promise<void> => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new Error(`collecting metrics failed: ${errors.map(String).join('; ')}`);
    if (!target) return;
    for (const scopeMetrics of resourceMetrics.scopeMetrics) {
      const scope = {
        name: scopeMetrics.scope.name,
        ...(scopeMetrics.scope.version === undefined ? {} : { version: scopeMetrics.scope.version }),
      };
      for (const metric of scopeMetrics.metrics) {
        const { name, unit, description } = metric.descriptor;
        const kind =
          metric.dataPointType === DataPointType.HISTOGRAM
            ? 'histogram'
            : metric.dataPointType === DataPointType.GAUGE
              ? 'gauge'
              : metric.dataPointType === DataPointType.SUM
                ? 'sum'
                : undefined;
        if (kind === undefined) continue; // exponential histograms are not configured here
        let entry = target.get(name);
        if (!entry) {
          entry = { name, kind, unit, description, points: new Map() };
          target.set(name, entry);
        }
        for (const point of metric.dataPoints) {
          const key = pointKey(`${scope.name}@${scope.version ?? ''}`, point.attributes);
          const previous = entry.points.get(key);
          if (kind === 'histogram') {
            const value = point.value as Histogram;
            const before = previous as CollectedHistogramPoint | undefined;
            const counts = value.buckets.counts.map(
              (count, index) => count + (before?.buckets.counts[index] ?? 0),
            );
            const pick = (
              a: number | undefined,
              b: number | undefined,
              fn: (x: number, y: number) => number,
            ) => (a === undefined ? b : b === undefined ? a : fn(a, b));
            entry.points.set(key, {
              attributes: point.attributes,
              count: value.count + (before?.count ?? 0),
              sum: (value.sum ?? 0) + (before?.sum ?? 0),
              min: pick(value.min, before?.min, Math.min),
              max: pick(value.max, before?.max, Math.max),
              buckets: { boundaries: [...value.buckets.boundaries], counts },
              scope,
            });
          } else {
            const value = point.value as number;
            const before = previous as CollectedNumberPoint | undefined;
            entry.points.set(key, {
              attributes: point.attributes,
              value: kind === 'gauge' ? value : value + (before?.value ?? 0),
              scope,
            });
          }
        }
      }
    }
  };

  const snapshot = (): CollectedMetrics => {
    const result: Record<string, CollectedMetric> = {};
    for (const entry of accumulated.values()) {
      result[entry.name] = {
        name: entry.name,
        kind: entry.kind,
        unit: entry.unit,
        description: entry.description,
        points: [...entry.points.values()],
      } as CollectedMetric;
    }
    return result;
  };

  const capture: TelemetryCapture = {
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans().slice(),
    findSpans: (name) => exporter.getFinishedSpans().filter((span) => matches(name, span.name)),
    span(name) {
      const spans = exporter.getFinishedSpans();
      const found = spans.find((span) => matches(name, span.name));
      if (!found) throw new Error(`no span named ${String(name)} ended; spans: ${spanNames(spans)}`);
      return found;
    },
    attributes(span) {
      return (typeof span === 'string' || span instanceof RegExp ? capture.span(span) : span).attributes;
    },
    children(parent) {
      const { spanId, traceId } = parent.spanContext();
      return exporter
        .getFinishedSpans()
        .filter(
          (span) => span.parentSpanContext?.spanId === spanId && span.spanContext().traceId === traceId,
        );
    },
    async collectMetrics() {
      await collectInto(accumulated);
      return snapshot();
    },
    async metric(name) {
      const collected = await capture.collectMetrics();
      const found = collected[name];
      if (!found) {
        const names = Object.keys(collected);
        throw new Error(
          `no metric named ${name} was recorded; metrics: ${names.length === 0 ? '(none)' : names.join(', ')}`,
        );
      }
      return found;
    },
    async reset() {
      exporter.reset();
      if (!shutDown) await collectInto(undefined);
      accumulated.clear();
    },
    shutdown() {
      shutDown ??= (async () => {
        if (globalOwner === owner) {
          trace.disable();
          metrics.disable();
          globalOwner = undefined;
        }
        await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
        exporter.reset();
        accumulated.clear();
      })();
      return shutDown;
    },
  };
  return capture;
}
