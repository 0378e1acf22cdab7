import { randomBytes } from 'node:crypto';
import type { RedisLike } from '@redisotel/core-hooks';
import { CLIENTS, type ConnectedClient, connectClient } from '@redisotel/test-clients';
import type { RedisDeployment } from '@redisotel/testing';
import { useRedisDeployment } from '@redisotel/testing/vitest';
import type { RateLimitAlgorithm } from '../src/index.js';

export { CLIENTS };

/** The topologies the behaviour suites run on. */
export const TOPOLOGIES = ['standalone', 'cluster'] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** Every algorithm. */
export const ALGORITHMS: readonly RateLimitAlgorithm[] = [
  'fixed-window',
  'sliding-window',
  'sliding-log',
  'token-bucket',
  'gcra',
];

/** The deployment the global setup started for `topology`. */
export function deploymentFor(topology: Topology): RedisDeployment {
  return useRedisDeployment(topology).deployment;
}

/**
 * A key prefix unique to one test file run, without braces: the limiter puts the limiter key in the
 * hash tag itself.
 */
export function filePrefix(name: string): string {
  return `test:${name}:${randomBytes(4).toString('hex')}:`;
}

/** Connect one client case to a topology. */
export function connect(
  client: (typeof CLIENTS)[number],
  topology: Topology,
  options?: Parameters<typeof connectClient>[2],
): Promise<ConnectedClient> {
  return connectClient(client, deploymentFor(topology), options);
}

/** A counter of commands by upper-cased name, installed as a hook on `redis`. */
export function countCommands(redis: RedisLike): Map<string, number> {
  const counts = new Map<string, number>();
  redis.addHook({
    process: (next) => (command, info) => {
      counts.set(info.operation, (counts.get(info.operation) ?? 0) + 1);
      return next(command, info);
    },
    processBatch: (next) => (commands, info) => {
      for (const operation of info.operations) counts.set(operation, (counts.get(operation) ?? 0) + 1);
      return next(commands, info);
    },
  });
  return counts;
}

/** Sleep (only to let Redis-side time pass: never to assert a duration). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
