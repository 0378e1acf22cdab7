import type { RedisLike } from '@redisotel/core-hooks';
import { describe, expect, it } from 'vitest';
import { createRateLimiter, type RateLimiterOptions } from '../src/index.js';

// Validation happens before any I/O: a RedisLike whose calls fail proves nothing is sent.
const unusedRedis = {
  specificationVersion: 1,
  send: () => Promise.reject(new Error('not used')),
  runScript: () => Promise.reject(new Error('not used')),
} as unknown as RedisLike;

const base: RateLimiterOptions = { name: 'api', limit: 10, windowMs: 1000 };

function create(options: Record<string, unknown>) {
  return () => createRateLimiter(unusedRedis, options as unknown as RateLimiterOptions);
}

describe('createRateLimiter options', () => {
  it('accepts the minimal options and fills in defaults', () => {
    const limiter = createRateLimiter(unusedRedis, base);
    expect(limiter.name).toBe('api');
    expect(limiter.algorithm).toBe('sliding-window');
    expect(limiter.limits).toEqual([{ name: 'api', limit: 10, windowMs: 1000, burst: 10 }]);
    expect(Object.isFrozen(limiter.limits) && Object.isFrozen(limiter.limits[0])).toBe(true);
    expect(Object.isFrozen(limiter)).toBe(true);
  });

  it('names multi-limit rules after the limiter and their window', () => {
    const limiter = createRateLimiter(unusedRedis, {
      name: 'api',
      algorithm: 'gcra',
      limits: [
        { limit: 10, windowMs: 1000, burst: 20 },
        { limit: 1000, windowMs: 3_600_000, name: 'hourly' },
      ],
    });
    expect(limiter.limits).toEqual([
      { name: 'api-1000ms', limit: 10, windowMs: 1000, burst: 20 },
      { name: 'hourly', limit: 1000, windowMs: 3_600_000, burst: 1000 },
    ]);
  });

  it.each([
    [
      'redis',
      () => createRateLimiter(null as unknown as RedisLike, base),
      TypeError,
      /"redis" must be a RedisLike.*null/,
    ],
    [
      'options',
      () => createRateLimiter(unusedRedis, 5 as unknown as RateLimiterOptions),
      TypeError,
      /options must be an object, received 5/,
    ],
  ])('rejects a bad %s', (_label, run, type, message) => {
    expect(run).toThrow(type);
    expect(run).toThrow(message);
  });

  it.each<[string, Record<string, unknown>, ErrorConstructor, RegExp]>([
    ['missing name', { limit: 1, windowMs: 1 }, TypeError, /"name" must be a string, received undefined/],
    ['empty name', { ...base, name: '' }, RangeError, /"name" must be .*received ""/],
    ['name with a space', { ...base, name: 'a b' }, RangeError, /"name".*received "a b"/],
    [
      'unknown algorithm',
      { ...base, algorithm: 'leaky' },
      RangeError,
      /"algorithm" must be one of .*received "leaky"/,
    ],
    ['algorithm not a string', { ...base, algorithm: 3 }, TypeError, /"algorithm".*received 3/],
    ['missing limit', { name: 'a', windowMs: 1000 }, TypeError, /"limit" must be set/],
    ['missing windowMs', { name: 'a', limit: 1 }, TypeError, /"windowMs" must be set/],
    ['limit as a string', { ...base, limit: '10' }, TypeError, /"limit" must be an integer.*received "10"/],
    ['limit zero', { ...base, limit: 0 }, RangeError, /"limit" must be an integer from 1.*received 0/],
    ['fractional limit', { ...base, limit: 1.5 }, RangeError, /"limit".*received 1.5/],
    ['NaN windowMs', { ...base, windowMs: Number.NaN }, TypeError, /"windowMs".*received NaN/],
    ['negative windowMs', { ...base, windowMs: -1 }, RangeError, /"windowMs".*received -1/],
    [
      'infinite windowMs',
      { ...base, windowMs: Number.POSITIVE_INFINITY },
      RangeError,
      /"windowMs".*received Infinity/,
    ],
    [
      'burst on a window algorithm',
      { ...base, burst: 5 },
      RangeError,
      /"burst" must be used only with 'token-bucket' or 'gcra', received 5/,
    ],
    ['burst zero', { ...base, algorithm: 'token-bucket', burst: 0 }, RangeError, /"burst".*received 0/],
    [
      'limits with limit',
      { ...base, limits: [{ limit: 1, windowMs: 1 }] },
      RangeError,
      /"limits" must be used without "limit"/,
    ],
    ['limits not an array', { name: 'a', limits: 'x' }, TypeError, /"limits" must be an array.*received "x"/],
    ['empty limits', { name: 'a', limits: [] }, RangeError, /"limits" must be an array of 1 to 16 limits/],
    [
      'a limits entry not an object',
      { name: 'a', limits: [7] },
      TypeError,
      /"limits\[0\]" must be an object.*received 7/,
    ],
    [
      'a bad limits entry',
      {
        name: 'a',
        limits: [
          { limit: 1, windowMs: 1 },
          { limit: -2, windowMs: 5 },
        ],
      },
      RangeError,
      /"limits\[1\].limit".*received -2/,
    ],
    [
      'duplicate windows',
      {
        name: 'a',
        limits: [
          { limit: 1, windowMs: 5 },
          { limit: 2, windowMs: 5 },
        ],
      },
      RangeError,
      /"limits\[1\].windowMs" must be different for each limit, received 5/,
    ],
    [
      'duplicate rule names',
      {
        name: 'a',
        limits: [
          { limit: 1, windowMs: 5, name: 'x' },
          { limit: 2, windowMs: 6, name: 'x' },
        ],
      },
      RangeError,
      /"limits\[1\].name" must be unique.*received "x"/,
    ],
    [
      'rule name with a quote',
      { name: 'a', limits: [{ limit: 1, windowMs: 5, name: 'a"b' }] },
      RangeError,
      /"limits\[0\].name".*received "a\\"b"/,
    ],
    ['prefix not a string', { ...base, prefix: 1 }, TypeError, /"prefix" must be a string, received 1/],
    [
      'prefix with a brace',
      { ...base, prefix: '{app}:' },
      RangeError,
      /"prefix" must be free of "\{" and "\}".*received "\{app\}:"/,
    ],
    [
      'negative blockDurationMs',
      { ...base, blockDurationMs: -5 },
      RangeError,
      /"blockDurationMs".*received -5/,
    ],
    [
      'blockDurationMs as a string',
      { ...base, blockDurationMs: '5' },
      TypeError,
      /"blockDurationMs".*received "5"/,
    ],
    [
      'denyCache as a string',
      { ...base, denyCache: 'yes' },
      TypeError,
      /"denyCache" must be a boolean or \{ maxKeys \}, received "yes"/,
    ],
    [
      'denyCache.maxKeys zero',
      { ...base, denyCache: { maxKeys: 0 } },
      RangeError,
      /"denyCache.maxKeys".*received 0/,
    ],
    [
      'unknown onRedisError',
      { ...base, onRedisError: 'open' },
      RangeError,
      /"onRedisError" must be 'throw', 'allow', 'deny', 'local', received "open"/,
    ],
    [
      'onRedisError not a string',
      { ...base, onRedisError: true },
      TypeError,
      /"onRedisError".*received true/,
    ],
    [
      'zero timeoutMs',
      { ...base, timeoutMs: 0 },
      RangeError,
      /"timeoutMs" must be a positive, finite number of milliseconds, received 0/,
    ],
    ['timeoutMs as a string', { ...base, timeoutMs: '5' }, TypeError, /"timeoutMs".*received "5"/],
    ['localMaxKeys zero', { ...base, localMaxKeys: 0 }, RangeError, /"localMaxKeys".*received 0/],
    [
      'recordKey not a boolean',
      { ...base, recordKey: 'yes' },
      TypeError,
      /"recordKey" must be a boolean, received "yes"/,
    ],
    [
      'tracerProvider without getTracer',
      { ...base, tracerProvider: {} },
      TypeError,
      /"tracerProvider" must be a TracerProvider/,
    ],
    ['meterProvider not an object', { ...base, meterProvider: 3 }, TypeError, /"meterProvider".*received 3/],
    ['a typo', { ...base, windowMS: 1000 }, TypeError, /"windowMS" must be a known option.*received 1000/],
  ])('rejects %s', (_label, options, type, message) => {
    expect(create(options)).toThrow(type);
    expect(create(options)).toThrow(message);
  });
});

describe('per-call arguments', () => {
  const limiter = createRateLimiter(unusedRedis, base);

  it.each<[string, () => Promise<unknown>, ErrorConstructor, RegExp]>([
    [
      'a non-string key',
      () => limiter.consume(42 as unknown as string),
      TypeError,
      /consume: "key" must be a string, received 42/,
    ],
    [
      'an empty key',
      () => limiter.consume(''),
      RangeError,
      /consume: "key" must be a non-empty string, received ""/,
    ],
    [
      'a negative cost',
      () => limiter.consume('k', { cost: -1 }),
      RangeError,
      /consume: "cost" must be an integer from 0, received -1/,
    ],
    ['a fractional cost', () => limiter.consume('k', { cost: 0.5 }), RangeError, /"cost".*received 0.5/],
    [
      'a string cost',
      () => limiter.consume('k', { cost: '1' as unknown as number }),
      TypeError,
      /"cost".*received "1"/,
    ],
    [
      'a zero timeout',
      () => limiter.consume('k', { timeoutMs: 0 }),
      RangeError,
      /consume: "timeoutMs".*received 0/,
    ],
    [
      'a bad peek key',
      () => limiter.peek(undefined as unknown as string),
      TypeError,
      /peek: "key" must be a string/,
    ],
    [
      'negative penalty points',
      () => limiter.penalty('k', -1),
      RangeError,
      /penalty: "points" must be an integer from 0, received -1/,
    ],
    [
      'string reward points',
      () => limiter.reward('k', 'x' as unknown as number),
      TypeError,
      /reward: "points".*received "x"/,
    ],
    [
      'a zero block',
      () => limiter.block('k', 0),
      RangeError,
      /block: "durationMs" must be an integer from 1, received 0/,
    ],
    ['a bad reset key', () => limiter.reset(''), RangeError, /reset: "key" must be a non-empty string/],
  ])('rejects %s', async (_label, run, type, message) => {
    await expect(run()).rejects.toThrow(type);
    await expect(run()).rejects.toThrow(message);
  });
});
