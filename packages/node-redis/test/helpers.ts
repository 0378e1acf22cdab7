import { randomBytes } from 'node:crypto';
import type { CollectedHistogramPoint, TelemetryCapture } from '@redisotel/testing';
import { useOwnRedis } from '@redisotel/testing/vitest';
import * as redisV6 from 'redis';
import * as redisV5 from 'redis-v5';
import { expect } from 'vitest';

/** One supported node-redis major, by its module. */
export interface RedisModuleCase {
  readonly name: string;
  readonly major: 5 | 6;
  readonly lib: typeof redisV6;
}

/** Every node-redis major the adapter supports: each behaviour test runs against both. */
export const MODULES: readonly RedisModuleCase[] = [
  { name: 'redis 6', major: 6, lib: redisV6 },
  { name: 'redis 5', major: 5, lib: redisV5 as unknown as typeof redisV6 },
];

/** A key prefix unique to this test run, hash-tagged so every key lands in one cluster slot. */
export function prefix(tag = randomBytes(4).toString('hex')): string {
  return `{nr-${tag}}:`;
}

// Fails each test after which anything rejected unhandled (the adapter must never leave one).
export { trackUnhandledRejections } from '@redisotel/testing/vitest';

/**
 * Servers of our own (spawned `redis-server`, else a container): never the system Redis on 6379 nor an
 * external `REDIS_URL`, because these tests kill, restart and fail over the servers they use.
 */
const SOURCES = ['binary', 'container'] as const;

// Each one is started before the tests of the file (or describe) it is called in, and stopped after them.
export const ownStandalone = () => useOwnRedis({ topology: 'standalone', sources: SOURCES });
export const ownCluster = () => useOwnRedis({ topology: 'cluster', sources: SOURCES });
export const ownSentinel = () => useOwnRedis({ topology: 'sentinel', sources: SOURCES, downAfterMs: 1000 });

/** A short pause for reconnect-driven tests (never asserted as a duration). */
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Poll a check until it returns true (throws after 15 s).
export { eventually } from '@redisotel/testing';

/** The points of the histogram `name` that `capture` collected so far (it must have been recorded). */
export async function histogramPoints(
  capture: TelemetryCapture,
  name: string,
): Promise<readonly CollectedHistogramPoint[]> {
  const metric = await capture.metric(name);
  expect(metric.kind).toBe('histogram');
  return metric.points as readonly CollectedHistogramPoint[];
}
