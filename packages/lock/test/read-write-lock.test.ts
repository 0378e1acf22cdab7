import type { RedisLike } from '@redisotel/core-hooks';
import { CLIENTS, type ConnectedClient, connectClient } from '@redisotel/test-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadWriteLock, LockLostError, type LockOptions } from '../src/index.js';
import { deploymentFor, filePrefix, TOPOLOGIES } from './support.js';

const prefix = filePrefix('rwlock');

describe.each(TOPOLOGIES)('%s', (topology) => {
  describe.each(CLIENTS)('$name', (client) => {
    let connected: ConnectedClient;
    let redis: RedisLike;
    let counter = 0;
    const fresh = () => `${client.library}-${++counter}`;
    const writerKey = (resource: string) => `${prefix}{${resource}}`;
    const readersKey = (resource: string) => `${prefix}{${resource}}:readers`;
    const send = (name: string, args: (string | number)[]) => redis.send({ name, args, keys: [0] });
    const rwOf = (resource: string, options: LockOptions = {}) =>
      createReadWriteLock(redis, resource, { prefix, ...options });

    beforeAll(async () => {
      connected = await connectClient(client, await deploymentFor(topology));
      redis = connected.redis;
    });
    afterAll(async () => {
      await connected?.close();
    });

    it('shares read leases and excludes the writer while any reader holds one', async () => {
      const resource = fresh();
      const rw = rwOf(resource);
      expect(rw.resource).toBe(resource);
      const first = await rw.read.acquire();
      const second = await rw.read.acquire();
      expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
      expect(await send('ZCARD', [readersKey(resource)])).toBe(2);
      expect(await rw.write.tryAcquire()).toBeNull();
      expect(await first.release()).toBe(true);
      expect(await rw.write.tryAcquire()).toBeNull();
      expect(await second.release()).toBe(true);
      const writer = await rw.write.tryAcquire();
      expect(writer).not.toBeNull();
      expect(writer!.fencingToken).toBeGreaterThan(second.fencingToken);
      expect(await send('GET', [writerKey(resource)])).toBe(writer!.token);
      expect(await rw.read.tryAcquire()).toBeNull();
      expect(await rw.write.tryAcquire()).toBeNull();
      expect(await writer!.release()).toBe(true);
      const reader = await rw.read.tryAcquire();
      expect(reader).not.toBeNull();
      await reader!.release();
    });

    it('wakes the waiting writer when the last reader releases, and all readers when the writer does', async () => {
      const resource = fresh();
      // Fallback retries longer than the test: only release notifications can hand the lock over.
      const rw = rwOf(resource, { waitMs: 20_000, retryDelayMs: 60_000, retryJitterMs: 0, ttlMs: 30_000 });
      const readers = [await rw.read.acquire(), await rw.read.acquire()];
      const pendingWriter = rw.write.acquire();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await readers[0]!.release();
      await readers[1]!.release();
      const writer = await pendingWriter;
      const pendingReaders = [rw.read.acquire(), rw.read.acquire(), rw.read.acquire()];
      await new Promise((resolve) => setTimeout(resolve, 100));
      await writer.release();
      const woken = await Promise.all(pendingReaders);
      expect(await send('ZCARD', [readersKey(resource)])).toBe(3);
      for (const lease of woken) expect(await lease.release()).toBe(true);
    });

    it('an expired reader does not block the writer, and cannot release or extend afterwards', async () => {
      const resource = fresh();
      const stale = await rwOf(resource, { ttlMs: 300, autoExtend: false }).read.acquire();
      const writer = await rwOf(resource, {
        waitMs: 20_000,
        retryDelayMs: 60_000,
        retryJitterMs: 0,
      }).write.acquire();
      expect(await stale.release()).toBe(false);
      await expect(stale.extend()).rejects.toSatisfy(LockLostError.isInstance);
      expect(await send('GET', [writerKey(resource)])).toBe(writer.token);
      expect(await writer.release()).toBe(true);
    });

    it('keeps writers exclusive and readers concurrent under a mixed load', async () => {
      const resource = fresh();
      const rw = rwOf(resource, { waitMs: 30_000 });
      const writers = `${prefix}writers:{${resource}}`;
      const readersInside = `${prefix}readers-inside:{${resource}}`;
      let violations = 0;
      let maxReaders = 0;
      const tasks = Array.from({ length: 24 }, (_, i) =>
        i % 4 === 0
          ? rw.write.withLock(async () => {
              const w = (await send('INCR', [writers])) as number;
              const r = Number((await send('GET', [readersInside])) ?? 0);
              if (w !== 1 || r !== 0) violations++;
              await new Promise((resolve) => setTimeout(resolve, 5));
              await send('DECR', [writers]);
            })
          : rw.read.withLock(async () => {
              const r = (await send('INCR', [readersInside])) as number;
              maxReaders = Math.max(maxReaders, r);
              const w = Number((await send('GET', [writers])) ?? 0);
              if (w !== 0) violations++;
              await new Promise((resolve) => setTimeout(resolve, 5));
              await send('DECR', [readersInside]);
            }),
      );
      await Promise.all(tasks);
      expect(violations).toBe(0);
      expect(maxReaders).toBeGreaterThan(1);
    });

    it('auto-extends read leases and reports their loss', async () => {
      const resource = fresh();
      const lease = await rwOf(resource, { ttlMs: 1000, autoExtendIntervalMs: 200 }).read.acquire();
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(await send('ZSCORE', [readersKey(resource), lease.token])).not.toBeNull();
      await send('ZREM', [readersKey(resource), lease.token]);
      await expect(lease.extend()).rejects.toSatisfy(LockLostError.isInstance);
      expect(lease.signal.aborted).toBe(true);
    });
  });
});
