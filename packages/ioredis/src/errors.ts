import { RedisConnectionError, RedisotelError, RedisReplyError } from '@redisotel/core-hooks';

/** Socket error codes passed through as the `RedisConnectionError` code. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOENT',
  'EACCES',
]);

/** ioredis' fixed messages (built/utils, built/cluster, built/connectors) → stable codes. */
const MESSAGE_CODES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Connection is closed\.?$/, 'CONNECTION_CLOSED'],
  [/^Command aborted due to connection close/, 'CONNECTION_CLOSED'],
  [/^Cluster is ended\.?$/, 'CLIENT_CLOSED'],
  [/^Reached the max retries per request limit/, 'MAX_RETRIES_PER_REQUEST'],
  [/^Stream isn't writeable and enableOfflineQueue options is false/, 'NOT_CONNECTED'],
  [/^Cluster isn't ready and enableOfflineQueue options is false/, 'NOT_CONNECTED'],
  [/^Command timed out/, 'TIMEOUT'],
  [/^Too many Cluster redirections/, 'MAX_REDIRECTIONS'],
  [/^Failed to refresh slots cache/, 'CLUSTER_UNAVAILABLE'],
  [/^None of startup nodes is available/, 'CLUSTER_UNAVAILABLE'],
  [/^All sentinels are unreachable/, 'SENTINEL_UNAVAILABLE'],
  [/^Socket timeout/, 'TIMEOUT'],
  [/^connect ETIMEDOUT/, 'ETIMEDOUT'],
];

interface ErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
}

/** Whether ioredis delivered `error` as a Redis error reply (`redis-errors` `ReplyError` and subclasses). */
export function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ReplyError';
}

/**
 * Map whatever ioredis rejected a command with to a typed redisotel error: error replies become
 * {@link RedisReplyError} (prefix parsed, command named), everything else {@link RedisConnectionError}
 * with a stable code. The ioredis error is the `cause`.
 *
 * @param clientEnded whether the client had been closed (`quit`/`disconnect`, status `end`) when the
 *   command failed: a closed-connection failure is then `CLIENT_CLOSED` rather than `CONNECTION_CLOSED`.
 */
export function toRedisotelError(error: unknown, command: string, clientEnded = false): RedisotelError {
  if (RedisotelError.isInstance(error)) return error;
  if (isReplyError(error)) return new RedisReplyError(error.message, command, { cause: error });
  const shape = (typeof error === 'object' && error !== null ? error : {}) as ErrorShape;
  const message = typeof shape.message === 'string' ? shape.message : String(error);
  let code: string | undefined;
  if (typeof shape.code === 'string' && SOCKET_CODES.has(shape.code)) code = shape.code;
  if (code === undefined) {
    for (const [pattern, mapped] of MESSAGE_CODES) {
      if (pattern.test(message)) {
        code = mapped;
        break;
      }
    }
  }
  if (code === 'CONNECTION_CLOSED' && clientEnded) code = 'CLIENT_CLOSED';
  if (code === undefined) code = clientEnded ? 'CLIENT_CLOSED' : 'CLIENT_ERROR';
  return new RedisConnectionError(message, code, command, { cause: error });
}
