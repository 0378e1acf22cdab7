import { type RedisLike, RedisotelError, type RedisReply, type RedisScript } from '@redisotel/core-hooks';
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

/** The scripts of one kind (lock or semaphore), picked once. */
interface ScriptSet {
  readonly acquire: RedisScript;
  readonly extend: RedisScript;
  readonly release: RedisScript;
}

const LOCK_SCRIPTS: ScriptSet = { acquire: LOCK_ACQUIRE, extend: LOCK_EXTEND, release: LOCK_RELEASE };
const SEMAPHORE_SCRIPTS: ScriptSet = {
  acquire: SEMAPHORE_ACQUIRE,
  extend: SEMAPHORE_EXTEND,
  release: SEMAPHORE_RELEASE,
};

function parseAcquire(reply: RedisReply): AcquireReply {
  const [acquired, a, b] = integers(reply, 3, 'acquire') as [number, number, number];
  if (acquired === 1) return { acquired: true, fencingToken: a, expiresAt: b };
  // PTTL: -2 the key vanished meanwhile (retry now), -1 a key without expiry (no bound known).
  return { acquired: false, retryInMs: a === -2 ? 0 : a };
}

function parseRelease(reply: RedisReply): boolean {
  return integer(reply, 'release') === 1;
}

/**
 * The scripts of a lock (`limit` undefined) or a semaphore on one resource. Release notifications use
 * sharded pub/sub (SPUBLISH, same slot as the key) where the adapter supports it, else PUBLISH.
 * A class: locks are often created per request, and its methods live on the prototype.
 */
class ScriptBackend implements Backend {
  readonly channel: string;
  readonly sharded: boolean;
  readonly #redis: RedisLike;
  readonly #scripts: ScriptSet;
  readonly #acquireKeys: readonly string[];
  readonly #mainKey: readonly string[];
  readonly #limit: number | undefined;
  readonly #notify: string;

  constructor(redis: RedisLike, keys: ResourceKeys, limit: number | undefined, wakeUp: boolean) {
    this.#redis = redis;
    this.channel = keys.channel;
    this.sharded = redis.describe().capabilities.shardedPubSub === true;
    this.#notify = wakeUp ? (this.sharded ? '1' : '0') : '';
    this.#limit = limit;
    this.#scripts = limit === undefined ? LOCK_SCRIPTS : SEMAPHORE_SCRIPTS;
    this.#acquireKeys = [keys.main, keys.fence];
    this.#mainKey = [keys.main];
  }

  acquire(token: string, ttlMs: number, timeoutMs: number): Promise<AcquireReply> {
    const args = this.#limit === undefined ? [token, ttlMs] : [token, ttlMs, this.#limit];
    return this.#redis
      .runScript(this.#scripts.acquire, this.#acquireKeys, args, { timeoutMs })
      .then(parseAcquire);
  }

  async extend(
    token: string,
    ttlMs: number,
    timeoutMs: number | undefined,
  ): Promise<{ extended: boolean; expiresAt: number }> {
    const reply = await this.#redis.runScript(
      this.#scripts.extend,
      this.#mainKey,
      [token, ttlMs],
      timeoutMs === undefined ? undefined : { timeoutMs },
    );
    const [extended, at] = integers(reply, 2, 'extend') as [number, number];
    return { extended: extended === 1, expiresAt: at };
  }

  release(token: string, timeoutMs: number): Promise<boolean> {
    // After ttlMs the lease expires on its own: waiting longer for Redis is pointless.
    return this.#redis
      .runScript(this.#scripts.release, this.#mainKey, [token, this.channel, this.#notify], { timeoutMs })
      .then(parseRelease);
  }
}

/** The Redis side of a lock (`limit` undefined) or a semaphore on one resource. */
export function createBackend(
  redis: RedisLike,
  keys: ResourceKeys,
  limit: number | undefined,
  wakeUp: boolean,
): Backend {
  return new ScriptBackend(redis, keys, limit, wakeUp);
}
