// The no-SDK overhead of the RedisLike adapters, measured paired: one process, ONE client, and the bare
// call and the same call through `fromX` alternate in slices of a closed loop at concurrency 64, so both
// see the same machine at the same moment (a 2-core VM drifts by more than the difference we look for).
// Prints one JSON line: CPU µs/op and ops/s of each side, summed over all slices.
// argv: <node-redis|ioredis> <GET|SET> <slices> <operations per slice>; env BENCH_REDIS_URL.
import { createRequire } from 'node:module';
import type { RedisCommand, RedisLike } from '@redisotel/core-hooks';
import { closedLoop } from '../lib/measure.js';
import { BENCH_VALUE, benchKey, benchRedisUrl } from './child.js';

const [library = 'ioredis', op = 'GET', slicesText = '40', sliceText = '5000'] = process.argv.slice(2);
const url = benchRedisUrl();
const slices = Number(slicesText);
const sliceOps = Number(sliceText);
const CONCURRENCY = 64;
const require = createRequire(import.meta.url);
const key = benchKey('paired');
const value = BENCH_VALUE;

export interface PairedResult {
  readonly bareCpuMicrosPerOp: number;
  readonly fromCpuMicrosPerOp: number;
  readonly bareOpsPerSecond: number;
  readonly fromOpsPerSecond: number;
}

async function main(): Promise<void> {
  let bare: () => Promise<unknown>;
  let redis: RedisLike;
  let close: () => Promise<void>;
  if (library === 'node-redis') {
    const { createClient } = require('redis') as typeof import('redis');
    const client = await createClient({ url, commandOptions: { timeout: 0 } }).connect();
    const { fromNodeRedis } = await import('@redisotel/node-redis');
    redis = fromNodeRedis(client);
    bare = op === 'GET' ? () => client.get(key) : () => client.set(key, value);
    close = async () => void (await client.close());
  } else {
    const Redis = require('ioredis') as typeof import('ioredis').default;
    const client = new Redis(url, { lazyConnect: true });
    await client.connect();
    const { fromIoredis } = await import('@redisotel/ioredis');
    redis = fromIoredis(client);
    bare = op === 'GET' ? () => client.get(key) : () => client.set(key, value);
    close = async () => void (await client.quit());
  }
  // Preallocated, as an application would keep its command shapes: the figure is the adapter's cost.
  const command: RedisCommand =
    op === 'GET' ? { name: 'GET', args: [key], keys: [0] } : { name: 'SET', args: [key, value], keys: [0] };
  const viaAdapter = () => redis.send(command);
  await redis.send({ name: 'SET', args: [key, value], keys: [0] });
  // Warm both paths up (JIT) before measuring.
  await closedLoop(bare, CONCURRENCY, 20_000, undefined);
  await closedLoop(viaAdapter, CONCURRENCY, 20_000, undefined);
  const cpu = { bare: 0, from: 0 };
  const wall = { bare: 0, from: 0 };
  for (let slice = 0; slice < slices; slice++) {
    // Alternate which side goes first, so neither always follows the other.
    const order: Array<['bare' | 'from', () => Promise<unknown>]> =
      slice % 2 === 0
        ? [
            ['bare', bare],
            ['from', viaAdapter],
          ]
        : [
            ['from', viaAdapter],
            ['bare', bare],
          ];
    for (const [side, operation] of order) {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await closedLoop(operation, CONCURRENCY, sliceOps, undefined);
      wall[side] += performance.now() - started;
      const used = process.cpuUsage(cpuBefore);
      cpu[side] += used.user + used.system;
    }
  }
  const total = slices * sliceOps;
  const result: PairedResult = {
    bareCpuMicrosPerOp: cpu.bare / total,
    fromCpuMicrosPerOp: cpu.from / total,
    bareOpsPerSecond: (total / wall.bare) * 1000,
    fromOpsPerSecond: (total / wall.from) * 1000,
  };
  await close();
  console.log(JSON.stringify(result));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
