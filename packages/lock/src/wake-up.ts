import type { RedisLike, Unsubscribe } from '@redisotel/core-hooks';

// Release notifications: the release scripts publish on `${base}:released`; waiters of one channel on
// one RedisLike share a single subscription (on the adapter's subscriber connection), counted by
// references and dropped a little after the last waiter leaves.

/** How long a subscription outlives its last waiter (avoids churn under bursty contention). */
const LINGER_MS = 5_000;

interface ChannelEntry {
  /** Bumped on every message (and on subscriber reconnects); waiters compare it. */
  generation: number;
  readonly listeners: Set<() => void>;
  refs: number;
  /** Resolves true once subscribed, false when subscribing failed (waiters then poll). */
  ready: Promise<boolean>;
  unsubscribe: Unsubscribe | undefined;
  removeReconnect: (() => void) | undefined;
  linger: NodeJS.Timeout | undefined;
  closed: boolean;
}

const registry = new WeakMap<RedisLike, Map<string, ChannelEntry>>();

/**
 * One release frees one lease: wake the longest-waiting waiter of this process only (the others keep
 * waiting, so a release costs one retry per process instead of a stampede). Waiters that are between
 * attempts see the new generation and retry at once.
 */
function wakeOne(entry: ChannelEntry): void {
  entry.generation++;
  const first = entry.listeners.values().next();
  if (!first.done) first.value();
}

/** After a subscriber reconnect releases may have been missed: everyone retries once. */
function wakeAll(entry: ChannelEntry): void {
  entry.generation++;
  for (const listener of [...entry.listeners]) listener();
}

function openEntry(
  redis: RedisLike,
  channels: Map<string, ChannelEntry>,
  registryKey: string,
  channel: string,
  sharded: boolean,
  everyone: boolean,
) {
  const entry: ChannelEntry = {
    generation: 0,
    listeners: new Set(),
    refs: 0,
    ready: Promise.resolve(false),
    unsubscribe: undefined,
    removeReconnect: undefined,
    linger: undefined,
    closed: false,
  };
  entry.ready = (async () => {
    try {
      const subscriber = redis.subscriber();
      const listener = everyone ? () => wakeAll(entry) : () => wakeOne(entry);
      entry.unsubscribe = sharded
        ? await subscriber.ssubscribe(channel, listener)
        : await subscriber.subscribe(channel, listener);
      // Messages published while the subscriber was away are lost: wake everyone to retry once.
      entry.removeReconnect = subscriber.onReconnect(() => wakeAll(entry));
      if (entry.closed) closeEntry(entry);
      return true;
    } catch {
      // No pub/sub (or it failed): forget the entry so a later waiter tries again; this one polls.
      if (channels.get(registryKey) === entry) channels.delete(registryKey);
      return false;
    }
  })();
  return entry;
}

function closeEntry(entry: ChannelEntry): void {
  entry.closed = true;
  entry.removeReconnect?.();
  entry.removeReconnect = undefined;
  const unsubscribe = entry.unsubscribe;
  entry.unsubscribe = undefined;
  unsubscribe?.().catch(() => {
    // The client may be closing; nothing to undo.
  });
}

/** A waiter's view of one release channel. */
export interface WakeUpHandle {
  /** The current generation: pass it to {@link WakeUpHandle.wait} after a failed attempt. */
  readonly generation: number;
  /**
   * Resolve `'woken'` once a release arrived after `generation` (at once if one already did),
   * `'timeout'` after `ms`, `'aborted'` when `signal` aborts.
   */
  wait(
    generation: number,
    ms: number,
    signal: AbortSignal | undefined,
  ): Promise<'woken' | 'timeout' | 'aborted'>;
  /** Pass a wake-up this waiter received but will not use (it gave up) to the next waiter. */
  forward(): void;
  /** Stop waiting on this channel. Idempotent. */
  leave(): void;
}

/**
 * Join the release notifications of `channel`, resolving once subscribed; `undefined` when pub/sub is
 * not available (the caller then retries on its timer only). Never rejects.
 */
export async function joinWakeUps(
  redis: RedisLike,
  channel: string,
  sharded: boolean,
  everyone = false,
): Promise<WakeUpHandle | undefined> {
  // Wake-one and wake-all waiters of one channel keep separate subscriptions.
  const registryKey = everyone ? `*${channel}` : channel;
  let channels = registry.get(redis);
  if (channels === undefined) {
    channels = new Map();
    registry.set(redis, channels);
  }
  let entry = channels.get(registryKey);
  if (entry === undefined) {
    entry = openEntry(redis, channels, registryKey, channel, sharded, everyone);
    channels.set(registryKey, entry);
  }
  if (entry.linger !== undefined) {
    clearTimeout(entry.linger);
    entry.linger = undefined;
  }
  entry.refs++;
  const joined = entry;
  const map = channels;
  let left = false;
  const leave = () => {
    if (left) return;
    left = true;
    joined.refs--;
    if (joined.refs === 0 && !joined.closed) {
      joined.linger = setTimeout(() => {
        joined.linger = undefined;
        if (joined.refs !== 0) return;
        if (map.get(registryKey) === joined) map.delete(registryKey);
        closeEntry(joined);
      }, LINGER_MS);
      joined.linger.unref();
    }
  };
  if (!(await joined.ready)) {
    leave();
    return undefined;
  }
  return {
    get generation() {
      return joined.generation;
    },
    wait(generation, ms, signal) {
      if (joined.generation !== generation) return Promise.resolve('woken');
      if (signal?.aborted) return Promise.resolve('aborted');
      return new Promise((resolve) => {
        const done = (outcome: 'woken' | 'timeout' | 'aborted') => {
          clearTimeout(timer);
          joined.listeners.delete(onWake);
          signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        };
        const onWake = () => done('woken');
        const onAbort = () => done('aborted');
        const timer = setTimeout(() => done('timeout'), ms);
        joined.listeners.add(onWake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    forward() {
      const first = joined.listeners.values().next();
      if (!first.done) first.value();
    },
    leave,
  };
}

/** Sleep `ms`, or resolve `'aborted'` early when `signal` aborts (the no-pub/sub fallback). */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<'timeout' | 'aborted'> {
  if (signal?.aborted) return Promise.resolve('aborted');
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve('aborted');
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve('timeout');
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
