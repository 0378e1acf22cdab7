import type { RedisLike } from '@redisotel/core-hooks';
import { CLIENTS, type ConnectedClient, connectClient } from '@redisotel/test-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLock, createReadWriteLock, createSemaphore } from '../src/index.js';
import { deploymentFor } from './support.js';

describe('options are validated at creation', () => {
  let connected: ConnectedClient;
  let redis: RedisLike;
  beforeAll(async () => {
    connected = await connectClient(CLIENTS[0]!, await deploymentFor('standalone'));
    redis = connected.redis;
  });
  afterAll(async () => {
    await connected?.close();
  });

  it('rejects a redis that is not a RedisLike, and an empty or non-string resource', () => {
    expect(() => createLock({} as RedisLike, 'r')).toThrow(TypeError);
    expect(() => createLock(null as unknown as RedisLike, 'r')).toThrow(/"redis" must be a RedisLike/);
    expect(() => createLock({ ...redis, specificationVersion: 2 } as unknown as RedisLike, 'r')).toThrow(
      /specification 2/,
    );
    expect(() => createLock(redis, 42 as unknown as string)).toThrow(
      new TypeError('createLock: "resource" must be a string, received 42'),
    );
    expect(() => createLock(redis, '')).toThrow(RangeError);
  });

  it.each([
    ['ttlMs', '1000', TypeError, 'createLock: "ttlMs" must be a number, received "1000"'],
    ['ttlMs', 0, RangeError, 'createLock: "ttlMs" must be an integer from 1 to 2147483647, received 0'],
    ['ttlMs', 1.5, RangeError, 'received 1.5'],
    ['ttlMs', Number.NaN, TypeError, 'received NaN'],
    ['waitMs', -1, RangeError, '"waitMs" must be an integer from 0 to 2147483647, received -1'],
    [
      'maxAttempts',
      0,
      RangeError,
      '"maxAttempts" must be an integer from 1 to 2147483647 or Infinity, received 0',
    ],
    ['retryDelayMs', 0, RangeError, '"retryDelayMs"'],
    ['retryJitterMs', -5, RangeError, '"retryJitterMs"'],
    ['autoExtend', 'yes', TypeError, '"autoExtend" must be a boolean, received "yes"'],
    [
      'autoExtendIntervalMs',
      10_000,
      RangeError,
      '"autoExtendIntervalMs" must be below "ttlMs" (10000), received 10000',
    ],
    ['wakeUp', 1, TypeError, '"wakeUp" must be a boolean, received 1'],
    ['prefix', 5, TypeError, '"prefix" must be a string, received 5'],
    ['prefix', 'a{}b', RangeError, '"prefix" "a{}b" with resource "r" splits the keys'],
    ['name', '', RangeError, '"name" must not be empty'],
    ['recordResource', 'true', TypeError, '"recordResource" must be a boolean'],
    ['tracerProvider', {}, TypeError, '"tracerProvider" must be an object with a getTracer() method'],
    ['meterProvider', 3, TypeError, '"meterProvider" must be an object with a getMeter() method, received 3'],
    ['limit', 2, TypeError, 'unknown option "limit"'],
    ['ttl', 2, TypeError, 'unknown option "ttl"'],
  ] as const)('%s = %j → %s', (option, value, type, message) => {
    const act = () => createLock(redis, 'r', { [option]: value } as never);
    expect(act).toThrow(type);
    expect(act).toThrow(message);
  });

  it('accepts the defaults, Infinity attempts and a hash-tagged prefix', () => {
    expect(createLock(redis, 'r').resource).toBe('r');
    expect(() => createLock(redis, 'r', { maxAttempts: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => createLock(redis, 'r', { prefix: '{app}:' })).not.toThrow();
    expect(() => createLock(redis, 'r', { ttlMs: 1, autoExtend: false })).toThrow(/autoExtendIntervalMs/);
  });

  it('requires a positive integer limit for semaphores', () => {
    expect(() => createSemaphore(redis, 's', undefined as never)).toThrow(TypeError);
    expect(() => createSemaphore(redis, 's', {} as never)).toThrow('createSemaphore: "limit" is required');
    expect(() => createSemaphore(redis, 's', { limit: 0 })).toThrow(RangeError);
    expect(() => createSemaphore(redis, 's', { limit: '3' as never })).toThrow(TypeError);
    expect(createSemaphore(redis, 's', { limit: 3 }).limit).toBe(3);
  });

  it('validates read-write lock arguments and options like a lock', () => {
    expect(() => createReadWriteLock(redis, '')).toThrow(RangeError);
    expect(() => createReadWriteLock(redis, 'rw', { limit: 2 } as never)).toThrow(
      'createReadWriteLock: unknown option "limit"',
    );
    expect(() => createReadWriteLock(redis, 'rw', { ttlMs: -1 })).toThrow(RangeError);
    const rw = createReadWriteLock(redis, 'rw');
    expect(rw.read.resource).toBe('rw');
    expect(rw.write.resource).toBe('rw');
  });

  it('validates per-call options synchronously as rejections', async () => {
    const lock = createLock(redis, 'calls');
    await expect(lock.acquire({ waitMs: -1 })).rejects.toThrow(RangeError);
    await expect(lock.acquire({ signal: 'no' as never })).rejects.toThrow(
      'lock.acquire: "signal" must be an AbortSignal',
    );
    await expect(lock.withLock('fn' as never)).rejects.toThrow(TypeError);
  });
});
