import { RedisotelError } from '@redisotel/core-hooks';

const UNAVAILABLE_MARKER = Symbol.for('redisotel.cache.error.unavailable');

/**
 * Redis could not serve a cache operation that must not fail silently (a delete, a tag invalidation):
 * the connection failed, the cache's `timeoutMs` passed, or the circuit breaker is open. `cause` is the
 * Redis error (absent when the circuit was open).
 */
export class CacheUnavailableError extends RedisotelError {
  /** @internal */
  readonly [UNAVAILABLE_MARKER] = true;
  /** Whether the call was refused by the open circuit breaker without reaching Redis. */
  readonly circuitOpen: boolean;

  constructor(message: string, circuitOpen: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.circuitOpen = circuitOpen;
  }

  static override isInstance(error: unknown): error is CacheUnavailableError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[UNAVAILABLE_MARKER] === true
    );
  }
}

const LOADER_TIMEOUT_MARKER = Symbol.for('redisotel.cache.error.loader-timeout');

/** The loader did not settle within the hard timeout and no stale value could be served. */
export class CacheLoaderTimeoutError extends RedisotelError {
  /** @internal */
  readonly [LOADER_TIMEOUT_MARKER] = true;
  /** The hard timeout that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.timeoutMs = timeoutMs;
  }

  static override isInstance(error: unknown): error is CacheLoaderTimeoutError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[LOADER_TIMEOUT_MARKER] === true
    );
  }
}

const CORRUPT_MARKER = Symbol.for('redisotel.cache.error.corrupt-value');

/**
 * The value found in Redis was not written by this cache or could not be deserialized. It is never
 * thrown to callers: the read is a miss, this error is recorded on the span, and the next write
 * replaces the value.
 */
export class CacheCorruptValueError extends RedisotelError {
  /** @internal */
  readonly [CORRUPT_MARKER] = true;

  static override isInstance(error: unknown): error is CacheCorruptValueError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[CORRUPT_MARKER] === true
    );
  }
}

const SERIALIZATION_MARKER = Symbol.for('redisotel.cache.error.serialization');

/** The serializer threw (or returned something other than a string) while encoding a value to store. */
export class CacheSerializationError extends RedisotelError {
  /** @internal */
  readonly [SERIALIZATION_MARKER] = true;

  static override isInstance(error: unknown): error is CacheSerializationError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[SERIALIZATION_MARKER] === true
    );
  }
}
