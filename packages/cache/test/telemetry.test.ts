import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { CollectedHistogramPoint, CollectedNumberPoint } from '@redisotel/testing';
import { useTelemetryCapture } from '@redisotel/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cache,
  type CacheOptions,
  createCache,
  INSTRUMENTATION_SCOPE,
  METRIC_COALESCED_LOADS,
  METRIC_ERRORS,
  METRIC_LOADER_DURATION,
  METRIC_REQUESTS,
  VERSION,
} from '../src/index.js';
import {
  CLIENTS,
  type ConnectedClient,
  connectClient,
  deploymentFor,
  raw,
  sleep,
  uniquePrefix,
  waitUntil,
} from './support.js';

/** Every attribute key a cache metric may carry: a closed, low-cardinality set (never keys). */
const METRIC_ATTRIBUTE_KEYS = new Set([
  'cache.name',
  'cache.operation',
  'cache.result',
  'cache.tier',
  'cache.loader.outcome',
  'cache.coalesce.scope',
  'error.type',
]);

describe.each(CLIENTS)('telemetry on $name', (client) => {
  const telemetry = useTelemetryCapture();
  let connected: ConnectedClient;
  const caches: Cache[] = [];

  beforeAll(async () => {
    connected = await connectClient(client, deploymentFor('standalone'), {
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
    });
  });

  afterAll(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await connected?.close();
  });

  function make(options: Partial<CacheOptions> = {}): { cache: Cache; prefix: string } {
    const prefix = uniquePrefix('telemetry');
    const cache = createCache(connected.redis, {
      ttlMs: 60_000,
      name: 'users',
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
      ...options,
      prefix,
    });
    caches.push(cache);
    return { cache, prefix };
  }

  async function points(name: string): Promise<readonly (CollectedNumberPoint | CollectedHistogramPoint)[]> {
    const metrics = await telemetry.collectMetrics();
    return metrics[name]?.points ?? [];
  }

  it('wraps getOrLoad in a span whose Redis commands are children; no key by default', async () => {
    const { cache } = make();
    await cache.getOrLoad('user:1', () => ({ id: 1 }));
    const span = telemetry.span('cache getOrLoad');
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.instrumentationScope.name).toBe(INSTRUMENTATION_SCOPE);
    expect(span.instrumentationScope.version).toBe(VERSION);
    expect(span.attributes).toMatchObject({
      'cache.name': 'users',
      'cache.hit': false,
      'cache.stale': false,
      'cache.coalesced': false,
      'cache.lease.waited': false,
      'cache.loaded': true,
    });
    expect(span.attributes['cache.key']).toBeUndefined();
    const children = telemetry.children(span);
    expect(children.length).toBeGreaterThanOrEqual(2); // the read and the write
    for (const child of children) expect(child.kind).toBe(SpanKind.CLIENT);
    for (const value of Object.values(span.attributes)) expect(String(value)).not.toContain('user:1');
  });

  it('records a hit with tier, value size and stale=false; the key only when opted in', async () => {
    const { cache } = make({ includeKeys: true });
    await cache.set('user:2', { name: 'Ada' });
    await telemetry.reset();
    expect(await cache.get('user:2')).toEqual({ name: 'Ada' });
    const span = telemetry.span('cache get');
    expect(span.attributes).toMatchObject({
      'cache.name': 'users',
      'cache.key': 'user:2',
      'cache.hit': true,
      'cache.tier': 'redis',
      'cache.stale': false,
      'cache.value.size': JSON.stringify({ name: 'Ada' }).length,
    });
    expect(telemetry.children(span)).toHaveLength(1);
    const requests = await points(METRIC_REQUESTS);
    expect(requests).toContainEqual(
      expect.objectContaining({
        value: 1,
        attributes: {
          'cache.name': 'users',
          'cache.operation': 'get',
          'cache.result': 'hit',
          'cache.tier': 'redis',
        },
      }),
    );
  });

  it('marks coalesced callers and counts coalesced loads', async () => {
    const { cache } = make();
    await Promise.all(
      Array.from({ length: 3 }, () =>
        cache.getOrLoad('shared', async () => {
          await sleep(30);
          return 1;
        }),
      ),
    );
    const spans = telemetry.findSpans('cache getOrLoad');
    expect(spans).toHaveLength(3);
    expect(spans.filter((span) => span.attributes['cache.coalesced'] === true)).toHaveLength(2);
    expect(spans.filter((span) => span.attributes['cache.loaded'] === true)).toHaveLength(1);
    const coalesced = await points(METRIC_COALESCED_LOADS);
    expect(coalesced).toContainEqual(
      expect.objectContaining({
        value: 2,
        attributes: { 'cache.name': 'users', 'cache.coalesce.scope': 'process' },
      }),
    );
    const loader = (await points(METRIC_LOADER_DURATION)) as CollectedHistogramPoint[];
    expect(loader).toHaveLength(1);
    expect(loader[0]).toMatchObject({
      count: 1,
      attributes: { 'cache.name': 'users', 'cache.loader.outcome': 'success' },
    });
    expect((await telemetry.metric(METRIC_LOADER_DURATION)).unit).toBe('s');
  });

  it("marks a call that waited on another instance's lease (distributed) and counts it", async () => {
    const prefix = uniquePrefix('lease');
    const options = {
      ttlMs: 60_000,
      name: 'users',
      prefix,
      distributed: { leaseMs: 10_000 },
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
    };
    // Two instances = two origins, as two processes would be.
    const leader = createCache(connected.redis, options);
    const follower = createCache(connected.redis, options);
    caches.push(leader, follower);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const leading = leader.getOrLoad('k', async () => {
      await gate;
      return 'from leader';
    });
    await waitUntil(async () => (await raw(connected.redis, 'EXISTS', `${prefix}{k}:lease`)) === 1);
    let followerCalls = 0;
    const following = follower.getOrLoad('k', () => {
      followerCalls++;
      return 'from follower';
    });
    await sleep(100);
    release();
    expect(await leading).toBe('from leader');
    // Woken by the leader's write (well before the 10 s lease would expire).
    expect(await following).toBe('from leader');
    expect(followerCalls).toBe(0);
    const spans = telemetry.findSpans('cache getOrLoad');
    expect(spans.map((span) => span.attributes['cache.lease.waited']).sort()).toEqual([false, true]);
    expect(await points(METRIC_COALESCED_LOADS)).toContainEqual(
      expect.objectContaining({
        value: 1,
        attributes: { 'cache.name': 'users', 'cache.coalesce.scope': 'distributed' },
      }),
    );
  });

  it('marks stale answers and links the background refresh span', async () => {
    const { cache } = make({ staleMs: 60_000 });
    await cache.set('old', 'v1', { ttlMs: 30 });
    await waitUntil(async () => (await cache.get('old')) === undefined);
    await telemetry.reset();
    expect(await cache.getOrLoad('old', async () => 'v2')).toBe('v1');
    await waitUntil(() => telemetry.findSpans('cache refresh').length === 1);
    const span = telemetry.span('cache getOrLoad');
    expect(span.attributes).toMatchObject({ 'cache.hit': true, 'cache.stale': true, 'cache.tier': 'redis' });
    const refresh = telemetry.span('cache refresh');
    expect(refresh.links.map((link) => link.context.spanId)).toContain(span.spanContext().spanId);
    expect(await points(METRIC_REQUESTS)).toContainEqual(
      expect.objectContaining({ attributes: expect.objectContaining({ 'cache.result': 'stale' }) }),
    );
  });

  it('records a corrupt value as an error on the span (the call itself succeeds as a miss)', async () => {
    const { cache, prefix } = make();
    await raw(connected.redis, 'SET', `${prefix}{bad}`, 'not ours');
    await telemetry.reset();
    expect(await cache.get('bad')).toBeUndefined();
    const span = telemetry.span('cache get');
    expect(span.attributes['cache.hit']).toBe(false);
    expect(span.attributes['error.type']).toBe('corrupt_value');
    expect(span.events.map((event) => event.name)).toContain('exception');
    expect(span.events[0]?.attributes?.['exception.type']).toBe('CacheCorruptValueError');
    expect(await points(METRIC_ERRORS)).toContainEqual(
      expect.objectContaining({
        value: 1,
        attributes: { 'cache.name': 'users', 'cache.operation': 'read', 'error.type': 'corrupt_value' },
      }),
    );
  });

  it('records loader failures: the span errors, the loader metric says error', async () => {
    const { cache } = make();
    await expect(
      cache.getOrLoad('fails', () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const span = telemetry.span('cache getOrLoad');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(await points(METRIC_LOADER_DURATION)).toContainEqual(
      expect.objectContaining({ attributes: { 'cache.name': 'users', 'cache.loader.outcome': 'error' } }),
    );
    expect(await points(METRIC_ERRORS)).toContainEqual(
      expect.objectContaining({
        attributes: { 'cache.name': 'users', 'cache.operation': 'getOrLoad', 'error.type': 'loader' },
      }),
    );
  });

  it('traces set, delete, getMany, setMany and invalidateTags; L1 hits say tier l1', async () => {
    const { cache } = make({ l1: true });
    await cache.set('a', 1);
    await cache.setMany([{ key: 'b', value: 2, tags: ['t'] }]);
    await cache.getMany(['a', 'b', 'c']);
    await cache.invalidateTags('t');
    await cache.delete('a');
    // The L1 fills once its invalidation channel is subscribed.
    await waitUntil(async () => {
      await cache.set('l1', 'x');
      await cache.get('l1');
      return telemetry.findSpans('cache get').at(-1)?.attributes['cache.tier'] === 'l1';
    });
    expect(telemetry.span('cache set').attributes['cache.stored']).toBe(true);
    expect(telemetry.span('cache setMany').attributes).toMatchObject({
      'cache.keys.count': 1,
      'cache.stored': true,
    });
    expect(telemetry.span('cache getMany').attributes).toMatchObject({
      'cache.keys.count': 3,
      'cache.hits.count': 2,
    });
    expect(telemetry.span('cache invalidateTags').attributes['cache.tags.count']).toBe(1);
    expect(telemetry.span('cache delete').attributes['cache.keys.count']).toBe(1);
    const l1Hit = telemetry.findSpans('cache get').at(-1)!;
    expect(l1Hit.attributes).toMatchObject({ 'cache.hit': true, 'cache.tier': 'l1' });
    expect(telemetry.children(l1Hit)).toHaveLength(0);
  });

  it('never puts keys or values into metric attributes', async () => {
    const { cache } = make();
    await cache.getOrLoad('secret-key-1', () => 'secret-value');
    await cache.get('secret-key-1');
    await cache.getMany(['secret-key-1', 'secret-key-2']);
    const metrics = await telemetry.collectMetrics();
    const ours = Object.values(metrics).filter((metric) => metric.name.startsWith('cache.'));
    expect(ours.map((metric) => metric.name).sort()).toEqual(
      expect.arrayContaining([METRIC_LOADER_DURATION, METRIC_REQUESTS]),
    );
    for (const metric of ours) {
      for (const point of metric.points) {
        expect(point.scope.name).toBe(INSTRUMENTATION_SCOPE);
        for (const [key, value] of Object.entries(point.attributes)) {
          expect(METRIC_ATTRIBUTE_KEYS.has(key)).toBe(true);
          expect(String(value)).not.toMatch(/secret/);
        }
      }
    }
  });
});
