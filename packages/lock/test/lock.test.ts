import type { RedisHook, RedisLike } from '@redisotel/core-hooks';
import { CLIENTS, type ConnectedClient, connectClient } from '@redisotel/test-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLock,
  createSemaphore,
  type Lease,
  LockLostError,
  LockNotAcquiredError,
  LockUnavailableError,
} from '../src/index.js';
import { deploymentFor, filePrefix, serverTimeMs, TOPOLOGIES, untilAborted, waitUntil } from './support.js';

const prefix = filePrefix('lock');

/** Run one command on the RedisLike (keys at the given positions). */
function command(redis: RedisLike, name: string, args: (string | number)[], keys: number[] = [0]) {
  return redis.send({ name, args, keys });
}

describe.each(TOPOLOGIES)('%s', (topology) => {
  describe.each(CLIENTS)('$name', (client) => {
    let connected: ConnectedClient;
    let redis: RedisLike;
    let counter = 0;
    /** A fresh resource name per test, so tests never share keys. */
    const fresh = () => `${client.library}-${++counter}`;
    const key = (resource: string, kind: 'lock' | 'semaphore' = 'lock') => `${prefix}${kind}:{${resource}}`;

    beforeAll(async () => {
      connected = await connectClient(client, await deploymentFor(topology));
      redis = connected.redis;
    });
    afterAll(async () => {
      await connected?.close();
    });

    const lockOf = (resource: string, options: Parameters<typeof createLock>[2] = {}) =>
      createLock(redis, resource, { prefix: `${prefix}lock:`, ...options });
    const semaphoreOf = (resource: string, options: Parameters<typeof createSemaphore>[2]) =>
      createSemaphore(redis, resource, { prefix: `${prefix}semaphore:`, ...options });

    it('acquires a lease with a random token, a fencing token and an expiry on Redis clock', async () => {
      const resource = fresh();
      const lock = lockOf(resource, { ttlMs: 5000 });
      const before = await serverTimeMs(redis, key(resource));
      const lease = await lock.acquire();
      const after = await serverTimeMs(redis, key(resource));
      try {
        expect(lease.resource).toBe(resource);
        expect(lease.token).toMatch(/^[0-9a-f]{32}$/);
        expect(Number.isSafeInteger(lease.fencingToken)).toBe(true);
        expect(lease.fencingToken).toBeGreaterThan(0);
        expect(lease.expiresAt).toBeGreaterThanOrEqual(before + 5000);
        expect(lease.expiresAt).toBeLessThanOrEqual(after + 5000);
        expect(lease.held).toBe(true);
        expect(lease.signal.aborted).toBe(false);
        expect(await command(redis, 'GET', [key(resource)])).toBe(lease.token);
        const pttl = (await command(redis, 'PTTL', [key(resource)])) as number;
        expect(pttl).toBeGreaterThan(0);
        expect(pttl).toBeLessThanOrEqual(5000);
      } finally {
        expect(await lease.release()).toBe(true);
      }
      expect(await command(redis, 'EXISTS', [key(resource)])).toBe(0);
      expect(lease.held).toBe(false);
      expect(lease.signal.aborted).toBe(false);
    });

    it('issues strictly increasing fencing tokens across holders and lock objects', async () => {
      const resource = fresh();
      const tokens: number[] = [];
      for (let i = 0; i < 5; i++) {
        const lease = await lockOf(resource).acquire();
        tokens.push(lease.fencingToken);
        await lease.release();
      }
      for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
      const other = await lockOf(fresh()).acquire();
      expect(other.fencingToken).toBe(1);
      await other.release();
    });

    it('tryAcquire answers null while held and a lease once released', async () => {
      const resource = fresh();
      const lock = lockOf(resource);
      const first = await lock.tryAcquire();
      expect(first).not.toBeNull();
      expect(await lock.tryAcquire()).toBeNull();
      expect(await lockOf(resource).tryAcquire()).toBeNull();
      expect(await first!.release()).toBe(true);
      expect(await first!.release()).toBe(false);
      const second = await lock.tryAcquire();
      expect(second).not.toBeNull();
      expect(second!.fencingToken).toBeGreaterThan(first!.fencingToken);
      await second!.release();
    });

    it('an expired lease can neither release nor extend the next holder’s lock', async () => {
      const resource = fresh();
      const stale = await lockOf(resource, { ttlMs: 300, autoExtend: false }).acquire();
      await waitUntil(async () => (await command(redis, 'EXISTS', [key(resource)])) === 0);
      const next = await lockOf(resource, { ttlMs: 10_000 }).acquire();
      try {
        expect(await stale.release()).toBe(false);
        await expect(stale.extend()).rejects.toSatisfy(LockLostError.isInstance);
        expect(await command(redis, 'GET', [key(resource)])).toBe(next.token);
        expect(next.held).toBe(true);
      } finally {
        expect(await next.release()).toBe(true);
      }
    });

    it('an expired lease still unreleased cannot extend the next holder’s lock', async () => {
      const resource = fresh();
      const stale = await lockOf(resource, { ttlMs: 300, autoExtend: false }).acquire();
      await waitUntil(async () => (await command(redis, 'EXISTS', [key(resource)])) === 0);
      const next = await lockOf(resource, { ttlMs: 10_000, autoExtend: false }).acquire();
      const error = await stale.extend(60_000).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(LockLostError.isInstance(error)).toBe(true);
      const pttl = (await command(redis, 'PTTL', [key(resource)])) as number;
      expect(pttl).toBeLessThanOrEqual(10_000);
      expect(await command(redis, 'GET', [key(resource)])).toBe(next.token);
      expect(await stale.release()).toBe(false);
      expect(await next.release()).toBe(true);
    });

    it('extend() moves the expiry on Redis and returns the new expiresAt', async () => {
      const resource = fresh();
      const lease = await lockOf(resource, { ttlMs: 2000, autoExtend: false }).acquire();
      const firstExpiry = lease.expiresAt;
      await lease.extend(20_000);
      expect(lease.expiresAt).toBeGreaterThan(firstExpiry);
      const pttl = (await command(redis, 'PTTL', [key(resource)])) as number;
      expect(pttl).toBeGreaterThan(2000);
      await lease.release();
      await expect(lease.extend()).rejects.toSatisfy(LockLostError.isInstance);
      await expect(lease.extend(0)).rejects.toBeInstanceOf(RangeError);
    });

    it('auto-extends a lease across work longer than ttlMs', async () => {
      const resource = fresh();
      // Generous margins: an extension every 200 ms has 800 ms to land before the TTL runs out.
      const lease = await lockOf(resource, { ttlMs: 1000, autoExtendIntervalMs: 200 }).acquire();
      // Hold for several TTLs; Redis itself must still have our token.
      for (let i = 0; i < 4; i++) {
        await new Promise((resolve) => setTimeout(resolve, 700));
        expect(await command(redis, 'GET', [key(resource)])).toBe(lease.token);
      }
      expect(lease.signal.aborted).toBe(false);
      expect(await lease.release()).toBe(true);
    });

    it('aborts the signal with LockLostError when the key is deleted under the holder', async () => {
      const resource = fresh();
      const lease = await lockOf(resource, { ttlMs: 3000, autoExtendIntervalMs: 100 }).acquire();
      await command(redis, 'DEL', [key(resource)]);
      const reason = await untilAborted(lease.signal, 10_000);
      expect(LockLostError.isInstance(reason)).toBe(true);
      expect((reason as LockLostError).reason).toBe('not-held');
      expect(lease.held).toBe(false);
      expect(await lease.release()).toBe(false);
    });

    it('aborts the signal when another holder took over (token mismatch)', async () => {
      const resource = fresh();
      const lease = await lockOf(resource, { ttlMs: 3000, autoExtendIntervalMs: 100 }).acquire();
      await command(redis, 'SET', [key(resource), 'someone-else', 'PX', 10_000]);
      const reason = await untilAborted(lease.signal, 10_000);
      expect((reason as LockLostError).reason).toBe('not-held');
      expect(await lease.release()).toBe(false);
      expect(await command(redis, 'GET', [key(resource)])).toBe('someone-else');
      await command(redis, 'DEL', [key(resource)]);
    });

    it('without auto-extension the signal aborts when the TTL runs out', async () => {
      const resource = fresh();
      const lease = await lockOf(resource, { ttlMs: 300, autoExtend: false }).acquire();
      const reason = await untilAborted(lease.signal, 10_000);
      expect((reason as LockLostError).reason).toBe('expired');
    });

    it('waits for a release and is woken by it (not by the fallback retry)', async () => {
      const resource = fresh();
      const holder = await lockOf(resource, { ttlMs: 30_000 }).acquire();
      // The fallback retry is longer than the test timeout: only a wake-up can hand the lock over.
      const waiter = lockOf(resource, {
        ttlMs: 30_000,
        waitMs: 25_000,
        retryDelayMs: 60_000,
        retryJitterMs: 0,
      });
      const pending = waiter.acquire();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await holder.release();
      const lease = await pending;
      expect(lease.fencingToken).toBeGreaterThan(holder.fencingToken);
      await lease.release();
    });

    it('wakes waiters over plain PUBLISH/SUBSCRIBE when the adapter lacks sharded pub/sub', async () => {
      const description = redis.describe();
      const plain: RedisLike = {
        ...redis,
        describe: () => ({
          ...description,
          capabilities: { ...description.capabilities, shardedPubSub: false },
        }),
      };
      const resource = fresh();
      const options = {
        prefix: `${prefix}lock:`,
        ttlMs: 30_000,
        waitMs: 25_000,
        retryDelayMs: 60_000,
        retryJitterMs: 0,
      };
      const holder = await createLock(plain, resource, options).acquire();
      const pending = createLock(plain, resource, options).acquire();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await holder.release();
      const lease = await pending;
      await lease.release();
    });

    // SCRIPT FLUSH would reach one node of a cluster only: standalone shows the recovery.
    it.skipIf(topology !== 'standalone')('recovers when Redis lost its scripts (SCRIPT FLUSH)', async () => {
      const lock = lockOf(fresh());
      await (await lock.acquire()).release();
      await command(redis, 'SCRIPT', ['FLUSH'], []);
      const lease = await lock.acquire();
      expect(await lease.release()).toBe(true);
    });

    it('without wake-ups it retries on its timer', async () => {
      const resource = fresh();
      const holder = await lockOf(resource, { ttlMs: 30_000 }).acquire();
      const waiter = lockOf(resource, { waitMs: 20_000, retryDelayMs: 50, wakeUp: false });
      const pending = waiter.acquire();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await holder.release();
      const lease = await pending;
      await lease.release();
    });

    it('a waiter acquires when the holder’s lease expires (expiry publishes nothing)', async () => {
      const resource = fresh();
      await lockOf(resource, { ttlMs: 400, autoExtend: false }).acquire();
      const lease = await lockOf(resource, {
        waitMs: 20_000,
        retryDelayMs: 60_000,
        retryJitterMs: 0,
      }).acquire();
      expect(lease.held).toBe(true);
      await lease.release();
    });

    it('rejects with LockNotAcquiredError when waitMs runs out', async () => {
      const resource = fresh();
      const holder = await lockOf(resource).acquire();
      const error = await lockOf(resource, { waitMs: 300, retryDelayMs: 50 })
        .acquire()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(LockNotAcquiredError.isInstance(error)).toBe(true);
      expect((error as LockNotAcquiredError).attempts).toBeGreaterThanOrEqual(2);
      expect((error as LockNotAcquiredError).waitedMs).toBeGreaterThanOrEqual(300);
      // waitMs: 0 per call is one attempt.
      const once = await lockOf(resource)
        .acquire({ waitMs: 0 })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((once as LockNotAcquiredError).attempts).toBe(1);
      await holder.release();
    });

    it('stops after maxAttempts', async () => {
      const resource = fresh();
      const holder = await lockOf(resource).acquire();
      const error = await lockOf(resource, { waitMs: 60_000, maxAttempts: 3, retryDelayMs: 10 })
        .acquire()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((error as LockNotAcquiredError).attempts).toBe(3);
      await holder.release();
    });

    it('rejects with an AbortError when the signal aborts, and leaves nothing behind', async () => {
      const resource = fresh();
      const holder = await lockOf(resource).acquire();
      const controller = new AbortController();
      const reason = new Error('shutting down');
      const pending = lockOf(resource, { waitMs: 20_000 }).acquire({ signal: controller.signal });
      setTimeout(() => controller.abort(reason), 100);
      const error = await pending.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('AbortError');
      expect((error as DOMException & { cause: unknown }).cause).toBe(reason);
      await expect(lockOf(resource).acquire({ signal: AbortSignal.abort() })).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(await command(redis, 'GET', [key(resource)])).toBe(holder.token);
      await holder.release();
    });

    it('withLock runs the function holding the lock and releases afterwards', async () => {
      const resource = fresh();
      const lock = lockOf(resource);
      let seen: Lease | undefined;
      const result = await lock.withLock(async (signal, lease) => {
        seen = lease;
        expect(signal).toBe(lease.signal);
        expect(await command(redis, 'GET', [key(resource)])).toBe(lease.token);
        return 42;
      });
      expect(result).toBe(42);
      expect(seen?.held).toBe(false);
      expect(await command(redis, 'EXISTS', [key(resource)])).toBe(0);
    });

    it('withLock releases when the function throws, and rethrows its error', async () => {
      const resource = fresh();
      const failure = new Error('boom');
      await expect(
        lockOf(resource).withLock(() => {
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await command(redis, 'EXISTS', [key(resource)])).toBe(0);
      await expect(lockOf(resource).withLock(async () => Promise.reject(failure))).rejects.toBe(failure);
      expect(await command(redis, 'EXISTS', [key(resource)])).toBe(0);
    });

    it('withLock extends while the function runs even with autoExtend off', async () => {
      const resource = fresh();
      const lock = lockOf(resource, { ttlMs: 1000, autoExtend: false, autoExtendIntervalMs: 200 });
      await lock.withLock(async (signal, lease) => {
        await new Promise((resolve) => setTimeout(resolve, 2500));
        expect(signal.aborted).toBe(false);
        expect(await command(redis, 'GET', [key(resource)])).toBe(lease.token);
      });
    });

    it('withLock aborts the signal on loss and rejects with LockLostError', async () => {
      const resource = fresh();
      const lock = lockOf(resource, { ttlMs: 3000, autoExtendIntervalMs: 100 });
      const error = await lock
        .withLock(async (signal) => {
          await command(redis, 'DEL', [key(resource)]);
          await untilAborted(signal, 10_000);
          return 'done anyway';
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(LockLostError.isInstance(error)).toBe(true);
    });

    it('withLock reports acquisition failure distinctly from loss', async () => {
      const resource = fresh();
      const holder = await lockOf(resource).acquire();
      let ran = false;
      const error = await lockOf(resource, { waitMs: 100 })
        .withLock(() => {
          ran = true;
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(ran).toBe(false);
      expect(LockNotAcquiredError.isInstance(error)).toBe(true);
      expect(LockLostError.isInstance(error)).toBe(false);
      await holder.release();
    });

    it('uses one round trip to acquire and one to release when uncontended', async () => {
      const resource = fresh();
      const lock = lockOf(resource);
      await (await lock.acquire()).release(); // loads the scripts on the node serving this slot
      const seen: string[] = [];
      const hook: RedisHook = {
        process: (next) => (command, info) => {
          if (info.script?.name.startsWith('redisotel_lock')) seen.push(info.script.name);
          return next(command, info);
        },
      };
      redis.addHook(hook);
      const lease = await lock.acquire();
      await lease.release();
      expect(seen).toEqual(['redisotel_lock_acquire', 'redisotel_lock_release']);
    });

    it('keeps every key of a resource in one hash slot', async () => {
      const resource = fresh();
      const lease = await lockOf(resource).acquire();
      const slots = await Promise.all(
        [key(resource), `${key(resource)}:fence`].map(
          (k) => command(redis, 'CLUSTER', ['KEYSLOT', k], []).catch(() => null) as Promise<unknown>,
        ),
      );
      if (topology === 'cluster') expect(slots[0]).toBe(slots[1]);
      expect(await command(redis, 'EXISTS', [`${key(resource)}:fence`])).toBe(1);
      await lease.release();
    });

    it('surfaces Redis failures as LockUnavailableError with the cause', async () => {
      const resource = fresh();
      await command(redis, 'SET', [`${prefix}broken:{${resource}}`, 'x']);
      await command(redis, 'HSET', [`${prefix}broken:{${resource}}:fence`, 'f', 'v']);
      const error = await createLock(redis, resource, { prefix: `${prefix}broken:` })
        .acquire({ waitMs: 0 })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      // The key exists, so the script never reached INCR: not acquired, no failure.
      expect(LockNotAcquiredError.isInstance(error)).toBe(true);
      await command(redis, 'DEL', [`${prefix}broken:{${resource}}`]);
      const failure = await createLock(redis, resource, { prefix: `${prefix}broken:` })
        .acquire()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(LockUnavailableError.isInstance(failure)).toBe(true);
      expect((failure as LockUnavailableError).operation).toBe('acquire');
      expect((failure as Error).cause).toMatchObject({ prefix: 'WRONGTYPE' });
      // The failed INCR left nothing behind: the lock key is not held.
      expect(await command(redis, 'EXISTS', [`${prefix}broken:{${resource}}`])).toBe(0);
    });

    describe('semaphore', () => {
      it('grants at most limit leases, each with its own fencing token', async () => {
        const resource = fresh();
        const semaphore = semaphoreOf(resource, { limit: 3 });
        expect(semaphore.limit).toBe(3);
        const leases = [await semaphore.acquire(), await semaphore.acquire(), await semaphore.acquire()];
        expect(new Set(leases.map((l) => l.token)).size).toBe(3);
        expect(leases.map((l) => l.fencingToken)).toEqual([1, 2, 3]);
        expect(await semaphore.tryAcquire()).toBeNull();
        expect(await command(redis, 'ZCARD', [key(resource, 'semaphore')])).toBe(3);
        expect(await leases[1]!.release()).toBe(true);
        const fourth = await semaphore.tryAcquire();
        expect(fourth?.fencingToken).toBe(4);
        for (const lease of [leases[0]!, leases[2]!, fourth!]) expect(await lease.release()).toBe(true);
        expect(await command(redis, 'EXISTS', [key(resource, 'semaphore')])).toBe(0);
      });

      it('never exceeds limit under concurrent withLock callers', async () => {
        const resource = fresh();
        const limit = 3;
        const inside = `${prefix}inside:{${resource}}`;
        let maxSeen = 0;
        const semaphore = semaphoreOf(resource, { limit, waitMs: 20_000 });
        await Promise.all(
          Array.from({ length: 12 }, () =>
            semaphore.withLock(async () => {
              const now = (await command(redis, 'INCR', [inside])) as number;
              maxSeen = Math.max(maxSeen, now);
              await new Promise((resolve) => setTimeout(resolve, 20));
              await command(redis, 'DECR', [inside]);
            }),
          ),
        );
        expect(maxSeen).toBeLessThanOrEqual(limit);
        expect(maxSeen).toBeGreaterThan(1);
        expect(await command(redis, 'GET', [inside])).toBe('0');
      });

      it('expires holders on Redis clock and frees their slot', async () => {
        const resource = fresh();
        const semaphore = semaphoreOf(resource, { limit: 1, ttlMs: 300, autoExtend: false });
        const stale = await semaphore.acquire();
        const next = await semaphoreOf(resource, {
          limit: 1,
          waitMs: 20_000,
          retryDelayMs: 60_000,
          retryJitterMs: 0,
        }).acquire();
        expect(next.fencingToken).toBeGreaterThan(stale.fencingToken);
        expect(await stale.release()).toBe(false);
        await expect(stale.extend()).rejects.toSatisfy(LockLostError.isInstance);
        expect(await command(redis, 'ZSCORE', [key(resource, 'semaphore'), next.token])).not.toBeNull();
        expect(await next.release()).toBe(true);
      });

      it('auto-extends, wakes waiters on release and reports loss', async () => {
        const resource = fresh();
        const semaphore = semaphoreOf(resource, { limit: 1, ttlMs: 1000, autoExtendIntervalMs: 200 });
        const lease = await semaphore.acquire();
        await new Promise((resolve) => setTimeout(resolve, 2500));
        expect(await command(redis, 'ZSCORE', [key(resource, 'semaphore'), lease.token])).not.toBeNull();
        const pending = semaphoreOf(resource, {
          limit: 1,
          waitMs: 20_000,
          retryDelayMs: 60_000,
          retryJitterMs: 0,
          ttlMs: 30_000,
        }).acquire();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await lease.release();
        const next = await pending;
        await command(redis, 'ZREM', [key(resource, 'semaphore'), next.token]);
        await expect(next.extend()).rejects.toSatisfy(LockLostError.isInstance);
        expect(next.signal.aborted).toBe(true);
      });
    });
  });
});
