import type { RedisReply, SendOptions } from '@redisotel/core-hooks';

/**
 * The Redis side of a lock or semaphore: one script run per call. `acquire` and `release` answer the
 * script's raw reply (parsed by `parseAcquire` / `parseRelease` in backend.ts, inside the caller's one
 * reaction to it); `options` carry the adapter's deadline only when telemetry would record the command.
 */
export interface Backend {
  acquire(token: string, ttlMs: number, options: SendOptions | undefined): Promise<RedisReply>;
  extend(
    token: string,
    ttlMs: number,
    timeoutMs: number | undefined,
  ): Promise<{ extended: boolean; expiresAt: number }>;
  release(token: string, options: SendOptions | undefined): Promise<RedisReply>;
  /** The release notification channel. */
  readonly channel: string;
  /** Whether the channel is a sharded one (SSUBSCRIBE). */
  readonly sharded: boolean;
  /** Wake every waiter of the process on a release instead of one (read-write locks). */
  readonly wakeAll: boolean;
}
