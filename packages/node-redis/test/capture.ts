import { type Attributes, context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  type MetricData,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

class TestMetricReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

let contextManagerInstalled = false;

/** Install the AsyncLocalStorage context manager once per test file (parenting across `await`). */
export function installContextManager(): void {
  if (contextManagerInstalled) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  contextManagerInstalled = true;
}

/** In-memory span exporter and metric reader around explicit SDK providers. */
export interface Capture {
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  /** The finished spans so far. */
  spans(): ReadableSpan[];
  /** The finished spans with this name. */
  spansNamed(name: string): ReadableSpan[];
  /** Collect and return the metric with this name (undefined when it has no data). */
  metric(name: string): Promise<MetricData | undefined>;
  /** The histogram points of `name`. */
  histogramPoints(name: string): Promise<DataPoint<Histogram>[]>;
  shutdown(): Promise<void>;
}

/** A fresh SDK pair recording in memory (AlwaysOn sampling, simple span processor). */
export function createCapture(): Capture {
  installContextManager();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new TestMetricReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const metric = async (name: string) => {
    const { resourceMetrics } = await reader.collect();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const data of scope.metrics) if (data.descriptor.name === name) return data;
    }
    return undefined;
  };
  return {
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    spansNamed: (name) => exporter.getFinishedSpans().filter((span) => span.name === name),
    metric,
    async histogramPoints(name) {
      const data = await metric(name);
      return (data?.dataPoints ?? []) as DataPoint<Histogram>[];
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/** Seconds between a span's start and end. */
export function spanSeconds(span: ReadableSpan): number {
  return span.duration[0] + span.duration[1] / 1e9;
}

/** The point whose attributes include all of `attributes`. */
export function pointWith<P extends { readonly attributes: Attributes }>(
  points: readonly P[],
  attributes: Attributes,
): P | undefined {
  return points.find((point) =>
    Object.entries(attributes).every(([key, value]) => point.attributes[key] === value),
  );
}
