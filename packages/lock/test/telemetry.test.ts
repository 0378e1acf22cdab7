import { context, ProxyTracerProvider, SpanStatusCode, trace } from '@opentelemetry/api';
import type { RedisLike } from '@redisotel/core-hooks';
import { CLIENTS, type ConnectedClient, connectClient } from '@redisotel/test-clients';
import type { ReadableSpan } from '@redisotel/testing';
import { useTelemetryCapture } from '@redisotel/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLock, createReadWriteLock, createSemaphore, type LockOptions } from '../src/index.js';
import { VERSION } from '../src/version.js';
import { deploymentFor, filePrefix, untilAborted } from './support.js';

const prefix = filePrefix('telemetry');
const telemetry = useTelemetryCapture();

describe.each(CLIENTS)('$name', (client) => {
  let connected: ConnectedClient;
  let redis: RedisLike;
  let counter = 0;
  const fresh = () => `${client.library}-${++counter}`;
  const lockOf = (resource: string, options: LockOptions = {}) =>
    createLock(redis, resource, {
      prefix,
      name: 'orders',
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
      ...options,
    });

  beforeAll(async () => {
    connected = await connectClient(client, await deploymentFor('standalone'), {
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
    });
    redis = connected.redis;
  });
  afterAll(async () => {
    await connected?.close();
  });

  it('traces acquire and release with domain attributes, and command spans as children', async () => {
    const resource = fresh();
    const lease = await lockOf(resource).acquire();
    await lease.release();
    const acquire = telemetry.span('lock acquire');
    expect(acquire.instrumentationScope.name).toBe('@redisotel/lock');
    expect(acquire.instrumentationScope.version).toBe(VERSION);
    expect(acquire.attributes).toMatchObject({
      'lock.name': 'orders',
      'lock.kind': 'lock',
      'lock.acquired': true,
      'lock.outcome': 'acquired',
      'lock.attempts': 1,
      'lock.fencing_token': lease.fencingToken,
    });
    expect(typeof acquire.attributes['lock.wait_ms']).toBe('number');
    expect(acquire.attributes['lock.resource']).toBeUndefined();
    expect(JSON.stringify(acquire.attributes)).not.toContain(resource);
    expect(acquire.status.code).not.toBe(SpanStatusCode.ERROR);
    const commands = telemetry.children(acquire);
    expect(commands.length).toBeGreaterThanOrEqual(1);
    expect(commands.some((span) => span.instrumentationScope.name === '@redisotel/core-hooks')).toBe(true);
    const release = telemetry.span('lock release');
    expect(release.attributes).toMatchObject({
      'lock.name': 'orders',
      'lock.released': true,
      'lock.fencing_token': lease.fencingToken,
    });
    expect(telemetry.children(release).length).toBeGreaterThanOrEqual(1);
  });

  it('records no span while the tracer provider is a no-op, and starts once an SDK is behind it', async () => {
    const proxy = new ProxyTracerProvider(); // like the global provider before an SDK registers
    const lock = lockOf(fresh(), { tracerProvider: proxy, name: 'late-sdk' });
    const isOurs = (span: ReadableSpan) => span.attributes['lock.name'] === 'late-sdk';
    const first = await lock.acquire();
    expect(first.signal.aborted).toBe(false);
    expect(await first.release()).toBe(true);
    expect(telemetry.spans().filter(isOurs)).toEqual([]);
    proxy.setDelegate(telemetry.tracerProvider);
    const second = await lock.acquire();
    expect(await second.release()).toBe(true);
    expect(
      telemetry
        .spans()
        .filter(isOurs)
        .map((span) => span.name)
        .sort(),
    ).toEqual(['lock acquire', 'lock release']);
    expect(telemetry.span('lock acquire').attributes['lock.fencing_token']).toBe(second.fencingToken);
  });

  it('puts the resource on spans only when asked, never on metrics', async () => {
    const resource = fresh();
    const lease = await lockOf(resource, { recordResource: true }).acquire();
    await lease.release();
    expect(telemetry.attributes('lock acquire')['lock.resource']).toBe(resource);
    const metrics = await telemetry.collectMetrics();
    for (const metric of Object.values(metrics)) {
      if (!metric.name.startsWith('lock.')) continue;
      for (const point of metric.points) expect(JSON.stringify(point.attributes)).not.toContain(resource);
    }
  });

  it('counts outcomes and records wait and hold durations by lock name', async () => {
    const resource = fresh();
    const holder = await lockOf(resource).acquire();
    await expect(lockOf(resource, { waitMs: 100, retryDelayMs: 20 }).acquire()).rejects.toThrow();
    expect(await lockOf(resource).tryAcquire()).toBeNull();
    await expect(lockOf(resource).acquire({ signal: AbortSignal.abort() })).rejects.toThrow();
    await holder.release();
    const outcomes = await telemetry.metric('lock.acquire.outcomes');
    const byOutcome = Object.fromEntries(
      outcomes.points.map((point) => [String(point.attributes['lock.outcome']), point]),
    );
    expect(Object.keys(byOutcome).sort()).toEqual(['aborted', 'acquired', 'busy', 'timed_out']);
    for (const point of outcomes.points) {
      expect(point.attributes).toEqual({
        'lock.name': 'orders',
        'lock.kind': 'lock',
        'lock.outcome': point.attributes['lock.outcome'],
      });
      expect((point as { value: number }).value).toBe(1);
    }
    const wait = await telemetry.metric('lock.acquire.wait_time');
    expect(wait.unit).toBe('s');
    const timedOut = wait.points.find((point) => point.attributes['lock.outcome'] === 'timed_out');
    expect(timedOut).toMatchObject({ count: 1 });
    expect((timedOut as { sum: number }).sum).toBeGreaterThanOrEqual(0.1);
    const hold = await telemetry.metric('lock.hold.duration');
    expect(hold.points).toHaveLength(1);
    expect(hold.points[0]).toMatchObject({
      count: 1,
      attributes: { 'lock.name': 'orders', 'lock.kind': 'lock' },
    });
    const failed = telemetry
      .findSpans('lock acquire')
      .find((span) => span.attributes['lock.outcome'] === 'timed_out');
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes['lock.acquired']).toBe(false);
    expect(failed?.attributes['error.type']).toBe('LockNotAcquiredError');
    expect(Number(failed?.attributes['lock.attempts'])).toBeGreaterThanOrEqual(2);
    const aborted = telemetry
      .findSpans('lock acquire')
      .find((span) => span.attributes['lock.outcome'] === 'aborted');
    expect(aborted?.attributes['lock.attempts']).toBe(0);
  });

  it('records a lost lease: counter, span event on the detecting extend span and on withLock', async () => {
    const resource = fresh();
    const error = await lockOf(resource, { ttlMs: 3000, autoExtendIntervalMs: 100 })
      .withLock(async (signal) => {
        await redis.send({ name: 'DEL', args: [`${prefix}{${resource}}`], keys: [0] });
        await untilAborted(signal, 10_000);
      })
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('LockLostError');
    const lost = await telemetry.metric('lock.lost');
    expect(lost.points).toEqual([
      expect.objectContaining({
        attributes: { 'lock.name': 'orders', 'lock.kind': 'lock', 'lock.lost.reason': 'not-held' },
        value: 1,
      }),
    ]);
    const detecting = telemetry
      .findSpans('lock extend')
      .find((span) => span.events.some((event) => event.name === 'lock.lost'));
    expect(detecting?.attributes).toMatchObject({ 'lock.extended': false, 'lock.auto_extend': true });
    const withLock = telemetry.span('lock withLock');
    const event = withLock.events.find((e) => e.name === 'lock.lost');
    expect(event?.attributes).toMatchObject({ 'lock.lost.reason': 'not-held' });
    expect(withLock.status.code).toBe(SpanStatusCode.ERROR);
    // acquire, automatic extensions and release are children of the withLock span.
    const children = telemetry.children(withLock).map((span) => span.name);
    expect(children).toContain('lock acquire');
    expect(children).toContain('lock extend');
  });

  it('a lease that expires without extension gets a `lock lost` span in the caller’s trace', async () => {
    const resource = fresh();
    const tracer = telemetry.tracerProvider.getTracer('test');
    const parent = tracer.startSpan('caller');
    const lease = await context.with(trace.setSpan(context.active(), parent), () =>
      lockOf(resource, { ttlMs: 200, autoExtend: false }).acquire(),
    );
    await untilAborted(lease.signal, 10_000);
    parent.end();
    const lostSpan = telemetry.span('lock lost');
    expect(lostSpan.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(lostSpan.events.map((e) => e.name)).toEqual(['lock.lost']);
    expect(lostSpan.events[0]?.attributes).toMatchObject({ 'lock.lost.reason': 'expired' });
  });

  it('semaphores use the semaphore span names and kind', async () => {
    const semaphore = createSemaphore(redis, fresh(), {
      prefix,
      limit: 2,
      name: 'renders',
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
    });
    await semaphore.withLock(async () => {});
    const spans = telemetry.spans().map((span: ReadableSpan) => span.name);
    expect(spans).toEqual(
      expect.arrayContaining(['semaphore acquire', 'semaphore release', 'semaphore withLock']),
    );
    expect(telemetry.attributes('semaphore acquire')).toMatchObject({
      'lock.name': 'renders',
      'lock.kind': 'semaphore',
    });
  });

  it('read-write locks name their spans and metrics by side', async () => {
    const rw = createReadWriteLock(redis, fresh(), {
      prefix,
      name: 'config',
      tracerProvider: telemetry.tracerProvider,
      meterProvider: telemetry.meterProvider,
    });
    await rw.read.withLock(async () => {});
    await rw.write.withLock(async () => {});
    expect(telemetry.attributes('read-lock acquire')).toMatchObject({
      'lock.name': 'config',
      'lock.kind': 'read-lock',
    });
    expect(telemetry.attributes('write-lock release')).toMatchObject({
      'lock.name': 'config',
      'lock.kind': 'write-lock',
      'lock.released': true,
    });
    const outcomes = await telemetry.metric('lock.acquire.outcomes');
    expect(outcomes.points.map((point) => point.attributes['lock.kind']).sort()).toEqual([
      'read-lock',
      'write-lock',
    ]);
  });
});
