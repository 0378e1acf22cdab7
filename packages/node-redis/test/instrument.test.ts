import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { keySlot } from '@redisotel/core-hooks';
import { type CollectedNumberPoint, captureTelemetry, type TelemetryCapture } from '@redisotel/testing';
import { useRedisDeployment } from '@redisotel/testing/vitest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fromNodeRedis, instrumentNodeRedis } from '../src/index.js';
import { histogramPoints, MODULES, prefix, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

// The project's shared standalone server and cluster (test/global-setup.ts).
const { deployment: server } = useRedisDeployment('standalone');
const { deployment: cluster } = useRedisDeployment('cluster');

const attributesOf = (span: ReadableSpan) => span.attributes;
const commandSpans = (capture: TelemetryCapture) => capture.spans().filter((span) => span.name !== 'connect');

describe('instrumentNodeRedis argument checks', () => {
  it('rejects what is not a node-redis client, naming it', () => {
    expect(() => instrumentNodeRedis({})).toThrow(TypeError);
    expect(() => instrumentNodeRedis(null)).toThrow(/received null/);
    expect(() =>
      instrumentNodeRedis(MODULES[0]!.lib.createClient(), { onUnsupported: 'loud' as never }),
    ).toThrow(/"onUnsupported" must be 'throw' or 'warn', received "loud"/);
  });
});

describe.each(MODULES)('instrumentNodeRedis standalone ($name)', ({ lib }) => {
  let client: ReturnType<typeof lib.createClient>;
  let capture: TelemetryCapture;
  const p = prefix();
  beforeAll(async () => {
    client = lib.createClient({ url: server.url });
    client.on('error', () => {});
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
  });
  afterEach(async () => {
    await capture?.shutdown();
  });

  it('records one CLIENT span and one duration point per command, with the semconv attributes', async () => {
    capture = captureTelemetry();
    const instrumentation = instrumentNodeRedis(client, {
      tracerProvider: capture.tracerProvider,
      meterProvider: capture.meterProvider,
    });
    try {
      await client.set(`${p}k`, 'secret-value');
      expect(await client.get(`${p}k`)).toBe('secret-value');
      const error = await client.lPush(`${p}k`, 'x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
    } finally {
      instrumentation.disable();
    }
    const spans = commandSpans(capture);
    expect(spans.map((span) => span.name)).toEqual(['SET', 'GET', 'LPUSH']);
    const [set, get, lpush] = spans as [ReadableSpan, ReadableSpan, ReadableSpan];
    expect(set.kind).toBe(SpanKind.CLIENT);
    expect(attributesOf(set)).toMatchObject({
      'db.system.name': 'redis',
      'db.operation.name': 'SET',
      'db.namespace': '0',
      'server.address': server.host,
      'server.port': server.port,
      'db.query.text': `SET ${p}k ?`,
      'network.peer.address': server.host,
      'network.peer.port': server.port,
    });
    expect(JSON.stringify(set.attributes)).not.toContain('secret-value');
    expect(get.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(lpush.status.code).toBe(SpanStatusCode.ERROR);
    expect(attributesOf(lpush)).toMatchObject({
      'db.response.status_code': 'WRONGTYPE',
      'error.type': 'WRONGTYPE',
    });
    const points = await histogramPoints(capture, 'db.client.operation.duration');
    const operation = (name: string) =>
      points.filter((point) => point.attributes['db.operation.name'] === name);
    expect(operation('GET')[0]?.count).toBe(1);
    expect(operation('LPUSH').find((point) => point.attributes['error.type'] === 'WRONGTYPE')?.count).toBe(1);
    for (const point of points) expect(JSON.stringify(point.attributes)).not.toContain(p);
  });

  it('reports the client connection in db.client.connection.count while enabled', async () => {
    capture = captureTelemetry();
    const instrumentation = instrumentNodeRedis(client, {
      tracerProvider: capture.tracerProvider,
      meterProvider: capture.meterProvider,
    });
    try {
      await client.get(`${p}k`);
      const { points } = (await capture.metric('db.client.connection.count')) as {
        points: readonly CollectedNumberPoint[];
      };
      const idle = points.find((point) => point.attributes['db.client.connection.state'] === 'idle');
      const used = points.find((point) => point.attributes['db.client.connection.state'] === 'used');
      expect(idle?.value).toBe(1);
      expect(used?.value ?? 0).toBe(0);
    } finally {
      instrumentation.disable();
    }
  });

  it('records a pipeline and a MULTI as one span each (per-command spans only when asked)', async () => {
    capture = captureTelemetry();
    const instrumentation = instrumentNodeRedis(client, {
      tracerProvider: capture.tracerProvider,
      meterProvider: capture.meterProvider,
    });
    try {
      await client.multi().set(`${p}a`, '1').incr(`${p}a`).execAsPipeline();
      await client.multi().set(`${p}b`, '1').get(`${p}b`).exec();
    } finally {
      instrumentation.disable();
    }
    const spans = commandSpans(capture);
    expect(spans).toHaveLength(2);
    expect(spans[0]!.attributes['db.operation.name']).toBe('PIPELINE');
    expect(spans[0]!.attributes['db.operation.batch.size']).toBe(2);
    expect(spans[1]!.attributes['db.operation.name']).toBe('MULTI');
    expect(spans[1]!.attributes['db.operation.batch.size']).toBe(2);
    const points = await histogramPoints(capture, 'db.client.operation.duration');
    expect(points.reduce((sum, point) => sum + point.count, 0)).toBe(2);

    const detailed = captureTelemetry();
    const verbose = instrumentNodeRedis(client, {
      tracerProvider: detailed.tracerProvider,
      meterProvider: detailed.meterProvider,
      batchCommandSpans: true,
    });
    try {
      await client.multi().set(`${p}a`, '1').incr(`${p}a`).execAsPipeline();
    } finally {
      verbose.disable();
    }
    const all = commandSpans(detailed);
    const batch = all.find((span) => span.attributes['db.operation.name'] === 'PIPELINE')!;
    const children = all.filter((span) => span.parentSpanContext?.spanId === batch.spanContext().spanId);
    expect(children.map((span) => span.name)).toEqual(['SET', 'INCR']);
    await detailed.shutdown();
  });

  it('keeps the caller span as parent and stops after disable()', async () => {
    capture = captureTelemetry();
    const instrumentation = instrumentNodeRedis(client, {
      tracerProvider: capture.tracerProvider,
      meterProvider: capture.meterProvider,
    });
    const tracer = capture.tracerProvider.getTracer('app');
    await tracer.startActiveSpan('handler', async (span) => {
      await client.get(`${p}k`);
      span.end();
    });
    expect(instrumentation.enabled).toBe(true);
    instrumentation.disable();
    instrumentation.disable();
    expect(instrumentation.enabled).toBe(false);
    await client.get(`${p}k`);
    const handler = capture.findSpans('handler')[0]!;
    const gets = capture.findSpans('GET');
    expect(gets).toHaveLength(1);
    expect(gets[0]!.parentSpanContext?.spanId).toBe(handler.spanContext().spanId);
  });

  it('combined with fromNodeRedis on the same client: exactly one span per command, block spans as parents', async () => {
    capture = captureTelemetry();
    const providers = { tracerProvider: capture.tracerProvider, meterProvider: capture.meterProvider };
    const instrumentation = instrumentNodeRedis(client, providers);
    const redis = fromNodeRedis(client, providers);
    const tracer = capture.tracerProvider.getTracer('block');
    try {
      await tracer.startActiveSpan('cache getOrLoad', async (span) => {
        await redis.send({ name: 'GET', args: [`${p}k`], keys: [0] });
        await redis.batch([
          { name: 'SET', args: [`${p}c`, '1'], keys: [0] },
          { name: 'GET', args: [`${p}c`], keys: [0] },
        ]);
        await redis.batch([{ name: 'INCR', args: [`${p}c`], keys: [0] }], { atomic: true });
        span.end();
      });
      await client.get(`${p}k`); // the application's own command, seen by instrumentNodeRedis only
    } finally {
      instrumentation.disable();
    }
    const block = capture.findSpans('cache getOrLoad')[0]!;
    const spans = commandSpans(capture).filter((span) => span !== block);
    expect(spans.map((span) => span.attributes['db.operation.name'])).toEqual([
      'GET',
      'PIPELINE',
      'MULTI INCR',
      'GET',
    ]);
    for (const span of spans.slice(0, 3))
      expect(span.parentSpanContext?.spanId).toBe(block.spanContext().spanId);
    expect(spans[3]!.parentSpanContext).toBeUndefined();
    const points = await histogramPoints(capture, 'db.client.operation.duration');
    expect(points.reduce((sum, point) => sum + point.count, 0)).toBe(4);
  });

  it('records nothing and costs nothing with no provider registered', async () => {
    const instrumentation = instrumentNodeRedis(client);
    try {
      expect(await client.get(`${p}k`)).toBe('secret-value');
      expect(trace.getSpan(context.active())).toBeUndefined();
    } finally {
      instrumentation.disable();
    }
  });
});

describe.each(MODULES)('instrumentNodeRedis cluster ($name)', ({ lib }) => {
  let client: ReturnType<typeof lib.createCluster>;
  let capture: TelemetryCapture;
  beforeAll(async () => {
    const first = cluster.nodes[0]!;
    client = lib.createCluster({ rootNodes: [{ url: `redis://${first.host}:${first.port}` }] });
    client.on('error', () => {});
    await client.connect();
  });
  afterAll(async () => {
    await client?.close();
    await capture?.shutdown();
  });

  it('records cluster commands once, with the serving node as peer, also combined with fromNodeRedis', async () => {
    capture = captureTelemetry();
    const providers = { tracerProvider: capture.tracerProvider, meterProvider: capture.meterProvider };
    const instrumentation = instrumentNodeRedis(client, providers);
    const redis = fromNodeRedis(client, providers);
    const keys = ['nr-i-a', 'nr-i-b', 'nr-i-c', 'nr-i-d', 'nr-i-e'];
    try {
      for (const key of keys) await client.set(key, '1');
      for (const key of keys) await redis.send({ name: 'GET', args: [key], keys: [0] });
    } finally {
      instrumentation.disable();
    }
    const spans = commandSpans(capture);
    expect(spans.map((span) => span.name)).toEqual([...keys.map(() => 'SET'), ...keys.map(() => 'GET')]);
    const nodes = await redis.nodes();
    for (const [index, key] of keys.entries()) {
      const slot = keySlot(key);
      const owner = nodes.find((node) => node.slots?.some(([from, to]) => slot >= from && slot <= to))!;
      for (const span of [spans[index]!, spans[index + keys.length]!]) {
        expect(span.attributes['network.peer.port']).toBe(owner.port);
      }
    }
    expect(new Set(spans.map((span) => span.attributes['network.peer.port'])).size).toBeGreaterThan(1);
    await Promise.all(keys.map((key) => client.del(key)));
  });
});
