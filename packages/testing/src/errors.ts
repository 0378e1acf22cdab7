/**
 * No Redis deployment could be had: no external deployment configured, no `redis-server` binary, no
 * Docker. The message lists what was tried and the three ways to fix it.
 */
export class RedisUnavailableError extends Error {
  /** Why each source could not be used, in the order they were tried. */
  readonly reasons: readonly string[];

  constructor(message: string, reasons: readonly string[], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisUnavailableError';
    this.reasons = reasons;
  }
}

/**
 * A deployment could not be started, did not become healthy in time, or was asked for something it
 * cannot do (a fault control on an external deployment). `cause` is the underlying error; the
 * message includes the end of the server's log when there is one.
 */
export class RedisDeploymentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisDeploymentError';
  }
}
