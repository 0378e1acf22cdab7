import type { RedisLike } from '@redisotel/core-hooks';
import { createReadWriteBackends } from './backend.js';
import { createEngine } from './engine.js';
import { resolveOptions, resourceKeys, validateRedis, validateResource } from './options.js';
import { createLockTelemetry } from './telemetry.js';
import type { LockOptions, ReadWriteLock } from './types.js';

/**
 * A read-write lock on one resource: any number of readers at once, or one writer. Readers hold
 * leases in a sorted set scored by their expiry on Redis' clock; the writer holds a key like
 * {@link createLock}. Every lease, read or write, gets a fencing token from the same counter. A
 * release wakes every waiter of the process (all readers may proceed together).
 *
 * There is no writer preference: a steady stream of overlapping readers can keep a writer waiting
 * (until its `waitMs` runs out). Options are those of {@link createLock}.
 * @example
 * ```ts
 * const config = createReadWriteLock(redis, 'tenant:42:config', { name: 'tenant-config' });
 * const current = await config.read.withLock(async () => loadConfig());
 * await config.write.withLock(async (signal, lease) => saveConfig(next, lease.fencingToken));
 * ```
 * @throws {TypeError} when an argument or option has the wrong type
 * @throws {RangeError} when an option is out of range
 */
export function createReadWriteLock(
  redis: RedisLike,
  resource: string,
  options?: LockOptions,
): ReadWriteLock {
  const where = 'createReadWriteLock';
  const checkedRedis = validateRedis(where, redis);
  const checkedResource = validateResource(where, resource);
  const resolved = resolveOptions(where, options, false, 'rwlock:');
  const keys = resourceKeys(where, resolved.prefix, checkedResource);
  const backends = createReadWriteBackends(checkedRedis, keys, resolved.wakeUp);
  const side = (kind: 'read-lock' | 'write-lock', backend: typeof backends.read) =>
    createEngine(
      {
        redis: checkedRedis,
        backend,
        options: resolved,
        telemetry: createLockTelemetry(options?.tracerProvider, options?.meterProvider, resolved.name, kind),
        kind,
        resource: checkedResource,
      },
      kind,
    );
  return {
    resource: checkedResource,
    read: side('read-lock', backends.read),
    write: side('write-lock', backends.write),
  };
}
