import type { Mode, RawLimitState, RawResult } from './internal-types.js';
import type { RateLimitAlgorithm, RateLimitRule } from './types.js';

/**
 * The in-memory limiter behind `onRedisError: 'local'`: the same algorithms as the Lua scripts, with
 * the same modes and the same answer shape, on this process's monotonic clock. It only ever sees the
 * traffic of this process while Redis is failing.
 */
export interface LocalLimiter {
  run(key: string, mode: Mode, cost: number, blockDurationMs: number): RawResult;
  block(key: string, durationMs: number): void;
  reset(key: string): void;
  /** Keys held (for tests). */
  readonly size: number;
}

interface LimitState {
  /** Bring the state to `now`; return whether anything remains to remember. */
  load(now: number): void;
  need(cost: number): number;
  apply(delta: number): void;
  report(): [remaining: number, resetAfterMs: number];
}

interface Entry {
  blockedUntil: number;
  limits: LimitState[];
}

type Rule = Required<RateLimitRule>;

class FixedWindow implements LimitState {
  private count = 0;
  private expiresAt = 0;
  private now = 0;
  constructor(private readonly rule: Rule) {}
  load(now: number) {
    this.now = now;
    if (this.expiresAt <= now) {
      this.count = 0;
      this.expiresAt = 0;
    }
  }
  need(cost: number) {
    if (cost > this.rule.limit) return -1;
    if (this.count + cost <= this.rule.limit) return 0;
    return this.expiresAt - this.now;
  }
  apply(delta: number) {
    const value = Math.max(0, this.count + delta);
    if (this.expiresAt === 0 && value > 0) this.expiresAt = this.now + this.rule.windowMs;
    this.count = value;
  }
  report(): [number, number] {
    return [this.rule.limit - this.count, this.count > 0 ? this.expiresAt - this.now : 0];
  }
}

class SlidingWindow implements LimitState {
  private window = Number.NaN;
  private current = 0;
  private previous = 0;
  private elapsed = 0;
  constructor(private readonly rule: Rule) {}
  load(now: number) {
    const w = this.rule.windowMs;
    const window = Math.floor(now / w);
    if (window !== this.window) {
      this.previous = window === this.window + 1 ? this.current : 0;
      this.current = 0;
      this.window = window;
    }
    this.elapsed = now - window * w;
  }
  private used() {
    return this.previous * (1 - this.elapsed / this.rule.windowMs) + this.current;
  }
  need(cost: number) {
    const { limit, windowMs } = this.rule;
    if (cost > limit) return -1;
    if (this.used() + cost <= limit) return 0;
    if (this.current + cost <= limit) {
      return windowMs * (1 - (limit - this.current - cost) / this.previous) - this.elapsed;
    }
    return windowMs - this.elapsed + Math.max(0, windowMs * (1 - (limit - cost) / this.current));
  }
  apply(delta: number) {
    this.current += delta;
    if (this.current < 0) {
      this.previous = Math.max(0, this.previous + this.current);
      this.current = 0;
    }
  }
  report(): [number, number] {
    const { windowMs } = this.rule;
    const reset =
      this.current > 0 ? 2 * windowMs - this.elapsed : this.previous > 0 ? windowMs - this.elapsed : 0;
    return [Math.floor(this.rule.limit - this.used() + 1e-9), reset];
  }
}

class SlidingLog implements LimitState {
  /** Admission times, oldest first. */
  private times: number[] = [];
  private now = 0;
  constructor(private readonly rule: Rule) {}
  load(now: number) {
    this.now = now;
    const cutoff = now - this.rule.windowMs;
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! <= cutoff) drop++;
    if (drop > 0) this.times.splice(0, drop);
  }
  need(cost: number) {
    const { limit, windowMs } = this.rule;
    if (cost > limit) return -1;
    const k = this.times.length + cost - limit;
    if (k <= 0) return 0;
    return this.times[k - 1]! + windowMs - this.now;
  }
  apply(delta: number) {
    const added = Math.min(delta, this.rule.limit); // past the limit, more entries change nothing
    if (delta > 0) for (let i = 0; i < added; i++) this.times.push(this.now);
    else if (delta < 0) this.times.length = Math.max(0, this.times.length + delta);
  }
  report(): [number, number] {
    const newest = this.times[this.times.length - 1];
    return [
      this.rule.limit - this.times.length,
      newest === undefined ? 0 : newest + this.rule.windowMs - this.now,
    ];
  }
}

class TokenBucket implements LimitState {
  private tokens: number;
  private updated = Number.NaN;
  constructor(private readonly rule: Rule) {
    this.tokens = rule.burst;
  }
  private get rate() {
    return this.rule.limit / this.rule.windowMs;
  }
  load(now: number) {
    if (!Number.isNaN(this.updated)) {
      this.tokens = Math.min(this.rule.burst, this.tokens + Math.max(0, now - this.updated) * this.rate);
    }
    this.updated = now;
  }
  need(cost: number) {
    if (cost > this.rule.burst) return -1;
    if (this.tokens + 1e-9 >= cost) return 0;
    return (cost - this.tokens) / this.rate;
  }
  apply(delta: number) {
    this.tokens = Math.min(this.rule.burst, this.tokens - delta);
  }
  report(): [number, number] {
    const reset = this.tokens < this.rule.burst ? (this.rule.burst - this.tokens) / this.rate : 0;
    return [Math.floor(this.tokens + 1e-9), reset];
  }
}

class Gcra implements LimitState {
  private tat = 0;
  private now = 0;
  constructor(private readonly rule: Rule) {}
  private get period() {
    return this.rule.windowMs / this.rule.limit;
  }
  load(now: number) {
    this.now = now;
    if (this.tat < now) this.tat = now;
  }
  need(cost: number) {
    if (cost > this.rule.burst) return -1;
    const allowAt = this.tat + (cost - this.rule.burst) * this.period;
    return allowAt <= this.now + 1e-6 ? 0 : allowAt - this.now;
  }
  apply(delta: number) {
    this.tat = Math.max(this.now, this.tat + delta * this.period);
  }
  report(): [number, number] {
    const period = this.period;
    const remaining = Math.min(
      this.rule.burst,
      Math.floor((this.rule.burst * period - (this.tat - this.now)) / period + 1e-9),
    );
    return [remaining, this.tat - this.now];
  }
}

const FACTORIES: Record<RateLimitAlgorithm, new (rule: Rule) => LimitState> = {
  'fixed-window': FixedWindow,
  'sliding-window': SlidingWindow,
  'sliding-log': SlidingLog,
  'token-bucket': TokenBucket,
  gcra: Gcra,
};

/** Whole milliseconds, rounded up (ignoring floating-point noise below a nanosecond), at least 1. */
function roundUp(ms: number): number {
  return ms > 0 ? Math.max(1, Math.ceil(ms - 1e-6)) : 0;
}

/** @internal Create the in-memory limiter of one rate limiter. `clock` returns milliseconds. */
export function createLocalLimiter(
  algorithm: RateLimitAlgorithm,
  rules: readonly Rule[],
  maxKeys: number,
  clock: () => number = () => performance.now(),
): LocalLimiter {
  const entries = new Map<string, Entry>();
  const Factory = FACTORIES[algorithm];

  function entry(key: string): Entry {
    let found = entries.get(key);
    if (found) {
      // Most recently used last, so eviction drops the least recently used key.
      entries.delete(key);
      entries.set(key, found);
      return found;
    }
    found = { blockedUntil: 0, limits: rules.map((rule) => new Factory(rule)) };
    entries.set(key, found);
    if (entries.size > maxKeys) entries.delete(entries.keys().next().value as string);
    return found;
  }

  return {
    get size() {
      return entries.size;
    },
    run(key, mode, cost, blockDurationMs) {
      const now = clock();
      const current = entry(key);
      if (mode <= 2 && current.blockedUntil > now) {
        const wait = roundUp(current.blockedUntil - now);
        return {
          allowed: false,
          blocked: 1,
          limits: rules.map(() => ({ remaining: 0, resetAfterMs: wait, retryAfterMs: wait })),
        };
      }
      for (const state of current.limits) state.load(now);
      let allowed = true;
      let blocked: 0 | 2 = 0;
      const retry: number[] = [];
      if (mode <= 2) {
        let impossible = false;
        for (const state of current.limits) {
          const wait = state.need(cost);
          if (wait !== 0) {
            allowed = false;
            if (wait < 0) impossible = true;
          }
          retry.push(wait);
        }
        if (mode === 1) {
          if (allowed) {
            if (cost > 0) for (const state of current.limits) state.apply(cost);
          } else if (blockDurationMs > 0 && !impossible) {
            current.blockedUntil = now + blockDurationMs;
            blocked = 2;
          }
        }
      } else {
        const delta = mode === 4 ? -cost : cost;
        for (const state of current.limits) state.apply(delta);
        for (const state of current.limits) {
          const wait = state.need(1);
          if (wait !== 0) allowed = false;
          retry.push(wait);
        }
      }
      const limits: RawLimitState[] = current.limits.map((state, i) => {
        const [remaining, reset] = state.report();
        const wait = retry[i]!;
        return {
          remaining: Math.max(0, Math.floor(remaining)),
          resetAfterMs: roundUp(reset),
          retryAfterMs: wait > 0 ? roundUp(wait) : wait,
        };
      });
      return { allowed, blocked, limits };
    },
    block(key, durationMs) {
      entry(key).blockedUntil = clock() + durationMs;
    },
    reset(key) {
      entries.delete(key);
    },
  };
}
