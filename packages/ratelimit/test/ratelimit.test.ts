import type { ConnectedClient } from '@redisotel/test-clients';
import { connectResp } from '@redisotel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  type RateLimitAlgorithm,
  type RateLimitDecision,
  type RateLimiterOptions,
} from '../src/index.js';
import {
  ALGORITHMS,
  CLIENTS,
  connect,
  countCommands,
  deploymentFor,
  filePrefix,
  sleep,
  TOPOLOGIES,
} from './support.js';

// Long windows: nothing refills while a test runs, so counts are exact whatever the machine's load.
const LONG = 600_000;

/** Consume `times` times in sequence and return the decisions. */
async function consumeTimes(
  limiter: ReturnType<typeof createRateLimiter>,
  key: string,
  times: number,
  cost = 1,
): Promise<RateLimitDecision[]> {
  const decisions: RateLimitDecision[] = [];
  for (let i = 0; i < times; i++) decisions.push(await limiter.consume(key, { cost }));
  return decisions;
}

describe.each(TOPOLOGIES)('%s', (topology) => {
  describe.each(CLIENTS)('$name', (client) => {
    let connected: ConnectedClient;
    let commands: Map<string, number>;
    const prefix = filePrefix(`behaviour-${topology}-${client.library}`);
    let counter = 0;
    /** A fresh limiter key per test. */
    const freshKey = (label = 'k') => `${label}:${++counter}`;

    beforeAll(async () => {
      connected = await connect(client, topology);
      commands = countCommands(connected.redis);
    });
    afterAll(async () => {
      await connected?.close();
    });

    const make = (algorithm: RateLimitAlgorithm, options: Partial<RateLimiterOptions> = {}) =>
      createRateLimiter(connected.redis, {
        name: 'behaviour',
        prefix,
        algorithm,
        ...(options.limits ? {} : { limit: 5, windowMs: LONG }),
        ...options,
      } as RateLimiterOptions);

    /**
     * The same limiter through the multi-limit script: its limit first, then one that never binds. Every
     * single-limit expectation must hold unchanged.
     */
    const makeMulti = (algorithm: RateLimitAlgorithm, options: Partial<RateLimiterOptions> = {}) => {
      const { limit = 5, windowMs = LONG, burst, ...rest } = options;
      return createRateLimiter(connected.redis, {
        name: 'behaviour',
        prefix,
        algorithm,
        ...rest,
        limits: [
          { limit, windowMs, name: 'behaviour', ...(burst === undefined ? {} : { burst }) },
          { limit: algorithm === 'sliding-log' ? 100_000 : 1_000_000_000, windowMs: 7 * LONG, name: 'loose' },
        ],
      } as RateLimiterOptions);
    };

    describe.each(
      ALGORITHMS.flatMap((algorithm) => [
        { algorithm, shape: 'single' as const },
        { algorithm, shape: 'multi' as const },
      ]),
    )('$algorithm ($shape-limit script)', ({ algorithm, shape }) => {
      const limiterOf = shape === 'single' ? make : makeMulti;
      // Tests that configure their own limits run once, with the single-limit shape.
      const itSingle = (name: string, test: () => Promise<void>) => {
        if (shape === 'single') it(name, test);
      };

      it('admits exactly the limit, counting remaining down, then denies with a retry hint', async () => {
        const limiter = limiterOf(algorithm);
        const key = freshKey();
        const decisions = await consumeTimes(limiter, key, 7);
        expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false]);
        expect(decisions.slice(0, 5).map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
        for (const decision of decisions) {
          expect(decision.source).toBe('redis');
          expect(decision.limit).toBe(5);
          expect(decision.windowMs).toBe(LONG);
          expect(decision.limits).toHaveLength(shape === 'single' ? 1 : 2);
          expect(decision.resetAfterMs).toBeGreaterThan(0);
          expect(decision.resetAfterMs).toBeLessThanOrEqual(2 * LONG);
        }
        for (const decision of decisions.slice(0, 5)) {
          expect(decision.retryAfterMs).toBe(0);
          expect(decision.reason).toBeUndefined();
        }
        const denied = decisions[5]!;
        expect(denied.remaining).toBe(0);
        expect(denied.reason).toBe('limit-exceeded');
        expect(denied.retryAfterMs).toBeGreaterThan(0);
        expect(denied.retryAfterMs).toBeLessThanOrEqual(2 * LONG);
        expect(denied.limits[0]).toMatchObject({ name: 'behaviour', limit: 5, allowed: false, remaining: 0 });
      });

      it('counts costs, and denies a cost larger than the limit without consuming', async () => {
        const limiter = limiterOf(algorithm);
        const key = freshKey();
        expect(await limiter.consume(key, { cost: 3 })).toMatchObject({ allowed: true, remaining: 2 });
        const tooMuch = await limiter.consume(key, { cost: 3 });
        expect(tooMuch).toMatchObject({ allowed: false, remaining: 2, reason: 'limit-exceeded' });
        const impossible = await limiter.consume(key, { cost: 6 });
        expect(impossible).toMatchObject({ allowed: false, reason: 'cost-exceeds-limit' });
        expect(impossible.retryAfterMs).toBe(Number.POSITIVE_INFINITY);
        expect(await limiter.consume(key, { cost: 2 })).toMatchObject({ allowed: true, remaining: 0 });
        expect(await limiter.consume(key, { cost: 0 })).toMatchObject({ allowed: true, remaining: 0 });
        expect(await limiter.consume(key)).toMatchObject({ allowed: false, remaining: 0 });
      });

      it('peek reports without consuming', async () => {
        const limiter = limiterOf(algorithm);
        const key = freshKey();
        expect(await limiter.peek(key)).toMatchObject({ allowed: true, remaining: 5, resetAfterMs: 0 });
        await consumeTimes(limiter, key, 2);
        const peeked = await limiter.peek(key);
        expect(peeked).toMatchObject({ allowed: true, remaining: 3, source: 'redis' });
        expect(await limiter.peek(key)).toMatchObject({ remaining: 3 });
        await consumeTimes(limiter, key, 3);
        const empty = await limiter.peek(key);
        expect(empty).toMatchObject({ allowed: false, remaining: 0, reason: 'limit-exceeded' });
        expect(empty.retryAfterMs).toBeGreaterThan(0);
      });

      it('reset forgets the key', async () => {
        const limiter = limiterOf(algorithm);
        const key = freshKey();
        await consumeTimes(limiter, key, 5);
        expect((await limiter.consume(key)).allowed).toBe(false);
        await limiter.reset(key);
        expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 4 });
      });

      it('penalty takes extra units past the limit, reward gives them back up to the full quota', async () => {
        const limiter = limiterOf(algorithm);
        const key = freshKey();
        await limiter.consume(key);
        expect(await limiter.penalty(key, 2)).toMatchObject({ allowed: true, remaining: 2 });
        expect(await limiter.penalty(key, 4)).toMatchObject({ allowed: false, remaining: 0 });
        expect((await limiter.consume(key)).allowed).toBe(false);
        expect(await limiter.reward(key, 5)).toMatchObject({ allowed: true, remaining: 3 });
        expect(await limiter.reward(key, 100)).toMatchObject({ allowed: true, remaining: 5 });
        expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 4 });
        expect(await limiter.reward(key, 0)).toMatchObject({ remaining: 4 });
      });

      it('blockDurationMs keeps the key blocked once it went over, whatever its counters say', async () => {
        const limiter = limiterOf(algorithm, { blockDurationMs: 400 });
        const key = freshKey();
        await consumeTimes(limiter, key, 5);
        const over = await limiter.consume(key);
        expect(over).toMatchObject({ allowed: false, reason: 'limit-exceeded' });
        expect(over.retryAfterMs).toBeGreaterThanOrEqual(400);
        await limiter.reward(key, 5);
        const blocked = await limiter.consume(key);
        expect(blocked).toMatchObject({ allowed: false, reason: 'blocked', remaining: 0 });
        expect(blocked.retryAfterMs).toBeGreaterThan(0);
        expect(blocked.retryAfterMs).toBeLessThanOrEqual(400);
        expect(await limiter.peek(key)).toMatchObject({ allowed: false, reason: 'blocked' });
        await sleep(blocked.retryAfterMs + 50);
        expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 4 });
      });

      it('a cost larger than the limit does not start a block', async () => {
        const limiter = limiterOf(algorithm, { blockDurationMs: 60_000 });
        const key = freshKey();
        expect((await limiter.consume(key, { cost: 6 })).reason).toBe('cost-exceeds-limit');
        expect((await limiter.consume(key)).allowed).toBe(true);
      });

      it('block() and reset() on demand', async () => {
        const limiter = limiterOf(algorithm);
        const key = freshKey();
        await limiter.block(key, 60_000);
        const blocked = await limiter.consume(key);
        expect(blocked).toMatchObject({ allowed: false, reason: 'blocked' });
        expect(blocked.retryAfterMs).toBeGreaterThan(50_000);
        await limiter.reset(key);
        expect((await limiter.consume(key)).allowed).toBe(true);
      });

      itSingle('multi-limit: all-or-nothing, the binding limit reported', async () => {
        const limiter = make(algorithm, {
          limits: [
            { limit: 3, windowMs: LONG, name: 'short' },
            { limit: 5, windowMs: 2 * LONG, name: 'long' },
          ],
        });
        const key = freshKey();
        const first = await limiter.consume(key);
        expect(first).toMatchObject({ allowed: true, limit: 3, remaining: 2 });
        expect(first.limits.map((l) => [l.name, l.remaining])).toEqual([
          ['short', 2],
          ['long', 4],
        ]);
        await consumeTimes(limiter, key, 2);
        const denied = await limiter.consume(key);
        expect(denied).toMatchObject({ allowed: false, limit: 3, windowMs: LONG, reason: 'limit-exceeded' });
        // The denied request took nothing from the limit that would have admitted it.
        expect(denied.limits.map((l) => [l.name, l.allowed, l.remaining])).toEqual([
          ['short', false, 0],
          ['long', true, 2],
        ]);
        expect((await limiter.peek(key)).limits[1]!.remaining).toBe(2);
        // Free the short limit: now the long one binds.
        await limiter.reward(key, 1);
        expect((await limiter.peek(key)).limits.map((l) => l.remaining)).toEqual([1, 3]);
        const cost2 = await limiter.consume(key, { cost: 2 });
        expect(cost2).toMatchObject({ allowed: false });
        expect((await limiter.peek(key)).limits.map((l) => l.remaining)).toEqual([1, 3]);
        expect(await limiter.consume(key)).toMatchObject({ allowed: true, limit: 3, remaining: 0 });
        expect((await limiter.peek(key)).limits.map((l) => l.remaining)).toEqual([0, 2]);
      });

      itSingle('keeps every key of one decision in one slot, whatever braces the key holds', async () => {
        const limiter = make(algorithm, {
          blockDurationMs: 1000,
          limits: [
            { limit: 2, windowMs: LONG },
            { limit: 3, windowMs: 2 * LONG },
          ],
        });
        const base = freshKey('brace');
        const keys = [`${base}{x}`, `${base}}{`, `${base}{`, `${base}%7B`, `}${base}`, `{}${base}`];
        for (const key of keys) {
          expect((await limiter.consume(key)).allowed).toBe(true);
          expect((await limiter.consume(key)).allowed).toBe(true);
        }
        // Distinct keys stay distinct (the encoding is injective): each one is now at its limit.
        for (const key of keys) expect((await limiter.consume(key)).allowed).toBe(false);
        for (const key of keys) await limiter.reset(key);
      });

      it('admits again once retryAfterMs has passed', async () => {
        const limiter = limiterOf(algorithm, { limit: 2, windowMs: 300 });
        const key = freshKey();
        await consumeTimes(limiter, key, 2);
        const denied = await limiter.consume(key);
        expect(denied.allowed).toBe(false);
        expect(denied.retryAfterMs).toBeGreaterThan(0);
        expect(denied.retryAfterMs).toBeLessThanOrEqual(600);
        await sleep(denied.retryAfterMs + 30);
        expect((await limiter.consume(key)).allowed).toBe(true);
      });

      it('sends exactly one command per decision: one EVALSHA', async () => {
        const limiter = limiterOf(algorithm);
        const key = freshKey();
        await limiter.consume(key); // loads the script on that node if needed
        const before = new Map(commands);
        await consumeTimes(limiter, key, 4);
        await limiter.peek(key);
        await limiter.penalty(key, 1);
        await limiter.reward(key, 1);
        const sent = [...commands]
          .map(([name, n]) => [name, n - (before.get(name) ?? 0)])
          .filter(([, n]) => n !== 0);
        expect(sent).toEqual([['EVALSHA', 7]]);
      });
    });

    it('a huge penalty on a sliding log stores at most limit entries', async () => {
      // The loose limit of the multi-limit variant stores up to 100,000 entries in one script call: give
      // it a deadline that a loaded CI machine meets (the behaviour, not the speed, is under test).
      const slow = { timeoutMs: 15_000 };
      for (const limiter of [make('sliding-log', slow), makeMulti('sliding-log', slow)]) {
        const key = freshKey('log-penalty');
        await limiter.consume(key);
        expect(await limiter.penalty(key, 1_000_000_000)).toMatchObject({ allowed: false, remaining: 0 });
        const entries = await connected.redis.send({
          name: 'ZCARD',
          args: [`${prefix}{${key}}:sl:${LONG}`],
          keys: [0],
        });
        expect(entries).toBe(1 + 1 + 5); // the sequence member, the consume, at most limit penalty entries
        expect((await limiter.consume(key)).allowed).toBe(false);
        expect(await limiter.reward(key, 5)).toMatchObject({ allowed: true, remaining: 4 });
      }
    });

    it('uses the prefix and the hash-tagged key in Redis key names', async () => {
      const limiter = make('gcra', { blockDurationMs: 1000 });
      const key = freshKey('layout');
      await limiter.consume(key);
      const stored = await connected.redis.send({
        name: 'EXISTS',
        args: [`${prefix}{${key}}:gcra:${LONG}`],
        keys: [0],
      });
      expect(stored).toBe(1);
      const defaulted = createRateLimiter(connected.redis, {
        name: `default-prefix-${counter}`,
        limit: 1,
        windowMs: LONG,
      });
      await defaulted.consume(key);
      const defaultKey = `ratelimit:default-prefix-${counter}:{${key}}:sw:${LONG}`;
      expect(await connected.redis.send({ name: 'EXISTS', args: [defaultKey], keys: [0] })).toBe(1);
      await defaulted.reset(key);
      expect(await connected.redis.send({ name: 'EXISTS', args: [defaultKey], keys: [0] })).toBe(0);
    });

    it('sets a TTL on every key it writes', async () => {
      for (const algorithm of ALGORITHMS) {
        const limiter = make(algorithm);
        const key = freshKey('ttl');
        await limiter.consume(key);
        const code = {
          'fixed-window': 'fw',
          'sliding-window': 'sw',
          'sliding-log': 'sl',
          'token-bucket': 'tb',
          gcra: 'gcra',
        }[algorithm];
        const ttl = await connected.redis.send({
          name: 'PTTL',
          args: [`${prefix}{${key}}:${code}:${LONG}`],
          keys: [0],
        });
        expect(ttl, algorithm).toBeGreaterThan(0);
        expect(ttl, algorithm).toBeLessThanOrEqual(2 * LONG);
      }
    });

    it('recovers after SCRIPT FLUSH (NOSCRIPT falls back to EVAL in the same call)', async () => {
      const limiter = make('sliding-log');
      const key = freshKey('flush');
      await limiter.consume(key);
      for (const node of deploymentFor(topology).nodes) {
        const connection = await connectResp({ host: node.host, port: node.port });
        try {
          await connection.command(['SCRIPT', 'FLUSH']).catch(() => undefined);
        } finally {
          await connection.close();
        }
      }
      const before = commands.get('EVALSHA') ?? 0;
      expect(await limiter.consume(key)).toMatchObject({ allowed: true, remaining: 3 });
      expect((commands.get('EVALSHA') ?? 0) - before).toBe(1);
    });
  });
});
