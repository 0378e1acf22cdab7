import type { ConnectedClient } from '@redisotel/test-clients';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimiter } from '../src/index.js';
import { ALGORITHMS, CLIENTS, connect, deploymentFor, filePrefix, TOPOLOGIES } from './support.js';
import { runWorkers } from './workers.js';

// Windows of a week: nothing refills while the processes run (a token-bucket or GCRA unit comes back
// every 7 days / limit), so any admission past the limit would be over-admission, not refill.
const WEEK = 7 * 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

describe.each(TOPOLOGIES)('%s', (topology) => {
  const prefix = filePrefix(`concurrency-${topology}`);

  it('several processes × many concurrent consumes on one key admit exactly the limit, for every algorithm', async () => {
    const limit = 120;
    const calls = 100;
    const processes = 3;
    const jobs = Array.from({ length: processes }, (_, i) => ({
      deployment: deploymentFor(topology),
      client: CLIENTS[i % CLIENTS.length]!.name,
      prefix,
      algorithms: ALGORITHMS,
      key: 'hot',
      limit,
      windowMs: WEEK,
      calls,
      // One process an hour ahead, one a day behind: their clocks must not matter.
      skewMs: [0, HOUR, -24 * HOUR][i]!,
    }));
    const results = await runWorkers(jobs);
    for (const algorithm of ALGORITHMS) {
      const perProcess = results.map((result) => result.find((r) => r.algorithm === algorithm)!);
      const allowed = perProcess.reduce((sum, r) => sum + r.allowed, 0);
      const denied = perProcess.reduce((sum, r) => sum + r.denied, 0);
      expect({ algorithm, allowed, denied }).toEqual({
        algorithm,
        allowed: limit,
        denied: processes * calls - limit,
      });
      for (const r of perProcess) expect(r.sources).toEqual(['redis']);
    }
  }, 120_000);

  it('several limits under concurrency: all-or-nothing, the tighter one binds and the other keeps the rest', async () => {
    const limits = [
      { limit: 150, windowMs: WEEK },
      { limit: 100, windowMs: 2 * WEEK },
    ];
    const jobs = Array.from({ length: 3 }, (_, i) => ({
      deployment: deploymentFor(topology),
      client: CLIENTS[i % CLIENTS.length]!.name,
      prefix,
      algorithms: ALGORITHMS,
      key: 'multi',
      limit: 0,
      windowMs: 0,
      limits,
      calls: 60,
      skewMs: 0,
    }));
    const results = await runWorkers(jobs);
    const connected = await connect(CLIENTS[0]!, topology);
    try {
      for (const algorithm of ALGORITHMS) {
        const allowed = results.reduce(
          (sum, result) => sum + result.find((r) => r.algorithm === algorithm)!.allowed,
          0,
        );
        expect({ algorithm, allowed }).toEqual({ algorithm, allowed: 100 });
        const limiter = createRateLimiter(connected.redis, {
          name: 'concurrency',
          prefix,
          algorithm,
          limits,
        });
        // Denied requests took nothing from the looser limit: it lost exactly the 100 admitted.
        expect(
          (await limiter.peek('multi')).limits.map((l) => l.remaining),
          algorithm,
        ).toEqual([50, 0]);
      }
    } finally {
      await connected.close();
    }
  }, 120_000);

  describe('the client clock does not matter', () => {
    let connected: ConnectedClient;
    beforeAll(async () => {
      connected = await connect(CLIENTS[0]!, topology);
    });
    afterAll(async () => {
      await connected?.close();
    });

    it('a process whose Date.now() is a day off gets the same decisions', async () => {
      const windowMs = 10 * 60 * 1000;
      const key = 'skew';
      // This process takes 3 of 5 per algorithm, then a process a day ahead tries 4 more.
      for (const algorithm of ALGORITHMS) {
        const limiter = createRateLimiter(connected.redis, {
          name: 'concurrency',
          prefix,
          algorithm,
          limit: 5,
          windowMs,
        });
        for (let i = 0; i < 3; i++) expect((await limiter.consume(key)).allowed).toBe(true);
      }
      const [skewed] = await runWorkers([
        {
          deployment: deploymentFor(topology),
          client: CLIENTS[1]!.name,
          prefix,
          algorithms: ALGORITHMS,
          key,
          limit: 5,
          windowMs,
          calls: 4,
          skewMs: 24 * HOUR,
        },
      ]);
      for (const result of skewed!) {
        expect(result, result.algorithm).toMatchObject({ allowed: 2, denied: 2 });
        // Waits are measured on Redis' clock: never a day, never negative.
        expect(result.minRetryAfterMs, result.algorithm).toBeGreaterThan(0);
        expect(result.maxRetryAfterMs, result.algorithm).toBeLessThanOrEqual(2 * windowMs);
        expect(result.maxResetAfterMs, result.algorithm).toBeLessThanOrEqual(2 * windowMs);
      }
    }, 60_000);
  });
});
