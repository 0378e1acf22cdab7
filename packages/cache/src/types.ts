import type { MeterProvider, TracerProvider } from '@opentelemetry/api';

/**
 * Turns values into the text stored in Redis and back. The default is JSON. `deserialize` may throw
 * on text it does not recognise: the cache then treats the entry as a corrupt value (a miss).
 */
export interface CacheSerializer {
  /** Encode a value (never `undefined`) as text. */
  serialize(value: unknown): string;
  /** Decode text produced by {@link CacheSerializer.serialize}. */
  deserialize(text: string): unknown;
}

/** Cross-process stampede protection: one loader call across every process sharing the prefix. */
export interface DistributedOptions {
  /**
   * How long the Redis lease of the process that loads lasts. Other processes wait for the value
   * (woken by a message when it is written) and take the lease over when it expires, so a crashed
   * loader delays them by at most this much. Make it longer than your slowest loader.
   * @default 10000
   */
  readonly leaseMs?: number;
  /**
   * The longest a process waits for another process's load before it loads by itself.
   * @default 2 × leaseMs
   */
  readonly waitMs?: number;
}

/** The in-process (L1) tier: a bounded LRU in front of Redis, kept coherent by an invalidation channel. */
export interface L1Options {
  /** Most entries kept; the least recently used one is evicted beyond it. @default 1000 */
  readonly maxEntries?: number;
  /**
   * Longest time an entry stays in the L1, whatever its Redis TTL (the L1 never outlives the Redis
   * entry's fresh period). @default the entry's remaining fresh time
   */
  readonly ttlMs?: number;
}

/** The circuit breaker that stops calling a Redis that keeps failing. */
export interface CircuitBreakerOptions {
  /** Consecutive Redis failures (connection errors, timeouts) that open the circuit. @default 5 */
  readonly failureThreshold?: number;
  /** How long the circuit stays open before one probe call is let through. @default 5000 */
  readonly openMs?: number;
}

/** Options of {@link createCache}. */
export interface CacheOptions {
  /** How long a value stays fresh, in milliseconds. Required. */
  readonly ttlMs: number;
  /**
   * Namespace of every Redis key and channel of this cache. Must not contain `{` or `}` (the cache
   * adds hash tags itself). @default 'cache:'
   */
  readonly prefix?: string;
  /**
   * A short, stable name for telemetry (`cache.name` on spans and metrics). Never put keys or
   * user input here: it is a metric attribute. @default 'default'
   */
  readonly name?: string;
  /** How values are encoded. @default JSON */
  readonly serializer?: CacheSerializer;
  /**
   * How long past its TTL a value may still be served while one refresh runs in the background, or
   * when the loader fails (stale-while-revalidate / grace). 0 turns it off. @default 0
   */
  readonly staleMs?: number;
  /**
   * Shorten each TTL by a random part of up to this fraction (0–1) so entries written together do not
   * all expire together. @default 0
   */
  readonly ttlJitter?: number;
  /** Store `null` results (negative caching). When false, `null` is returned but not stored. @default false */
  readonly cacheNull?: boolean;
  /**
   * The cache's own deadline for each Redis round trip. A read that misses it is a miss (the loader
   * runs), a write that misses it is dropped and recorded. @default 1000
   */
  readonly timeoutMs?: number;
  /**
   * With a stale value at hand, return it when the loader takes longer than this; the load goes on in
   * the background and writes its result. @default off
   */
  readonly softTimeoutMs?: number;
  /**
   * Abort the loader (its `signal` fires) and fail with `CacheLoaderTimeoutError` — or serve the stale
   * value when there is one — after this long. @default off
   */
  readonly hardTimeoutMs?: number;
  /** Cross-process stampede protection (a Redis lease per key being loaded). @default false */
  readonly distributed?: boolean | DistributedOptions;
  /** The in-process tier. @default false (off) */
  readonly l1?: boolean | L1Options;
  /** The circuit breaker; `false` turns it off. @default { failureThreshold: 5, openMs: 5000 } */
  readonly circuitBreaker?: boolean | CircuitBreakerOptions;
  /** Put the cache key on spans as `cache.key`. Keys can be personal data. @default false */
  readonly includeKeys?: boolean;
  /** Where spans go. @default the global tracer provider */
  readonly tracerProvider?: TracerProvider;
  /** Where metrics go. @default the global meter provider */
  readonly meterProvider?: MeterProvider;
}

/** Per-call options of {@link Cache.set}. */
export interface SetOptions {
  /** Fresh time of this entry. @default the cache's `ttlMs` */
  readonly ttlMs?: number;
  /** Stale window of this entry. @default the cache's `staleMs` */
  readonly staleMs?: number;
  /** Tags this entry can be invalidated by ({@link Cache.invalidateTags}). */
  readonly tags?: readonly string[];
}

/** Per-call options of {@link Cache.getOrLoad}. */
export interface GetOrLoadOptions extends SetOptions {
  /** @default the cache's `softTimeoutMs` */
  readonly softTimeoutMs?: number;
  /** @default the cache's `hardTimeoutMs` */
  readonly hardTimeoutMs?: number;
}

/** One entry of {@link Cache.setMany}. */
export interface CacheEntry<T = unknown> extends SetOptions {
  readonly key: string;
  readonly value: T;
}

/** What a loader receives. */
export interface LoaderContext<T = unknown> {
  /** The key being loaded. */
  readonly key: string;
  /** Aborted when the hard timeout passes (or the cache is closed). */
  readonly signal: AbortSignal;
  /** The stale value, when one was found. */
  readonly staleValue: T | undefined;
}

/** Produces the value of a key on a miss. `undefined` is returned to the caller but never stored. */
export type Loader<T> = (context: LoaderContext<T>) => T | Promise<T>;

/**
 * A read-through cache on Redis. Create it with {@link createCache}.
 */
export interface Cache {
  /**
   * The fresh value of `key`, or `undefined` on a miss. Stale values are not returned (use
   * {@link Cache.getOrLoad}). Never rejects because of Redis: a failure is a miss, recorded.
   */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /**
   * Store a value. Resolves `true` when Redis stored it, `false` when it was not stored (a `null`
   * with `cacheNull: false`, or Redis failed: the error is recorded, never thrown).
   * @throws {TypeError} when `value` is `undefined`
   * @throws {CacheSerializationError} when the serializer throws
   */
  set<T>(key: string, value: T, options?: SetOptions): Promise<boolean>;
  /**
   * Delete keys (one round trip per cluster slot) and evict them from every process's L1.
   * Resolves with the number of Redis keys removed.
   * @throws {CacheUnavailableError} when Redis failed: an invalidation is never dropped silently
   */
  delete(...keys: string[]): Promise<number>;
  /**
   * The value of `key`, loading and storing it on a miss. Concurrent misses of one key call the loader
   * once per process (and once across processes with `distributed`). Serves a stale value while one
   * refresh runs, or when the loader fails. When Redis fails, the loader answers.
   * @throws the loader's own error, when it fails and no stale value exists
   * @throws {CacheLoaderTimeoutError} when the hard timeout passes and no stale value exists
   */
  getOrLoad<T>(key: string, loader: Loader<T>, options?: GetOrLoadOptions): Promise<T>;
  /**
   * The fresh values of many keys, in the order asked (`undefined` for misses), in one round trip per
   * cluster slot. Never rejects because of Redis: failures are misses, recorded.
   */
  getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]>;
  /**
   * Store many entries in one round trip per cluster slot. Resolves `true` when all were stored.
   */
  setMany<T = unknown>(entries: readonly CacheEntry<T>[]): Promise<boolean>;
  /**
   * Invalidate every entry carrying one of these tags, in O(1) per tag (the tag's invalidation time is
   * recorded; entries written before it are misses from then on, even inside their stale window).
   * @throws {CacheUnavailableError} when Redis failed
   */
  invalidateTags(...tags: string[]): Promise<void>;
  /** Drop everything in this process's L1 tier. */
  clearL1(): void;
  /** Stop listening to the invalidation channel and cancel background work. Idempotent. */
  close(): Promise<void>;
}
