// Redis stopped mid-run, on a dedicated server this file starts, kills and restarts (never the shared one).
import { type StandaloneHandle, startRedis } from '@redisotel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cache, CacheUnavailableError, createCache } from '../src/index.js';
import { CLIENTS, type ConnectedClient, connectClient, sleep, uniquePrefix, waitUntil } from './support.js';

/** Reject if `promise` has not settled within `ms`: a generous bound proving "never hangs", not a measure. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

describe.each(CLIENTS)('Redis stopped mid-run ($name)', (client) => {
  let handle: StandaloneHandle;
  let connected: ConnectedClient;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    handle = (await startRedis({ topology: 'standalone' })) as StandaloneHandle;
    connected = await connectClient(client, handle.deployment);
    // node-redis emits 'error' on every failed reconnect: an application must listen (else it throws).
    (connected.client as { on(event: string, listener: (error: unknown) => void): void }).on(
      'error',
      () => {},
    );
    process.on('unhandledRejection', onUnhandled);
  }, 120_000);

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await connected?.close().catch(() => {});
    await handle?.stop();
  });

  it('answers from the loader within the timeout, drops writes, opens the breaker, and recovers', async () => {
    const caches: Cache[] = [
      createCache(connected.redis, {
        prefix: uniquePrefix('fault'),
        ttlMs: 60_000,
        timeoutMs: 300,
        circuitBreaker: { failureThreshold: 3, openMs: 500 },
      }),
      createCache(connected.redis, {
        prefix: uniquePrefix('fault-distributed'),
        ttlMs: 60_000,
        timeoutMs: 300,
        distributed: { leaseMs: 1000 },
        circuitBreaker: { failureThreshold: 3, openMs: 500 },
      }),
    ];
    for (const cache of caches) {
      expect(await cache.set('before', 'stored')).toBe(true);
      expect(await cache.get('before')).toBe('stored');
    }

    // Traffic keeps flowing while the server dies.
    let stop = false;
    let answered = 0;
    const traffic = Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        while (!stop) {
          const cache = caches[i % 2]!;
          const key = `k${i}-${answered % 5}`;
          const value = await cache.getOrLoad(key, async () => `loaded ${key}`);
          expect(value).toBe(`loaded ${key}`);
          answered++;
          await sleep(5);
        }
      }),
    );
    await sleep(100);
    await handle.kill(handle.port);

    for (const cache of caches) {
      // Reads fall through to the loader, within the cache's own timeout (bounded generously here).
      expect(
        await within(
          cache.getOrLoad('down', () => 'from loader'),
          5_000,
        ),
      ).toBe('from loader');
      expect(await within(cache.get('before'), 5_000)).toBeUndefined();
      // Writes are dropped (false), never thrown.
      expect(await within(cache.set('down', 'x'), 5_000)).toBe(false);
      // Invalidations must not be dropped silently.
      const error = await within(
        cache.delete('before').catch((e: unknown) => e),
        5_000,
      );
      expect(CacheUnavailableError.isInstance(error)).toBe(true);
    }
    // After enough failures the breaker refuses without calling Redis.
    await waitUntil(async () => {
      const error = await caches[0]!.invalidateTags('t').catch((e: unknown) => e);
      return CacheUnavailableError.isInstance(error) && error.circuitOpen;
    });
    const answeredWhileDown = answered;
    await sleep(300);
    expect(answered).toBeGreaterThan(answeredWhileDown);

    await handle.restart(handle.port);
    await handle.waitHealthy();
    for (const cache of caches) {
      await waitUntil(async () => (await cache.set('after', 'back')) === true, 30_000);
      expect(await cache.get('after')).toBe('back');
      let calls = 0;
      await cache.getOrLoad('after-load', () => {
        calls++;
        return 1;
      });
      expect(await cache.getOrLoad('after-load', () => 2)).toBe(1);
      expect(calls).toBe(1);
    }
    stop = true;
    await within(traffic, 10_000);
    expect(answered).toBeGreaterThan(0);
    await Promise.all(caches.map((cache) => cache.close()));
    expect(unhandled).toEqual([]);
  }, 90_000);
});
