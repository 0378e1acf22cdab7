import { randomBytes } from 'node:crypto';
import type { RedisHook } from '@redisotel/core-hooks';
import { eventually as sharedEventually, startRedis } from '@redisotel/testing';
import { useOwnRedis } from '@redisotel/testing/vitest';
import IoredisV6, { Cluster as ClusterV6 } from 'ioredis';
import IoredisV5, { Cluster as ClusterV5 } from 'ioredis-v5';

/** One supported ioredis major, by its classes. */
export interface IoredisModuleCase {
  readonly name: string;
  readonly major: 5 | 6;
  readonly version: string;
  readonly Redis: typeof IoredisV6;
  readonly Cluster: typeof ClusterV6;
}

/** Every ioredis major the adapter supports: each behaviour test runs against both. */
export const MODULES: readonly IoredisModuleCase[] = [
  { name: 'ioredis 6', major: 6, version: '6.0.0', Redis: IoredisV6, Cluster: ClusterV6 },
  {
    name: 'ioredis 5',
    major: 5,
    version: '5.11.1',
    Redis: IoredisV5 as unknown as typeof IoredisV6,
    Cluster: ClusterV5 as unknown as typeof ClusterV6,
  },
];

/** A key prefix unique to this test run, hash-tagged so every key lands in one cluster slot. */
export function prefix(tag = randomBytes(4).toString('hex')): string {
  return `{io-${tag}}:`;
}

// Fails each test after which anything rejected unhandled (the adapter must never leave one).
export { trackUnhandledRejections } from '@redisotel/testing/vitest';

/** Spawned servers only: never the system Redis on 6379, never `REDIS_URL`. */
const STANDALONE = { topology: 'standalone', sources: ['binary'] } as const;
const CLUSTER = { topology: 'cluster', sources: ['binary'] } as const;
const SENTINEL = { topology: 'sentinel', sources: ['binary'], downAfterMs: 1000 } as const;

// Started now (several at once with Promise.all in one beforeAll)…
export const startStandalone = () => startRedis(STANDALONE);
export const startCluster = () => startRedis(CLUSTER);
export const startSentinel = () => startRedis(SENTINEL);

// …or the file's (or describe's) own, started before its tests and stopped after them.
export const ownStandalone = () => useOwnRedis(STANDALONE);
export const ownCluster = () => useOwnRedis(CLUSTER);
export const ownSentinel = () => useOwnRedis(SENTINEL);

/** A short pause for reconnect-driven tests (never asserted as a duration). */
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it returns true (or throw after `timeoutMs`). */
export const eventually = (check: () => boolean | Promise<boolean>, timeoutMs = 20_000) =>
  sharedEventually(check, { timeoutMs });

/**
 * A dial hook recording each connection attempt (`dials`, a copy of its info) and, once the connection
 * is ready, its purpose (`settled`).
 */
export function recordDials(): {
  readonly dials: Array<{ address: string; port?: number; purpose: string }>;
  readonly settled: string[];
  readonly hook: RedisHook;
} {
  const dials: Array<{ address: string; port?: number; purpose: string }> = [];
  const settled: string[] = [];
  const hook: RedisHook = {
    dial: (next) => async (info) => {
      dials.push({ ...info });
      await next(info);
      settled.push(info.purpose);
    },
  };
  return { dials, settled, hook };
}
