import type { RedisLike } from '@redisotel/core-hooks';
import { describe, expectTypeOf, it } from 'vitest';
import {
  createLock,
  createReadWriteLock,
  createSemaphore,
  type Lease,
  type Lock,
  type ReadWriteLock,
  type Semaphore,
} from '../src/index.js';

declare const redis: RedisLike;

describe('public types', () => {
  it('createLock returns a Lock whose withLock passes the result through', () => {
    const lock = createLock(redis, 'r', { ttlMs: 1000 });
    expectTypeOf(lock).toEqualTypeOf<Lock>();
    expectTypeOf(lock.acquire()).resolves.toEqualTypeOf<Lease>();
    expectTypeOf(lock.tryAcquire()).resolves.toEqualTypeOf<Lease | null>();
    expectTypeOf(lock.withLock(async () => 42)).resolves.toEqualTypeOf<number>();
    expectTypeOf(lock.withLock((signal, lease) => [signal, lease] as const)).resolves.toEqualTypeOf<
      readonly [AbortSignal, Lease]
    >();
  });

  it('semaphores require a limit and have the same lease shape', () => {
    expectTypeOf(createSemaphore(redis, 's', { limit: 2 })).toEqualTypeOf<Semaphore>();
    // @ts-expect-error limit is required
    createSemaphore(redis, 's', {});
    expectTypeOf<Lease['fencingToken']>().toEqualTypeOf<number>();
    expectTypeOf<Lease['release']>().returns.resolves.toEqualTypeOf<boolean>();
  });

  it('read-write locks have a Lock per side', () => {
    const rw = createReadWriteLock(redis, 'r');
    expectTypeOf(rw).toEqualTypeOf<ReadWriteLock>();
    expectTypeOf(rw.read).toEqualTypeOf<Lock>();
    expectTypeOf(rw.write.withLock(() => 'x')).resolves.toEqualTypeOf<string>();
  });
});
