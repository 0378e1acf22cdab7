import type { ConnectedClient } from '@redisotel/test-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, type RateLimiterOptions } from '../src/index.js';
import { CLIENTS, connect, filePrefix, sleep, TOPOLOGIES } from './support.js';

// The single-limit fixed window keeps a mark of its block on the counter, so that its consume fast path
// needs no read of the block key. These tests pin what a user sees of it: the same decisions as a
// separate block key would give, whether the block ends before the window or after it.
describe.each(TOPOLOGIES)('fixed window blocks (%s)', (topology) => {
  describe.each(CLIENTS)('$name', (client) => {
    let connected: ConnectedClient;
    const prefix = filePrefix(`fw-block-${topology}-${client.library}`);
    let counter = 0;
    const freshKey = () => `k:${++counter}`;

    beforeAll(async () => {
      connected = await connect(client, topology);
    });
    afterAll(async () => {
      await connected?.close();
    });

    const make = (options: Partial<RateLimiterOptions> = {}) =>
      createRateLimiter(connected.redis, {
        name: 'fw-block',
        prefix,
        algorithm: 'fixed-window',
        limit: 5,
        windowMs: 600_000,
        ...options,
      } as RateLimiterOptions);

    it('a block shorter than the window: blocked meanwhile, then the same window goes on with its count', async () => {
      const limiter = make();
      const key = freshKey();
      await limiter.consume(key);
      await limiter.consume(key);
      await limiter.block(key, 300);
      const blocked = await limiter.consume(key);
      expect(blocked).toMatchObject({ allowed: false, reason: 'blocked', remaining: 0 });
      expect(blocked.retryAfterMs).toBeLessThanOrEqual(300);
      expect(await limiter.peek(key)).toMatchObject({ allowed: false, reason: 'blocked' });
      await sleep(blocked.retryAfterMs + 50);
      // Two consumed before the block, none while blocked: this is the third of five.
      const after = await limiter.consume(key);
      expect(after).toMatchObject({ allowed: true, reason: undefined, remaining: 2 });
      expect(after.resetAfterMs).toBeGreaterThan(500_000);
      expect(await limiter.peek(key)).toMatchObject({ allowed: true, remaining: 2 });
    });

    it('a block longer than the window: blocked past its end, then a fresh window', async () => {
      const limiter = make({ windowMs: 200 });
      const key = freshKey();
      await limiter.consume(key);
      await limiter.block(key, 700);
      await sleep(300); // the window would have ended by now
      const blocked = await limiter.consume(key);
      expect(blocked).toMatchObject({ allowed: false, reason: 'blocked' });
      await sleep(blocked.retryAfterMs + 50);
      const fresh = await limiter.consume(key);
      expect(fresh).toMatchObject({ allowed: true, remaining: 4 });
      expect(fresh.resetAfterMs).toBeLessThanOrEqual(200);
    });

    it('penalty and reward during a block keep it; the count they leave counts once it is over', async () => {
      const limiter = make({ blockDurationMs: 400 });
      const key = freshKey();
      for (let i = 0; i < 5; i++) expect((await limiter.consume(key)).allowed).toBe(true);
      expect(await limiter.consume(key)).toMatchObject({ allowed: false, reason: 'limit-exceeded' });
      expect(await limiter.reward(key, 3)).toMatchObject({ remaining: 3 });
      expect(await limiter.penalty(key, 1)).toMatchObject({ remaining: 2 });
      const blocked = await limiter.consume(key);
      expect(blocked).toMatchObject({ allowed: false, reason: 'blocked' });
      await sleep(blocked.retryAfterMs + 50);
      expect(await limiter.peek(key)).toMatchObject({ allowed: true, remaining: 2 });
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 1 });
      expect(await limiter.consume(key, { cost: 2 })).toMatchObject({
        allowed: false,
        reason: 'limit-exceeded',
      });
      // A new block started by that denial, and the count is still exact behind it.
      const again = await limiter.consume(key);
      expect(again).toMatchObject({ allowed: false, reason: 'blocked' });
      await limiter.reset(key);
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 4 });
    });

    it('a huge penalty is capped well below the mark, so it never reads as a block', async () => {
      const limiter = make();
      const key = freshKey();
      await limiter.penalty(key, Number.MAX_SAFE_INTEGER);
      expect(await limiter.consume(key)).toMatchObject({ allowed: false, reason: 'limit-exceeded' });
      expect(await limiter.reward(key, 2 ** 49 - 2)).toMatchObject({ allowed: true, remaining: 3 });
    });
  });
});
