import {
  RedisConnectionError,
  RedisotelError,
  RedisReplyError,
  RedisTimeoutError,
} from '@redisotel/core-hooks';

const UNAVAILABLE_MARKER = Symbol.for('redisotel.error.ratelimit-unavailable');

/** What went wrong talking to Redis, low-cardinality (it is the `error.type` of spans). */
export type RateLimitFailureKind = 'timeout' | 'aborted' | 'connection' | 'reply' | 'unknown';

/**
 * The limiter could not get a decision from Redis: the call failed, timed out (`timeoutMs`) or was
 * aborted. `cause` is the underlying error (a `RedisConnectionError`, `RedisTimeoutError`,
 * `RedisReplyError`…). Thrown by `consume`/`peek` when `onRedisError` is `'throw'` and by
 * `penalty`/`reward`/`block`/`reset` always; attached to `local`, `fail-open` and `fail-closed`
 * decisions as `decision.error`.
 */
export class RateLimitUnavailableError extends RedisotelError {
  /** @internal */
  readonly [UNAVAILABLE_MARKER] = true;
  /** What kind of failure it was. */
  readonly kind: RateLimitFailureKind;
  /** The limiter's name. */
  readonly limiterName: string;

  constructor(
    message: string,
    kind: RateLimitFailureKind,
    limiterName: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.kind = kind;
    this.limiterName = limiterName;
  }

  /** Whether `error` is a {@link RateLimitUnavailableError}, from any copy of this package. */
  static override isInstance(error: unknown): error is RateLimitUnavailableError {
    return (
      typeof error === 'object' &&
      error !== null &&
      (error as Record<symbol, unknown>)[UNAVAILABLE_MARKER] === true
    );
  }
}

/** @internal Wrap whatever a Redis call rejected with. */
export function toUnavailableError(
  error: unknown,
  limiterName: string,
  operation: string,
): RateLimitUnavailableError {
  let kind: RateLimitFailureKind = 'unknown';
  if (RedisTimeoutError.isInstance(error)) kind = 'timeout';
  else if (RedisConnectionError.isInstance(error)) kind = 'connection';
  else if (RedisReplyError.isInstance(error)) kind = 'reply';
  else if (isAbortError(error)) kind = 'aborted';
  const detail = error instanceof Error ? error.message : String(error);
  return new RateLimitUnavailableError(
    `Rate limiter "${limiterName}" could not ${operation}: Redis ${kind === 'timeout' ? 'did not answer in time' : kind === 'aborted' ? 'call was aborted' : 'failed'} (${detail})`,
    kind,
    limiterName,
    { cause: error },
  );
}

function isAbortError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    ((error as { name?: unknown }).name === 'AbortError' ||
      (error as { name?: unknown }).name === 'TimeoutError')
  );
}
