import { RedisConnectionError, RedisotelError, RedisReplyError } from '@redisotel/core-hooks';

/**
 * The codes are shared with `@redisotel/ioredis` where the failure is the same (`CONNECTION_CLOSED`,
 * `CLIENT_CLOSED`, `NOT_CONNECTED`, `TIMEOUT`, `MAX_REDIRECTIONS`, `CLUSTER_UNAVAILABLE`, socket codes),
 * so `error.type` means the same thing whichever client is behind a `RedisLike`.
 *
 * node-redis error classes (by constructor name: they are not exported under one identity across
 * majors) → the stable `RedisConnectionError.code` we report. Anything with a Node `code`
 * (`ECONNREFUSED`, `ECONNRESET`, `EPIPE`, `ETIMEDOUT`…) keeps that code.
 */
const CODES_BY_CLASS: Readonly<Record<string, string>> = {
  ClientClosedError: 'CLIENT_CLOSED',
  ClientOfflineError: 'NOT_CONNECTED',
  SocketClosedUnexpectedlyError: 'CONNECTION_CLOSED',
  DisconnectsClientError: 'CONNECTION_CLOSED',
  ConnectionTimeoutError: 'ETIMEDOUT',
  SocketTimeoutError: 'TIMEOUT',
  SocketTimeoutDuringMaintenanceError: 'TIMEOUT',
  TimeoutError: 'TIMEOUT',
  CommandTimeoutDuringMaintenanceError: 'TIMEOUT',
  AbortError: 'ABORTED',
  RootNodesUnavailableError: 'CLUSTER_UNAVAILABLE',
  MaxCommandRedirectionsError: 'MAX_REDIRECTIONS',
  WatchError: 'WATCH_FAILED',
};

/** Error classes of node-redis that carry a Redis error reply. */
const REPLY_CLASSES = new Set(['ErrorReply', 'SimpleError', 'BlobError', 'MultiErrorReply']);

function isReplyError(error: Error): boolean {
  // Walk the prototype chain: subclasses of ErrorReply (SimpleError, BlobError) count too.
  for (
    let proto: object | null = Object.getPrototypeOf(error);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    const name = (proto as { constructor?: { name?: string } }).constructor?.name;
    if (name !== undefined && REPLY_CLASSES.has(name)) return true;
    if (proto === Error.prototype) break;
  }
  return false;
}

/** The stable code of a connection-level failure thrown by node-redis or the socket under it. */
export function connectionCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'CLIENT_ERROR';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) return code;
  const className = (error as { constructor?: { name?: string } }).constructor?.name;
  if (className === 'ReconnectStrategyError') {
    const original = (error as { originalError?: unknown }).originalError;
    return original === undefined ? 'RECONNECT_STOPPED' : connectionCode(original);
  }
  if (className !== undefined) {
    const mapped = CODES_BY_CLASS[className];
    if (mapped !== undefined) return mapped;
  }
  const message = (error as { message?: unknown }).message;
  if (message === 'The queue is full') return 'QUEUE_FULL';
  return 'CLIENT_ERROR';
}

/**
 * Map anything node-redis rejected with to the core-hooks error types: error replies →
 * {@link RedisReplyError} (prefix parsed from the reply, `cause` = the client's error), failures to
 * send or receive → {@link RedisConnectionError} with a stable `code`. Our own errors, and
 * programming errors (`TypeError`/`RangeError` from bad arguments), pass through unchanged.
 *
 * @param operation the upper-cased command name (or `MULTI`/`PIPELINE` for a batch)
 */
export function toRedisotelError(error: unknown, operation: string): Error {
  if (RedisotelError.isInstance(error)) return error;
  if (error instanceof TypeError || error instanceof RangeError) return error;
  if (error instanceof Error && isReplyError(error)) {
    return new RedisReplyError(error.message, operation, { cause: error });
  }
  const code = connectionCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return new RedisConnectionError(`${operation} failed: ${message} (${code})`, code, operation, {
    cause: error,
  });
}

/** Whether `error` is an error reply of node-redis (for the EXEC/nested-reply paths). */
export function isNodeRedisReplyError(error: unknown): error is Error {
  return error instanceof Error && isReplyError(error);
}
