import { defineScript, type RedisScript } from '@redisotel/core-hooks';

// Every script reads the time with `TIME` (Redis' clock, never the client's) and touches only the keys
// it receives in KEYS; effects replication (the Redis 7 default) makes `TIME` safe before writes.
// Integers only cross the Lua boundary: milliseconds since the epoch fit a double exactly.
const NOW = `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`;

/** How a release notifies waiters: SPUBLISH (sharded, same slot as the key), PUBLISH, or not at all. */
export type NotifyFlavour = 'sharded' | 'plain' | 'none';

/**
 * The release scripts of one kind, one per notify flavour, so the flavour is fixed in the script instead
 * of travelling as an argument: the notifying ones publish on ARGV[2] (the channel), the silent one
 * takes only the token. `{{NOTIFY}}` in `body` marks where a successful release notifies.
 */
export type ReleaseScripts = Readonly<Record<NotifyFlavour, RedisScript>>;

function releaseScripts(name: string, body: string): ReleaseScripts {
  // One name for the three (it is the span's `db.stored_procedure.name`); their SHAs differ.
  const variant = (notify: string) => defineScript({ name, source: body.replace('{{NOTIFY}}', notify) });
  return Object.freeze({
    sharded: variant(`redis.call('SPUBLISH', ARGV[2], '1')`),
    plain: variant(`redis.call('PUBLISH', ARGV[2], '1')`),
    none: variant('-- no wake-ups'),
  });
}

/**
 * KEYS[1] lock, KEYS[2] fence counter; ARGV[1] token, ARGV[2] ttl ms.
 * → `{fencingToken, nowMs}` when acquired (`TIME` read before the `SET`, so the expiry computed from it,
 * in `parseAcquire`, is never later than Redis' own), else the holder's PTTL as a bare integer. The
 * shape is the cheapest for the client to decode: two integers, no flag element and no bulk strings
 * (each reply element costs the client's RESP parser and the adapter's normalisation more than the
 * arithmetic costs Redis). `seconds * 1000 + microseconds / 1000` is exact up to the fraction, which
 * Redis' Lua-to-integer conversion truncates: milliseconds since the epoch, as `floor` would give.
 * `SET NX` decides (one command fewer than `EXISTS` + `SET` on the uncontended path); `INCR` runs only
 * when it won.
 */
export const LOCK_ACQUIRE = defineScript({
  name: 'redisotel_lock_acquire',
  source: `local time = redis.call('TIME')
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local fence = redis.pcall('INCR', KEYS[2])
  if type(fence) == 'table' and fence.err then
    -- A foreign value in the fence key: undo the SET, so a failed acquire leaves nothing written.
    redis.call('DEL', KEYS[1])
    return fence
  end
  return {fence, time[1] * 1000 + time[2] / 1000}
end
return redis.call('PTTL', KEYS[1])`,
});

/** KEYS[1] lock; ARGV[1] token, ARGV[2] ttl ms. → `{1, expiresAt}` or `{0, now}`. */
export const LOCK_EXTEND = defineScript({
  name: 'redisotel_lock_extend',
  source: `${NOW}
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, now + tonumber(ARGV[2])}
end
return {0, now}`,
});

/** KEYS[1] lock; ARGV[1] token, ARGV[2] channel (when notifying). → 1 released, 0 not held. */
export const LOCK_RELEASE = releaseScripts(
  'redisotel_lock_release',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  {{NOTIFY}}
  return 1
end
return 0`,
);

// Semaphore: a sorted set of holder tokens scored by their expiry (ms on Redis' clock). Expired holders
// are dropped before counting; the key itself expires with its last holder.
const KEEP_UNTIL_LAST = `local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end`;

/**
 * KEYS[1] holders, KEYS[2] fence counter; ARGV[1] token, ARGV[2] ttl ms, ARGV[3] limit.
 * → `{1, fencingToken, expiresAt}` or `{0, msUntilFirstExpiry, now}`.
 */
export const SEMAPHORE_ACQUIRE = defineScript({
  name: 'redisotel_semaphore_acquire',
  source: `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  local fence = redis.call('INCR', KEYS[2])
  local expires = now + tonumber(ARGV[2])
  redis.call('ZADD', KEYS[1], expires, ARGV[1])
  ${KEEP_UNTIL_LAST}
  return {1, fence, expires}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(first[2]) - now, now}`,
});

/** KEYS[1] holders; ARGV[1] token, ARGV[2] ttl ms. → `{1, expiresAt}` or `{0, now}`. */
export const SEMAPHORE_EXTEND = defineScript({
  name: 'redisotel_semaphore_extend',
  source: `${NOW}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) > now then
  local expires = now + tonumber(ARGV[2])
  redis.call('ZADD', KEYS[1], expires, ARGV[1])
  ${KEEP_UNTIL_LAST}
  return {1, expires}
end
if score then redis.call('ZREM', KEYS[1], ARGV[1]) end
return {0, now}`,
});

/** KEYS[1] holders; ARGV[1] token, ARGV[2] channel (when notifying). → 1 released, 0 not held. */
export const SEMAPHORE_RELEASE = releaseScripts(
  'redisotel_semaphore_release',
  `${NOW}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
if tonumber(score) <= now then return 0 end
{{NOTIFY}}
return 1`,
);

// Read-write lock: the writer holds KEYS[1] (a string with PX, like a lock); readers are a sorted set
// KEYS[2] scored by expiry (like a semaphore without a limit). Extension and release reuse the lock
// scripts (writer) and the semaphore scripts (readers).

/**
 * KEYS[1] writer, KEYS[2] readers, KEYS[3] fence counter; ARGV[1] token, ARGV[2] ttl ms.
 * → `{1, fencingToken, expiresAt}` or `{0, writerPttl, now}`.
 */
export const READ_ACQUIRE = defineScript({
  name: 'redisotel_rwlock_read_acquire',
  source: `${NOW}
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('PTTL', KEYS[1]), now}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local fence = redis.call('INCR', KEYS[3])
local expires = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], expires, ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[2], last[2]) end
return {1, fence, expires}`,
});

/**
 * KEYS[1] writer, KEYS[2] readers, KEYS[3] fence counter; ARGV[1] token, ARGV[2] ttl ms.
 * → `{1, fencingToken, expiresAt}` or `{0, msUntilTheBlockerExpires, now}`.
 */
export const WRITE_ACQUIRE = defineScript({
  name: 'redisotel_rwlock_write_acquire',
  source: `${NOW}
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('PTTL', KEYS[1]), now}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) > 0 then
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  return {0, tonumber(last[2]) - now, now}
end
local fence = redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, fence, now + tonumber(ARGV[2])}`,
});
