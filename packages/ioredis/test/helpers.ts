import { randomBytes } from 'node:crypto';
import {
  type ClusterHandle,
  type SentinelHandle,
  type StandaloneHandle,
  startRedis,
} from '@redisotel/testing';
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
const SOURCES = ['binary'] as const;

export function startStandalone(serverArgs: readonly string[] = []): Promise<StandaloneHandle> {
  return startRedis({ topology: 'standalone', sources: SOURCES, serverArgs }) as Promise<StandaloneHandle>;
}

export function startCluster(): Promise<ClusterHandle> {
  return startRedis({ topology: 'cluster', sources: SOURCES }) as Promise<ClusterHandle>;
}

export function startSentinel(): Promise<SentinelHandle> {
  return startRedis({ topology: 'sentinel', sources: SOURCES, downAfterMs: 1000 }) as Promise<SentinelHandle>;
}

/** A short pause for reconnect-driven tests (never asserted as a duration). */
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it returns true (or throw after `timeoutMs`). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // keep polling
    }
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await pause(50);
  }
}
