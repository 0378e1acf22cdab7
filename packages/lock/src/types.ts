import type { MeterProvider, TracerProvider } from '@opentelemetry/api';

/** Options shared by {@link LockOptions} and {@link SemaphoreOptions}. */
export interface LeaseOptions {
  /**
   * How long a lease lives on Redis without being extended, in milliseconds. Redis expires it on its own
   * clock, so a crashed holder never blocks others for longer than this.
   * @default 10000
   */
  readonly ttlMs?: number;
  /**
   * How long {@link Lock.acquire} waits for the resource before rejecting with
   * {@link LockNotAcquiredError}, in milliseconds. `0` makes one attempt. Overridable per call.
   * @default 10000
   */
  readonly waitMs?: number;
  /**
   * The most attempts one {@link Lock.acquire} makes (the first included); whichever of `waitMs` and
   * `maxAttempts` runs out first ends the wait.
   * @default Infinity
   */
  readonly maxAttempts?: number;
  /**
   * The fallback delay between attempts when no release notification arrives, in milliseconds. Waiters
   * are woken as soon as the holder releases (pub/sub), and never sleep past the holder's remaining
   * time to live, so this only matters when a notification is lost.
   * @default 200
   */
  readonly retryDelayMs?: number;
  /**
   * A random extra delay in `[0, retryJitterMs)` added to each fallback delay and to each wake-up, so
   * waiters do not retry in lockstep.
   * @default 100
   */
  readonly retryJitterMs?: number;
  /**
   * Extend leases from {@link Lock.acquire} automatically while they are held (every
   * `autoExtendIntervalMs`), until `release()` or loss. {@link Lock.withLock} always extends.
   * @default true
   */
  readonly autoExtend?: boolean;
  /**
   * How often automatic extension runs, in milliseconds; must be below `ttlMs`.
   * @default ttlMs / 3
   */
  readonly autoExtendIntervalMs?: number;
  /**
   * Wake waiters through pub/sub when a holder releases (the release script publishes on a channel
   * next to the key; waiters subscribe on the adapter's subscriber connection while they wait). With
   * `false`, waiters only retry after `retryDelayMs` (+ jitter) or the holder's remaining TTL.
   * @default true
   */
  readonly wakeUp?: boolean;
  /**
   * The namespace of the keys. Keys are `${prefix}{${resource}}` and `${prefix}{${resource}}:fence`
   * (plus `:readers` for read-write locks; one hash slot per resource on a cluster).
   * @default 'lock:' (locks), 'semaphore:' (semaphores), 'rwlock:' (read-write locks)
   */
  readonly prefix?: string;
  /**
   * A low-cardinality name for telemetry: the `lock.name` attribute of spans and metrics. Never
   * derived from the resource.
   * @default 'default'
   */
  readonly name?: string;
  /**
   * Put the resource name on spans as `lock.resource` (never on metrics). Off by default: resource
   * names can carry user ids or other personal data.
   * @default false
   */
  readonly recordResource?: boolean;
  /** Where spans go. @default the global tracer provider */
  readonly tracerProvider?: TracerProvider;
  /** Where metrics go. @default the global meter provider */
  readonly meterProvider?: MeterProvider;
}

/** Options of {@link createLock}. */
export interface LockOptions extends LeaseOptions {}

/** Options of {@link createSemaphore}. */
export interface SemaphoreOptions extends LeaseOptions {
  /**
   * The most leases held at once. Every user of one resource must use the same limit.
   */
  readonly limit: number;
}

/** Per-call options of {@link Lock.acquire} and {@link Lock.withLock}. */
export interface AcquireOptions {
  /**
   * Stop waiting when this signal aborts: the call rejects with an `AbortError` `DOMException` whose
   * `cause` is the signal's reason.
   */
  readonly signal?: AbortSignal;
  /** Override the lock's `waitMs` for this call. */
  readonly waitMs?: number;
}

/**
 * One holding of a lock or a semaphore permit. It keeps the lease alive (when auto-extension is on)
 * until {@link Lease.release} or until it is lost; {@link Lease.signal} aborts the moment the lease is
 * known to be lost.
 */
export interface Lease {
  /** The resource this lease is for. */
  readonly resource: string;
  /** The random token that identifies this holder on Redis (128 bits from `crypto.randomBytes`). */
  readonly token: string;
  /**
   * A number issued atomically by the acquire script, strictly greater than every fencing token issued
   * before for this resource (by any holder, any process). Pass it to the protected resource and let it
   * reject writes carrying a smaller token than one it has already seen: that is what makes a lock safe
   * against paused or partitioned holders.
   */
  readonly fencingToken: number;
  /**
   * When the lease expires on Redis if not extended, in milliseconds since the epoch **on Redis' clock**
   * (from `TIME` in the script). Updated by each extension.
   */
  readonly expiresAt: number;
  /**
   * Aborts when the lease is lost: an extension found another holder or no key, or the lease could not
   * be extended before it expired (Redis unreachable). The reason is a {@link LockLostError}. It does
   * not abort on `release()`.
   */
  readonly signal: AbortSignal;
  /** Whether the lease is still believed held (not released, not lost). */
  readonly held: boolean;
  /**
   * Extend the lease to `ttlMs` (or `ms`) from now on Redis' clock, in one round trip. Only the holder's
   * token can extend: an expired lease never extends another holder's lock.
   * @throws {LockLostError} when Redis no longer holds this lease (the signal aborts too)
   * @throws {LockUnavailableError} when Redis could not be reached or answered with an error
   */
  extend(ms?: number): Promise<void>;
  /**
   * Release the lease (compare-and-delete in one round trip) and wake waiters. Resolves `true` when it
   * was still held, `false` when it had expired or was lost; an expired lease never deletes another
   * holder's lock. Calling it again resolves `false`.
   * @throws {LockUnavailableError} when Redis could not be reached (the lease then expires on its own)
   */
  release(): Promise<boolean>;
}

/** A function run while holding a lease; `signal` aborts if the lease is lost meanwhile. */
export type LockedFunction<T> = (signal: AbortSignal, lease: Lease) => T | Promise<T>;

/** A named lock on one resource. Cheap to create; holds no connection of its own. */
export interface Lock {
  /** The resource this lock guards. */
  readonly resource: string;
  /**
   * Acquire the lock, waiting up to `waitMs` (woken by releases, with jittered retries as fallback).
   * @throws {LockNotAcquiredError} when the wait ran out (time or attempts)
   * @throws {DOMException} named `AbortError` when `options.signal` aborted
   * @throws {LockUnavailableError} when Redis could not be reached or answered with an error
   */
  acquire(options?: AcquireOptions): Promise<Lease>;
  /**
   * One attempt, no waiting: a {@link Lease}, or `null` when someone else holds the lock.
   * @throws {LockUnavailableError} when Redis could not be reached or answered with an error
   */
  tryAcquire(): Promise<Lease | null>;
  /**
   * Acquire, run `fn(signal, lease)` while extending the lease, and release afterwards, also when `fn`
   * throws. Resolves with what `fn` returned.
   * @throws {LockNotAcquiredError} / `AbortError` / {@link LockUnavailableError} as {@link acquire}
   * @throws {LockLostError} when the lease was lost while `fn` ran (even if `fn` completed): the work was
   *   not protected; `fn`'s own error wins when it threw.
   */
  withLock<T>(fn: LockedFunction<T>, options?: AcquireOptions): Promise<T>;
}

/** A counting semaphore: at most `limit` leases at once, expiring on Redis' clock. */
export interface Semaphore extends Lock {
  /** The most leases held at once. */
  readonly limit: number;
}

/**
 * A read-write lock (see `createReadWriteLock`): `read` leases are shared, a `write` lease is
 * exclusive. Both sides have the {@link Lock} API and the same {@link Lease} shape.
 */
export interface ReadWriteLock {
  /** The resource this lock guards. */
  readonly resource: string;
  /** Shared leases: granted while no writer holds the lock. */
  readonly read: Lock;
  /** The exclusive lease: granted when no writer and no (unexpired) reader holds the lock. */
  readonly write: Lock;
}
