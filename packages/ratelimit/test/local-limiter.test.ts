import { describe, expect, it } from 'vitest';
import { createLocalLimiter } from '../src/local-limiter.js';
import type { RateLimitAlgorithm } from '../src/types.js';
import { ALGORITHMS } from './support.js';

// The in-memory limiter behind onRedisError: 'local'. Its clock is injected, so the arithmetic of each
// algorithm is checked at exact instants here; the Lua scripts are checked against real Redis elsewhere.
function setup(algorithm: RateLimitAlgorithm, limit: number, windowMs: number, burst = limit) {
  let now = 1_000_000;
  const limiter = createLocalLimiter(algorithm, [{ name: 'l', limit, windowMs, burst }], 100, () => now);
  return {
    limiter,
    advance: (ms: number) => {
      now += ms;
    },
    at: (ms: number) => {
      now = ms;
    },
    consume: (key = 'k', cost = 1, block = 0) => limiter.run(key, 1, cost, block),
    peek: (key = 'k') => limiter.run(key, 2, 1, 0),
  };
}

describe.each(ALGORITHMS)('local %s', (algorithm) => {
  it('admits exactly the limit, all-or-nothing, and reports the same shape as the scripts', () => {
    const { consume } = setup(algorithm, 3, 60_000);
    const results = [consume(), consume(), consume(), consume()];
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results.map((r) => r.limits[0]!.remaining)).toEqual([2, 1, 0, 0]);
    expect(results[3]!.limits[0]!.retryAfterMs).toBeGreaterThan(0);
    expect(consume('k', 4).limits[0]!.retryAfterMs).toBe(-1);
  });

  it('blocks after going over when asked to', () => {
    const { consume, advance } = setup(algorithm, 1, 60_000);
    consume();
    expect(consume('k', 1, 500).blocked).toBe(2);
    const blocked = consume();
    expect(blocked).toMatchObject({ allowed: false, blocked: 1 });
    expect(blocked.limits[0]!.retryAfterMs).toBe(500);
    advance(500);
    expect(consume().blocked).toBe(0);
  });

  it('evicts the least recently used key past maxKeys', () => {
    const limiter = createLocalLimiter(
      algorithm,
      [{ name: 'l', limit: 1, windowMs: 1000, burst: 1 }],
      2,
      () => 5,
    );
    limiter.run('a', 1, 1, 0);
    limiter.run('b', 1, 1, 0);
    limiter.run('a', 2, 1, 0);
    limiter.run('c', 1, 1, 0);
    expect(limiter.size).toBe(2);
    expect(limiter.run('a', 2, 1, 0).allowed).toBe(false); // a was used recently: kept
    expect(limiter.run('b', 1, 1, 0).allowed).toBe(true); // b was the least recently used: evicted
  });
});

describe('local algorithms at exact instants', () => {
  it('fixed window: the window starts at the first admitted request', () => {
    const { consume, advance } = setup('fixed-window', 2, 1000);
    consume();
    advance(400);
    consume();
    const denied = consume();
    expect(denied.limits[0]).toMatchObject({ retryAfterMs: 600, resetAfterMs: 600 });
    advance(599);
    expect(consume().allowed).toBe(false);
    advance(1);
    expect(consume().limits[0]).toMatchObject({ remaining: 1, resetAfterMs: 1000 });
  });

  it('sliding window: the previous window weighs by its overlap', () => {
    const { consume, peek, at } = setup('sliding-window', 10, 1000);
    at(10_000); // start of an aligned window
    for (let i = 0; i < 10; i++) consume();
    at(11_250); // 25% into the next window: previous counts 10 × 0.75 = 7.5
    expect(peek().limits[0]!.remaining).toBe(2);
    expect(consume('k', 3).allowed).toBe(false);
    expect(consume('k', 3).limits[0]!.retryAfterMs).toBe(50); // 10 × (1 - t) + 0 + 3 ≤ 10 → t ≥ 0.3
    expect(consume('k', 2).allowed).toBe(true);
    at(12_000);
    expect(peek().limits[0]!.remaining).toBe(8); // previous = 2, weight 1
    at(13_000);
    expect(peek().limits[0]).toMatchObject({ remaining: 10, resetAfterMs: 0 });
  });

  it('sliding log: exact, entries leave one by one', () => {
    const { consume, advance } = setup('sliding-log', 3, 1000);
    consume();
    advance(100);
    consume();
    advance(100);
    consume();
    expect(consume().limits[0]!.retryAfterMs).toBe(800);
    advance(800);
    expect(consume().limits[0]!.remaining).toBe(0);
    expect(consume().limits[0]!.retryAfterMs).toBe(100);
  });

  it('token bucket: refills limit per windowMs up to the burst', () => {
    const { consume, peek, advance } = setup('token-bucket', 10, 1000, 5);
    for (let i = 0; i < 5; i++) expect(consume().allowed).toBe(true);
    expect(consume().limits[0]).toMatchObject({ remaining: 0, retryAfterMs: 100, resetAfterMs: 500 });
    advance(250);
    expect(peek().limits[0]!.remaining).toBe(2);
    advance(10_000);
    expect(peek().limits[0]).toMatchObject({ remaining: 5, resetAfterMs: 0 });
  });

  it('GCRA: requests spaced windowMs / limit apart after the burst', () => {
    const { consume, advance } = setup('gcra', 4, 1000, 2);
    expect(consume().allowed).toBe(true);
    expect(consume().allowed).toBe(true);
    const denied = consume();
    expect(denied.limits[0]).toMatchObject({ retryAfterMs: 250, resetAfterMs: 500 });
    advance(250);
    expect(consume().allowed).toBe(true);
    expect(consume().allowed).toBe(false);
    advance(250);
    expect(consume().allowed).toBe(true);
  });

  it('penalty and reward', () => {
    const { limiter } = setup('gcra', 5, 5000);
    expect(limiter.run('k', 3, 4, 0).limits[0]!.remaining).toBe(1);
    expect(limiter.run('k', 4, 2, 0).limits[0]!.remaining).toBe(3);
    expect(limiter.run('k', 4, 50, 0).limits[0]!.remaining).toBe(5);
  });
});
