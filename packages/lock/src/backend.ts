import {
  type RedisLike,
  RedisotelError,
  type RedisReply,
  type RedisScript,
  type SendOptions,
} from '@redisotel/core-hooks';
import type { Backend } from './internal-types.js';
import {
  LOCK_ACQUIRE,
  LOCK_EXTEND,
  LOCK_RELEASE,
  READ_ACQUIRE,
  type ReleaseScripts,
  SEMAPHORE_ACQUIRE,
  SEMAPHORE_EXTEND,
  SEMAPHORE_RELEASE,
  WRITE_ACQUIRE,
} from './scripts.js';

function integers(reply: RedisReply, length: number, script: string): number[] {
  if (Array.isArray(reply) && reply.length >= length) {
    const values = new Array<number>(length);
    for (let i = 0; i < length; i++) {
      const item = reply[i];
      const value = typeof item === 'string' ? Number(item) : item;
      if (typeof value !== 'number' || !Number.isFinite(value)) return unexpected(script);
      values[i] = value;
    }
    return values;
  }
  return unexpected(script);
}

function unexpected(script: string): never {
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
  readonly release: ReleaseScripts;
}

const LOCK_SCRIPTS: ScriptSet = { acquire: LOCK_ACQUIRE, extend: LOCK_EXTEND, release: LOCK_RELEASE };
const SEMAPHORE_SCRIPTS: ScriptSet = {
  acquire: SEMAPHORE_ACQUIRE,
  extend: SEMAPHORE_EXTEND,
  release: SEMAPHORE_RELEASE,
};

/**
 * The lock or semaphore acquire script's reply: when acquired, write the fencing token and expiry to
 * `into` and answer `true`; else answer when to retry (PTTL: -2 the key vanished meanwhile, retry now;
 * -1 a key without expiry, no bound known). Read in place, no reply object per attempt. The lock script
 * answers `{fence, nowMs}` (Redis' clock, see scripts.ts) or the holder's PTTL as a bare integer; the
 * semaphore and read-write scripts `{1, fence, expiresAt}` or `{0, retryIn, now}`.
 */
export function parseAcquire(
  reply: RedisReply,
  into: { fencingToken: number; expiresAt: number },
  ttlMs: number,
): number | true {
  if (Array.isArray(reply)) {
    if (reply.length === 2) {
      into.fencingToken = toInteger(reply[0]);
      into.expiresAt = toInteger(reply[1]) + ttlMs;
      return true;
    }
    if (reply.length === 3) {
      const a = toInteger(reply[1]);
      if (toInteger(reply[0]) !== 1) return a === -2 ? 0 : a;
      into.expiresAt = toInteger(reply[2]);
      into.fencingToken = a;
      return true;
    }
    return unexpected('acquire');
  }
  const pttl = toInteger(reply);
  return pttl === -2 ? 0 : pttl;
}

function toInteger(item: RedisReply | undefined): number {
  const value = typeof item === 'string' ? Number(item) : item;
  if (typeof value !== 'number' || !Number.isFinite(value)) return unexpected('acquire');
  return value;
}

export function parseRelease(reply: RedisReply): boolean {
  return integer(reply, 'release') === 1;
}

/** What one backend runs: its scripts and the keys each gets. */
interface BackendConfig {
  readonly scripts: ScriptSet;
  /** KEYS of the acquire script. */
  readonly acquireKeys: readonly string[];
  /** KEYS of the extend and release scripts (the key holding this lease's token). */
  readonly holderKey: readonly string[];
  /** The semaphore limit, appended to the acquire arguments. */
  readonly limit: number | undefined;
  /** Wake every waiter of the process on a release (readers can all proceed), not just one. */
  readonly wakeAll: boolean;
}

/**
 * The Redis side of one kind of lease on one resource: one script run per call. Release notifications
 * use sharded pub/sub (SPUBLISH, same slot as the keys) where the adapter supports it, else PUBLISH.
 * A class: locks are often created per request, and its methods live on the prototype.
 */
class ScriptBackend implements Backend {
  readonly channel: string;
  readonly sharded: boolean;
  readonly wakeAll: boolean;
  readonly #redis: RedisLike;
  readonly #config: BackendConfig;
  /** The release script of this backend's notify flavour (picked once: no flavour argument per call). */
  readonly #release: RedisScript;
  readonly #wakeUp: boolean;

  constructor(redis: RedisLike, channel: string, config: BackendConfig, wakeUp: boolean) {
    this.#redis = redis;
    this.#config = config;
    this.channel = channel;
    this.wakeAll = config.wakeAll;
    this.sharded = redis.describe().capabilities.shardedPubSub === true;
    this.#wakeUp = wakeUp;
    this.#release = config.scripts.release[wakeUp ? (this.sharded ? 'sharded' : 'plain') : 'none'];
  }

  acquire(token: string, ttlMs: number, options: SendOptions | undefined): Promise<RedisReply> {
    const { scripts, acquireKeys, limit } = this.#config;
    const args = limit === undefined ? [token, ttlMs] : [token, ttlMs, limit];
    return this.#redis.runScript(scripts.acquire, acquireKeys, args, options);
  }

  async extend(
    token: string,
    ttlMs: number,
    timeoutMs: number | undefined,
  ): Promise<{ extended: boolean; expiresAt: number }> {
    const reply = await this.#redis.runScript(
      this.#config.scripts.extend,
      this.#config.holderKey,
      [token, ttlMs],
      timeoutMs === undefined ? undefined : { timeoutMs },
    );
    const [extended, at] = integers(reply, 2, 'extend') as [number, number];
    return { extended: extended === 1, expiresAt: at };
  }

  release(token: string, options: SendOptions | undefined): Promise<RedisReply> {
    return this.#redis.runScript(
      this.#release,
      this.#config.holderKey,
      this.#wakeUp ? [token, this.channel] : [token],
      options,
    );
  }
}

/** The Redis side of a lock (`limit` undefined) or a semaphore on one resource. */
export function createBackend(
  redis: RedisLike,
  keys: ResourceKeys,
  limit: number | undefined,
  wakeUp: boolean,
): Backend {
  return new ScriptBackend(
    redis,
    keys.channel,
    {
      scripts: limit === undefined ? LOCK_SCRIPTS : SEMAPHORE_SCRIPTS,
      acquireKeys: [keys.main, keys.fence],
      holderKey: [keys.main],
      limit,
      wakeAll: false,
    },
    wakeUp,
  );
}

/**
 * The read and write sides of a read-write lock: the writer key is `keys.main`, readers are a sorted
 * set at `keys.main + ':readers'` (same hash slot), one fence counter for both.
 */
export function createReadWriteBackends(
  redis: RedisLike,
  keys: ResourceKeys,
  wakeUp: boolean,
): { read: Backend; write: Backend } {
  const readers = `${keys.main}:readers`;
  const acquireKeys = [keys.main, readers, keys.fence];
  return {
    read: new ScriptBackend(
      redis,
      keys.channel,
      {
        scripts: { acquire: READ_ACQUIRE, extend: SEMAPHORE_EXTEND, release: SEMAPHORE_RELEASE },
        acquireKeys,
        holderKey: [readers],
        limit: undefined,
        wakeAll: true,
      },
      wakeUp,
    ),
    write: new ScriptBackend(
      redis,
      keys.channel,
      {
        scripts: { acquire: WRITE_ACQUIRE, extend: LOCK_EXTEND, release: LOCK_RELEASE },
        acquireKeys,
        holderKey: [keys.main],
        limit: undefined,
        wakeAll: true,
      },
      wakeUp,
    ),
  };
}
