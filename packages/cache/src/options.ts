import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { describeValue } from '@redisotel/core-hooks';
import type { CacheOptions, CacheSerializer, GetOrLoadOptions, SetOptions } from './types.js';

/** Options after validation, with defaults applied. */
export interface ResolvedCacheOptions {
  readonly ttlMs: number;
  readonly prefix: string;
  readonly name: string;
  readonly serializer: CacheSerializer;
  readonly staleMs: number;
  readonly ttlJitter: number;
  readonly cacheNull: boolean;
  readonly timeoutMs: number;
  readonly softTimeoutMs: number | undefined;
  readonly hardTimeoutMs: number | undefined;
  readonly distributed: { readonly leaseMs: number; readonly waitMs: number } | undefined;
  readonly l1: { readonly maxEntries: number; readonly ttlMs: number | undefined } | undefined;
  readonly circuitBreaker: { readonly failureThreshold: number; readonly openMs: number } | undefined;
  readonly includeKeys: boolean;
  readonly tracerProvider: TracerProvider | undefined;
  readonly meterProvider: MeterProvider | undefined;
}

/** JSON, the default serializer. */
export const jsonSerializer: CacheSerializer = Object.freeze({
  serialize: (value: unknown) => JSON.stringify(value),
  deserialize: (text: string) => JSON.parse(text) as unknown,
});

const MAX_MS = 2 ** 31 - 1;

function fail(where: string, option: string, expected: string, value: unknown, range: boolean): never {
  const message = `${where}: "${option}" must be ${expected}, received ${describeValue(value)}`;
  throw range ? new RangeError(message) : new TypeError(message);
}

function integer(where: string, option: string, value: unknown, min: number, max = MAX_MS): number {
  if (typeof value !== 'number' || Number.isNaN(value)) fail(where, option, 'a number', value, false);
  if (!Number.isInteger(value) || value < min || value > max)
    fail(where, option, `an integer from ${min} to ${max}`, value, true);
  return value;
}

function boolean(where: string, option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(where, option, 'a boolean', value, false);
  return value;
}

function object(where: string, option: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(where, option, 'an object', value, false);
  return value as Record<string, unknown>;
}

/**
 * Validate {@link CacheOptions}; wrong types throw `TypeError`, out-of-range values `RangeError`, each
 * naming the option and the value received.
 */
export function resolveCacheOptions(options: unknown): ResolvedCacheOptions {
  const where = 'createCache';
  const o = object(where, 'options', options) as Partial<Record<keyof CacheOptions, unknown>>;
  const ttlMs = integer(where, 'ttlMs', o.ttlMs, 1);

  const prefix = o.prefix === undefined ? 'cache:' : o.prefix;
  if (typeof prefix !== 'string') fail(where, 'prefix', 'a string', prefix, false);
  if (prefix.includes('{') || prefix.includes('}'))
    fail(where, 'prefix', 'a string without "{" or "}"', prefix, true);

  const name = o.name === undefined ? 'default' : o.name;
  if (typeof name !== 'string') fail(where, 'name', 'a string', name, false);
  if (name.length === 0 || name.length > 64)
    fail(where, 'name', 'a string of 1 to 64 characters', name, true);

  let serializer = jsonSerializer;
  if (o.serializer !== undefined) {
    const s = object(where, 'serializer', o.serializer);
    if (typeof s.serialize !== 'function')
      fail(where, 'serializer.serialize', 'a function', s.serialize, false);
    if (typeof s.deserialize !== 'function')
      fail(where, 'serializer.deserialize', 'a function', s.deserialize, false);
    serializer = s as unknown as CacheSerializer;
  }

  const staleMs = o.staleMs === undefined ? 0 : integer(where, 'staleMs', o.staleMs, 0);
  let ttlJitter = 0;
  if (o.ttlJitter !== undefined) {
    if (typeof o.ttlJitter !== 'number' || Number.isNaN(o.ttlJitter))
      fail(where, 'ttlJitter', 'a number', o.ttlJitter, false);
    if (o.ttlJitter < 0 || o.ttlJitter > 1)
      fail(where, 'ttlJitter', 'a number from 0 to 1', o.ttlJitter, true);
    ttlJitter = o.ttlJitter;
  }
  const cacheNull = o.cacheNull === undefined ? false : boolean(where, 'cacheNull', o.cacheNull);
  const timeoutMs = o.timeoutMs === undefined ? 1000 : integer(where, 'timeoutMs', o.timeoutMs, 1);
  const softTimeoutMs =
    o.softTimeoutMs === undefined ? undefined : integer(where, 'softTimeoutMs', o.softTimeoutMs, 1);
  const hardTimeoutMs =
    o.hardTimeoutMs === undefined ? undefined : integer(where, 'hardTimeoutMs', o.hardTimeoutMs, 1);
  if (softTimeoutMs !== undefined && hardTimeoutMs !== undefined && softTimeoutMs >= hardTimeoutMs)
    fail(where, 'softTimeoutMs', `less than hardTimeoutMs (${hardTimeoutMs})`, softTimeoutMs, true);

  let distributed: ResolvedCacheOptions['distributed'];
  if (o.distributed !== undefined && o.distributed !== false) {
    if (o.distributed === true) distributed = { leaseMs: 10_000, waitMs: 20_000 };
    else {
      const d = object(where, 'distributed', o.distributed);
      const leaseMs = d.leaseMs === undefined ? 10_000 : integer(where, 'distributed.leaseMs', d.leaseMs, 10);
      const waitMs = d.waitMs === undefined ? 2 * leaseMs : integer(where, 'distributed.waitMs', d.waitMs, 1);
      distributed = { leaseMs, waitMs };
    }
  }

  let l1: ResolvedCacheOptions['l1'];
  if (o.l1 !== undefined && o.l1 !== false) {
    if (o.l1 === true) l1 = { maxEntries: 1000, ttlMs: undefined };
    else {
      const l = object(where, 'l1', o.l1);
      const maxEntries =
        l.maxEntries === undefined ? 1000 : integer(where, 'l1.maxEntries', l.maxEntries, 1, 10_000_000);
      const l1Ttl = l.ttlMs === undefined ? undefined : integer(where, 'l1.ttlMs', l.ttlMs, 1);
      l1 = { maxEntries, ttlMs: l1Ttl };
    }
  }

  let circuitBreaker: ResolvedCacheOptions['circuitBreaker'] = { failureThreshold: 5, openMs: 5000 };
  if (o.circuitBreaker === false) circuitBreaker = undefined;
  else if (o.circuitBreaker !== undefined && o.circuitBreaker !== true) {
    const c = object(where, 'circuitBreaker', o.circuitBreaker);
    circuitBreaker = {
      failureThreshold:
        c.failureThreshold === undefined
          ? 5
          : integer(where, 'circuitBreaker.failureThreshold', c.failureThreshold, 1, 1_000_000),
      openMs: c.openMs === undefined ? 5000 : integer(where, 'circuitBreaker.openMs', c.openMs, 1),
    };
  }

  const includeKeys = o.includeKeys === undefined ? false : boolean(where, 'includeKeys', o.includeKeys);
  if (o.tracerProvider !== undefined) {
    const t = object(where, 'tracerProvider', o.tracerProvider);
    if (typeof t.getTracer !== 'function') fail(where, 'tracerProvider', 'a TracerProvider', t, false);
  }
  if (o.meterProvider !== undefined) {
    const m = object(where, 'meterProvider', o.meterProvider);
    if (typeof m.getMeter !== 'function') fail(where, 'meterProvider', 'a MeterProvider', m, false);
  }

  return {
    ttlMs,
    prefix,
    name,
    serializer,
    staleMs,
    ttlJitter,
    cacheNull,
    timeoutMs,
    softTimeoutMs,
    hardTimeoutMs,
    distributed,
    l1,
    circuitBreaker,
    includeKeys,
    tracerProvider: o.tracerProvider as TracerProvider | undefined,
    meterProvider: o.meterProvider as MeterProvider | undefined,
  };
}

/** Validate a cache key: a non-empty string that does not start with `}`. */
export function validateKey(where: string, key: unknown): string {
  if (typeof key !== 'string') fail(where, 'key', 'a string', key, false);
  if (key.length === 0) fail(where, 'key', 'a non-empty string', key, true);
  // `${prefix}{${key}}` must keep a non-empty hash tag, or a key and its lease could land in two slots.
  if (key.charCodeAt(0) === 125 /* } */) fail(where, 'key', 'a string not starting with "}"', key, true);
  return key;
}

/** Validate a tag name: non-empty, without line breaks or the unit separator (U+001F). */
export function validateTag(where: string, tag: unknown): string {
  if (typeof tag !== 'string') fail(where, 'tags', 'strings', tag, false);
  if (tag.length === 0 || tag.includes('\n') || tag.includes('\u001f'))
    fail(where, 'tags', 'non-empty strings without line breaks', tag, true);
  return tag;
}

/** Per-call options after validation. */
export interface ResolvedCallOptions {
  readonly ttlMs: number;
  readonly staleMs: number;
  readonly tags: readonly string[];
  readonly softTimeoutMs: number | undefined;
  readonly hardTimeoutMs: number | undefined;
}

const NO_TAGS: readonly string[] = Object.freeze([]);

/** Validate per-call options of set / getOrLoad / setMany entries against the cache defaults. */
export function resolveCallOptions(
  where: string,
  options: SetOptions | GetOrLoadOptions | undefined,
  defaults: ResolvedCacheOptions,
): ResolvedCallOptions {
  if (options === undefined) {
    return {
      ttlMs: defaults.ttlMs,
      staleMs: defaults.staleMs,
      tags: NO_TAGS,
      softTimeoutMs: defaults.softTimeoutMs,
      hardTimeoutMs: defaults.hardTimeoutMs,
    };
  }
  const o = object(where, 'options', options) as Partial<Record<keyof GetOrLoadOptions, unknown>>;
  const ttlMs = o.ttlMs === undefined ? defaults.ttlMs : integer(where, 'ttlMs', o.ttlMs, 1);
  const staleMs = o.staleMs === undefined ? defaults.staleMs : integer(where, 'staleMs', o.staleMs, 0);
  let tags = NO_TAGS;
  if (o.tags !== undefined) {
    if (!Array.isArray(o.tags)) fail(where, 'tags', 'an array of strings', o.tags, false);
    tags = [...new Set(o.tags.map((tag: unknown) => validateTag(where, tag)))];
  }
  const softTimeoutMs =
    o.softTimeoutMs === undefined
      ? defaults.softTimeoutMs
      : integer(where, 'softTimeoutMs', o.softTimeoutMs, 1);
  const hardTimeoutMs =
    o.hardTimeoutMs === undefined
      ? defaults.hardTimeoutMs
      : integer(where, 'hardTimeoutMs', o.hardTimeoutMs, 1);
  return { ttlMs, staleMs, tags, softTimeoutMs, hardTimeoutMs };
}
