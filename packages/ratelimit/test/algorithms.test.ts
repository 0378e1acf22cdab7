import type { RedisLike } from '@redisotel/core-hooks';
import type { ConnectedClient } from '@redisotel/test-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter, type RateLimiterOptions } from '../src/index.js';
import { CLIENTS, connect, countCommands, filePrefix, sleep, TOPOLOGIES } from './support.js';

/** Redis' clock in milliseconds (microsecond precision). All nodes of the test cluster share one host clock. */
async function serverTime(redis: RedisLike): Promise<number> {
  const [seconds, micros] = (await redis.send({ name: 'TIME', args: [] })) as [string, string];
  return Number(seconds) * 1000 + Number(micros) / 1000;
}

// Each check below brackets the limiter's calls between two reads of Redis' clock and asserts the
// answer lies within what the algorithm allows over that bracket: exact, yet free of client timing.
describe.each(TOPOLOGIES)('%s', (topology) => {
  describe.each(CLIENTS)('algorithm arithmetic on Redis time ($name)', (client) => {
    let connected: ConnectedClient;
    let commands: Map<string, number>;
    const prefix = filePrefix(`algorithms-${topology}-${client.library}`);
    let counter = 0;
    const freshKey = () => `k:${++counter}`;

    beforeAll(async () => {
      connected = await connect(client, topology);
      commands = countCommands(connected.redis);
    });
    afterAll(async () => {
      await connected?.close();
    });

    const make = (options: Partial<RateLimiterOptions>) =>
      createRateLimiter(connected.redis, {
        name: 'algorithms',
        prefix,
        limit: 1,
        windowMs: 1000,
        ...options,
      } as RateLimiterOptions);

    it('fixed window: starts at the first admitted request and resets windowMs later', async () => {
      // A 2 s window: a stall of the test process shorter than that cannot change a decision.
      const limiter = make({ algorithm: 'fixed-window', limit: 2, windowMs: 2000 });
      const key = freshKey();
      const before = await serverTime(connected.redis);
      expect((await limiter.consume(key)).resetAfterMs).toBe(2000);
      await limiter.consume(key);
      const denied = await limiter.consume(key);
      const after = await serverTime(connected.redis);
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBe(denied.resetAfterMs);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(2000);
      expect(denied.retryAfterMs).toBeGreaterThanOrEqual(Math.floor(2000 - (after - before)) - 1);
      await sleep(denied.retryAfterMs + 20);
      // A new window starts at this request.
      const next = await limiter.consume(key);
      expect(next).toMatchObject({ allowed: true, remaining: 1 });
      expect(next.resetAfterMs).toBeGreaterThan(1990);
    });

    it('sliding window: the previous window counts by how much of it still overlaps', async () => {
      const windowMs = 1000;
      const limiter = make({ algorithm: 'sliding-window', limit: 10, windowMs });
      let checked = false;
      for (let attempt = 0; attempt < 3 && !checked; attempt++) {
        const key = freshKey();
        const start = await serverTime(connected.redis);
        await sleep(windowMs - (start % windowMs) + 20); // just after a window edge
        const t0 = await serverTime(connected.redis);
        for (let i = 0; i < 10; i++) expect((await limiter.consume(key)).allowed).toBe(true);
        const t1 = await serverTime(connected.redis);
        const window = Math.floor(t0 / windowMs);
        if (Math.floor(t1 / windowMs) !== window) continue; // the machine stalled across the edge: again
        await sleep((window + 1) * windowMs + windowMs / 2 - t1); // half-way through the next window
        const a = await serverTime(connected.redis);
        const peeked = await limiter.peek(key);
        const b = await serverTime(connected.redis);
        if (Math.floor(a / windowMs) !== window + 1 || Math.floor(b / windowMs) !== window + 1) continue;
        // remaining = floor(10 − 10 × (1 − elapsed / window)) for elapsed between the two reads.
        const low = Math.floor((10 * (a % windowMs)) / windowMs);
        const high = Math.floor((10 * (b % windowMs)) / windowMs);
        expect(peeked.remaining).toBeGreaterThanOrEqual(low);
        expect(peeked.remaining).toBeLessThanOrEqual(high);
        expect(peeked.remaining).toBeLessThan(10);
        checked = true;
      }
      expect(checked).toBe(true);
    });

    it('sliding log: exact, each admission leaves the window windowMs after it happened', async () => {
      const limiter = make({ algorithm: 'sliding-log', limit: 3, windowMs: 2000 });
      const key = freshKey();
      const a = await serverTime(connected.redis);
      await limiter.consume(key);
      const b = await serverTime(connected.redis);
      await sleep(150);
      await limiter.consume(key);
      await limiter.consume(key);
      const c = await serverTime(connected.redis);
      const denied = await limiter.consume(key);
      const d = await serverTime(connected.redis);
      expect(denied.allowed).toBe(false);
      // The first admission (between a and b) leaves at +2000; the denial happened between c and d.
      expect(denied.retryAfterMs).toBeGreaterThanOrEqual(Math.floor(a + 2000 - d));
      expect(denied.retryAfterMs).toBeLessThanOrEqual(Math.ceil(b + 2000 - c) + 1);
      await sleep(denied.retryAfterMs + 20);
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 0 });
    });

    it('token bucket: refills limit per windowMs, continuously, up to the burst', async () => {
      const limiter = make({ algorithm: 'token-bucket', limit: 10, windowMs: 1000, burst: 10 });
      const key = freshKey();
      const a = await serverTime(connected.redis);
      for (let i = 0; i < 10; i++) await limiter.consume(key);
      const b = await serverTime(connected.redis);
      await sleep(350);
      const c = await serverTime(connected.redis);
      const peeked = await limiter.peek(key);
      const d = await serverTime(connected.redis);
      // Full at the first consume (between a and b), one token back per 100 ms since then.
      expect(peeked.remaining).toBeGreaterThanOrEqual(Math.floor((c - b) / 100));
      expect(peeked.remaining).toBeLessThanOrEqual(Math.floor((d - a) / 100));
      expect(peeked.remaining).toBeGreaterThanOrEqual(3);
      await sleep(1100);
      expect(await limiter.peek(key)).toMatchObject({ remaining: 10, resetAfterMs: 0 });
    });

    it('GCRA: a burst, then requests spaced windowMs / limit apart, with CL.THROTTLE-style hints', async () => {
      // One slot per second (10 per 10 s), burst 2: a stall of the test process shorter than a slot
      // cannot change a decision, so the assertions hold on a loaded machine.
      const limiter = make({ algorithm: 'gcra', limit: 10, windowMs: 10_000, burst: 2 });
      const key = freshKey();
      const a = await serverTime(connected.redis);
      const first = await limiter.consume(key);
      expect(first).toMatchObject({ allowed: true, remaining: 1, limit: 10 });
      expect(first.resetAfterMs).toBe(1000);
      expect((await limiter.consume(key)).remaining).toBe(0);
      const denied = await limiter.consume(key);
      const b = await serverTime(connected.redis);
      // Next slot: 1000 ms after the first request (made between a and b).
      expect(denied.allowed).toBe(false);
      expect(denied.retryAfterMs).toBeLessThanOrEqual(1000);
      expect(denied.retryAfterMs).toBeGreaterThanOrEqual(Math.floor(1000 - (b - a)));
      expect(denied.resetAfterMs).toBeLessThanOrEqual(2000);
      await sleep(denied.retryAfterMs + 5);
      const c = await serverTime(connected.redis);
      expect((await limiter.consume(key)).allowed).toBe(true);
      const spaced = await limiter.consume(key);
      const d = await serverTime(connected.redis);
      // The schedule holds: the slot after that is 2000 ms after the first request, or 1000 ms after the
      // previous admission if this process stalled past its slot.
      expect(spaced.allowed).toBe(false);
      expect(spaced.retryAfterMs).toBeLessThanOrEqual(1000);
      expect(spaced.retryAfterMs).toBeGreaterThanOrEqual(
        Math.floor(Math.min(a + 2000 - d, 1000 - (d - c))) - 1,
      );
    });

    it('the local deny cache answers a denied key in-process until its retry time', async () => {
      const limiter = make({ algorithm: 'fixed-window', limit: 2, windowMs: 60_000, denyCache: true });
      const key = freshKey();
      await limiter.consume(key);
      await limiter.consume(key);
      expect(await limiter.consume(key)).toMatchObject({ allowed: false, source: 'redis' });
      const before = commands.get('EVALSHA') ?? 0;
      for (let i = 0; i < 20; i++) {
        const cached = await limiter.consume(key);
        expect(cached).toMatchObject({
          allowed: false,
          source: 'cache',
          reason: 'limit-exceeded',
          remaining: 0,
        });
        expect(cached.retryAfterMs).toBeGreaterThan(0);
      }
      expect((commands.get('EVALSHA') ?? 0) - before).toBe(0);
      // A smaller cost is still asked of Redis; a reward clears the entry.
      expect(await limiter.consume(key, { cost: 0 })).toMatchObject({ allowed: true, source: 'redis' });
      await limiter.reward(key, 1);
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, source: 'redis' });
      // A block is remembered for every cost.
      await limiter.block(key, 60_000);
      expect(await limiter.consume(key, { cost: 0 })).toMatchObject({ source: 'cache', reason: 'blocked' });
      await limiter.reset(key);
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, source: 'redis' });
    });
  });
});
