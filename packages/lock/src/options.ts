import { describeValue, keySlot, type RedisLike } from '@redisotel/core-hooks';
import type { AcquireOptions, LockOptions, SemaphoreOptions } from './types.js';

/** Options after validation, with defaults applied. */
export interface ResolvedOptions {
  readonly ttlMs: number;
  readonly waitMs: number;
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  readonly retryJitterMs: number;
  readonly autoExtend: boolean;
  readonly autoExtendIntervalMs: number;
  readonly wakeUp: boolean;
  readonly prefix: string;
  readonly name: string;
  readonly recordResource: boolean;
  readonly limit: number;
}

/** The longest TTL or wait we accept: 2^31 - 1 ms (~24.8 days), what `setTimeout` can arm. */
export const MAX_MS = 2_147_483_647;

const KNOWN = new Set([
  'ttlMs',
  'waitMs',
  'maxAttempts',
  'retryDelayMs',
  'retryJitterMs',
  'autoExtend',
  'autoExtendIntervalMs',
  'wakeUp',
  'prefix',
  'name',
  'recordResource',
  'tracerProvider',
  'meterProvider',
  'limit',
]);

function integerOption(
  where: string,
  option: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  allowInfinity = false,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${where}: "${option}" must be a number, received ${describeValue(value)}`);
  }
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${where}: "${option}" must be an integer from ${min} to ${max}${allowInfinity ? ' or Infinity' : ''}, received ${describeValue(value)}`,
    );
  }
  return value;
}

function booleanOption(where: string, option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(`${where}: "${option}" must be a boolean, received ${describeValue(value)}`);
  }
  return value;
}

function stringOption(where: string, option: string, value: unknown, fallback: string, allowEmpty: boolean) {
  if (value === undefined) return fallback;
  if (typeof value !== 'string') {
    throw new TypeError(`${where}: "${option}" must be a string, received ${describeValue(value)}`);
  }
  if (!allowEmpty && value.length === 0) {
    throw new RangeError(`${where}: "${option}" must not be empty, received ${describeValue(value)}`);
  }
  return value;
}

function providerOption(where: string, option: string, value: unknown, method: string): void {
  if (value === undefined) return;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Record<string, unknown>)[method] !== 'function'
  ) {
    throw new TypeError(
      `${where}: "${option}" must be an object with a ${method}() method, received ${describeValue(value)}`,
    );
  }
}

/** Check the `redis` argument of the factories: a RedisLike of specification version 1. */
export function validateRedis(where: string, redis: unknown): RedisLike {
  if (
    typeof redis !== 'object' ||
    redis === null ||
    typeof (redis as RedisLike).runScript !== 'function' ||
    typeof (redis as RedisLike).describe !== 'function'
  ) {
    throw new TypeError(
      `${where}: "redis" must be a RedisLike (from fromNodeRedis / fromIoredis), received ${describeValue(redis)}`,
    );
  }
  const version = (redis as RedisLike).specificationVersion;
  if (version !== 1) {
    throw new TypeError(
      `${where}: "redis" implements RedisLike specification ${describeValue(version)}, this package needs 1`,
    );
  }
  return redis as RedisLike;
}

/** Check the `resource` argument: a non-empty string. */
export function validateResource(where: string, resource: unknown): string {
  if (typeof resource !== 'string') {
    throw new TypeError(`${where}: "resource" must be a string, received ${describeValue(resource)}`);
  }
  if (resource.length === 0) {
    throw new RangeError(`${where}: "resource" must not be empty, received ""`);
  }
  return resource;
}

/**
 * Validate lock or semaphore options; `semaphore` makes `limit` required.
 * @throws {TypeError} wrong type; {RangeError} out of range. The message names the option and value.
 */
export function resolveOptions(
  where: string,
  options: LockOptions | SemaphoreOptions | undefined,
  semaphore: boolean,
  defaultPrefix: string = semaphore ? 'semaphore:' : 'lock:',
): ResolvedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new TypeError(`${where}: options must be an object, received ${describeValue(options)}`);
  }
  const o = (options ?? {}) as Partial<SemaphoreOptions> & Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key) || (key === 'limit' && !semaphore)) {
      throw new TypeError(`${where}: unknown option "${key}"`);
    }
  }
  const ttlMs = integerOption(where, 'ttlMs', o.ttlMs, 10_000, 1, MAX_MS);
  const waitMs = integerOption(where, 'waitMs', o.waitMs, 10_000, 0, MAX_MS);
  const maxAttempts = integerOption(
    where,
    'maxAttempts',
    o.maxAttempts,
    Number.POSITIVE_INFINITY,
    1,
    MAX_MS,
    true,
  );
  const retryDelayMs = integerOption(where, 'retryDelayMs', o.retryDelayMs, 200, 1, MAX_MS);
  const retryJitterMs = integerOption(where, 'retryJitterMs', o.retryJitterMs, 100, 0, MAX_MS);
  const autoExtend = booleanOption(where, 'autoExtend', o.autoExtend, true);
  const autoExtendIntervalMs = integerOption(
    where,
    'autoExtendIntervalMs',
    o.autoExtendIntervalMs,
    Math.max(1, Math.floor(ttlMs / 3)),
    1,
    MAX_MS,
  );
  if (autoExtendIntervalMs >= ttlMs) {
    throw new RangeError(
      `${where}: "autoExtendIntervalMs" must be below "ttlMs" (${ttlMs}), received ${describeValue(autoExtendIntervalMs)}`,
    );
  }
  const wakeUp = booleanOption(where, 'wakeUp', o.wakeUp, true);
  const prefix = stringOption(where, 'prefix', o.prefix, defaultPrefix, true);
  const name = stringOption(where, 'name', o.name, 'default', false);
  const recordResource = booleanOption(where, 'recordResource', o.recordResource, false);
  providerOption(where, 'tracerProvider', o.tracerProvider, 'getTracer');
  providerOption(where, 'meterProvider', o.meterProvider, 'getMeter');
  let limit = 1;
  if (semaphore) {
    if (o.limit === undefined) {
      throw new TypeError(`${where}: "limit" is required, received undefined`);
    }
    limit = integerOption(where, 'limit', o.limit, 1, 1, MAX_MS);
  }
  return {
    ttlMs,
    waitMs,
    maxAttempts,
    retryDelayMs,
    retryJitterMs,
    autoExtend,
    autoExtendIntervalMs,
    wakeUp,
    prefix,
    name,
    recordResource,
    limit,
  };
}

/** The keys of one resource; checked to share one cluster slot (a prefix with `{}` could split them). */
export function resourceKeys(where: string, prefix: string, resource: string) {
  const base = `${prefix}{${resource}}`;
  const keys = { main: base, fence: `${base}:fence`, channel: `${base}:released` };
  // Without a brace in the prefix the hash tag is the resource, shared by every key; only a prefix with
  // braces or a resource starting with "}" (an empty tag) can split them, so only then compute slots.
  if ((prefix.includes('{') || resource.startsWith('}')) && keySlot(keys.main) !== keySlot(keys.fence)) {
    throw new RangeError(
      `${where}: "prefix" ${describeValue(prefix)} with resource ${describeValue(resource)} splits the keys of one resource across hash slots (an empty "{}" hash tag?)`,
    );
  }
  return keys;
}

/** Validate per-call options of acquire / withLock. */
export function resolveAcquireOptions(
  where: string,
  options: AcquireOptions | undefined,
  defaultWaitMs: number,
): { signal: AbortSignal | undefined; waitMs: number } {
  if (options === undefined) return { signal: undefined, waitMs: defaultWaitMs };
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object, received ${describeValue(options)}`);
  }
  const { signal, waitMs } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${where}: "signal" must be an AbortSignal, received ${describeValue(signal)}`);
  }
  return { signal, waitMs: integerOption(where, 'waitMs', waitMs, defaultWaitMs, 0, MAX_MS) };
}
