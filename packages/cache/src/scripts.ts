import { defineScript } from '@redisotel/core-hooks';

// Entry format (a Redis string):
//   "~rc1 <createdAtMicroseconds> <ttlMs> <staleMs> <tags joined by U+001F>\n<payload>"
// with a physical expiry (PX) of ttlMs + staleMs. createdAt comes from the server clock (TIME) of the node
// that stores the entry. Freshness is decided on that node's clock only: by the key's own expiry when the
// entry has no stale window (it exists ⇔ it is fresh, so a plain GET can serve it), else by TIME in the
// same script. No client clock is ever involved.

/** Shared Lua: the server time in microseconds, and whether a raw entry is fresh at that time. */
const FRESH = `
local function is_fresh(raw, now)
  if not raw then return false end
  local created, ttl = string.match(raw, '^~rc1 (%d+) (%d+) ')
  if not created then return false end
  return now < tonumber(created) + tonumber(ttl) * 1000
end
`;

/**
 * Read one entry. KEYS[1] = value key, KEYS[2] = lease key (distributed mode only).
 * ARGV[1] = lease mode: '0' never, '1' when the entry is missing/stale/foreign, '2' always;
 * ARGV[2] = lease token; ARGV[3] = lease duration in ms.
 * Returns one bulk string (one reply element keeps client-side decoding cheap on the hit path):
 * "<seconds> <microseconds> <lease> " then '-' (no value), '!' (a value of another type) or '=' and
 * the raw entry; lease is 0 (not tried), 1 (acquired) or -PTTL (held by another process).
 */
export const READ_SCRIPT = defineScript({
  name: 'cache_read',
  source: `${FRESH}
local t = redis.call('TIME')
local raw = redis.pcall('GET', KEYS[1])
local foreign = type(raw) == 'table'
if foreign then raw = false end
local lease = 0
if ARGV[1] ~= '0' and KEYS[2] then
  local need = ARGV[1] == '2'
  if not need then
    need = not is_fresh(raw, tonumber(t[1]) * 1000000 + tonumber(t[2]))
  end
  if need then
    if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
      lease = 1
    else
      local pttl = redis.call('PTTL', KEYS[2])
      if pttl < 1 then pttl = 1 end
      lease = -pttl
    end
  end
end
local head = t[1] .. ' ' .. t[2] .. ' ' .. lease .. ' '
if raw then return head .. '=' .. raw end
if foreign then return head .. '!' end
return head .. '-'
`,
});

/**
 * Read many entries of one slot. KEYS = value keys. Returns { seconds, microseconds, raw1, raw2, … }
 * with false (nil) for a missing key and '~foreign' for a key of another type.
 */
export const READ_MANY_SCRIPT = defineScript({
  name: 'cache_read_many',
  readOnly: true,
  source: `
local t = redis.call('TIME')
local out = { t[1], t[2] }
for i = 1, #KEYS do
  local raw = redis.pcall('GET', KEYS[i])
  if type(raw) == 'table' then raw = '~foreign' end
  out[i + 2] = raw
end
return out
`,
});

/**
 * Write one entry. KEYS[1] = value key, KEYS[2] = lease key (optional).
 * ARGV[1] = payload, ARGV[2] = ttl ms (fresh), ARGV[3] = physical ttl ms (fresh + stale),
 * ARGV[4] = tags, ARGV[5] = lease token to release ('' none), ARGV[6] = channel ('' none),
 * ARGV[7] = message. Returns the entry's createdAt (µs, as text).
 */
export const WRITE_SCRIPT = defineScript({
  name: 'cache_write',
  source: `
local t = redis.call('TIME')
local created = t[1] .. string.format('%06d', tonumber(t[2]))
local stale = tonumber(ARGV[3]) - tonumber(ARGV[2])
redis.call('SET', KEYS[1], '~rc1 ' .. created .. ' ' .. ARGV[2] .. ' ' .. stale .. ' ' .. ARGV[4] .. '\\n' .. ARGV[1], 'PX', ARGV[3])
if ARGV[5] ~= '' and KEYS[2] and redis.call('GET', KEYS[2]) == ARGV[5] then
  redis.call('DEL', KEYS[2])
end
if ARGV[6] ~= '' then redis.call('PUBLISH', ARGV[6], ARGV[7]) end
return created
`,
});

/**
 * Write many entries of one slot. KEYS = value keys. ARGV[1] = channel ('' none), ARGV[2] = message,
 * then per key: payload, ttl ms, physical ttl ms, tags. Returns the number written.
 */
export const WRITE_MANY_SCRIPT = defineScript({
  name: 'cache_write_many',
  source: `
local t = redis.call('TIME')
local created = t[1] .. string.format('%06d', tonumber(t[2]))
for i = 1, #KEYS do
  local a = 2 + (i - 1) * 4
  local stale = tonumber(ARGV[a + 3]) - tonumber(ARGV[a + 2])
  redis.call('SET', KEYS[i], '~rc1 ' .. created .. ' ' .. ARGV[a + 2] .. ' ' .. stale .. ' ' .. ARGV[a + 4] .. '\\n' .. ARGV[a + 1], 'PX', ARGV[a + 3])
end
if ARGV[1] ~= '' then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return #KEYS
`,
});

/**
 * Delete keys of one slot and announce it. KEYS = value keys. ARGV[1] = channel ('' none),
 * ARGV[2] = message. Returns the number of keys removed.
 */
export const DELETE_SCRIPT = defineScript({
  name: 'cache_delete',
  source: `
local n = redis.call('DEL', unpack(KEYS))
if ARGV[1] ~= '' then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return n
`,
});

/**
 * Release a lease after a failed load, if still ours, and wake the waiters.
 * KEYS[1] = lease key. ARGV[1] = token, ARGV[2] = channel ('' none), ARGV[3] = message.
 */
export const RELEASE_SCRIPT = defineScript({
  name: 'cache_release',
  source: `
local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  released = 1
end
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return released
`,
});

/**
 * Invalidate tags: record the server time (µs) as each tag's invalidation time. KEYS = tag keys
 * (all in one slot by construction). ARGV[1] = channel ('' none), ARGV[2] = message.
 */
export const INVALIDATE_TAGS_SCRIPT = defineScript({
  name: 'cache_invalidate_tags',
  source: `
local t = redis.call('TIME')
local now = t[1] .. string.format('%06d', tonumber(t[2]))
for i = 1, #KEYS do redis.call('SET', KEYS[i], now) end
if ARGV[1] ~= '' then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return now
`,
});
