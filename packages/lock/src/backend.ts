import { type RedisLike, RedisotelError, type RedisReply } from '@redisotel/core-hooks';
import type { AcquireReply, Backend } from './internal-types.js';
import {
  LOCK_ACQUIRE,
  LOCK_EXTEND,
  LOCK_RELEASE,
  SEMAPHORE_ACQUIRE,
  SEMAPHORE_EXTEND,
  SEMAPHORE_RELEASE,
} from './scripts.js';

function integers(reply: RedisReply, length: number, script: string): number[] {
  if (Array.isArray(reply) && reply.length >= length) {
    const values = reply.slice(0, length).map((value) => (typeof value === 'string' ? Number(value) : value));
    if (values.every((value) => typeof value === 'number' && Number.isFinite(value)))
      return values as number[];
  }
  throw new RedisotelError(`The ${script} script answered an unexpected reply`);
}

function integer(reply: RedisReply, script: string): number {
  const value = typeof reply === 'string' ? Number(reply) : reply;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new RedisotelError(`The ${script} script answered an unexpected reply`);
}

/** The keys and channel of one resource. */
export interface ResourceKeys {
  readonly main: string;
  readonly fence: string;
  readonly channel: string;
}

/**
 * The scripts of a lock (`limit` undefined) or a semaphore on one resource. Release notifications use
 * sharded pub/sub (SPUBLISH, same slot as the key) where the adapter supports it, else PUBLISH.
 */
export function createBackend(
  redis: RedisLike,
  keys: ResourceKeys,
  limit: number | undefined,
  wakeUp: boolean,
): Backend {
  const sharded = redis.describe().capabilities.shardedPubSub === true;
  const notify = wakeUp ? (sharded ? '1' : '0') : '';
  const semaphore = limit !== undefined;
  const acquireScript = semaphore ? SEMAPHORE_ACQUIRE : LOCK_ACQUIRE;
  const extendScript = semaphore ? SEMAPHORE_EXTEND : LOCK_EXTEND;
  const releaseScript = semaphore ? SEMAPHORE_RELEASE : LOCK_RELEASE;
  const acquireKeys = [keys.main, keys.fence];
  const mainKey = [keys.main];
  return {
    channel: keys.channel,
    sharded,
    acquire(token, ttlMs, timeoutMs): Promise<AcquireReply> {
      const args = semaphore ? [token, ttlMs, limit!] : [token, ttlMs];
      return redis.runScript(acquireScript, acquireKeys, args, { timeoutMs }).then((reply) => {
        const [acquired, a, b] = integers(reply, 3, acquireScript.name) as [number, number, number];
        if (acquired === 1) return { acquired: true, fencingToken: a, expiresAt: b };
        // PTTL: -2 the key vanished meanwhile (retry now), -1 a key without expiry (no bound known).
        return { acquired: false, retryInMs: a === -2 ? 0 : a };
      });
    },
    async extend(token, ttlMs, timeoutMs) {
      const reply = await redis.runScript(
        extendScript,
        mainKey,
        [token, ttlMs],
        timeoutMs === undefined ? undefined : { timeoutMs },
      );
      const [extended, at] = integers(reply, 2, extendScript.name) as [number, number];
      return { extended: extended === 1, expiresAt: at };
    },
    async release(token, timeoutMs) {
      // After ttlMs the lease expires on its own: waiting longer for Redis is pointless.
      const reply = await redis.runScript(releaseScript, mainKey, [token, keys.channel, notify], {
        timeoutMs,
      });
      return integer(reply, releaseScript.name) === 1;
    },
  };
}
