// `pnpm demo`: the Go reference design's quick start (SET/GET) plus a pipeline, a MULTI, a script and
// an error, sent through a RedisLike over node-redis and over ioredis, with OpenTelemetry on.
// Without OTEL_EXPORTER_OTLP_ENDPOINT it prints the span tree and a metrics summary; with it, it exports
// over OTLP/HTTP instead. Redis comes from REDIS_URL, or @redisotel/testing starts one.
import { context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { defineScript, type RedisLike } from '@redisotel/core-hooks';
import { fromIoredis } from '@redisotel/ioredis';
import { fromNodeRedis } from '@redisotel/node-redis';
import { type StandaloneHandle, startRedis } from '@redisotel/testing';
import Redis from 'ioredis';
import { createClient } from 'redis';

const otlp = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
const resource = resourceFromAttributes({ 'service.name': 'redisotel-quickstart' });

// 1. OpenTelemetry: one tracer provider and one meter provider, registered globally.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({
  resource,
  spanProcessors: [otlp ? new BatchSpanProcessor(new OTLPTraceExporter()) : new SimpleSpanProcessor(spans)],
});
trace.setGlobalTracerProvider(tracerProvider);
const metricExporter = otlp
  ? new OTLPMetricExporter()
  : new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const metricReader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 60_000,
});
const meterProvider = new MeterProvider({ resource, readers: [metricReader] });

const tracer = trace.getTracer('redisotel-quickstart');

// The Go design's "incr with max" script, as a defined script: SHA computed once, EVALSHA with fallback.
const incrementWithMax = defineScript({
  name: 'increment_with_max',
  source: `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= tonumber(ARGV[1]) then return -1 end
return redis.call('INCR', KEYS[1])`,
});

async function quickstart(redis: RedisLike, label: string): Promise<void> {
  await tracer.startActiveSpan(`quickstart ${label}`, async (root: Span) => {
    const key = (name: string) => `{quickstart}:${label}:${name}`;
    try {
      // Quick start: SET with a TTL, then GET.
      await redis.send({
        name: 'SET',
        args: [key('user:1'), JSON.stringify({ name: 'Alice' }), 'EX', 60],
        keys: [0],
      });
      const user = await redis.send({ name: 'GET', args: [key('user:1')], keys: [0] });
      console.log(`  ${label}: GET ${key('user:1')} → ${String(user)}`);

      // A pipeline: one round trip, one span.
      const piped = await redis.batch([
        { name: 'INCR', args: [key('visits')], keys: [0] },
        { name: 'INCR', args: [key('visits')], keys: [0] },
        { name: 'EXPIRE', args: [key('visits'), 60], keys: [0] },
      ]);
      console.log(
        `  ${label}: pipeline → ${piped.map((r) => (r.ok ? String(r.value) : r.error.name)).join(', ')}`,
      );

      // A transaction (MULTI/EXEC).
      const multi = await redis.batch(
        [
          { name: 'SET', args: [key('balance'), 100], keys: [0] },
          { name: 'DECRBY', args: [key('balance'), 30], keys: [0] },
        ],
        { atomic: true },
      );
      console.log(
        `  ${label}: MULTI → ${multi.map((r) => (r.ok ? String(r.value) : r.error.name)).join(', ')}`,
      );

      // A script, by SHA with NOSCRIPT fallback.
      const counted = await redis.runScript(incrementWithMax, [key('limited')], [10]);
      console.log(`  ${label}: script increment_with_max → ${String(counted)}`);

      // An error: WRONGTYPE, recorded on the span as db.response.status_code / error.type.
      try {
        await redis.send({ name: 'LPUSH', args: [key('user:1'), 'x'], keys: [0] });
      } catch (error) {
        console.log(
          `  ${label}: LPUSH on a string → ${(error as Error).name} ${(error as { prefix?: string }).prefix}`,
        );
      }
    } catch (error) {
      root.recordException(error as Error);
      root.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      root.end();
    }
  });
}

function printSpanTree(finished: readonly ReadableSpan[]): void {
  const byParent = new Map<string | undefined, ReadableSpan[]>();
  const ids = new Set(finished.map((s) => s.spanContext().spanId));
  for (const span of finished) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent !== undefined && ids.has(parent) ? parent : undefined;
    const list = byParent.get(key) ?? [];
    list.push(span);
    byParent.set(key, list);
  }
  const shown = [
    'db.operation.name',
    'db.query.text',
    'db.operation.batch.size',
    'db.stored_procedure.name',
    'server.address',
    'server.port',
    'network.peer.address',
    'network.peer.port',
    'db.namespace',
    'db.response.status_code',
    'error.type',
  ];
  const print = (span: ReadableSpan, depth: number) => {
    const ms = span.duration[0] * 1e3 + span.duration[1] / 1e6;
    const status = span.status.code === SpanStatusCode.ERROR ? ' ✗' : '';
    console.log(
      `${'  '.repeat(depth)}${depth === 0 ? '●' : '└─'} ${span.name}  ${ms.toFixed(2)} ms${status}`,
    );
    const attributes = shown
      .filter((name) => span.attributes[name] !== undefined)
      .map((name) => `${name}=${JSON.stringify(span.attributes[name])}`);
    if (attributes.length > 0) console.log(`${'  '.repeat(depth + 1)}   ${attributes.join('  ')}`);
    const children = (byParent.get(span.spanContext().spanId) ?? []).sort(
      (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
    );
    for (const child of children) print(child, depth + 1);
  };
  for (const root of byParent.get(undefined) ?? []) print(root, 0);
}

async function printMetrics(): Promise<void> {
  await metricReader.forceFlush();
  const exporter = metricExporter as InMemoryMetricExporter;
  const last = exporter.getMetrics().at(-1);
  console.log('\nMetrics (db.client.operation.duration, both clients, by operation):');
  for (const scope of last?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== 'db.client.operation.duration') continue;
      for (const point of metric.dataPoints) {
        const value = point.value as { count: number; sum: number };
        const a = point.attributes;
        const error = a['error.type'] ? `  error.type=${String(a['error.type'])}` : '';
        console.log(
          `  ${String(a['db.operation.name']).padEnd(26)} count=${value.count}  mean=${((value.sum / value.count) * 1e3).toFixed(3)} ms  server=${String(a['server.address'])}:${String(a['server.port'])}${error}`,
        );
      }
    }
  }
}

async function main(): Promise<void> {
  let started: StandaloneHandle | undefined;
  let url = process.env.REDIS_URL;
  if (!url) {
    started = await startRedis({ topology: 'standalone' });
    url = started.url;
    console.log(
      `Started redis-server ${started.redisVersion} at ${url} (pid ${String(started.servers[0]?.pid)})`,
    );
  } else {
    console.log(`Using REDIS_URL=${url.replace(/\/\/[^@]*@/, '//***@')}`);
  }
  try {
    const telemetry = { tracerProvider, meterProvider };

    const nodeRedisClient = await createClient({ url }).connect();
    const viaNodeRedis = fromNodeRedis(nodeRedisClient, telemetry);
    await quickstart(viaNodeRedis, 'node-redis');

    const ioredisClient = new Redis(url, { lazyConnect: true });
    await ioredisClient.connect();
    const viaIoredis = fromIoredis(ioredisClient, telemetry);
    await quickstart(viaIoredis, 'ioredis');

    await viaNodeRedis.subscriber().close();
    await viaIoredis.subscriber().close();
    await nodeRedisClient.close();
    await ioredisClient.quit();

    if (otlp) {
      await tracerProvider.forceFlush();
      await metricReader.forceFlush();
      console.log(`\nExported spans and metrics over OTLP/HTTP to ${otlp}`);
    } else {
      console.log('\nSpan tree:');
      printSpanTree(spans.getFinishedSpans());
      await printMetrics();
    }
  } finally {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    await started?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
