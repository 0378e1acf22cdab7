import { defineScript, type RedisScript } from '@redisotel/core-hooks';
import type { RateLimitAlgorithm } from './types.js';

/*
 * Two scripts per algorithm: a lean one for limiters with one limit (further down) and a generic one for
 * several limits, which has this calling convention:
 *
 *   KEYS = [state key of limit 1, …, state key of limit n, block key]
 *   ARGV = [mode, cost, blockMs, n, limit1, windowMs1, burst1, …, limitN, windowMsN, burstN]
 *   mode: 1 consume, 2 peek (cost 1, writes nothing), 3 penalty (add cost), 4 reward (give back cost)
 *
 * Reply: [allowed, blocked, remaining1, resetAfterMs1, retryAfterMs1, …] with blocked = 0 (no block),
 * 1 (the key was already blocked) or 2 (this denied consume started a block of blockMs); a retry of -1
 * means the cost can never be admitted by that limit.
 *
 * Time is Redis' own: `TIME` once per call, in milliseconds with microsecond precision. Each algorithm
 * defines load(i) (read the state of limit i), need(i, c) (0 when c units fit now, else the wait in ms,
 * -1 when never), apply(i, c) (add c units, c < 0 gives back, and persist) and report(i) (remaining,
 * resetAfterMs). A consume checks every limit first and writes only when all admit: all-or-nothing.
 * Lua numbers are formatted explicitly (`%.17g`), never through Lua's default 14-digit conversion,
 * which would round millisecond timestamps.
 */

const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local mode = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local block_ms = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local L, W, B = {}, {}, {}
for i = 1, n do
  L[i] = tonumber(ARGV[2 + 3 * i])
  W[i] = tonumber(ARGV[3 + 3 * i])
  B[i] = tonumber(ARGV[4 + 3 * i])
end
local function fmt(x) return string.format('%.17g', x) end
`;

// Parsers of the compact string states, shared by the single-limit and multi-limit scripts.
const PARSERS = `
local function parse_window(v)
  if not v then return nil, 0, 0 end
  local a = string.find(v, ':', 1, true)
  local b = string.find(v, ':', a + 1, true)
  return tonumber(string.sub(v, 1, a - 1)), tonumber(string.sub(v, a + 1, b - 1)), tonumber(string.sub(v, b + 1))
end
local function parse_bucket(v)
  if not v then return nil, 0 end
  local a = string.find(v, ':', 1, true)
  return tonumber(string.sub(v, 1, a - 1)), tonumber(string.sub(v, a + 1))
end
`;

// Sliding log, shared by the single- and multi-limit scripts: add n entries at `now` to log k (members
// are sequence numbers from the '#' counter, in ZADD runs of at most 500) and expire it after ms.
// Needs `fmt` and `now`.
const LOG_ADD = `
local function log_add(k, n, ms)
  local last = -tonumber(redis.call('ZINCRBY', k, -n, '#'))
  local score = fmt(now)
  local first = last - n + 1
  while first <= last do
    local chunk = math.min(last, first + 499)
    local args = {}
    for m = first, chunk do
      args[#args + 1] = score
      args[#args + 1] = string.format('%d', m)
    end
    redis.call('ZADD', k, unpack(args))
    first = chunk + 1
  end
  redis.call('PEXPIRE', k, math.ceil(ms))
end
`;

const DRIVER = `
if mode <= 2 then
  local bttl = redis.call('PTTL', KEYS[n + 1])
  if bttl > 0 then
    local out = {0, 1}
    for i = 1, n do
      out[3 * i] = 0
      out[3 * i + 1] = bttl
      out[3 * i + 2] = bttl
    end
    return out
  end
end
for i = 1, n do load(i) end
local allowed, blocked = 1, 0
local retry = {}
if mode <= 2 then
  local impossible = false
  for i = 1, n do
    local w = need(i, cost)
    if w ~= 0 then
      allowed = 0
      if w < 0 then impossible = true end
    end
    retry[i] = w
  end
  if mode == 1 then
    if allowed == 1 then
      if cost > 0 then
        for i = 1, n do apply(i, cost) end
      end
    elseif block_ms > 0 and not impossible then
      redis.call('SET', KEYS[n + 1], '1', 'PX', block_ms)
      blocked = 2
    end
  end
else
  local delta = cost
  if mode == 4 then delta = -cost end
  for i = 1, n do apply(i, delta) end
  for i = 1, n do
    local w = need(i, 1)
    if w ~= 0 then allowed = 0 end
    retry[i] = w
  end
end
local out = {allowed, blocked}
for i = 1, n do
  local remaining, reset = report(i)
  local w = retry[i]
  if w > 0 then w = math.max(1, math.ceil(w - 1e-6)) end
  if reset > 0 then reset = math.max(1, math.ceil(reset - 1e-6)) else reset = 0 end
  out[3 * i] = math.max(0, math.floor(remaining))
  out[3 * i + 1] = reset
  out[3 * i + 2] = w
end
return out
`;

// A counter that starts at the first admitted unit and expires windowMs later (Redis' expiry clock).
const FIXED_WINDOW = `
local C, TTL = {}, {}
local function load(i)
  local v = redis.call('GET', KEYS[i])
  if v then
    C[i] = tonumber(v) or 0
    local p = redis.call('PTTL', KEYS[i])
    if p < 0 then p = -1 end
    TTL[i] = p
  else
    C[i] = 0
    TTL[i] = -2
  end
end
local function need(i, c)
  if c > L[i] then return -1 end
  if C[i] + c <= L[i] then return 0 end
  if TTL[i] > 0 then return TTL[i] end
  return W[i]
end
local function apply(i, c)
  local v = C[i] + c
  if v < 0 then v = 0 end
  if TTL[i] == -2 then
    if v > 0 then
      redis.call('SET', KEYS[i], v, 'PX', W[i])
      TTL[i] = W[i]
    end
  elseif TTL[i] == -1 then
    redis.call('SET', KEYS[i], v, 'PX', W[i])
    TTL[i] = W[i]
  else
    redis.call('SET', KEYS[i], v, 'KEEPTTL')
  end
  C[i] = v
end
local function report(i)
  local reset = 0
  if C[i] > 0 then
    if TTL[i] > 0 then reset = TTL[i] else reset = W[i] end
  end
  return L[i] - C[i], reset
end
`;

// Two counters in one string "window:current:previous": the current aligned window and the previous one,
// weighted by how much of the previous window still overlaps the sliding window that ends now.
const SLIDING_WINDOW = `
local CW, CUR, PREV, EL, EX = {}, {}, {}, {}, {}
local function load(i)
  local w = W[i]
  local cw = math.floor(now / w)
  local sw, c, p = parse_window(redis.call('GET', KEYS[i]))
  if sw == nil then
    c, p = 0, 0
  elseif sw ~= cw then
    if sw == cw - 1 then p = c else p = 0 end
    c = 0
  end
  CW[i], CUR[i], PREV[i], EL[i], EX[i] = cw, c, p, now - cw * w, sw ~= nil
end
local function used(i)
  return PREV[i] * (1 - EL[i] / W[i]) + CUR[i]
end
local function need(i, c)
  local l, w = L[i], W[i]
  if c > l then return -1 end
  if used(i) + c <= l then return 0 end
  if CUR[i] + c <= l then
    return w * (1 - (l - CUR[i] - c) / PREV[i]) - EL[i]
  end
  local e = w * (1 - (l - c) / CUR[i])
  if e < 0 then e = 0 end
  return w - EL[i] + e
end
local function apply(i, c)
  local cur, p = CUR[i] + c, PREV[i]
  if cur < 0 then
    p = p + cur
    if p < 0 then p = 0 end
    cur = 0
  end
  CUR[i], PREV[i] = cur, p
  if cur == 0 and p == 0 then
    if EX[i] then redis.call('DEL', KEYS[i]) end
    return
  end
  redis.call('SET', KEYS[i], string.format('%d:%d:%d', CW[i], cur, p), 'PX', math.ceil(2 * W[i] - EL[i]))
end
local function report(i)
  local reset = 0
  if CUR[i] > 0 then reset = 2 * W[i] - EL[i] elseif PREV[i] > 0 then reset = W[i] - EL[i] end
  return math.floor(L[i] - used(i) + 1e-9), reset
end
`;

// Exact: one sorted-set entry per admitted unit, scored by its time. The member '#' holds a sequence
// (as a negative score, outside every time range) that makes entry names unique.
const SLIDING_LOG = `
local CNT, NEWEST = {}, {}
local function cutoff(i) return '(' .. fmt(now - W[i]) end
local function load(i)
  if mode == 2 then
    CNT[i] = redis.call('ZCOUNT', KEYS[i], cutoff(i), '+inf')
  else
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, fmt(now - W[i]))
    local card = redis.call('ZCARD', KEYS[i])
    if card > 0 then CNT[i] = card - 1 else CNT[i] = 0 end
  end
end
local function need(i, c)
  if c > L[i] then return -1 end
  local k = CNT[i] + c - L[i]
  if k <= 0 then return 0 end
  local e = redis.call('ZRANGE', KEYS[i], cutoff(i), '+inf', 'BYSCORE', 'LIMIT', k - 1, 1, 'WITHSCORES')
  if e[2] == nil then return W[i] end
  return tonumber(e[2]) + W[i] - now
end
${LOG_ADD}local function apply(i, c)
  if c > L[i] then c = L[i] end -- a penalty past the limit: more entries at one instant change nothing
  if c > 0 then
    log_add(KEYS[i], c, W[i])
    CNT[i] = CNT[i] + c
    NEWEST[i] = now
  elseif c < 0 then
    local k = math.min(-c, CNT[i])
    if k > 0 then
      redis.call('ZPOPMAX', KEYS[i], k)
      CNT[i] = CNT[i] - k
    end
    NEWEST[i] = nil
  end
end
local function report(i)
  local reset = 0
  if CNT[i] > 0 then
    local newest = NEWEST[i]
    if newest == nil then
      local e = redis.call('ZRANGE', KEYS[i], '+inf', cutoff(i), 'BYSCORE', 'REV', 'LIMIT', 0, 1, 'WITHSCORES')
      if e[2] ~= nil then newest = tonumber(e[2]) else newest = now end
    end
    reset = newest + W[i] - now
  end
  return L[i] - CNT[i], reset
end
`;

// Tokens and the time they were counted in one string "tokens:time"; refilled at limit / windowMs per
// ms up to burst. A full bucket is no state at all: the key expires when it would be full.
const TOKEN_BUCKET = `
local TK, EX = {}, {}
local function rate(i) return L[i] / W[i] end
local function load(i)
  local tk, u = parse_bucket(redis.call('GET', KEYS[i]))
  EX[i] = tk ~= nil
  if tk == nil then
    tk = B[i]
  else
    local el = now - u
    if el < 0 then el = 0 end
    tk = math.min(B[i], tk + el * rate(i))
  end
  TK[i] = tk
end
local function need(i, c)
  if c > B[i] then return -1 end
  if TK[i] + 1e-9 >= c then return 0 end
  return (c - TK[i]) / rate(i)
end
local function apply(i, c)
  local tk = TK[i] - c
  if tk > B[i] then tk = B[i] end
  TK[i] = tk
  if tk >= B[i] then
    if EX[i] then redis.call('DEL', KEYS[i]) end
    return
  end
  redis.call('SET', KEYS[i], string.format('%.17g:%.17g', tk, now), 'PX', math.max(1, math.ceil((B[i] - tk) / rate(i))))
  EX[i] = true
end
local function report(i)
  local reset = 0
  if TK[i] < B[i] then reset = (B[i] - TK[i]) / rate(i) end
  return math.floor(TK[i] + 1e-9), reset
end
`;

// The theoretical arrival time (TAT) of the next request, one string per key. Requests are spaced
// T = windowMs / limit apart; up to burst of them may arrive at once (tolerance burst × T).
const GCRA = `
local TAT, EX = {}, {}
local function period(i) return W[i] / L[i] end
local function load(i)
  local v = redis.call('GET', KEYS[i])
  local tat = tonumber(v)
  EX[i] = tat ~= nil
  if tat == nil or tat < now then tat = now end
  TAT[i] = tat
end
local function need(i, c)
  if c > B[i] then return -1 end
  local allow_at = TAT[i] + c * period(i) - B[i] * period(i)
  if allow_at <= now + 1e-6 then return 0 end
  return allow_at - now
end
local function apply(i, c)
  local tat = TAT[i] + c * period(i)
  if tat < now then tat = now end
  TAT[i] = tat
  if tat - now < 1e-3 then
    if EX[i] then redis.call('DEL', KEYS[i]) end
    return
  end
  redis.call('SET', KEYS[i], fmt(tat), 'PX', math.max(1, math.ceil(tat - now)))
  EX[i] = true
end
local function report(i)
  local T = period(i)
  local remaining = math.floor((B[i] * T - (TAT[i] - now)) / T + 1e-9)
  if remaining > B[i] then remaining = B[i] end
  return remaining, TAT[i] - now
end
`;

// Single-limit scripts, written out without the generic driver's tables and closures (most limiters
// have one limit, and every microsecond inside Redis is a microsecond for every client).
// KEYS = [state, block]; ARGV = [limit, windowMs, blockMs, burst, mode, cost], where trailing arguments
// at their defaults may be left out (blockMs 0, burst = limit, a consume of 1): the common call of a
// limiter without block or burst sends just [limit, windowMs], fewer arguments to send and to parse.
// Reply: the generic [allowed, blocked, remaining, resetAfterMs, retryAfterMs], or just
// [remaining, resetAfterMs] from the fast path of an admitted consume.
const SINGLE_ARGS = `
local limit = tonumber(ARGV[1])
local block_ms, burst, mode, cost = 0, limit, 1, 1
if ARGV[3] then
  block_ms = tonumber(ARGV[3])
  if ARGV[4] then
    burst = tonumber(ARGV[4])
    if ARGV[5] then
      mode = tonumber(ARGV[5])
      cost = tonumber(ARGV[6])
    end
  end
end
local key = KEYS[1]
`;

// A blocked key answers a consume or a peek before its state is read.
const BLOCK_CHECK = `
if mode <= 2 then
  local bttl = redis.call('PTTL', KEYS[2])
  if bttl > 0 then return {0, 1, 0, bttl, bttl} end
end
`;

const SINGLE_PRELUDE = `${SINGLE_ARGS}${BLOCK_CHECK}`;

// Helpers of the single-limit scripts, defined after each script's fast path so that the common case
// creates no closures.
const SINGLE_HELPERS = `
local function fmt(x) return string.format('%.17g', x) end
${PARSERS}local window = tonumber(ARGV[2])
local function up(x)
  if x > 0 then return math.max(1, math.ceil(x - 1e-6)) end
  return 0
end
local function deny(remaining, reset, wait)
  local blocked = 0
  if mode == 1 and block_ms > 0 and wait > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block_ms)
    blocked = 2
  end
  return {0, blocked, math.max(0, math.floor(remaining)), up(reset), wait}
end
`;

/**
 * The mark of a blocked single-limit fixed window, added to its counter (2^50: far above any count, as
 * limits stop at 10^9, and exact in a Lua number). A blocked key's counter is then always over the
 * limit, so the consume fast path needs no read of the block key: it looks at the block key only when
 * the count is over the limit, and drops the mark once the block is over. The counter lives at least as
 * long as the block it marks.
 */
const BLOCK_MARK = '1125899906842624';

// Fixed window, one limit: INCRBY first and undo on denial, so an admitted request costs INCRBY + PTTL.
const FIXED_WINDOW_SINGLE = `
if mode == 1 and cost > 0 and cost <= limit then
  local v = redis.call('INCRBY', key, cost)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then
    ttl = tonumber(ARGV[2])
    redis.call('PEXPIRE', key, ttl)
  end
  if v <= limit then return {limit - v, ttl} end
  if v >= ${BLOCK_MARK} then
    local bttl = redis.call('PTTL', KEYS[2])
    if bttl > 0 then
      redis.call('DECRBY', key, cost)
      return {0, 1, 0, bttl, bttl}
    end
    -- The block is over: drop its mark and decide on the count.
    v = redis.call('DECRBY', key, '${BLOCK_MARK}')
    if v <= limit then return {limit - v, ttl} end
  end
  local blocked = 0
  if block_ms > 0 then
    redis.call('SET', KEYS[2], '1', 'PX', block_ms)
    -- Undo the cost and mark the counter in one write; the mark lives at least as long as the block.
    v = redis.call('INCRBY', key, string.format('%d', ${BLOCK_MARK} - cost)) - ${BLOCK_MARK}
    if ttl < block_ms then redis.call('PEXPIRE', key, block_ms) end
    blocked = 2
  else
    v = redis.call('DECRBY', key, cost)
  end
  return {0, blocked, math.max(0, limit - v), ttl, ttl}
end
${BLOCK_CHECK}${SINGLE_HELPERS}
local v = redis.call('GET', key)
local ttl = -2
local mark = 0
if v then
  v = tonumber(v) or 0
  if v >= ${BLOCK_MARK} then
    mark = ${BLOCK_MARK}
    v = v - mark
  end
  ttl = redis.call('PTTL', key)
else
  v = 0
end
if mode == 3 then
  -- Counts stop at 2^49, well clear of the block mark.
  local add = math.max(0, math.min(cost, 562949953421312 - v))
  if ttl == -2 then
    redis.call('SET', key, add, 'PX', window)
    ttl = window
  else
    redis.call('INCRBY', key, add)
    if ttl < 0 then redis.call('PEXPIRE', key, window); ttl = window end
  end
  v = v + add
elseif mode == 4 then
  if ttl ~= -2 then
    v = math.max(0, v - cost)
    redis.call('SET', key, string.format('%d', v + mark), 'KEEPTTL')
  end
end
if ttl < 0 then ttl = window end
local reset = 0
if v > 0 then reset = ttl end
local c = cost
if mode >= 3 then c = 1 end
if c > limit then return {0, 0, math.max(0, limit - v), reset, -1} end
if v + c > limit then
  if mode >= 3 then return {0, 0, math.max(0, limit - v), reset, ttl} end
  local out = deny(limit - v, reset, ttl)
  if out[2] == 2 then
    if mark == 0 then redis.call('INCRBY', key, '${BLOCK_MARK}') end
    if redis.call('PTTL', key) < block_ms then redis.call('PEXPIRE', key, block_ms) end
  end
  return out
end
return {1, 0, limit - v, reset, 0}
`;

const SLIDING_WINDOW_SINGLE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local window = tonumber(ARGV[2])
local cw = math.floor(now / window)
local v = redis.call('GET', key)
local sw, c, p = nil, 0, 0
if v then
  local a = string.find(v, ':', 1, true)
  local b = string.find(v, ':', a + 1, true)
  sw = tonumber(string.sub(v, 1, a - 1))
  c = tonumber(string.sub(v, a + 1, b - 1))
  p = tonumber(string.sub(v, b + 1))
end
if sw == nil then
  c, p = 0, 0
elseif sw ~= cw then
  if sw == cw - 1 then p = c else p = 0 end
  c = 0
end
local el = now - cw * window
local weight = 1 - el / window
if mode == 1 and cost > 0 and p * weight + c + cost <= limit then
  c = c + cost
  local reset = math.max(1, math.ceil(2 * window - el - 1e-6))
  if sw == cw then
    -- Same window: the key already expires at the end of the next window (set by the write that
    -- started this window), so keep that TTL; SET … PX costs twice a plain SET inside Redis.
    redis.call('SET', key, string.format('%d:%d:%d', cw, c, p), 'KEEPTTL')
  else
    redis.call('SET', key, string.format('%d:%d:%d', cw, c, p), 'PX', reset)
  end
  return {math.max(0, math.floor(limit - p * weight - c + 1e-9)), reset}
end
${SINGLE_HELPERS}
local function write()
  if c == 0 and p == 0 then
    if v then redis.call('DEL', key) end
  elseif sw == cw then
    redis.call('SET', key, string.format('%d:%d:%d', cw, c, p), 'KEEPTTL')
  else
    redis.call('SET', key, string.format('%d:%d:%d', cw, c, p), 'PX', math.ceil(2 * window - el))
  end
end
local function reset()
  if c > 0 then return 2 * window - el elseif p > 0 then return window - el end
  return 0
end
local function need(n)
  if n > limit then return -1 end
  if p * weight + c + n <= limit then return 0 end
  if c + n <= limit then return up(window * (1 - (limit - c - n) / p) - el) end
  local e = window * (1 - (limit - n) / c)
  if e < 0 then e = 0 end
  return up(window - el + e)
end
if mode >= 3 then
  if mode == 3 then
    c = c + cost
  else
    c = c - cost
    if c < 0 then
      p = math.max(0, p + c)
      c = 0
    end
  end
  write()
  local w = need(1)
  local ok = 1
  if w ~= 0 then ok = 0 end
  return {ok, 0, math.max(0, math.floor(limit - p * weight - c + 1e-9)), up(reset()), w}
end
local w = need(cost)
if w ~= 0 then
  if w < 0 then return {0, 0, math.max(0, math.floor(limit - p * weight - c + 1e-9)), up(reset()), -1} end
  return deny(limit - p * weight - c + 1e-9, reset(), w)
end
if mode == 1 and cost > 0 then
  c = c + cost
  write()
end
return {1, 0, math.max(0, math.floor(limit - p * weight - c + 1e-9)), up(reset()), 0}
`;

const TOKEN_BUCKET_SINGLE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local capacity = burst
local rate = limit / tonumber(ARGV[2])
local v = redis.call('GET', key)
local tk = capacity
if v then
  local a = string.find(v, ':', 1, true)
  local el = now - tonumber(string.sub(v, a + 1))
  if el < 0 then el = 0 end
  tk = math.min(capacity, tonumber(string.sub(v, 1, a - 1)) + el * rate)
end
if mode == 1 and cost > 0 and cost <= capacity and tk + 1e-9 >= cost then
  tk = tk - cost
  local reset = math.max(1, math.ceil((capacity - tk) / rate - 1e-6))
  -- When a consume moves the full time by less than a millisecond (cost < rate per ms), the TTL that
  -- the last write rounded up to whole milliseconds often still covers it: then keep it.
  if v and cost < rate and redis.call('PTTL', key) >= reset then
    redis.call('SET', key, string.format('%.17g:%.17g', tk, now), 'KEEPTTL')
  else
    redis.call('SET', key, string.format('%.17g:%.17g', tk, now), 'PX', reset)
  end
  return {math.max(0, math.floor(tk + 1e-9)), reset}
end
${SINGLE_HELPERS}
local function write()
  if tk >= burst then
    if v then redis.call('DEL', key) end
  else
    redis.call('SET', key, string.format('%.17g:%.17g', tk, now), 'PX', math.max(1, math.ceil((burst - tk) / rate)))
  end
end
local function reset()
  if tk < burst then return (burst - tk) / rate end
  return 0
end
local function need(n)
  if n > burst then return -1 end
  if tk + 1e-9 >= n then return 0 end
  return up((n - tk) / rate)
end
if mode >= 3 then
  if mode == 3 then tk = tk - cost else tk = math.min(burst, tk + cost) end
  write()
  local w = need(1)
  local ok = 1
  if w ~= 0 then ok = 0 end
  return {ok, 0, math.max(0, math.floor(tk + 1e-9)), up(reset()), w}
end
local w = need(cost)
if w ~= 0 then
  if w < 0 then return {0, 0, math.max(0, math.floor(tk + 1e-9)), up(reset()), -1} end
  return deny(tk + 1e-9, reset(), w)
end
if mode == 1 and cost > 0 then
  tk = tk - cost
  write()
end
return {1, 0, math.max(0, math.floor(tk + 1e-9)), up(reset()), 0}
`;

const GCRA_SINGLE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local T = tonumber(ARGV[2]) / limit
local tau = burst * T
local v = redis.call('GET', key)
local tat = tonumber(v)
if tat == nil or tat < now then tat = now end
if mode == 1 and cost > 0 and cost * T <= tau then
  local next_tat = tat + cost * T
  if next_tat - tau <= now + 1e-6 then
    local reset = math.max(1, math.ceil(next_tat - now - 1e-6))
    -- As in the token bucket: keep a TTL that already covers the new TAT (spacing under 1 ms only).
    if v and cost * T < 1 and redis.call('PTTL', key) >= reset then
      redis.call('SET', key, string.format('%.17g', next_tat), 'KEEPTTL')
    else
      redis.call('SET', key, string.format('%.17g', next_tat), 'PX', reset)
    end
    local r = math.floor((tau - (next_tat - now)) / T + 1e-9)
    if r < 0 then r = 0 end
    return {r, reset}
  end
end
${SINGLE_HELPERS}
local function remaining()
  local r = math.floor((tau - (tat - now)) / T + 1e-9)
  if r > burst then r = burst end
  return math.max(0, r)
end
local function write()
  if tat - now < 1e-3 then
    if v then redis.call('DEL', key) end
  else
    redis.call('SET', key, fmt(tat), 'PX', math.max(1, math.ceil(tat - now)))
  end
end
local function need(n)
  if n > burst then return -1 end
  local allow_at = tat + n * T - tau
  if allow_at <= now + 1e-6 then return 0 end
  return up(allow_at - now)
end
if mode >= 3 then
  if mode == 3 then tat = tat + cost * T else tat = math.max(now, tat - cost * T) end
  write()
  local w = need(1)
  local ok = 1
  if w ~= 0 then ok = 0 end
  return {ok, 0, remaining(), up(tat - now), w}
end
local w = need(cost)
if w ~= 0 then
  if w < 0 then return {0, 0, remaining(), up(tat - now), -1} end
  return deny(remaining(), tat - now, w)
end
if mode == 1 and cost > 0 then
  tat = tat + cost * T
  write()
end
return {1, 0, remaining(), up(tat - now), 0}
`;

// Sliding log, one limit: an admitted consume of 1 (the common call) adds its entry before any helper
// exists, with the same commands as add(1).
const SLIDING_LOG_SINGLE = `
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local window = tonumber(ARGV[2])
local count
if mode == 2 then
  count = redis.call('ZCOUNT', key, '(' .. string.format('%.17g', now - window), '+inf')
else
  redis.call('ZREMRANGEBYSCORE', key, 0, string.format('%.17g', now - window))
  count = redis.call('ZCARD', key)
  if count > 0 then count = count - 1 end
  if mode == 1 and cost == 1 and count < limit then
    local m = -tonumber(redis.call('ZINCRBY', key, -1, '#'))
    redis.call('ZADD', key, string.format('%.17g', now), string.format('%d', m))
    redis.call('PEXPIRE', key, math.ceil(window))
    local reset = now + window - now
    if reset > 0 then reset = math.max(1, math.ceil(reset - 1e-6)) else reset = 0 end
    return {limit - count - 1, reset}
  end
end
${SINGLE_HELPERS}
local cutoff = '(' .. fmt(now - window)
local newest = nil
${LOG_ADD}local function add(n)
  log_add(key, n, window)
  count = count + n
  newest = now
end
local function reset()
  if count <= 0 then return 0 end
  if newest == nil then
    local e = redis.call('ZRANGE', key, '+inf', cutoff, 'BYSCORE', 'REV', 'LIMIT', 0, 1, 'WITHSCORES')
    if e[2] ~= nil then newest = tonumber(e[2]) else newest = now end
  end
  return newest + window - now
end
local function need(n)
  if n > limit then return -1 end
  local k = count + n - limit
  if k <= 0 then return 0 end
  local e = redis.call('ZRANGE', key, cutoff, '+inf', 'BYSCORE', 'LIMIT', k - 1, 1, 'WITHSCORES')
  if e[2] == nil then return window end
  return up(tonumber(e[2]) + window - now)
end
if mode >= 3 then
  if mode == 3 then
    -- Past the limit, more entries at the same instant change nothing: add at most limit of them.
    if cost > 0 then add(math.min(cost, limit)) end
  else
    local k = math.min(cost, count)
    if k > 0 then
      redis.call('ZPOPMAX', key, k)
      count = count - k
    end
  end
  local w = need(1)
  local ok = 1
  if w ~= 0 then ok = 0 end
  return {ok, 0, math.max(0, limit - count), up(reset()), w}
end
local w = need(cost)
if w ~= 0 then
  if w < 0 then return {0, 0, math.max(0, limit - count), up(reset()), -1} end
  return deny(limit - count, reset(), w)
end
if mode == 1 and cost > 0 then add(cost) end
return {1, 0, math.max(0, limit - count), up(reset()), 0}
`;

const BODIES: Record<RateLimitAlgorithm, string> = {
  'fixed-window': FIXED_WINDOW,
  'sliding-window': SLIDING_WINDOW,
  'sliding-log': SLIDING_LOG,
  'token-bucket': TOKEN_BUCKET,
  gcra: GCRA,
};

const SINGLE_BODIES: Record<RateLimitAlgorithm, string> = {
  'fixed-window': FIXED_WINDOW_SINGLE,
  'sliding-window': SLIDING_WINDOW_SINGLE,
  'sliding-log': SLIDING_LOG_SINGLE,
  'token-bucket': TOKEN_BUCKET_SINGLE,
  gcra: GCRA_SINGLE,
};

function scriptsOf(make: (algorithm: RateLimitAlgorithm) => { name: string; source: string }) {
  return Object.freeze(
    Object.fromEntries(
      (Object.keys(BODIES) as RateLimitAlgorithm[]).map((algorithm) => [
        algorithm,
        defineScript(make(algorithm)),
      ]),
    ) as Record<RateLimitAlgorithm, RedisScript>,
  );
}

/** The multi-limit script of each algorithm (any number of limits), SHA computed once. */
export const MULTI_SCRIPTS: Readonly<Record<RateLimitAlgorithm, RedisScript>> = scriptsOf((algorithm) => ({
  name: `ratelimit_${algorithm.replace('-', '_')}_multi`,
  source: `${PRELUDE}${PARSERS}${BODIES[algorithm]}${DRIVER}`,
}));

/** The single-limit script of each algorithm, SHA computed once. */
export const SINGLE_SCRIPTS: Readonly<Record<RateLimitAlgorithm, RedisScript>> = scriptsOf((algorithm) => ({
  name: `ratelimit_${algorithm.replace('-', '_')}`,
  source:
    algorithm === 'fixed-window'
      ? `${SINGLE_ARGS}${FIXED_WINDOW_SINGLE}`
      : `${SINGLE_PRELUDE}${SINGLE_BODIES[algorithm]}`,
}));

/**
 * `block()` of a single-limit fixed window: KEYS[1] state, KEYS[2] block; ARGV[1] ms. Sets the block and
 * marks the counter (see {@link BLOCK_MARK}), so the consume fast path sees it.
 */
export const FIXED_WINDOW_BLOCK = defineScript({
  name: 'ratelimit_fixed_window_block',
  source: `redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
local v = redis.call('GET', KEYS[1])
if not v or (tonumber(v) or 0) < ${BLOCK_MARK} then redis.call('INCRBY', KEYS[1], '${BLOCK_MARK}') end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1`,
});

/** The script modes (ARGV[1] of the multi-limit scripts, ARGV[5] of the single-limit ones). */
export const MODE = { consume: 1, peek: 2, penalty: 3, reward: 4 } as const;

/** The short code of each algorithm in key names. */
export const KEY_CODES: Readonly<Record<RateLimitAlgorithm, string>> = {
  'fixed-window': 'fw',
  'sliding-window': 'sw',
  'sliding-log': 'sl',
  'token-bucket': 'tb',
  gcra: 'gcra',
};
