import type { RedisLike } from '@redisotel/core-hooks';
import { createBackend } from './backend.js';
import { createEngine } from './engine.js';
import { resolveOptions, resourceKeys, validateRedis, validateResource } from './options.js';
import { createLockTelemetry } from './telemetry.js';
import type { Semaphore, SemaphoreOptions } from './types.js';

/**
 * A counting semaphore on one resource: at most `limit` leases at once, each expiring on Redis' clock
 * (a sorted set scored by expiry, read with `TIME` inside the script, so client clocks never matter).
 * Leases have the same shape as a lock's, fencing token included.
 * @example
 * ```ts
 * const slots = createSemaphore(redis, 'render-farm', { limit: 4, ttlMs: 30_000, name: 'render' });
 * await slots.withLock(async (signal) => render(job, { signal }));
 * ```
 * @throws {TypeError} when an argument or option has the wrong type, or `limit` is missing
 * @throws {RangeError} when an option is out of range
 */
export function createSemaphore(redis: RedisLike, resource: string, options: SemaphoreOptions): Semaphore {
  const where = 'createSemaphore';
  const checkedRedis = validateRedis(where, redis);
  const checkedResource = validateResource(where, resource);
  if (options === undefined) {
    throw new TypeError(`${where}: options with a "limit" are required, received undefined`);
  }
  const resolved = resolveOptions(where, options, true);
  const keys = resourceKeys(where, resolved.prefix, checkedResource);
  const engine = createEngine(
    {
      redis: checkedRedis,
      backend: createBackend(checkedRedis, keys, resolved.limit, resolved.wakeUp),
      options: resolved,
      telemetry: createLockTelemetry(
        options.tracerProvider,
        options.meterProvider,
        resolved.name,
        'semaphore',
      ),
      kind: 'semaphore',
      resource: checkedResource,
    },
    'semaphore',
  );
  return Object.assign(engine, { limit: resolved.limit }) as Semaphore;
}
