import { randomBytes } from 'node:crypto';
import type { RedisLike } from '@redisotel/core-hooks';
import type { RedisDeployment } from '@redisotel/testing';
import { useRedisDeployment } from '@redisotel/testing/vitest';

/** The topologies the behaviour suite runs on. */
export const TOPOLOGIES = ['standalone', 'cluster'] as const;

/** The deployment the global setup started for `topology`. */
export async function deploymentFor(topology: (typeof TOPOLOGIES)[number]): Promise<RedisDeployment> {
  // Our keys carry their own hash tag per resource, so the harness prefix is not used: the file prefix
  // below keeps this file's keys apart.
  return useRedisDeployment(topology).deployment;
}

/**
 * A key prefix unique to this test file run (keys of one test file never collide with another's),
 * without a hash tag: the lock's keys put the resource in the hash tag.
 */
export function filePrefix(name: string): string {
  return `test:${name}:${randomBytes(4).toString('hex')}:`;
}

/** Redis' clock in milliseconds, read on the node serving `key`'s slot. */
export async function serverTimeMs(redis: RedisLike, _key: string): Promise<number> {
  const reply = (await redis.send({ name: 'TIME', args: [] })) as [string, string];
  return Number(reply[0]) * 1000 + Math.floor(Number(reply[1]) / 1000);
}

/** Resolve with the signal's reason once it aborts; reject after `timeoutMs` (a generous bound). */
export function untilAborted(signal: AbortSignal, timeoutMs: number): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`signal did not abort within ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve(signal.reason);
      },
      { once: true },
    );
  });
}

/** Poll `check` every 20 ms until it is true; reject after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
