import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { RateLimitUnavailableError } from './errors.js';

/**
 * The algorithm a limiter runs, all in Lua on Redis' clock (`TIME`), one round trip per decision:
 * - `fixed-window`: a counter that starts at the key's first admitted request and expires `windowMs`
 *   later (Redis' own expiry clock). Cheapest; allows up to 2 × `limit` across a window edge.
 * - `sliding-window`: the approximate two-counter sliding window (current window + the previous one
 *   weighted by how much of it still overlaps). Memory-cheap and smooth: the default.
 * - `sliding-log`: exact; one sorted-set entry per admitted unit of cost. Memory grows with `limit`.
 * - `token-bucket`: a bucket of `burst` tokens refilled at `limit` per `windowMs`, continuously.
 * - `gcra`: the generic cell rate algorithm (as redis-cell's `CL.THROTTLE`): one timestamp per key,
 *   requests spaced `windowMs / limit` apart with a burst of `burst`.
 */
export type RateLimitAlgorithm = 'fixed-window' | 'sliding-window' | 'sliding-log' | 'token-bucket' | 'gcra';

/** What a limiter does when Redis fails or does not answer within `timeoutMs`. */
export type RateLimitFailurePolicy = 'throw' | 'allow' | 'deny' | 'local';

/**
 * Where a decision came from:
 * - `redis`: the script ran on Redis;
 * - `cache`: the local deny cache answered (the key was denied recently and is still waiting);
 * - `local`: Redis failed and the in-memory fallback limiter answered (`onRedisError: 'local'`);
 * - `fail-open`: Redis failed and the policy allowed the request (`onRedisError: 'allow'`);
 * - `fail-closed`: Redis failed and the policy denied the request (`onRedisError: 'deny'`).
 */
export type RateLimitSource = 'redis' | 'cache' | 'local' | 'fail-open' | 'fail-closed';

/**
 * Why a request was denied:
 * - `limit-exceeded`: admitting it would go over a limit;
 * - `blocked`: the key is blocked (`blockDurationMs` after going over, or {@link RateLimiter.block});
 * - `cost-exceeds-limit`: the cost is larger than a limit can ever admit (nothing was consumed);
 * - `redis-unavailable`: Redis failed and the failure policy is `deny`.
 */
export type RateLimitDenyReason = 'limit-exceeded' | 'blocked' | 'cost-exceeds-limit' | 'redis-unavailable';

/** One limit: at most `limit` per `windowMs`. */
export interface RateLimitRule {
  /** At most this many units (requests, or the sum of their costs) per `windowMs`. A positive integer. */
  readonly limit: number;
  /** The window, in milliseconds. A positive integer. */
  readonly windowMs: number;
  /**
   * `token-bucket` and `gcra` only: how many units can be taken at once from an idle key (bucket
   * capacity). A positive integer. @default limit
   */
  readonly burst?: number;
  /**
   * A short name for this limit in `RateLimit-Policy` headers and decisions (letters, digits, `_`, `-`,
   * `.`). @default `${limiter name}` for a single limit, `${limiter name}-${windowMs}ms` for several
   */
  readonly name?: string;
}

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /**
   * The limiter's name: the `ratelimit.name` attribute of its spans and metrics, and part of the
   * default key prefix. Low-cardinality (never a user or IP). Letters, digits, `_`, `-`, `.`, `:`.
   */
  readonly name: string;
  /** The algorithm. @default 'sliding-window' */
  readonly algorithm?: RateLimitAlgorithm;
  /** At most `limit` per `windowMs` (the single-limit form; use `limits` for several). */
  readonly limit?: number;
  /** The window of `limit`, in milliseconds. */
  readonly windowMs?: number;
  /** `token-bucket` and `gcra`: the burst (bucket capacity) of the single limit. @default limit */
  readonly burst?: number;
  /**
   * Several limits checked and consumed all-or-nothing in one script call (e.g. 10 per second and
   * 1000 per hour): a request is admitted only when every limit admits it, and then it counts against
   * all of them. Mutually exclusive with `limit` / `windowMs` / `burst`. At most 16 limits, each with
   * a different `windowMs`.
   */
  readonly limits?: readonly RateLimitRule[];
  /**
   * Prepended to every Redis key. Must not contain `{` or `}` (the limiter key becomes the hash tag).
   * @default `ratelimit:${name}:`
   */
  readonly prefix?: string;
  /**
   * Once a consume is denied for going over a limit, keep the key blocked (every consume denied) for
   * this long, in milliseconds. `0` disables blocking. @default 0
   */
  readonly blockDurationMs?: number;
  /**
   * Answer denied keys in-process until their `retryAfterMs` passed, without asking Redis, so an
   * attack on one key does not become Redis load. `true` keeps up to 10 000 keys; `{ maxKeys }` sets
   * the bound (oldest entries are evicted first). Only denials for the same or a larger cost are
   * answered from it. Per process: another process's `reward` or `reset` is not seen. @default false
   */
  readonly denyCache?: boolean | { readonly maxKeys: number };
  /**
   * What `consume` and `peek` do when Redis fails or does not answer within `timeoutMs`:
   * `'throw'` rejects with {@link RateLimitUnavailableError}; `'allow'` admits (source `fail-open`);
   * `'deny'` denies (source `fail-closed`); `'local'` answers from an in-memory limiter with the same
   * algorithm and limits in this process (source `local`). @default 'throw'
   */
  readonly onRedisError?: RateLimitFailurePolicy;
  /**
   * The deadline of each Redis call, in milliseconds; past it the failure policy applies (the command
   * may still run on Redis later). Overridable per call. @default 1000
   */
  readonly timeoutMs?: number;
  /** Keys kept by the in-memory fallback limiter of `onRedisError: 'local'` (oldest evicted). @default 10000 */
  readonly localMaxKeys?: number;
  /** Record the limiter key as `ratelimit.key` on spans (never on metrics). @default false */
  readonly recordKey?: boolean;
  /** Where spans go. @default the global tracer provider */
  readonly tracerProvider?: TracerProvider;
  /** Where metrics go. @default the global meter provider */
  readonly meterProvider?: MeterProvider;
}

/** Per-call options shared by every limiter method. */
export interface RateLimitCallOptions {
  /** This call's Redis deadline in milliseconds. @default the limiter's `timeoutMs` */
  readonly timeoutMs?: number;
  /** Abort the wait for Redis (the failure policy then applies, as for a timeout). */
  readonly signal?: AbortSignal;
}

/** Per-call options of {@link RateLimiter.consume}. */
export interface ConsumeOptions extends RateLimitCallOptions {
  /** How many units this request takes. A non-negative integer. @default 1 */
  readonly cost?: number;
}

/** The state of one limit in a {@link RateLimitDecision}. */
export interface RateLimitLimitState {
  /** The limit's name (see {@link RateLimitRule.name}). */
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
  /** Whether this limit alone would admit the request. */
  readonly allowed: boolean;
  /** Units still available now, after this request when it was admitted. */
  readonly remaining: number;
  /** Milliseconds until this limit is back to its full quota. */
  readonly resetAfterMs: number;
  /** Milliseconds until this limit would admit the same cost; `0` when it admits it now. */
  readonly retryAfterMs: number;
}

/** The answer of {@link RateLimiter.consume} (and the state returned by `peek`, `penalty`, `reward`). */
export interface RateLimitDecision {
  /** Whether the request is admitted (for `peek`/`penalty`/`reward`: whether a cost of 1 would be now). */
  readonly allowed: boolean;
  /** The `limit` of the binding limit (the one that denied, or with the fewest units left). */
  readonly limit: number;
  /** The `windowMs` of the binding limit. */
  readonly windowMs: number;
  /** Units the binding limit still has now (after this request when admitted). */
  readonly remaining: number;
  /** Milliseconds until the binding limit is back to its full quota. */
  readonly resetAfterMs: number;
  /**
   * Milliseconds to wait before the same request can be admitted: `0` when admitted, `Infinity` when
   * its cost is larger than a limit can ever admit.
   */
  readonly retryAfterMs: number;
  /** Where the decision came from. */
  readonly source: RateLimitSource;
  /** Why the request was denied; `undefined` when admitted. */
  readonly reason: RateLimitDenyReason | undefined;
  /** Every configured limit, in the order of the options. */
  readonly limits: readonly RateLimitLimitState[];
  /** The Redis failure behind a `local`, `fail-open` or `fail-closed` decision. */
  readonly error?: RateLimitUnavailableError;
}

/** A rate limiter made by {@link createRateLimiter}. */
export interface RateLimiter {
  /** The limiter's name. */
  readonly name: string;
  /** The algorithm it runs. */
  readonly algorithm: RateLimitAlgorithm;
  /** Its limits, resolved (names and bursts filled in). */
  readonly limits: readonly Required<RateLimitRule>[];
  /**
   * Take `cost` units (default 1) for `key` if every limit admits them, all-or-nothing, in one round
   * trip. A denied request consumes nothing.
   * @throws {RateLimitUnavailableError} when Redis fails and `onRedisError` is `'throw'`
   * @throws {TypeError | RangeError} when `key` or `cost` is invalid
   */
  consume(key: string, options?: ConsumeOptions): Promise<RateLimitDecision>;
  /**
   * The state of `key` without consuming: `allowed` says whether a cost of 1 would be admitted now.
   * @throws {RateLimitUnavailableError} when Redis fails and `onRedisError` is `'throw'`
   */
  peek(key: string, options?: RateLimitCallOptions): Promise<RateLimitDecision>;
  /**
   * Take `points` extra units for `key` regardless of the limit (a penalty): the key can go over.
   * @throws {RateLimitUnavailableError} when Redis fails (the penalty may or may not have been applied)
   */
  penalty(key: string, points: number, options?: RateLimitCallOptions): Promise<RateLimitDecision>;
  /**
   * Give back `points` units to `key` (a reward or refund), never past the full quota.
   * @throws {RateLimitUnavailableError} when Redis fails
   */
  reward(key: string, points: number, options?: RateLimitCallOptions): Promise<RateLimitDecision>;
  /**
   * Block `key` for `durationMs`: every consume is denied with reason `blocked` until then.
   * @throws {RateLimitUnavailableError} when Redis fails
   */
  block(key: string, durationMs: number, options?: RateLimitCallOptions): Promise<void>;
  /**
   * Forget everything about `key` (its counters and any block), in Redis and in this process.
   * @throws {RateLimitUnavailableError} when Redis fails
   */
  reset(key: string, options?: RateLimitCallOptions): Promise<void>;
}
