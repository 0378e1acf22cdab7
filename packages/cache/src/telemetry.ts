/** The instrumentation scope name of this package. */
export const INSTRUMENTATION_SCOPE = '@redisotel/cache';

/** Span names (`cache <operation>`). */
export const SPAN_GET = 'cache get';
export const SPAN_SET = 'cache set';
export const SPAN_DELETE = 'cache delete';
export const SPAN_GET_OR_LOAD = 'cache getOrLoad';
export const SPAN_GET_MANY = 'cache getMany';
export const SPAN_SET_MANY = 'cache setMany';
export const SPAN_INVALIDATE_TAGS = 'cache invalidateTags';
/** The background refresh started by a stale read (linked to, not parented by, the read that started it). */
export const SPAN_REFRESH = 'cache refresh';

/** Span and metric attribute keys. */
export const ATTR_CACHE_NAME = 'cache.name';
export const ATTR_CACHE_OPERATION = 'cache.operation';
export const ATTR_CACHE_HIT = 'cache.hit';
export const ATTR_CACHE_TIER = 'cache.tier';
export const ATTR_CACHE_STALE = 'cache.stale';
export const ATTR_CACHE_RESULT = 'cache.result';
export const ATTR_CACHE_VALUE_SIZE = 'cache.value.size';
export const ATTR_CACHE_KEY = 'cache.key';
export const ATTR_CACHE_KEYS_COUNT = 'cache.keys.count';
export const ATTR_CACHE_HITS_COUNT = 'cache.hits.count';
export const ATTR_CACHE_TAGS_COUNT = 'cache.tags.count';
export const ATTR_CACHE_COALESCED = 'cache.coalesced';
export const ATTR_CACHE_LEASE_WAITED = 'cache.lease.waited';
export const ATTR_CACHE_LOADED = 'cache.loaded';
export const ATTR_CACHE_STORED = 'cache.stored';
export const ATTR_CACHE_LOADER_OUTCOME = 'cache.loader.outcome';
export const ATTR_CACHE_COALESCE_SCOPE = 'cache.coalesce.scope';
export const ATTR_ERROR_TYPE = 'error.type';

/** Metric names. */
export const METRIC_REQUESTS = 'cache.requests';
export const METRIC_LOADER_DURATION = 'cache.loader.duration';
export const METRIC_COALESCED_LOADS = 'cache.loads.coalesced';
export const METRIC_ERRORS = 'cache.errors';

/** `cache.result` values. */
export type CacheResult = 'hit' | 'miss' | 'stale';
/** `cache.tier` values. */
export type CacheTier = 'l1' | 'redis';
/** `cache.loader.outcome` values. */
export type LoaderOutcome = 'success' | 'error' | 'timeout';
/** `error.type` values of `cache.errors` (a closed set). */
export type CacheErrorType =
  | 'redis'
  | 'timeout'
  | 'circuit_open'
  | 'corrupt_value'
  | 'loader'
  | 'loader_timeout'
  | 'serialization';
