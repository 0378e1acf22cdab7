import { RedisotelError } from '@redisotel/core-hooks';

const NOT_ACQUIRED_MARKER = Symbol.for('redisotel.error.lock.not-acquired');

/**
 * The lock (or a semaphore permit) stayed held by others for the whole wait (`waitMs` or
 * `maxAttempts` ran out). Not a Redis failure: see {@link LockUnavailableError} for those.
 */
export class LockNotAcquiredError extends RedisotelError {
  /** @internal */
  readonly [NOT_ACQUIRED_MARKER] = true;
  /** The attempts made (each one round trip). */
  readonly attempts: number;
  /** How long the caller waited, in milliseconds. */
  readonly waitedMs: number;

  constructor(message: string, attempts: number, waitedMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.attempts = attempts;
    this.waitedMs = waitedMs;
  }

  static override isInstance(error: unknown): error is LockNotAcquiredError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[NOT_ACQUIRED_MARKER] === true
    );
  }
}

const LOST_MARKER = Symbol.for('redisotel.error.lock.lost');

/** Why a lease was lost. */
export type LockLostReason =
  /** An extension (or release) found the key gone or held by another token. */
  | 'not-held'
  /** No extension succeeded before the lease's time to live ran out (Redis unreachable, or extension off). */
  | 'expired';

/**
 * A held lease was lost: it is the reason of {@link Lease.signal}, and what `extend()` and
 * `withLock()` reject with. `cause` is the last Redis error when the loss came from failed extensions.
 */
export class LockLostError extends RedisotelError {
  /** @internal */
  readonly [LOST_MARKER] = true;
  /** Why the lease was lost. */
  readonly reason: LockLostReason;

  constructor(message: string, reason: LockLostReason, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }

  static override isInstance(error: unknown): error is LockLostError {
    return (
      typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[LOST_MARKER] === true
    );
  }
}

const UNAVAILABLE_MARKER = Symbol.for('redisotel.error.lock.unavailable');

/**
 * Redis could not be reached or answered with an error while acquiring, extending or releasing.
 * Locks fail closed: nothing is granted without Redis' answer. `cause` is the adapter's error
 * (`RedisConnectionError`, `RedisReplyError`, `RedisTimeoutError`).
 */
export class LockUnavailableError extends RedisotelError {
  /** @internal */
  readonly [UNAVAILABLE_MARKER] = true;
  /** What was being done: `acquire`, `extend` or `release`. */
  readonly operation: 'acquire' | 'extend' | 'release';

  constructor(message: string, operation: 'acquire' | 'extend' | 'release', options?: { cause?: unknown }) {
    super(message, options);
    this.operation = operation;
  }

  static override isInstance(error: unknown): error is LockUnavailableError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[UNAVAILABLE_MARKER] === true
    );
  }
}
