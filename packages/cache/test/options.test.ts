import type { RedisLike } from '@redisotel/core-hooks';
import { describe, expect, it } from 'vitest';
import { type CacheOptions, createCache } from '../src/index.js';

// Validation happens before any I/O: a RedisLike that only describes itself is enough here.
const redis = {
  runScript: () => Promise.reject(new Error('not used')),
  describe: () => ({
    capabilities: { requiresSameSlot: false, shardedPubSub: false, diagnosticsChannel: false },
  }),
} as unknown as RedisLike;

function create(options: unknown) {
  return () => createCache(redis, options as CacheOptions);
}

describe('createCache options', () => {
  it('accepts a minimal and a full configuration', () => {
    expect(create({ ttlMs: 1000 })).not.toThrow();
    expect(
      create({
        ttlMs: 1000,
        prefix: 'app:',
        name: 'users',
        staleMs: 500,
        ttlJitter: 0.1,
        cacheNull: true,
        timeoutMs: 200,
        softTimeoutMs: 50,
        hardTimeoutMs: 2000,
        distributed: { leaseMs: 5000, waitMs: 8000 },
        l1: { maxEntries: 10, ttlMs: 100 },
        circuitBreaker: { failureThreshold: 3, openMs: 1000 },
        includeKeys: true,
        serializer: { serialize: JSON.stringify, deserialize: JSON.parse },
      }),
    ).not.toThrow();
    expect(create({ ttlMs: 1, distributed: true, l1: true, circuitBreaker: false })).not.toThrow();
  });

  it.each([
    [{}, TypeError, /"ttlMs" must be a number, received undefined/],
    [{ ttlMs: '1000' }, TypeError, /"ttlMs" must be a number, received "1000"/],
    [{ ttlMs: 0 }, RangeError, /"ttlMs" must be an integer from 1 .* received 0/],
    [{ ttlMs: 1.5 }, RangeError, /"ttlMs".*received 1\.5/],
    [{ ttlMs: 1000, prefix: 5 }, TypeError, /"prefix" must be a string, received 5/],
    [
      { ttlMs: 1000, prefix: 'a{b}:' },
      RangeError,
      /"prefix" must be a string without "\{" or "\}", received "a\{b\}:"/,
    ],
    [{ ttlMs: 1000, name: '' }, RangeError, /"name".*received ""/],
    [{ ttlMs: 1000, name: {} }, TypeError, /"name" must be a string/],
    [{ ttlMs: 1000, staleMs: -1 }, RangeError, /"staleMs".*received -1/],
    [{ ttlMs: 1000, ttlJitter: 2 }, RangeError, /"ttlJitter" must be a number from 0 to 1, received 2/],
    [{ ttlMs: 1000, ttlJitter: 'x' }, TypeError, /"ttlJitter" must be a number/],
    [{ ttlMs: 1000, cacheNull: 'yes' }, TypeError, /"cacheNull" must be a boolean, received "yes"/],
    [{ ttlMs: 1000, timeoutMs: 0 }, RangeError, /"timeoutMs".*received 0/],
    [
      { ttlMs: 1000, softTimeoutMs: 500, hardTimeoutMs: 100 },
      RangeError,
      /"softTimeoutMs" must be less than hardTimeoutMs \(100\), received 500/,
    ],
    [{ ttlMs: 1000, distributed: 'yes' }, TypeError, /"distributed" must be an object/],
    [{ ttlMs: 1000, distributed: { leaseMs: 1 } }, RangeError, /"distributed.leaseMs".*received 1/],
    [{ ttlMs: 1000, l1: { maxEntries: 0 } }, RangeError, /"l1.maxEntries".*received 0/],
    [{ ttlMs: 1000, l1: [] }, TypeError, /"l1" must be an object, received an array/],
    [{ ttlMs: 1000, circuitBreaker: { openMs: -5 } }, RangeError, /"circuitBreaker.openMs".*received -5/],
    [
      { ttlMs: 1000, serializer: { serialize: JSON.stringify } },
      TypeError,
      /"serializer.deserialize" must be a function, received undefined/,
    ],
    [{ ttlMs: 1000, includeKeys: 1 }, TypeError, /"includeKeys" must be a boolean, received 1/],
    [{ ttlMs: 1000, tracerProvider: {} }, TypeError, /"tracerProvider" must be a TracerProvider/],
    [{ ttlMs: 1000, meterProvider: 3 }, TypeError, /"meterProvider" must be an object, received 3/],
  ])('rejects %j', (options, type, message) => {
    expect(create(options)).toThrow(type);
    expect(create(options)).toThrow(message);
  });

  it('rejects a non-object options and a non-RedisLike', () => {
    expect(create(null)).toThrow(TypeError);
    expect(() => createCache({} as RedisLike, { ttlMs: 1 })).toThrow(/"redis" must be a RedisLike/);
  });

  it('validates keys, tags and per-call options at the call', async () => {
    const cache = createCache(redis, { ttlMs: 1000 });
    await expect(cache.get('')).rejects.toThrow(RangeError);
    await expect(cache.get('}x')).rejects.toThrow(
      /"key" must be a string not starting with "\}", received "\}x"/,
    );
    await expect(cache.get(5 as unknown as string)).rejects.toThrow(/"key" must be a string, received 5/);
    await expect(cache.set('k', 1, { ttlMs: -1 })).rejects.toThrow(/"ttlMs".*received -1/);
    await expect(cache.set('k', 1, { tags: ['a\nb'] })).rejects.toThrow(RangeError);
    await expect(cache.set('k', 1, { tags: 'a' as unknown as string[] })).rejects.toThrow(TypeError);
    await expect(cache.getOrLoad('k', 'nope' as never)).rejects.toThrow(/"loader" must be a function/);
    await expect(cache.getMany('k' as unknown as string[])).rejects.toThrow(TypeError);
    await expect(cache.setMany([{ key: 'k', value: undefined }])).rejects.toThrow(TypeError);
    await expect(cache.invalidateTags('')).rejects.toThrow(RangeError);
    await expect(cache.delete('')).rejects.toThrow(RangeError);
  });
});
