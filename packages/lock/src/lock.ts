import type { RedisLike } from '@redisotel/core-hooks';
import { createBackend } from './backend.js';
import { createEngine } from './engine.js';
import { resolveOptions, resourceKeys, validateRedis, validateResource } from './options.js';
import { createLockTelemetry } from './telemetry.js';
import type { Lock, LockOptions } from './types.js';

/**
 * A distributed lock on one resource: a `SET PX` only when the key is free, plus a fencing token from a per-resource counter
 * (`INCR`) in one script, compare-and-delete release, automatic extension and a loss signal.
 * Options are validated here.
 * @example
 * ```ts
 * const lock = createLock(redis, `invoice:${id}`, { ttlMs: 10_000, name: 'invoice' });
 * await lock.withLock(async (signal, lease) => {
 *   await db.update(invoice, { fencingToken: lease.fencingToken, signal });
 * });
 * ```
 * @throws {TypeError} when an argument or option has the wrong type
 * @throws {RangeError} when an option is out of range
 */
export function createLock(redis: RedisLike, resource: string, options?: LockOptions): Lock {
  const where = 'createLock';
  const checkedRedis = validateRedis(where, redis);
  const checkedResource = validateResource(where, resource);
  const resolved = resolveOptions(where, options, false);
  const keys = resourceKeys(where, resolved.prefix, checkedResource);
  return createEngine(
    {
      redis: checkedRedis,
      backend: createBackend(checkedRedis, keys, undefined, resolved.wakeUp),
      options: resolved,
      telemetry: createLockTelemetry(options?.tracerProvider, options?.meterProvider, resolved.name, 'lock'),
      kind: 'lock',
      resource: checkedResource,
    },
    'lock',
  );
}
