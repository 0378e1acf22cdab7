import { SpanStatusCode, trace } from '@opentelemetry/api';
import {
  type ClusterHandle,
  type CollectedHistogramPoint,
  type CollectedNumberPoint,
  captureTelemetry,
  type ReadableSpan,
  type SentinelHandle,
  type StandaloneHandle,
} from '@redisotel/testing';
import type { Cluster, default as Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromIoredis, instrumentIoredis } from '../src/index.js';
import type { IoredisInstrumentation } from '../src/types.js';
import {
  MODULES,
  prefix,
  startCluster,
  startSentinel,
  startStandalone,
  trackUnhandledRejections,
} from './helpers.js';

trackUnhandledRejections();

let server: StandaloneHandle;
let other: StandaloneHandle;
let cluster: ClusterHandle;
let sentinel: SentinelHandle;
beforeAll(async () => {
  [server, other, cluster, sentinel] = await Promise.all([
    startStandalone(),
    startStandalone(),
    startCluster(),
    startSentinel(),
  ]);
}, 180_000);
afterAll(async () => {
  await Promise.all([server?.stop(), other?.stop(), cluster?.stop(), sentinel?.stop()]);
});

const tracing = captureTelemetry();
const tracer = tracing.tracerProvider.getTracer('test');
afterAll(() => tracing.shutdown());

function names(spans: readonly ReadableSpan[]): string[] {
  return spans.map((span) => span.name);
}

/** Wait for spans to be ended (replies arrive on a later tick than the awaited promise sometimes). */
async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe.each(MODULES)('instrumentIoredis ($name)', ({ Redis: RedisClass, Cluster: ClusterClass }) => {
  describe('standalone', () => {
    let client: Redis;
    let instrumentation: IoredisInstrumentation | undefined;
    beforeAll(async () => {
      client = new RedisClass({ host: server.host, port: server.port, lazyConnect: true });
      await client.connect();
    });
    afterAll(async () => {
      await client?.quit();
    });
    beforeEach(async () => {
      await tracing.reset();
      instrumentation = instrumentIoredis(client, { tracerProvider: tracing.tracerProvider, metrics: false });
    });
    afterEach(() => {
      instrumentation?.disable();
    });

    it('records one CLIENT span per command with the database attributes', async () => {
      const p = prefix();
      await client.set(`${p}k`, 'secret-value');
      expect(await client.get(`${p}k`)).toBe('secret-value');
      await settle();
      const spans = tracing.spans();
      expect(names(spans)).toEqual(['SET', 'GET']);
      const set = spans[0]!;
      expect(set.kind).toBe(2); // SpanKind.CLIENT
      expect(set.attributes).toMatchObject({
        'db.system.name': 'redis',
        'db.operation.name': 'SET',
        'db.namespace': '0',
        'server.address': server.host,
        'server.port': server.port,
        'network.peer.address': '127.0.0.1',
        'network.peer.port': server.port,
        'db.query.text': `SET ${p}k ?`,
      });
      expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain('secret-value');
    });

    it('parents command spans to the active span', async () => {
      await tracer.startActiveSpan('parent', async (parent) => {
        await client.ping();
        parent.end();
      });
      await settle();
      const spans = tracing.spans();
      const ping = spans.find((span) => span.name === 'PING')!;
      const parent = spans.find((span) => span.name === 'parent')!;
      expect(ping.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(ping.spanContext().traceId).toBe(parent.spanContext().traceId);
    });

    it('records a pipeline as one span, and concurrent commands as one span each', async () => {
      const p = prefix();
      await client.ping();
      await client.pipeline().set(`${p}a`, '1').get(`${p}a`).incr(`${p}n`).exec();
      await Promise.all([client.get(`${p}a`), client.get(`${p}a`), client.get(`${p}a`)]);
      const [, pipelined] = await Promise.all([
        client.get(`${p}a`),
        client.pipeline().get(`${p}a`).get(`${p}a`).exec(),
      ]);
      expect(pipelined).toHaveLength(2);
      await settle();
      const spans = tracing.spans();
      expect(names(spans)).toEqual(['PING', 'PIPELINE', 'GET', 'GET', 'GET', 'GET', 'PIPELINE GET']);
      const pipeline = spans[1]!;
      expect(pipeline.attributes['db.operation.batch.size']).toBe(3);
      expect(pipeline.attributes['db.operation.name']).toBe('PIPELINE');
      expect(spans[6]!.attributes['db.operation.batch.size']).toBe(2);
    });

    it('records multi().exec() as one MULTI span', async () => {
      const p = prefix();
      await client.multi().set(`${p}t`, 'a').get(`${p}t`).exec();
      await settle();
      const spans = tracing.spans();
      expect(names(spans)).toEqual(['MULTI']);
      expect(spans[0]!.attributes['db.operation.batch.size']).toBe(2);
    });

    it('records error replies with their prefix', async () => {
      const p = prefix();
      await client.set(`${p}s`, 'x');
      await expect(client.lpush(`${p}s`, 'y')).rejects.toThrow(/WRONGTYPE/);
      await settle();
      const failed = tracing.spans().find((span) => span.name === 'LPUSH')!;
      expect(failed.status.code).toBe(SpanStatusCode.ERROR);
      expect(failed.attributes['db.response.status_code']).toBe('WRONGTYPE');
      expect(failed.attributes['error.type']).toBe('WRONGTYPE');
    });

    it('records nothing for other clients, nor after disable()', async () => {
      const stranger = new RedisClass({ host: other.host, port: other.port, lazyConnect: true });
      try {
        await stranger.connect();
        await stranger.ping();
        instrumentation!.disable();
        instrumentation!.disable();
        await client.ping();
        await settle();
        expect(tracing.spans()).toEqual([]);
      } finally {
        stranger.disconnect();
      }
    });

    it("leaves out another client's commands to the same address", async () => {
      const twin = new RedisClass({ host: server.host, port: server.port, lazyConnect: true });
      try {
        await twin.connect();
        await twin.ping();
        await twin.pipeline().ping().ping().exec();
        await client.echo('mine');
        await settle();
        expect(names(tracing.spans())).toEqual(['ECHO']);
      } finally {
        twin.disconnect();
      }
    });

    it('gives exactly one span per operation when combined with fromIoredis, parented to the caller', async () => {
      const p = prefix();
      const redis = fromIoredis(client, { tracerProvider: tracing.tracerProvider, metrics: false });
      await tracer.startActiveSpan('block', async (block) => {
        await redis.send({ name: 'SET', args: [`${p}c`, 'v'], keys: [0] });
        await redis.batch([
          { name: 'GET', args: [`${p}c`], keys: [0] },
          { name: 'GET', args: [`${p}c`], keys: [0] },
        ]);
        await redis.batch(
          [
            { name: 'INCR', args: [`${p}n`], keys: [0] },
            { name: 'GET', args: [`${p}c`], keys: [0] },
          ],
          {
            atomic: true,
          },
        );
        block.end();
      });
      await client.get(`${p}c`);
      // A pipeline right after an (untraced) fromIoredis write on the same socket is still one span.
      await redis.send({ name: 'GET', args: [`${p}c`], keys: [0] });
      await client.pipeline().get(`${p}c`).get(`${p}c`).exec();
      await settle();
      const spans = tracing.spans();
      expect(names(spans)).toEqual(['SET', 'PIPELINE GET', 'MULTI', 'block', 'GET', 'GET', 'PIPELINE GET']);
      const block = spans.find((span) => span.name === 'block')!;
      for (const span of spans.slice(0, 3))
        expect(span.parentSpanContext?.spanId).toBe(block.spanContext().spanId);
    });

    it('gives one span for a fromIoredis command that waited in the offline queue', async () => {
      const lazy = new RedisClass({ host: server.host, port: server.port, lazyConnect: true });
      const both = instrumentIoredis(lazy, { tracerProvider: tracing.tracerProvider, metrics: false });
      try {
        const redis = fromIoredis(lazy, { tracerProvider: tracing.tracerProvider, metrics: false });
        // Not connected: ioredis queues the command offline and connects; it is written on flush.
        expect(lazy.status).toBe('wait');
        expect(await redis.send({ name: 'PING', args: [] })).toBe('PONG');
        await settle();
        expect(names(tracing.spans()).filter((name) => name !== 'connect')).toEqual(['PING']);
      } finally {
        both.disable();
        lazy.disconnect();
      }
    });

    it('records one connect span per connection attempt when combined with fromIoredis', async () => {
      const lazy = new RedisClass({ host: server.host, port: server.port, lazyConnect: true });
      try {
        fromIoredis(lazy, { tracerProvider: tracing.tracerProvider, metrics: false });
        await lazy.connect();
        await settle();
        // `instrumentation` (same address) sees the connect event, but fromIoredis already records it;
        // nor is the new connection's handshake (HELLO, INFO…) taken for the instrumented client's.
        expect(names(tracing.spans())).toEqual(['connect']);
      } finally {
        lazy.disconnect();
      }
    });

    it('records the duration metric once per command and once per pipeline', async () => {
      instrumentation!.disable();
      const telemetry = captureTelemetry();
      instrumentation = instrumentIoredis(client, { meterProvider: telemetry.meterProvider, tracing: false });
      const p = prefix();
      await client.set(`${p}m`, '1');
      await client.pipeline().get(`${p}m`).get(`${p}m`).exec();
      await settle();
      const metrics = await telemetry.collectMetrics();
      const points = metrics['db.client.operation.duration']!.points as readonly CollectedHistogramPoint[];
      const byOperation = Object.fromEntries(
        points.map((point) => [point.attributes['db.operation.name'], point.count]),
      );
      expect(byOperation).toEqual({ SET: 1, 'PIPELINE GET': 1 });
      const count = metrics['db.client.connection.count']!.points as readonly CollectedNumberPoint[];
      const states = Object.fromEntries(
        count.map((point) => [point.attributes['db.client.connection.state'], point.value]),
      );
      expect(states).toEqual({ idle: 1, used: 0 });
      for (const point of points) expect(JSON.stringify(point.attributes)).not.toContain(p);
      await telemetry.shutdown();
    });
  });

  describe('cluster', () => {
    let client: Cluster;
    let instrumentation: IoredisInstrumentation;
    beforeAll(async () => {
      client = new ClusterClass(
        cluster.nodes.map((node) => ({ host: node.host, port: node.port })),
        { lazyConnect: true },
      );
      await client.connect();
      await tracing.reset();
      instrumentation = instrumentIoredis(client, { tracerProvider: tracing.tracerProvider, metrics: false });
    });
    afterAll(async () => {
      instrumentation?.disable();
      await client?.quit();
    });

    it('records commands with the serving node, pipelines and transactions as one span', async () => {
      const p = prefix();
      await client.set(`${p}k`, 'v');
      await client.pipeline().get(`${p}k`).get(`${p}k`).exec();
      await client.multi().incr(`${p}n`).get(`${p}k`).exec();
      await settle();
      const spans = tracing.spans().filter((span) => span.name !== 'connect');
      expect(names(spans)).toEqual(['SET', 'PIPELINE GET', 'MULTI']);
      const masterPorts = cluster.masters().map((node) => node.port);
      for (const span of spans) expect(masterPorts).toContain(span.attributes['network.peer.port']);
      expect(new Set(spans.map((span) => span.attributes['network.peer.port'])).size).toBe(1);
      expect(trace.getActiveSpan()).toBeUndefined();
    });
  });

  describe('sentinel', () => {
    it('records the commands of a sentinel-managed client with the master as peer', async () => {
      const client = new RedisClass({
        sentinels: sentinel.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: sentinel.masterName,
        lazyConnect: true,
      });
      client.on('error', () => {});
      await tracing.reset();
      const instrumentation = instrumentIoredis(client, {
        tracerProvider: tracing.tracerProvider,
        metrics: false,
      });
      try {
        await client.connect();
        await client.set(`${prefix()}k`, 'v');
        await settle();
        const spans = tracing.spans().filter((span) => span.name !== 'connect');
        // Nothing of the sentinel lookups nor of the handshake: only the application's command.
        expect(names(spans)).toEqual(['SET']);
        expect(spans[0]!.attributes['network.peer.port']).toBe(sentinel.master.port);
        expect(spans[0]!.attributes['server.port']).toBe(sentinel.sentinels[0]!.port);
      } finally {
        instrumentation.disable();
        client.disconnect();
      }
    });
  });
});
