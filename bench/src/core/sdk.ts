// What the SDK-mode core benchmarks share: an SDK that does all the work an application's would and then
// discards the result, and the "floor" instrumentation to compare instrumentations with.
import { context, metrics, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

/**
 * Register globally an SDK with AlwaysOn sampling, a batch span processor, a periodic metric reader and
 * exporters that discard everything, so a figure is the instrumentation's cost, not an exporter's.
 */
export function registerDiscardingSdk(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const discardSpans: SpanExporter = {
    export: (_spans, done) => done({ code: 0 }),
    shutdown: async () => {},
  };
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({
      sampler: new AlwaysOnSampler(),
      spanProcessors: [new BatchSpanProcessor(discardSpans)],
    }),
  );
  const discardMetrics: PushMetricExporter = {
    export: (_metrics, done) => done({ code: 0 }),
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  metrics.setGlobalMeterProvider(
    new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({ exporter: discardMetrics, exportIntervalMillis: 60_000 }),
      ],
    }),
  );
}

/**
 * The least any instrumentation that gives a span and a duration point per command can do through the
 * SDK, around `call`: a span with no attributes, its end, and one histogram point with a frozen attribute
 * set made once (four attributes in sorted order, the fewest the conventions require). No sanitizing, no
 * context, no error handling: its cost is a lower bound for spans + metric. With `point: false`, the
 * bare span only.
 */
export function floorSender(
  url: string,
  operation: string,
  call: () => Promise<unknown>,
  { point = true }: { point?: boolean } = {},
): () => Promise<unknown> {
  const tracer = trace.getTracer('floor');
  const histogram = metrics.getMeter('floor').createHistogram('db.client.operation.duration', { unit: 's' });
  const { hostname, port } = new URL(url);
  const attributes = Object.freeze({
    'db.operation.name': operation,
    'db.system.name': 'redis',
    'server.address': hostname,
    'server.port': Number(port),
  });
  if (!point) {
    // The span alone: what a span costs the SDK, to tell the point's share of the floor.
    return () => {
      const span = tracer.startSpan(operation, { kind: SpanKind.CLIENT });
      return call().then((reply) => {
        span.end();
        return reply;
      });
    };
  }
  return () => {
    const span = tracer.startSpan(operation, { kind: SpanKind.CLIENT });
    const started = performance.now();
    return call().then((reply) => {
      span.end();
      histogram.record((performance.now() - started) / 1000, attributes);
      return reply;
    });
  };
}
