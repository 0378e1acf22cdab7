/** What one acquire script run answered. */
export type AcquireReply =
  | { readonly acquired: true; readonly fencingToken: number; readonly expiresAt: number }
  /** `retryInMs`: when the current holder expires at the latest (`-1`: no expiry known). */
  | { readonly acquired: false; readonly retryInMs: number };

/** The Redis side of a lock or semaphore: one script run per call. */
export interface Backend {
  acquire(token: string, ttlMs: number, timeoutMs: number): Promise<AcquireReply>;
  extend(
    token: string,
    ttlMs: number,
    timeoutMs: number | undefined,
  ): Promise<{ extended: boolean; expiresAt: number }>;
  release(token: string, timeoutMs: number): Promise<boolean>;
  /** The release notification channel. */
  readonly channel: string;
  /** Whether the channel is a sharded one (SSUBSCRIBE). */
  readonly sharded: boolean;
  /** Wake every waiter of the process on a release instead of one (read-write locks). */
  readonly wakeAll: boolean;
}
