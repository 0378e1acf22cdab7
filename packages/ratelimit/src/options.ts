import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { describeValue } from '@redisotel/core-hooks';
import type {
  RateLimitAlgorithm,
  RateLimiterOptions,
  RateLimitFailurePolicy,
  RateLimitRule,
} from './types.js';

/** The algorithms, in the order the README lists them. */
export const ALGORITHMS: readonly RateLimitAlgorithm[] = [
  'fixed-window',
  'sliding-window',
  'sliding-log',
  'token-bucket',
  'gcra',
];
const POLICIES: readonly RateLimitFailurePolicy[] = ['throw', 'allow', 'deny', 'local'];
const MAX_LIMITS = 16;
/** The largest `limit` of the sliding log (one sorted-set entry per unit). */
const MAX_LOG_LIMIT = 100_000;
const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,100}$/;
const RULE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;

/** The options of a limiter after validation, with every default filled in. */
export interface ResolvedOptions {
  readonly name: string;
  readonly algorithm: RateLimitAlgorithm;
  readonly limits: readonly Required<RateLimitRule>[];
  readonly prefix: string;
  readonly blockDurationMs: number;
  readonly denyCacheMaxKeys: number;
  readonly onRedisError: RateLimitFailurePolicy;
  readonly timeoutMs: number;
  readonly localMaxKeys: number;
  readonly recordKey: boolean;
  readonly tracerProvider: TracerProvider | undefined;
  readonly meterProvider: MeterProvider | undefined;
}

const KNOWN_OPTIONS = new Set([
  'name',
  'algorithm',
  'limit',
  'windowMs',
  'burst',
  'limits',
  'prefix',
  'blockDurationMs',
  'denyCache',
  'onRedisError',
  'timeoutMs',
  'localMaxKeys',
  'recordKey',
  'tracerProvider',
  'meterProvider',
]);

function fail(option: string, expected: string, value: unknown, range = false): never {
  const message = `createRateLimiter: "${option}" must be ${expected}, received ${describeValue(value)}`;
  throw range ? new RangeError(message) : new TypeError(message);
}

/** A positive (or, with `allowZero`, non-negative) safe integer; TypeError for non-numbers. */
function integer(option: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const expected = `an integer from ${min} to ${max}`;
  if (typeof value !== 'number' || Number.isNaN(value)) fail(option, expected, value);
  if (!Number.isInteger(value) || value < min || value > max) fail(option, expected, value, true);
  return value;
}

/**
 * Validate the options of `createRateLimiter` and fill in the defaults.
 * @throws {TypeError} when an option has the wrong type (or is unknown)
 * @throws {RangeError} when an option is out of range
 */
export function resolveOptions(options: RateLimiterOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`createRateLimiter: options must be an object, received ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key))
      fail(key, 'a known option (typo?)', (options as unknown as Record<string, unknown>)[key]);
  }
  const { name } = options;
  if (typeof name !== 'string') fail('name', 'a string', name);
  if (!NAME_PATTERN.test(name)) fail('name', '1 to 100 letters, digits, "_", "-", "." or ":"', name, true);

  const algorithm = options.algorithm ?? 'sliding-window';
  if (!ALGORITHMS.includes(algorithm)) {
    fail(
      'algorithm',
      `one of ${ALGORITHMS.map((a) => `'${a}'`).join(', ')}`,
      algorithm,
      typeof algorithm === 'string',
    );
  }
  const burstAllowed = algorithm === 'token-bucket' || algorithm === 'gcra';

  let rules: RateLimitRule[];
  if (options.limits !== undefined) {
    if (options.limit !== undefined || options.windowMs !== undefined || options.burst !== undefined) {
      fail('limits', 'used without "limit", "windowMs" and "burst"', options.limits, true);
    }
    if (!Array.isArray(options.limits)) fail('limits', 'an array of { limit, windowMs }', options.limits);
    if (options.limits.length === 0 || options.limits.length > MAX_LIMITS) {
      fail('limits', `an array of 1 to ${MAX_LIMITS} limits`, options.limits, true);
    }
    rules = options.limits.map((rule: unknown, index) => {
      if (typeof rule !== 'object' || rule === null)
        fail(`limits[${index}]`, 'an object { limit, windowMs }', rule);
      return rule as RateLimitRule;
    });
  } else {
    if (options.limit === undefined) fail('limit', 'set (or "limits" given)', undefined);
    if (options.windowMs === undefined) fail('windowMs', 'set (or "limits" given)', undefined);
    rules = [{ limit: options.limit, windowMs: options.windowMs, burst: options.burst } as RateLimitRule];
  }
  const multiple = rules.length > 1;
  const windows = new Set<number>();
  const names = new Set<string>();
  const limits = rules.map((rule, index): Required<RateLimitRule> => {
    const at = (field: string) =>
      multiple || options.limits !== undefined ? `limits[${index}].${field}` : field;
    // The sliding log keeps one entry per unit: cap it where a key stays a few megabytes.
    const limit = integer(
      at('limit'),
      rule.limit,
      1,
      algorithm === 'sliding-log' ? MAX_LOG_LIMIT : 1_000_000_000,
    );
    const windowMs = integer(at('windowMs'), rule.windowMs, 1, 1000 * 60 * 60 * 24 * 366 * 10);
    let burst = limit;
    if (rule.burst !== undefined) {
      if (!burstAllowed) fail(at('burst'), "used only with 'token-bucket' or 'gcra'", rule.burst, true);
      burst = integer(at('burst'), rule.burst, 1, 1_000_000_000);
    }
    if (windows.has(windowMs)) fail(at('windowMs'), 'different for each limit', windowMs, true);
    windows.add(windowMs);
    let ruleName = multiple ? `${name}-${windowMs}ms` : name;
    if (rule.name !== undefined) {
      if (typeof rule.name !== 'string') fail(at('name'), 'a string', rule.name);
      if (!RULE_NAME_PATTERN.test(rule.name))
        fail(at('name'), '1 to 100 letters, digits, "_", "-" or "."', rule.name, true);
      ruleName = rule.name;
    }
    if (names.has(ruleName)) fail(at('name'), 'unique among the limits', ruleName, true);
    names.add(ruleName);
    return Object.freeze({ limit, windowMs, burst, name: ruleName });
  });
  Object.freeze(limits);

  let prefix = `ratelimit:${name}:`;
  if (options.prefix !== undefined) {
    if (typeof options.prefix !== 'string') fail('prefix', 'a string', options.prefix);
    if (options.prefix.includes('{') || options.prefix.includes('}')) {
      fail('prefix', 'free of "{" and "}" (the limiter key is the hash tag)', options.prefix, true);
    }
    prefix = options.prefix;
  }

  const blockDurationMs =
    options.blockDurationMs === undefined ? 0 : integer('blockDurationMs', options.blockDurationMs, 0);

  let denyCacheMaxKeys = 0;
  const denyCache = options.denyCache;
  if (denyCache === true) denyCacheMaxKeys = 10_000;
  else if (typeof denyCache === 'object' && denyCache !== null) {
    denyCacheMaxKeys = integer('denyCache.maxKeys', denyCache.maxKeys, 1, 10_000_000);
  } else if (denyCache !== undefined && denyCache !== false) {
    fail('denyCache', 'a boolean or { maxKeys }', denyCache);
  }

  const onRedisError = options.onRedisError ?? 'throw';
  if (!POLICIES.includes(onRedisError)) {
    fail(
      'onRedisError',
      POLICIES.map((p) => `'${p}'`).join(', '),
      onRedisError,
      typeof onRedisError === 'string',
    );
  }

  const timeoutMs = options.timeoutMs === undefined ? 1000 : validateTimeout('timeoutMs', options.timeoutMs);
  const localMaxKeys =
    options.localMaxKeys === undefined
      ? 10_000
      : integer('localMaxKeys', options.localMaxKeys, 1, 10_000_000);

  const recordKey = options.recordKey ?? false;
  if (typeof recordKey !== 'boolean') fail('recordKey', 'a boolean', recordKey);

  for (const provider of ['tracerProvider', 'meterProvider'] as const) {
    const value = options[provider];
    if (value !== undefined && (typeof value !== 'object' || value === null)) {
      fail(provider, 'an OpenTelemetry provider object', value);
    }
  }
  if (options.tracerProvider !== undefined && typeof options.tracerProvider.getTracer !== 'function') {
    fail('tracerProvider', 'a TracerProvider (with getTracer)', options.tracerProvider);
  }
  if (options.meterProvider !== undefined && typeof options.meterProvider.getMeter !== 'function') {
    fail('meterProvider', 'a MeterProvider (with getMeter)', options.meterProvider);
  }

  return {
    name,
    algorithm,
    limits,
    prefix,
    blockDurationMs,
    denyCacheMaxKeys,
    onRedisError,
    timeoutMs,
    localMaxKeys,
    recordKey,
    tracerProvider: options.tracerProvider,
    meterProvider: options.meterProvider,
  };
}

function validateTimeout(option: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value))
    fail(option, 'a positive number of milliseconds', value);
  if (!(value > 0) || !Number.isFinite(value))
    fail(option, 'a positive, finite number of milliseconds', value, true);
  return value;
}

/** Validate a per-call argument; the message names the method and the argument. */
function callFail(method: string, argument: string, expected: string, value: unknown, range: boolean): never {
  const message = `${method}: "${argument}" must be ${expected}, received ${describeValue(value)}`;
  throw range ? new RangeError(message) : new TypeError(message);
}

/** @throws {TypeError | RangeError} unless `key` is a non-empty string */
export function validateKey(method: string, key: unknown): asserts key is string {
  if (typeof key !== 'string') callFail(method, 'key', 'a string', key, false);
  if (key.length === 0) callFail(method, 'key', 'a non-empty string', key, true);
}

/** @throws {TypeError | RangeError} unless `value` is an integer from `min` */
export function validateAmount(method: string, argument: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    callFail(method, argument, `an integer from ${min}`, value, false);
  }
  if (!Number.isSafeInteger(value) || value < min)
    callFail(method, argument, `an integer from ${min}`, value, true);
  return value;
}

/** @throws {TypeError | RangeError} unless `value` is undefined or a positive finite number */
export function validateCallTimeout(method: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    callFail(method, 'timeoutMs', 'a positive number of milliseconds', value, false);
  }
  if (!(value > 0) || !Number.isFinite(value)) {
    callFail(method, 'timeoutMs', 'a positive, finite number of milliseconds', value, true);
  }
  return value;
}
