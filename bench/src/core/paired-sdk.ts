// The SDK-mode cost on ioredis, measured paired: one process, one SDK (AlwaysOn sampler, batch span
// processor, metric reader, discarding exporters), one client, and four ways of sending the same command
// alternating in slices of a closed loop at concurrency 64:
//   bare     the client, with the contrib instrumentation disabled;
//   contrib  the client, with @opentelemetry/instrumentation-ioredis enabled (spans);
//   from     fromIoredis with spans and the duration metric (contrib disabled);
//   spans    fromIoredis with `metrics: false` (contrib disabled);
//   floor    a bare span and one histogram point around the client, nothing else (contrib disabled).
// Run as separate processes, these variants drift apart by more than their differences on a shared
// machine; here each slice of a variant sits next to a slice of `bare`. Prints one JSON line: the extra
// CPU µs per command over `bare` of each variant (median over slices).
// argv: <GET|SET> <slices> <operations per slice>; env BENCH_REDIS_URL.
import { createRequire } from 'node:module';
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
import type { RedisCommand } from '@redisotel/core-hooks';
import { median } from '../lib/measure.js';

const [op = 'GET', slicesText = '30', sliceText = '4000'] = process.argv.slice(2);
const url = process.env.BENCH_REDIS_URL;
if (!url) throw new Error('BENCH_REDIS_URL is not set');
const slices = Number(slicesText);
const sliceOps = Number(sliceText);
const CONCURRENCY = 64;
const require = createRequire(import.meta.url);
const key = `{bench}:paired-sdk:${process.pid}`;
const value = 'v'.repeat(100);

export type SdkVariant = 'contrib' | 'from' | 'spans' | 'floor';
/** Extra CPU µs per command over the bare client, per variant (median of the per-slice differences). */
export type PairedSdkResult = Record<SdkVariant, number>;

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const discardSpans: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
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
    readers: [new PeriodicExportingMetricReader({ exporter: discardMetrics, exportIntervalMillis: 60_000 })],
  }),
);

async function closedLoop(operation: () => Promise<unknown>, total: number): Promise<void> {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await operation();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function main(): Promise<void> {
  // The contrib instrumentation patches ioredis when it is required: register it first, then toggle it.
  const { registerInstrumentations } = require('@opentelemetry/instrumentation');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis');
  const contrib = new IORedisInstrumentation({ requireParentSpan: false });
  registerInstrumentations({ instrumentations: [contrib] });
  const Redis = require('ioredis') as typeof import('ioredis').default;
  const client = new Redis(url!, { lazyConnect: true });
  await client.connect();
  const { fromIoredis } = await import('@redisotel/ioredis');
  const withMetric = fromIoredis(client);
  const spansOnly = fromIoredis(client, { metrics: false });
  const command: RedisCommand =
    op === 'GET' ? { name: 'GET', args: [key], keys: [0] } : { name: 'SET', args: [key, value], keys: [0] };
  const bare = op === 'GET' ? () => client.get(key) : () => client.set(key, value);

  const tracer = trace.getTracer('floor');
  const histogram = metrics.getMeter('floor').createHistogram('db.client.operation.duration', { unit: 's' });
  const { hostname, port } = new URL(url!);
  const floorAttributes = Object.freeze({
    'db.operation.name': op,
    'db.system.name': 'redis',
    'server.address': hostname,
    'server.port': Number(port),
  });
  const floor = () => {
    const span = tracer.startSpan(op, { kind: SpanKind.CLIENT });
    const started = performance.now();
    return bare().then((reply) => {
      span.end();
      histogram.record((performance.now() - started) / 1000, floorAttributes);
      return reply;
    });
  };

  const sides: Record<'bare' | SdkVariant, { run: () => Promise<unknown>; contrib: boolean }> = {
    bare: { run: bare, contrib: false },
    contrib: { run: bare, contrib: true },
    from: { run: () => withMetric.send(command), contrib: false },
    spans: { run: () => spansOnly.send(command), contrib: false },
    floor: { run: floor, contrib: false },
  };
  const names = Object.keys(sides) as Array<keyof typeof sides>;
  const measure = async (name: keyof typeof sides, total: number) => {
    const side = sides[name];
    if (side.contrib) contrib.enable();
    else contrib.disable();
    const before = process.cpuUsage();
    await closedLoop(side.run, total);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / total;
  };
  await client.set(key, value);
  for (const name of names) await measure(name, 10_000); // JIT warm-up of every path
  const extra = new Map<SdkVariant, number[]>();
  for (let slice = 0; slice < slices; slice++) {
    const order = slice % 2 === 0 ? names : [...names].reverse();
    const cpu = new Map<string, number>();
    for (const name of order) cpu.set(name, await measure(name, sliceOps));
    for (const name of names) {
      if (name === 'bare') continue;
      const list = extra.get(name) ?? [];
      list.push(cpu.get(name)! - cpu.get('bare')!);
      extra.set(name, list);
    }
  }
  contrib.disable();
  const result = Object.fromEntries(
    [...extra].map(([name, list]) => [name, median(list)]),
  ) as PairedSdkResult;
  await client.quit();
  console.log(JSON.stringify(result));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
