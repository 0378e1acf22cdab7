import type { ConnectedClient } from '@redisotel/test-clients';
import { connectClient } from '@redisotel/test-clients';
import { type StandaloneHandle, startRedis } from '@redisotel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  type RateLimitDecision,
  type RateLimiterOptions,
  RateLimitUnavailableError,
} from '../src/index.js';
import { CLIENTS, filePrefix } from './support.js';

// Fault tests own their server: it is killed and restarted here, never the shared one.
describe.each(CLIENTS)('failure policies with Redis stopped ($name)', (client) => {
  let server: StandaloneHandle;
  let connected: ConnectedClient;
  const prefix = filePrefix(`failure-${client.library}`);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = await startRedis({ topology: 'standalone', sources: ['binary'] });
    connected = await connectClient(client, server.deployment);
    // The clients report connection loss as 'error' events: expected here.
    (connected.client as { on(event: 'error', listener: (error: unknown) => void): void }).on(
      'error',
      () => {},
    );
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    const closed = connected?.close().catch(() => undefined);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 5000))]);
    await server?.stop();
  });

  const make = (options: Partial<RateLimiterOptions>) =>
    createRateLimiter(connected.redis, {
      name: 'failure',
      prefix,
      algorithm: 'token-bucket',
      limit: 2,
      windowMs: 600_000,
      timeoutMs: 300,
      ...options,
    });

  it('applies each policy while Redis is down, never hangs, and goes back to Redis once it is up', async () => {
    const throwing = make({});
    const allowing = make({ onRedisError: 'allow' });
    const denying = make({ onRedisError: 'deny' });
    const local = make({ onRedisError: 'local', blockDurationMs: 60_000 });
    expect((await local.consume('warm')).source).toBe('redis');

    await server.kill(server.port);

    const thrown = await throwing.consume('k').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(RateLimitUnavailableError.isInstance(thrown)).toBe(true);
    const failure = thrown as RateLimitUnavailableError;
    expect(failure.name).toBe('RateLimitUnavailableError');
    expect(['timeout', 'connection']).toContain(failure.kind);
    expect(failure.limiterName).toBe('failure');
    expect(failure.cause).toBeDefined();

    const open = await allowing.consume('k');
    expect(open).toMatchObject({ allowed: true, source: 'fail-open', reason: undefined, remaining: 1 });
    expect(RateLimitUnavailableError.isInstance(open.error)).toBe(true);

    const closed = await denying.consume('k');
    expect(closed).toMatchObject({
      allowed: false,
      source: 'fail-closed',
      reason: 'redis-unavailable',
      remaining: 0,
    });
    expect(closed.retryAfterMs).toBeGreaterThan(0);
    expect(RateLimitUnavailableError.isInstance(closed.error)).toBe(true);

    // The local fallback runs the same algorithm and limits in this process.
    const decisions: RateLimitDecision[] = [];
    for (let i = 0; i < 4; i++) decisions.push(await local.consume('k'));
    expect(decisions.map((d) => [d.source, d.allowed, d.reason])).toEqual([
      ['local', true, undefined],
      ['local', true, undefined],
      ['local', false, 'limit-exceeded'],
      ['local', false, 'blocked'],
    ]);
    expect(await local.peek('k')).toMatchObject({ source: 'local', allowed: false, reason: 'blocked' });
    // Mutations fall back locally too under 'local'; elsewhere they reject.
    await local.reset('k');
    expect(await local.consume('k')).toMatchObject({ source: 'local', allowed: true, remaining: 1 });
    expect(await local.penalty('k', 1)).toMatchObject({ source: 'local', remaining: 0 });
    await expect(allowing.penalty('k', 1)).rejects.toSatisfy(RateLimitUnavailableError.isInstance);
    await expect(denying.reset('k')).rejects.toSatisfy(RateLimitUnavailableError.isInstance);
    await expect(throwing.block('k', 1000)).rejects.toSatisfy(RateLimitUnavailableError.isInstance);
    await expect(throwing.peek('k')).rejects.toSatisfy(RateLimitUnavailableError.isInstance);
    // A per-call deadline and an abort signal both end the wait.
    const aborted = await allowing.consume('k', { signal: AbortSignal.abort() });
    expect(aborted).toMatchObject({ source: 'fail-open' });
    expect(aborted.error?.kind).toBe('aborted');
    expect((await denying.consume('k', { timeoutMs: 50 })).source).toBe('fail-closed');

    await server.restart(server.port);
    await server.waitHealthy();
    // Wait for the client to reconnect with peek, which consumes nothing even when a timed-out call
    // is replayed from the client's offline queue.
    let back: RateLimitDecision | undefined;
    for (let attempt = 0; attempt < 150 && back?.source !== 'redis'; attempt++) {
      back = await allowing.peek('after');
      if (back.source !== 'redis') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(back).toMatchObject({ source: 'redis', allowed: true, remaining: 2 });
    expect(await allowing.consume('after')).toMatchObject({ source: 'redis', allowed: true, remaining: 1 });
    expect((await throwing.consume('after')).source).toBe('redis');
    expect(unhandled).toEqual([]);
  }, 60_000);
});
