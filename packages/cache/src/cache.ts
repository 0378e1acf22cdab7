import { randomBytes, randomUUID } from 'node:crypto';
import { type Context, context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  describeValue,
  keySlot,
  type RedisLike,
  type RedisMessage,
  RedisotelError,
  type RedisReply,
  RedisReplyError,
  RedisTimeoutError,
  type SendOptions,
} from '@redisotel/core-hooks';
import { CircuitBreaker } from './circuit-breaker.js';
import { Deadlines } from './deadlines.js';
import {
  CacheCorruptValueError,
  CacheLoaderTimeoutError,
  CacheSerializationError,
  CacheUnavailableError,
} from './errors.js';
import { L1Store } from './l1.js';
import {
  type ResolvedCacheOptions,
  type ResolvedCallOptions,
  resolveCacheOptions,
  resolveCallOptions,
  validateKey,
  validateTag,
} from './options.js';
import {
  DELETE_SCRIPT,
  INVALIDATE_TAGS_SCRIPT,
  READ_MANY_SCRIPT,
  READ_SCRIPT,
  RELEASE_SCRIPT,
  WRITE_MANY_SCRIPT,
  WRITE_SCRIPT,
} from './scripts.js';
import {
  ATTR_CACHE_COALESCED,
  ATTR_CACHE_HIT,
  ATTR_CACHE_HITS_COUNT,
  ATTR_CACHE_KEYS_COUNT,
  ATTR_CACHE_LEASE_WAITED,
  ATTR_CACHE_LOADED,
  ATTR_CACHE_STALE,
  ATTR_CACHE_STORED,
  ATTR_CACHE_TAGS_COUNT,
  ATTR_CACHE_TIER,
  ATTR_CACHE_VALUE_SIZE,
  ATTR_ERROR_TYPE,
  type CacheErrorType,
  type CacheResult,
  type CacheTier,
  SPAN_DELETE,
  SPAN_GET,
  SPAN_GET_MANY,
  SPAN_GET_OR_LOAD,
  SPAN_INVALIDATE_TAGS,
  SPAN_REFRESH,
  SPAN_SET,
  SPAN_SET_MANY,
} from './telemetry.js';
import { CacheTelemetry } from './telemetry-recorder.js';
import type { Cache, CacheEntry, CacheOptions, GetOrLoadOptions, Loader, SetOptions } from './types.js';

const MAGIC = '~rc1 ';
const FOREIGN = '~foreign';
const TAG_SEPARATOR = '\u001f';
const NOOP = () => {};
const KEY_0: readonly number[] = Object.freeze([0]);
const NO_TAGS: readonly string[] = Object.freeze([]);

/** An entry read from Redis and decoded. */
interface Decoded {
  readonly value: unknown;
  readonly createdUs: number;
  readonly ttlMs: number;
  readonly staleMs: number;
  readonly tags: readonly string[];
  readonly size: number;
  readonly fresh: boolean;
}

/** What one read of one key found. */
interface ReadOne {
  /** A usable entry (fresh or stale), tags checked. */
  readonly entry: Decoded | undefined;
  /** 0 not tried, 1 acquired, negative: held by another process for that many ms. */
  readonly lease: number;
  readonly nowUs: number;
}

/** What a getOrLoad flight settles with (shared by the callers coalesced on it). */
interface Outcome {
  readonly value: unknown;
  readonly result: CacheResult;
  readonly tier: CacheTier | undefined;
  readonly loaded: boolean;
  readonly leaseWaited: boolean;
  readonly size: number | undefined;
}

/** A read getOrLoad already made before starting the flight's body (its result, or its failure). */
interface FirstRead {
  readonly read?: ReadOne | undefined;
  readonly failed?: boolean;
  readonly error?: unknown;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function defer<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface Waiter {
  readonly woken: Promise<void>;
  wake(): void;
}

/** Parse the one-string reply of READ_SCRIPT ("<s> <µs> <lease> " then '-', '!' or '=' + raw). */
function parseReadReply(reply: RedisReply): { nowUs: number; lease: number; raw: RedisReply } {
  if (typeof reply !== 'string')
    throw new RedisotelError('The cache_read script answered an unexpected reply');
  const first = reply.indexOf(' ');
  const second = reply.indexOf(' ', first + 1);
  const third = reply.indexOf(' ', second + 1);
  if (first === -1 || second === -1 || third === -1) {
    throw new RedisotelError('The cache_read script answered an unexpected reply');
  }
  const nowUs = Number(reply.slice(0, first)) * 1e6 + Number(reply.slice(first + 1, second));
  const lease = Number(reply.slice(second + 1, third));
  const flag = reply.charCodeAt(third + 1);
  const raw = flag === 61 /* = */ ? reply.slice(third + 2) : flag === 33 /* ! */ ? FOREIGN : null;
  return { nowUs, lease, raw };
}

/** Whether a Redis error means the server is unreachable or overloaded (counts for the breaker). */
function isOutage(error: unknown): boolean {
  if (RedisReplyError.isInstance(error)) {
    return ['LOADING', 'CLUSTERDOWN', 'MASTERDOWN', 'TRYAGAIN', 'BUSY'].includes(error.prefix);
  }
  return true;
}

function errorType(error: unknown): CacheErrorType {
  if (CacheUnavailableError.isInstance(error) && error.circuitOpen) return 'circuit_open';
  if (RedisTimeoutError.isInstance(error)) return 'timeout';
  return 'redis';
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Create a read-through cache on a {@link RedisLike} (from `fromNodeRedis` / `fromIoredis`).
 * Options are validated here: a wrong type throws `TypeError`, an out-of-range value `RangeError`.
 * @example
 * ```ts
 * const cache = createCache(redis, { prefix: 'app:', ttlMs: 60_000, staleMs: 30_000, distributed: true });
 * const user = await cache.getOrLoad(`user:${id}`, () => db.users.find(id), { tags: [`team:${teamId}`] });
 * ```
 */
export function createCache(redis: RedisLike, options: CacheOptions): Cache {
  if (typeof redis !== 'object' || redis === null || typeof redis.runScript !== 'function') {
    throw new TypeError(`createCache: "redis" must be a RedisLike, received ${describeValue(redis)}`);
  }
  return new RedisCache(redis, resolveCacheOptions(options));
}

class RedisCache implements Cache {
  readonly #redis: RedisLike;
  readonly #options: ResolvedCacheOptions;
  readonly #telemetry: CacheTelemetry;
  readonly #breaker: CircuitBreaker | undefined;
  readonly #l1: L1Store | undefined;
  readonly #deadlines: Deadlines;
  readonly #requiresSameSlot: boolean;
  readonly #origin = randomUUID();
  readonly #channel: string;
  /** Whether writes announce themselves on the channel (L1 coherence, distributed wake-ups). */
  readonly #announces: boolean;
  /** Single reads are a plain GET (no stale window to decide, no L1 to bound): see #readPlain. */
  readonly #plainReads: boolean;
  /** The per-call options of a call that gave none. */
  readonly #defaultCall: ResolvedCallOptions;
  readonly #flights = new Map<string, Promise<Outcome>>();
  readonly #refreshing = new Set<string>();
  readonly #waiters = new Map<string, Set<Waiter>>();
  readonly #controllers = new Set<AbortController>();
  /** Bumped by every foreign invalidation and reconnect: an L1 fill started before a bump is dropped. */
  #epoch = 0;
  #bus: Promise<boolean> | undefined;
  #busReady = false;
  #busRetryAt = 0;
  #unsubscribe: (() => Promise<void>) | undefined;
  #offReconnect: (() => void) | undefined;
  #closed = false;

  constructor(redis: RedisLike, options: ResolvedCacheOptions) {
    this.#redis = redis;
    this.#options = options;
    this.#telemetry = new CacheTelemetry(options);
    this.#breaker = options.circuitBreaker
      ? new CircuitBreaker(options.circuitBreaker.failureThreshold, options.circuitBreaker.openMs)
      : undefined;
    this.#l1 = options.l1 ? new L1Store(options.l1.maxEntries) : undefined;
    this.#deadlines = new Deadlines(options.timeoutMs);
    this.#requiresSameSlot = redis.describe().capabilities.requiresSameSlot;
    this.#channel = `${options.prefix}#events`;
    this.#announces = options.l1 !== undefined || options.distributed !== undefined;
    this.#plainReads = options.staleMs === 0 && options.l1 === undefined;
    this.#defaultCall = Object.freeze(resolveCallOptions('createCache', undefined, options));
  }

  // ── keys ────────────────────────────────────────────────────────────────────────────────────────

  #valueKey(key: string): string {
    return `${this.#options.prefix}{${key}}`;
  }

  #leaseKey(key: string): string {
    return `${this.#options.prefix}{${key}}:lease`;
  }

  #tagKey(tag: string): string {
    return `${this.#options.prefix}#{tags}:${tag}`;
  }

  /** Group positions of `keys` by cluster slot (one group when the deployment does not need it). */
  #groupBySlot(keys: readonly string[]): number[][] {
    if (!this.#requiresSameSlot || keys.length <= 1) return [keys.map((_, i) => i)];
    const groups = new Map<number, number[]>();
    keys.forEach((key, i) => {
      const slot = keySlot(this.#valueKey(key));
      const group = groups.get(slot);
      if (group) group.push(i);
      else groups.set(slot, [i]);
    });
    return [...groups.values()];
  }

  // ── Redis calls: deadline + circuit breaker ─────────────────────────────────────────────────────

  /**
   * One Redis call under the cache's deadline and circuit breaker. Not `async`: on the hit path every
   * promise layer counts.
   */
  #call<T>(run: (options: SendOptions | undefined) => Promise<T>): Promise<T> {
    const breaker = this.#breaker;
    if (breaker !== undefined && !breaker.allow()) {
      return Promise.reject(
        new CacheUnavailableError('The cache circuit breaker is open: Redis is not called', true),
      );
    }
    try {
      return this.#deadlines.race(run(undefined), breaker === undefined ? undefined : this.#onSettled);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The circuit breaker's view of a settled call (`undefined`: success). */
  readonly #onSettled = (error: unknown): void => {
    const breaker = this.#breaker!;
    if (error !== undefined && isOutage(error)) breaker.failure();
    else breaker.success();
  };

  #recordError(span: Span | undefined, operation: string, type: CacheErrorType, error: unknown): void {
    this.#telemetry.error(operation, type);
    if (span?.isRecording()) {
      span.recordException(asError(error));
      span.setAttribute(ATTR_ERROR_TYPE, type);
    }
  }

  // ── the invalidation / wake-up channel ──────────────────────────────────────────────────────────

  /** Subscribe to the channel once (lazily); resolves whether it is ready, within `timeoutMs`. */
  #ensureBus(): Promise<boolean> {
    if (this.#busReady) return Promise.resolve(true);
    const bus = this.#startBus();
    return bus === undefined ? Promise.resolve(false) : this.#within(bus, this.#options.timeoutMs, false);
  }

  /** Start subscribing if not done yet (after a failure, not before a second has passed). */
  #startBus(): Promise<boolean> | undefined {
    if (this.#closed || !this.#announces) return undefined;
    if (this.#bus === undefined) {
      if (performance.now() < this.#busRetryAt) return undefined;
      this.#bus = this.#subscribe();
    }
    return this.#bus;
  }

  async #subscribe(): Promise<boolean> {
    try {
      const subscriber = this.#redis.subscriber();
      const unsubscribe = await subscriber.subscribe(this.#channel, (message) => this.#onMessage(message));
      if (this.#closed) {
        await unsubscribe().catch(NOOP);
        return false;
      }
      this.#unsubscribe = unsubscribe;
      this.#offReconnect = subscriber.onReconnect(() => this.#onReconnect());
      this.#busReady = true;
      return true;
    } catch (error) {
      this.#bus = undefined;
      this.#busRetryAt = performance.now() + 1000;
      this.#telemetry.error('subscribe', errorType(error));
      return false;
    }
  }

  #within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
    return new Promise<T>((resolve) => {
      const timer = setTimeout(() => {
        resolve(fallback);
      }, ms);
      timer.unref();
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        () => {
          clearTimeout(timer);
          resolve(fallback);
        },
      );
    });
  }

  #message(type: 'set' | 'del' | 'tags' | 'release', keys: readonly string[]): string {
    return JSON.stringify({ o: this.#origin, t: type, k: keys });
  }

  #onMessage(message: RedisMessage): void {
    let parsed: { o?: unknown; t?: unknown; k?: unknown };
    try {
      parsed = JSON.parse(message.message) as typeof parsed;
    } catch {
      return;
    }
    if (!Array.isArray(parsed.k)) return;
    const keys = parsed.k.filter((k): k is string => typeof k === 'string');
    const foreign = parsed.o !== this.#origin;
    if (parsed.t === 'tags') {
      if (foreign) {
        this.#epoch++;
        this.#l1?.deleteTagged(keys);
      }
      return;
    }
    if (foreign && (parsed.t === 'set' || parsed.t === 'del')) {
      this.#epoch++;
      for (const key of keys) this.#l1?.delete(key);
    }
    for (const key of keys) this.#wake(key);
  }

  #onReconnect(): void {
    // Messages published while the subscriber was away are lost: nothing the L1 holds can be trusted.
    this.#epoch++;
    this.#l1?.clear();
    for (const key of [...this.#waiters.keys()]) this.#wake(key);
  }

  #addWaiter(key: string): Waiter {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const waiter: Waiter = { woken, wake };
    let set = this.#waiters.get(key);
    if (set === undefined) {
      set = new Set();
      this.#waiters.set(key, set);
    }
    set.add(waiter);
    return waiter;
  }

  #removeWaiter(key: string, waiter: Waiter): void {
    const set = this.#waiters.get(key);
    if (set === undefined) return;
    set.delete(waiter);
    if (set.size === 0) this.#waiters.delete(key);
  }

  #wake(key: string): void {
    const set = this.#waiters.get(key);
    if (set === undefined) return;
    this.#waiters.delete(key);
    for (const waiter of set) waiter.wake();
  }

  // ── encoding ────────────────────────────────────────────────────────────────────────────────────

  #serialize(value: unknown): string {
    let text: unknown;
    try {
      text = this.#options.serializer.serialize(value);
    } catch (error) {
      throw new CacheSerializationError('The serializer failed to encode the value', { cause: error });
    }
    if (typeof text !== 'string') {
      throw new CacheSerializationError(`The serializer returned ${describeValue(text)} instead of a string`);
    }
    return text;
  }

  /**
   * Decode a raw entry. `nowUs` is the server time of the read; `undefined` for a plain GET, where an
   * entry without a stale window is fresh because it exists (Redis expires it on its own clock).
   */
  #decode(
    raw: RedisReply | undefined,
    nowUs: number | undefined,
  ): Decoded | CacheCorruptValueError | undefined {
    if (raw === null || raw === undefined) return undefined;
    if (typeof raw !== 'string') return new CacheCorruptValueError('The cached value is not text');
    if (raw === FOREIGN)
      return new CacheCorruptValueError('The cache key holds a Redis value of another type');
    if (!raw.startsWith(MAGIC)) {
      return new CacheCorruptValueError('The cached value was not written by @redisotel/cache');
    }
    const newline = raw.indexOf('\n');
    const first = raw.indexOf(' ', MAGIC.length);
    const second = first === -1 ? -1 : raw.indexOf(' ', first + 1);
    const third = second === -1 ? -1 : raw.indexOf(' ', second + 1);
    if (newline === -1 || third === -1 || third > newline) {
      return new CacheCorruptValueError('The cached value has a malformed header');
    }
    const createdUs = Number(raw.slice(MAGIC.length, first));
    const ttlMs = Number(raw.slice(first + 1, second));
    const staleMs = Number(raw.slice(second + 1, third));
    if (!Number.isFinite(createdUs) || !Number.isFinite(ttlMs) || !Number.isFinite(staleMs)) {
      return new CacheCorruptValueError('The cached value has a malformed header');
    }
    const tagText = raw.slice(third + 1, newline);
    const payload = raw.slice(newline + 1);
    let value: unknown;
    try {
      value = this.#options.serializer.deserialize(payload);
    } catch (error) {
      return new CacheCorruptValueError('The cached value could not be deserialized', { cause: error });
    }
    if (value === undefined) return new CacheCorruptValueError('The cached value deserialized to undefined');
    return {
      value,
      createdUs,
      ttlMs,
      staleMs,
      tags: tagText === '' ? NO_TAGS : tagText.split(TAG_SEPARATOR),
      size: payload.length,
      fresh: nowUs === undefined ? staleMs === 0 : nowUs < createdUs + ttlMs * 1000,
    };
  }

  #ttlWithJitter(ttlMs: number): number {
    const jitter = this.#options.ttlJitter;
    if (jitter === 0) return ttlMs;
    return Math.max(1, ttlMs - Math.floor(Math.random() * jitter * ttlMs));
  }

  #storable(value: unknown): boolean {
    return value !== undefined && (value !== null || this.#options.cacheNull);
  }

  // ── L1 ──────────────────────────────────────────────────────────────────────────────────────────

  /**
   * The epoch an L1 fill must still see when it completes, captured before its Redis call: -1 (never
   * matches) unless the invalidation channel was already subscribed, so no invalidation published after
   * the call started can be missed. Also starts the subscription (without waiting for it).
   */
  #fillEpoch(): number {
    if (this.#l1 === undefined) return -1;
    if (this.#busReady) return this.#epoch;
    this.#startBus();
    return -1;
  }

  #fillL1(key: string, entry: Decoded, nowUs: number, epoch: number): void {
    const l1 = this.#l1;
    if (l1 === undefined || epoch !== this.#epoch || !entry.fresh) return;
    let remainingMs = (entry.createdUs + entry.ttlMs * 1000 - nowUs) / 1000;
    const cap = this.#options.l1?.ttlMs;
    if (cap !== undefined && cap < remainingMs) remainingMs = cap;
    if (remainingMs <= 0) return;
    l1.set(key, {
      value: entry.value,
      expiresAt: performance.now() + remainingMs,
      tags: entry.tags,
      size: entry.size,
    });
  }

  // ── reads ───────────────────────────────────────────────────────────────────────────────────────

  /** Drop entries invalidated by a tag (one MGET on the tag slot for all of them). */
  async #checkTags(entries: (Decoded | undefined)[]): Promise<void> {
    const tags = new Set<string>();
    for (const entry of entries) if (entry) for (const tag of entry.tags) tags.add(tag);
    if (tags.size === 0) return;
    const list = [...tags];
    const reply = await this.#call((options) =>
      this.#redis.send(
        {
          name: 'MGET',
          args: list.map((tag) => this.#tagKey(tag)),
          keys: list.map((_, i) => i),
          readOnly: true,
        },
        options,
      ),
    );
    const invalidatedAt = new Map<string, number>();
    if (Array.isArray(reply)) {
      reply.forEach((value, i) => {
        if (typeof value === 'string') invalidatedAt.set(list[i]!, Number(value));
      });
    }
    if (invalidatedAt.size === 0) return;
    entries.forEach((entry, i) => {
      if (entry?.tags.some((tag) => (invalidatedAt.get(tag) ?? -1) >= entry.createdUs))
        entries[i] = undefined;
    });
  }

  /**
   * The hit path of caches without a stale window and without L1: one plain GET. An entry that exists
   * and has no stale window is fresh (Redis expires it at ttlMs on its own clock). Returns `undefined`
   * when the entry has a stale window (written with a per-call staleMs): the caller reads it again with
   * the script, which decides on the server clock.
   */
  async #readPlain(key: string, span: Span | undefined): Promise<ReadOne | undefined> {
    const raw = await this.#call((options) =>
      this.#redis.send({ name: 'GET', args: [this.#valueKey(key)], keys: KEY_0, readOnly: true }, options),
    ).catch((error: unknown) => {
      if (!RedisReplyError.isInstance(error) || error.prefix !== 'WRONGTYPE') throw error;
      return FOREIGN;
    });
    const decoded = this.#decode(raw, undefined);
    if (decoded instanceof CacheCorruptValueError) {
      this.#recordError(span, 'read', 'corrupt_value', decoded);
      return { entry: undefined, lease: 0, nowUs: Number.NaN };
    }
    if (decoded !== undefined && decoded.staleMs > 0) return undefined;
    if (decoded === undefined || decoded.tags.length === 0)
      return { entry: decoded, lease: 0, nowUs: Number.NaN };
    const checked: (Decoded | undefined)[] = [decoded];
    await this.#checkTags(checked);
    return { entry: checked[0], lease: 0, nowUs: Number.NaN };
  }

  /** Read one key (one EVALSHA; a second round trip only for tagged entries). Throws on Redis failure. */
  async #readOne(
    key: string,
    leaseMode: '0' | '1',
    token: string,
    span: Span | undefined,
    skipPlain = false,
  ): Promise<ReadOne> {
    if (leaseMode === '0' && this.#plainReads && !skipPlain) {
      const plain = await this.#readPlain(key, span);
      if (plain !== undefined) return plain;
    }
    const distributed = this.#options.distributed;
    const keys = leaseMode === '0' ? [this.#valueKey(key)] : [this.#valueKey(key), this.#leaseKey(key)];
    const args = leaseMode === '0' ? ['0'] : [leaseMode, token, distributed?.leaseMs ?? 0];
    const reply = parseReadReply(
      await this.#call((options) => this.#redis.runScript(READ_SCRIPT, keys, args, options)),
    );
    const nowUs = reply.nowUs;
    let lease = reply.lease;
    const decoded = this.#decode(reply.raw, nowUs);
    if (decoded instanceof CacheCorruptValueError) {
      this.#recordError(span, 'read', 'corrupt_value', decoded);
      return { entry: undefined, lease, nowUs };
    }
    if (decoded === undefined || decoded.tags.length === 0) return { entry: decoded, lease, nowUs };
    const checked: (Decoded | undefined)[] = [decoded];
    await this.#checkTags(checked);
    if (checked[0] === undefined && leaseMode !== '0' && lease === 0) {
      // Fresh by the clock but invalidated by a tag: the lease was not tried in the read; try it now.
      const again = parseReadReply(
        await this.#call((options) =>
          this.#redis.runScript(READ_SCRIPT, keys, ['2', token, distributed?.leaseMs ?? 0], options),
        ),
      );
      lease = again.lease;
    }
    return { entry: checked[0], lease, nowUs };
  }

  /** Telemetry of an answer from the L1: its span (a getOrLoad's also says nothing was loaded) and the request count. */
  #recordL1Hit(operation: 'get' | 'getOrLoad', key: string, size: number): void {
    const span = this.#telemetry.startSpan(operation === 'get' ? SPAN_GET : SPAN_GET_OR_LOAD, key);
    if (span.isRecording()) {
      span.setAttributes({
        [ATTR_CACHE_HIT]: true,
        [ATTR_CACHE_TIER]: 'l1',
        [ATTR_CACHE_STALE]: false,
        [ATTR_CACHE_VALUE_SIZE]: size,
      });
      if (operation === 'getOrLoad')
        span.setAttributes({ [ATTR_CACHE_COALESCED]: false, [ATTR_CACHE_LOADED]: false });
    }
    span.end();
    this.#telemetry.request(operation, 'hit', 'l1');
  }

  get<T = unknown>(key: string): Promise<T | undefined> {
    try {
      validateKey('get', key);
    } catch (error) {
      return Promise.reject(error);
    }
    const l1 = this.#l1;
    if (l1 !== undefined) {
      const hit = l1.get(key, performance.now());
      if (hit !== undefined) {
        this.#recordL1Hit('get', key, hit.size);
        return Promise.resolve(hit.value as T);
      }
    }
    const span = this.#telemetry.startSpan(SPAN_GET, key);
    return this.#telemetry.withSpan(span, async () => {
      try {
        const epoch = this.#fillEpoch();
        let read: ReadOne | undefined;
        try {
          // The plain GET directly (one promise layer less on the hit path), else the script.
          if (this.#plainReads) read = await this.#readPlain(key, span);
          read ??= await this.#readOne(key, '0', '', span, this.#plainReads);
        } catch (error) {
          this.#recordError(span, 'get', errorType(error), error);
          span.setAttribute(ATTR_CACHE_HIT, false);
          this.#telemetry.request('get', 'miss', undefined);
          return undefined;
        }
        const entry = read.entry;
        if (entry?.fresh) {
          this.#fillL1(key, entry, read.nowUs, epoch);
          if (span.isRecording()) {
            span.setAttributes({
              [ATTR_CACHE_HIT]: true,
              [ATTR_CACHE_TIER]: 'redis',
              [ATTR_CACHE_STALE]: false,
              [ATTR_CACHE_VALUE_SIZE]: entry.size,
            });
          }
          this.#telemetry.request('get', 'hit', 'redis');
          return entry.value as T;
        }
        span.setAttribute(ATTR_CACHE_HIT, false);
        this.#telemetry.request('get', 'miss', undefined);
        return undefined;
      } finally {
        span.end();
      }
    });
  }

  async getMany<T = unknown>(keys: readonly string[]): Promise<(T | undefined)[]> {
    if (!Array.isArray(keys)) {
      throw new TypeError(`getMany: "keys" must be an array of strings, received ${describeValue(keys)}`);
    }
    for (const key of keys) validateKey('getMany', key);
    const span = this.#telemetry.startSpan(SPAN_GET_MANY);
    span.setAttribute(ATTR_CACHE_KEYS_COUNT, keys.length);
    return this.#telemetry.withSpan(span, async () => {
      try {
        const out: (T | undefined)[] = new Array(keys.length).fill(undefined);
        const pending: number[] = [];
        let l1Hits = 0;
        const now = performance.now();
        keys.forEach((key, i) => {
          const hit = this.#l1?.get(key, now);
          if (hit !== undefined) {
            out[i] = hit.value as T;
            l1Hits++;
          } else pending.push(i);
        });
        let redisHits = 0;
        if (pending.length > 0) {
          const epoch = this.#fillEpoch();
          const pendingKeys = pending.map((i) => keys[i]!);
          const entries: (Decoded | undefined)[] = new Array(pendingKeys.length).fill(undefined);
          const nows: number[] = new Array(pendingKeys.length).fill(0);
          await Promise.all(
            this.#groupBySlot(pendingKeys).map(async (group) => {
              try {
                const reply = (await this.#call((options) =>
                  this.#redis.runScript(
                    READ_MANY_SCRIPT,
                    group.map((g) => this.#valueKey(pendingKeys[g]!)),
                    [],
                    options,
                  ),
                )) as RedisReply[];
                const nowUs = Number(reply[0]) * 1e6 + Number(reply[1]);
                group.forEach((g, j) => {
                  const decoded = this.#decode(reply[j + 2], nowUs);
                  nows[g] = nowUs;
                  if (decoded instanceof CacheCorruptValueError) {
                    this.#recordError(span, 'getMany', 'corrupt_value', decoded);
                  } else if (decoded?.fresh) entries[g] = decoded;
                });
              } catch (error) {
                this.#recordError(span, 'getMany', errorType(error), error);
              }
            }),
          );
          try {
            await this.#checkTags(entries);
          } catch (error) {
            this.#recordError(span, 'getMany', errorType(error), error);
            entries.fill(undefined);
          }
          entries.forEach((entry, g) => {
            if (entry === undefined) return;
            out[pending[g]!] = entry.value as T;
            redisHits++;
            this.#fillL1(pendingKeys[g]!, entry, nows[g]!, epoch);
          });
        }
        const misses = keys.length - l1Hits - redisHits;
        this.#telemetry.request('getMany', 'hit', 'l1', l1Hits);
        this.#telemetry.request('getMany', 'hit', 'redis', redisHits);
        this.#telemetry.request('getMany', 'miss', undefined, misses);
        span.setAttribute(ATTR_CACHE_HITS_COUNT, l1Hits + redisHits);
        return out;
      } finally {
        span.end();
      }
    });
  }

  // ── writes ──────────────────────────────────────────────────────────────────────────────────────

  /** Write one entry (releasing `token`'s lease); never throws for Redis failures: returns false. */
  async #store(
    key: string,
    value: unknown,
    call: ResolvedCallOptions,
    token: string,
    span: Span | undefined,
    operation: string,
  ): Promise<boolean> {
    const payload = this.#serialize(value);
    const ttlMs = this.#ttlWithJitter(call.ttlMs);
    const keys = token === '' ? [this.#valueKey(key)] : [this.#valueKey(key), this.#leaseKey(key)];
    const announce = this.#announces;
    const args = [
      payload,
      ttlMs,
      ttlMs + call.staleMs,
      call.tags.join(TAG_SEPARATOR),
      token,
      announce ? this.#channel : '',
      announce ? this.#message('set', [key]) : '',
    ];
    const epoch = this.#fillEpoch();
    this.#l1?.delete(key);
    try {
      await this.#call((options) => this.#redis.runScript(WRITE_SCRIPT, keys, args, options));
    } catch (error) {
      this.#recordError(span, operation, errorType(error), error);
      return false;
    }
    const l1 = this.#l1;
    if (l1 !== undefined && epoch === this.#epoch) {
      const l1Ttl = this.#options.l1?.ttlMs;
      l1.set(key, {
        value,
        expiresAt: performance.now() + (l1Ttl !== undefined && l1Ttl < ttlMs ? l1Ttl : ttlMs),
        tags: call.tags,
        size: payload.length,
      });
    }
    return true;
  }

  async set<T>(key: string, value: T, options?: SetOptions): Promise<boolean> {
    validateKey('set', key);
    if (value === undefined)
      throw new TypeError('set: "value" must not be undefined (undefined is never stored)');
    const call = resolveCallOptions('set', options, this.#options);
    const span = this.#telemetry.startSpan(SPAN_SET, key);
    return this.#telemetry.withSpan(span, async () => {
      try {
        if (!this.#storable(value)) {
          span.setAttribute(ATTR_CACHE_STORED, false);
          return false;
        }
        const stored = await this.#store(key, value, call, '', span, 'set');
        span.setAttribute(ATTR_CACHE_STORED, stored);
        return stored;
      } catch (error) {
        span.recordException(asError(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  async setMany<T = unknown>(entries: readonly CacheEntry<T>[]): Promise<boolean> {
    if (!Array.isArray(entries)) {
      throw new TypeError(`setMany: "entries" must be an array, received ${describeValue(entries)}`);
    }
    const prepared = entries.map((entry) => {
      if (typeof entry !== 'object' || entry === null) {
        throw new TypeError(`setMany: each entry must be an object, received ${describeValue(entry)}`);
      }
      validateKey('setMany', entry.key);
      if (entry.value === undefined) throw new TypeError('setMany: "value" must not be undefined');
      return {
        key: entry.key,
        value: entry.value as unknown,
        call: resolveCallOptions('setMany', entry, this.#options),
      };
    });
    const span = this.#telemetry.startSpan(SPAN_SET_MANY);
    span.setAttribute(ATTR_CACHE_KEYS_COUNT, entries.length);
    return this.#telemetry.withSpan(span, async () => {
      try {
        const storable = prepared.filter((entry) => this.#storable(entry.value));
        const payloads = storable.map((entry) => this.#serialize(entry.value));
        for (const entry of storable) this.#l1?.delete(entry.key);
        const results = await Promise.all(
          this.#groupBySlot(storable.map((entry) => entry.key)).map(async (group) => {
            const keys = group.map((g) => storable[g]!.key);
            const args: (string | number)[] = [
              this.#announces ? this.#channel : '',
              this.#announces ? this.#message('set', keys) : '',
            ];
            for (const g of group) {
              const { call } = storable[g]!;
              const ttlMs = this.#ttlWithJitter(call.ttlMs);
              args.push(payloads[g]!, ttlMs, ttlMs + call.staleMs, call.tags.join(TAG_SEPARATOR));
            }
            try {
              await this.#call((options) =>
                this.#redis.runScript(
                  WRITE_MANY_SCRIPT,
                  keys.map((key) => this.#valueKey(key)),
                  args,
                  options,
                ),
              );
              return true;
            } catch (error) {
              this.#recordError(span, 'setMany', errorType(error), error);
              return false;
            }
          }),
        );
        const stored = storable.length === prepared.length && results.every(Boolean);
        span.setAttribute(ATTR_CACHE_STORED, stored);
        return stored;
      } catch (error) {
        span.recordException(asError(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  async delete(...keys: string[]): Promise<number> {
    for (const key of keys) validateKey('delete', key);
    if (keys.length === 0) return 0;
    const span = this.#telemetry.startSpan(SPAN_DELETE, keys.length === 1 ? keys[0] : undefined);
    span.setAttribute(ATTR_CACHE_KEYS_COUNT, keys.length);
    return this.#telemetry.withSpan(span, async () => {
      try {
        for (const key of keys) this.#l1?.delete(key);
        const counts = await Promise.all(
          this.#groupBySlot(keys).map(async (group) => {
            const groupKeys = group.map((g) => keys[g]!);
            try {
              const reply = await this.#call((options) =>
                this.#redis.runScript(
                  DELETE_SCRIPT,
                  groupKeys.map((key) => this.#valueKey(key)),
                  [
                    this.#announces ? this.#channel : '',
                    this.#announces ? this.#message('del', groupKeys) : '',
                  ],
                  options,
                ),
              );
              return Number(reply);
            } catch (error) {
              this.#recordError(span, 'delete', errorType(error), error);
              throw new CacheUnavailableError(
                'The cache could not delete: Redis failed',
                CacheUnavailableError.isInstance(error) && error.circuitOpen,
                { cause: error },
              );
            }
          }),
        );
        // Also evict anything a concurrent read put back into the L1 while the delete was in flight.
        for (const key of keys) this.#l1?.delete(key);
        this.#epoch++;
        return counts.reduce((a, b) => a + b, 0);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  async invalidateTags(...tags: string[]): Promise<void> {
    for (const tag of tags) validateTag('invalidateTags', tag);
    if (tags.length === 0) return;
    const unique = [...new Set(tags)];
    const span = this.#telemetry.startSpan(SPAN_INVALIDATE_TAGS);
    span.setAttribute(ATTR_CACHE_TAGS_COUNT, unique.length);
    return this.#telemetry.withSpan(span, async () => {
      try {
        this.#l1?.deleteTagged(unique);
        try {
          await this.#call((options) =>
            this.#redis.runScript(
              INVALIDATE_TAGS_SCRIPT,
              unique.map((tag) => this.#tagKey(tag)),
              [this.#announces ? this.#channel : '', this.#announces ? this.#message('tags', unique) : ''],
              options,
            ),
          );
        } catch (error) {
          this.#recordError(span, 'invalidateTags', errorType(error), error);
          throw new CacheUnavailableError(
            'The cache could not invalidate tags: Redis failed',
            CacheUnavailableError.isInstance(error) && error.circuitOpen,
            { cause: error },
          );
        }
        this.#epoch++;
        this.#l1?.deleteTagged(unique);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  // ── getOrLoad ───────────────────────────────────────────────────────────────────────────────────

  async getOrLoad<T>(key: string, loader: Loader<T>, options?: GetOrLoadOptions): Promise<T> {
    validateKey('getOrLoad', key);
    if (typeof loader !== 'function') {
      throw new TypeError(`getOrLoad: "loader" must be a function, received ${describeValue(loader)}`);
    }
    const call =
      options === undefined ? this.#defaultCall : resolveCallOptions('getOrLoad', options, this.#options);
    const l1 = this.#l1;
    if (l1 !== undefined) {
      const hit = l1.get(key, performance.now());
      if (hit !== undefined) {
        this.#recordL1Hit('getOrLoad', key, hit.size);
        return hit.value as T;
      }
    }
    const span = this.#telemetry.startSpan(SPAN_GET_OR_LOAD, key);
    const spanContext = this.#telemetry.contextWith(span);
    try {
      let flight = this.#flights.get(key);
      const coalesced = flight !== undefined;
      let work: Promise<void> | undefined;
      if (flight === undefined) {
        const deferred = defer<Outcome>();
        flight = deferred.promise;
        this.#flights.set(key, flight);
        const started = flight;
        let first: FirstRead | undefined;
        if (this.#plainReads && this.#options.distributed === undefined) {
          // The hit path reads here, without the flight's machinery; callers arriving meanwhile join.
          try {
            first = { read: await this.#telemetry.withSpan(span, () => this.#readPlain(key, span)) };
          } catch (error) {
            first = { failed: true, error };
          }
          const entry = first.read?.entry;
          if (entry?.fresh) {
            if (this.#flights.get(key) === started) this.#flights.delete(key);
            deferred.resolve({
              value: entry.value,
              result: 'hit',
              tier: 'redis',
              loaded: false,
              leaseWaited: false,
              size: entry.size,
            });
            first = undefined;
          }
        }
        if (first !== undefined || !this.#plainReads || this.#options.distributed !== undefined) {
          // The initiator awaits `flight` right below, so a rejection is always observed.
          const settle = (error?: unknown) => {
            if (this.#flights.get(key) === started) this.#flights.delete(key);
            if (error !== undefined) deferred.reject(error);
          };
          const pre = first;
          work = context
            .with(spanContext, () =>
              this.#resolve(key, loader as Loader<unknown>, call, deferred, span, spanContext, pre),
            )
            .then(
              () => settle(),
              (error: unknown) => settle(error ?? new Error('The loader rejected with undefined')),
            );
        }
      } else {
        this.#telemetry.coalesced('process');
      }
      const outcome = await flight;
      // The caller that loaded also waits for the write (its span covers it, and a read it makes next
      // sees the value); callers coalesced on it have their answer as soon as the loader returned.
      // A stale answer (soft timeout) returns at once: the load goes on in the background.
      if (work !== undefined && outcome.loaded) await work;
      if (span.isRecording()) {
        span.setAttributes({
          [ATTR_CACHE_HIT]: outcome.result !== 'miss',
          [ATTR_CACHE_STALE]: outcome.result === 'stale',
          [ATTR_CACHE_COALESCED]: coalesced,
          [ATTR_CACHE_LEASE_WAITED]: outcome.leaseWaited,
          [ATTR_CACHE_LOADED]: outcome.loaded && !coalesced,
        });
        if (outcome.tier !== undefined) span.setAttribute(ATTR_CACHE_TIER, outcome.tier);
        if (outcome.size !== undefined) span.setAttribute(ATTR_CACHE_VALUE_SIZE, outcome.size);
      }
      this.#telemetry.request('getOrLoad', outcome.result, outcome.tier);
      return outcome.value as T;
    } catch (error) {
      span.recordException(asError(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  }

  /** Run the loader with the hard timeout; records its duration and outcome. */
  async #runLoader(
    key: string,
    loader: Loader<unknown>,
    staleValue: unknown,
    hardTimeoutMs: number | undefined,
  ): Promise<unknown> {
    const controller = new AbortController();
    this.#controllers.add(controller);
    const started = performance.now();
    let outcome = 'success' as 'success' | 'error' | 'timeout';
    try {
      const running = Promise.resolve().then(() => loader({ key, signal: controller.signal, staleValue }));
      if (hardTimeoutMs === undefined) return await running;
      return await new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          outcome = 'timeout';
          const error = new CacheLoaderTimeoutError(
            `The loader did not settle within hardTimeoutMs (${hardTimeoutMs} ms)`,
            hardTimeoutMs,
          );
          controller.abort(error);
          reject(error);
        }, hardTimeoutMs);
        timer.unref();
        running.then(
          (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            reject(error);
          },
        );
      });
    } catch (error) {
      if (outcome !== 'timeout') outcome = 'error';
      throw error;
    } finally {
      this.#controllers.delete(controller);
      this.#telemetry.loader((performance.now() - started) / 1000, outcome);
    }
  }

  /** Load, then store (releasing the lease). `onValue` gets the value before the write. */
  async #loadThenStore(
    key: string,
    loader: Loader<unknown>,
    call: ResolvedCallOptions,
    staleValue: unknown,
    token: string,
    span: Span | undefined,
    onValue: (value: unknown, willStore: boolean) => void,
  ): Promise<void> {
    let value: unknown;
    try {
      value = await this.#runLoader(key, loader, staleValue, call.hardTimeoutMs);
    } catch (error) {
      this.#recordError(
        span,
        'getOrLoad',
        CacheLoaderTimeoutError.isInstance(error) ? 'loader_timeout' : 'loader',
        error,
      );
      if (token !== '') await this.#release(key, token);
      throw error;
    }
    const storable = this.#storable(value);
    onValue(value, storable);
    if (storable) {
      let stored = false;
      try {
        stored = await this.#store(key, value, call, token, span, 'getOrLoad');
      } catch (error) {
        this.#recordError(span, 'getOrLoad', 'serialization', error);
      }
      if (!stored && token !== '') await this.#release(key, token);
    } else if (token !== '') {
      await this.#release(key, token);
    }
  }

  /** Give a lease back (if still ours) and wake the processes waiting on it. Never throws. */
  async #release(key: string, token: string): Promise<void> {
    try {
      await this.#call((options) =>
        this.#redis.runScript(
          RELEASE_SCRIPT,
          [this.#leaseKey(key)],
          [token, this.#channel, this.#message('release', [key])],
          options,
        ),
      );
    } catch {
      // The lease expires by itself after leaseMs.
    }
  }

  /** Start a background refresh of a stale entry (once per key per process), in its own span. */
  #refresh(
    key: string,
    loader: Loader<unknown>,
    call: ResolvedCallOptions,
    stale: Decoded,
    token: string,
  ): void {
    if (this.#refreshing.has(key)) {
      if (token !== '') void this.#release(key, token);
      return;
    }
    this.#refreshing.add(key);
    const parent = trace.getSpan(context.active());
    const links = parent ? [{ context: parent.spanContext() }] : [];
    const span = this.#telemetry.tracer.startSpan(SPAN_REFRESH, { links }, context.active());
    context
      .with(trace.setSpan(context.active(), span), () =>
        this.#loadThenStore(key, loader, call, stale.value, token, span, NOOP),
      )
      .catch((error: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR });
        void error;
      })
      .finally(() => {
        this.#refreshing.delete(key);
        span.end();
      });
  }

  /** The body of a getOrLoad flight: settles `deferred` as early as it can, returns when the write is done. */
  async #resolve(
    key: string,
    loader: Loader<unknown>,
    call: ResolvedCallOptions,
    deferred: Deferred<Outcome>,
    span: Span,
    spanContext: Context,
    first?: FirstRead,
  ): Promise<void> {
    const distributed = this.#options.distributed;
    // Distributed waits rely on wake-ups: give the subscription a chance (bounded by timeoutMs).
    if (distributed !== undefined) await this.#ensureBus();
    const epoch = this.#fillEpoch();
    const token = distributed !== undefined ? randomBytes(12).toString('base64url') : '';
    const deadline = distributed !== undefined ? performance.now() + distributed.waitMs : 0;
    let leaseWaited = false;
    // Settle the callers. The flight stays joinable only while the loaded value is being written, so a
    // caller arriving after the answer either joins that write or reads what it wrote.
    const finish = (outcome: Outcome, writePending = false) => {
      if (!writePending && this.#flights.get(key) === deferred.promise) this.#flights.delete(key);
      deferred.resolve(outcome);
    };
    const loaded = (value: unknown, willStore: boolean) =>
      finish(
        { value, result: 'miss', tier: undefined, loaded: true, leaseWaited, size: undefined },
        willStore,
      );

    for (;;) {
      const waiter = distributed !== undefined ? this.#addWaiter(key) : undefined;
      let read: ReadOne;
      try {
        const pre = first;
        first = undefined;
        if (pre?.failed) throw pre.error;
        // A plain read that found an entry with a stale window left the decision to the script.
        read =
          pre?.read ??
          (await this.#readOne(key, distributed !== undefined ? '1' : '0', token, span, pre !== undefined));
      } catch (error) {
        if (waiter) this.#removeWaiter(key, waiter);
        // Redis failed: the loader answers; the write is attempted and dropped if Redis is still down.
        this.#recordError(span, 'getOrLoad', errorType(error), error);
        await this.#loadThenStore(key, loader, call, undefined, '', span, loaded);
        return;
      }
      const entry = read.entry;
      if (entry?.fresh) {
        if (waiter) this.#removeWaiter(key, waiter);
        this.#fillL1(key, entry, read.nowUs, epoch);
        finish({
          value: entry.value,
          result: 'hit',
          tier: 'redis',
          loaded: false,
          leaseWaited,
          size: entry.size,
        });
        return;
      }
      if (entry !== undefined) {
        // Stale, inside its grace window.
        if (waiter) this.#removeWaiter(key, waiter);
        const staleOutcome: Outcome = {
          value: entry.value,
          result: 'stale',
          tier: 'redis',
          loaded: false,
          leaseWaited,
          size: entry.size,
        };
        const mayLoad = distributed === undefined || read.lease === 1;
        const leaseToken = read.lease === 1 ? token : '';
        if (!mayLoad || call.softTimeoutMs === undefined || this.#refreshing.has(key)) {
          finish(staleOutcome);
          if (mayLoad) context.with(spanContext, () => this.#refresh(key, loader, call, entry, leaseToken));
          return;
        }
        // Soft timeout: wait that long for a fresh value, then serve the stale one.
        let settled = false;
        const timer = setTimeout(() => {
          if (settled) return;
          settled = true;
          finish(staleOutcome, true);
        }, call.softTimeoutMs);
        timer.unref();
        this.#refreshing.add(key);
        try {
          await this.#loadThenStore(key, loader, call, entry.value, leaseToken, span, (value, willStore) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            loaded(value, willStore);
          });
        } catch {
          clearTimeout(timer);
          if (!settled) {
            settled = true;
            finish(staleOutcome);
          }
        } finally {
          this.#refreshing.delete(key);
        }
        return;
      }
      // Miss.
      if (distributed !== undefined && read.lease < 0 && waiter) {
        const left = deadline - performance.now();
        if (left > 0) {
          if (!leaseWaited) this.#telemetry.coalesced('distributed');
          leaseWaited = true;
          await this.#within(waiter.woken, Math.min(-read.lease + 25, left), undefined);
          this.#removeWaiter(key, waiter);
          continue;
        }
        // Waited long enough: load without the lease.
      }
      if (waiter) this.#removeWaiter(key, waiter);
      await this.#loadThenStore(key, loader, call, undefined, read.lease === 1 ? token : '', span, loaded);
      return;
    }
  }

  clearL1(): void {
    this.#l1?.clear();
    this.#epoch++;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#busReady = false;
    this.#l1?.clear();
    for (const controller of this.#controllers) controller.abort(new Error('The cache was closed'));
    for (const key of [...this.#waiters.keys()]) this.#wake(key);
    this.#offReconnect?.();
    this.#deadlines.close();
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    if (unsubscribe) await unsubscribe().catch(NOOP);
  }
}
