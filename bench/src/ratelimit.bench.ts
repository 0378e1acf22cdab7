// `pnpm bench -- ratelimit`: @redisotel/ratelimit (every algorithm) beside rate-limiter-flexible 11.4.0
// (RateLimiterRedis, its fixed window) and a bare GET, all in this one process, on the same clients, against
// one Redis this program starts, with no OpenTelemetry SDK registered.
//   1. Decisions/s and p99 at concurrency 64 on 1 key and on 10,000 keys, with ioredis 6 and node-redis 6.
//      Limits are high enough that every decision admits, so every variant does the same work each call
//      (the sliding log: 100,000 per second, its largest limit).
//   2. Commands per decision, counted by the server (MONITOR; commands run inside a script show as `lua`
//      and do not count).
//   3. MEMORY USAGE of one limiter key per algorithm (after 10 and after 100 admissions).
//   4. Paired ratios: each limiter, rate-limiter-flexible and a bare GET alternate in short slices on one
//      client, each ratio taken within a slice (BENCH_PAIRED_SLICES); the targets table uses these, since
//      whole-run throughput on a shared machine moves by more than the differences being judged.
// Besides throughput, each row shows the client's CPU per decision and the time Redis spent per call
// (INFO commandstats), which move less than throughput when the machine is shared.
// Rounds are interleaved and the median round is reported. BENCH_ROUNDS and BENCH_OPS scale it.
// node-redis runs with `commandOptions: { timeout: 0 }` (both libraries share the client): its default
// 5 s per-command timeout arms an AbortSignal per call, which costs more than a decision and swings by
// several µs between rounds (see packages/node-redis/README.md), hiding what the limiters themselves cost.
import { randomBytes } from 'node:crypto';
import type { RedisLike } from '@redisotel/core-hooks';
import { fromIoredis } from '@redisotel/ioredis';
import { fromNodeRedis } from '@redisotel/node-redis';
import { createRateLimiter, type RateLimitAlgorithm } from '@redisotel/ratelimit';
import { startRedis } from '@redisotel/testing';
import Redis from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { createClient } from 'redis';
import {
  formatRatio,
  type LoadResult,
  median,
  type PairedRatio,
  pairedRatios,
  printTable,
  runLoad,
} from './lib/measure.js';
import { CommandCounter } from './lib/monitor.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const ops = Number(process.env.BENCH_OPS ?? 20_000);
const CONCURRENCY = 64;
const MANY_KEYS = 10_000;
const WINDOW_MS = 60_000;
const HIGH_LIMIT = 1_000_000_000;
const ALGORITHMS: readonly RateLimitAlgorithm[] = [
  'fixed-window',
  'sliding-window',
  'sliding-log',
  'token-bucket',
  'gcra',
];
const O1_ALGORITHMS = new Set<RateLimitAlgorithm>(['fixed-window', 'sliding-window', 'token-bucket', 'gcra']);

type Operation = (i: number) => Promise<unknown>;
interface Variant {
  readonly name: string;
  readonly client: 'ioredis' | 'node-redis';
  /** Build the operation for a key space (`one`: a single hot key; `many`: 10,000 keys). */
  readonly make: (keys: 'one' | 'many') => Operation;
}

const keyOf = (keys: 'one' | 'many', i: number) => (keys === 'one' ? 'hot' : `k${i % MANY_KEYS}`);

async function main(): Promise<void> {
  const server = await startRedis({ topology: 'standalone' });
  const { host, port } = server.deployment;
  const run = randomBytes(3).toString('hex');
  console.log(
    `Redis ${server.redisVersion} at ${host}:${port}; concurrency ${CONCURRENCY}; ${ops} decisions per measurement; ` +
      `${rounds} interleaved rounds (median); no OpenTelemetry SDK registered; every decision admits.`,
  );

  const ioredis = new Redis({ host, port });
  const nodeRedis = await createClient({
    url: `redis://${host}:${port}`,
    commandOptions: { timeout: 0 },
  }).connect();
  const overIoredis: RedisLike = fromIoredis(ioredis);
  const overNodeRedis: RedisLike = fromNodeRedis(nodeRedis);

  const ours = (
    redis: RedisLike,
    client: 'ioredis' | 'node-redis',
    algorithm: RateLimitAlgorithm,
  ): Variant => {
    // The sliding log keeps one entry per admission (its limit is capped at 100,000): 100,000 per second
    // admits every decision here while the hot key holds tens of thousands of entries.
    const log = algorithm === 'sliding-log';
    const limiter = createRateLimiter(redis, {
      name: 'bench',
      prefix: `bench:${run}:${client}:`,
      algorithm,
      limit: log ? 100_000 : HIGH_LIMIT,
      windowMs: log ? 1000 : WINDOW_MS,
    });
    return {
      name: `@redisotel/ratelimit ${algorithm} (${client})`,
      client,
      make: (keys) => (i) => limiter.consume(keyOf(keys, i)),
    };
  };
  const flexible = (client: 'ioredis' | 'node-redis'): Variant => {
    const limiter = new RateLimiterRedis({
      storeClient: client === 'ioredis' ? ioredis : nodeRedis,
      useRedisPackage: client === 'node-redis',
      points: HIGH_LIMIT,
      duration: WINDOW_MS / 1000,
      keyPrefix: `rlflx:${run}:${client}`,
    });
    return {
      name: `rate-limiter-flexible fixed window (${client})`,
      client,
      make: (keys) => (i) => limiter.consume(keyOf(keys, i)),
    };
  };
  const bareGet = (client: 'ioredis' | 'node-redis'): Variant => ({
    name: `bare GET (${client})`,
    client,
    make: (keys) =>
      client === 'ioredis'
        ? (i) => ioredis.get(`get:${keyOf(keys, i)}`)
        : (i) => nodeRedis.get(`get:${keyOf(keys, i)}`),
  });

  const variants: Variant[] = [];
  for (const client of ['ioredis', 'node-redis'] as const) {
    variants.push(bareGet(client), flexible(client));
    for (const algorithm of ALGORITHMS) {
      variants.push(ours(client === 'ioredis' ? overIoredis : overNodeRedis, client, algorithm));
    }
  }

  /** Server-side time per command (INFO commandstats `usec` / `calls`) of the command a variant sends. */
  const commandStats = async (): Promise<Map<string, [number, number]>> => {
    const stats = new Map<string, [number, number]>();
    for (const line of String(await ioredis.info('commandstats')).split('\n')) {
      const match = /^cmdstat_([a-z|]+):calls=(\d+),usec=(\d+)/.exec(line);
      if (match) stats.set(match[1]!, [Number(match[2]), Number(match[3])]);
    }
    return stats;
  };
  const serverCommand = (variant: Variant) =>
    variant.name.startsWith('bare GET')
      ? 'get'
      : variant.name.includes('node-redis') && variant.name.startsWith('rate-limiter-flexible')
        ? 'eval'
        : 'evalsha';
  const serverMicros = new Map<string, number[]>();

  const results = new Map<string, LoadResult>();
  for (const keys of ['one', 'many'] as const) {
    const operations = variants.map((v) => ({ variant: v, run: v.make(keys) }));
    const samples = new Map<string, LoadResult[]>(variants.map((v) => [v.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const { variant, run: operation } of operations) {
        const before = await commandStats();
        samples.get(variant.name)!.push(await runLoad(operation, { concurrency: CONCURRENCY, total: ops }));
        const after = await commandStats();
        const command = serverCommand(variant);
        const [calls0, usec0] = before.get(command) ?? [0, 0];
        const [calls1, usec1] = after.get(command) ?? [0, 0];
        const list = serverMicros.get(`${keys}|${variant.name}`) ?? [];
        list.push((usec1 - usec0) / Math.max(1, calls1 - calls0));
        serverMicros.set(`${keys}|${variant.name}`, list);
      }
    }
    console.log(`\nDecisions at concurrency ${CONCURRENCY} on ${keys === 'one' ? '1 key' : '10,000 keys'}`);
    const rows: (string | number)[][] = [];
    for (const client of ['ioredis', 'node-redis'] as const) {
      const ofClient = variants.filter((v) => v.client === client);
      const get = median(samples.get(bareGet(client).name)!.map((r) => r.opsPerSecond));
      const flex = median(
        samples.get(`rate-limiter-flexible fixed window (${client})`)!.map((r) => r.opsPerSecond),
      );
      for (const variant of ofClient) {
        const list = samples.get(variant.name)!;
        const opsPerSecond = median(list.map((r) => r.opsPerSecond));
        const result: LoadResult = {
          operations: ops,
          opsPerSecond,
          p50Ms: median(list.map((r) => r.p50Ms)),
          p99Ms: median(list.map((r) => r.p99Ms)),
          cpuMicrosPerOp: median(list.map((r) => r.cpuMicrosPerOp)),
        };
        results.set(`${keys}|${variant.name}`, result);
        rows.push([
          variant.name,
          opsPerSecond,
          result.p50Ms,
          result.p99Ms,
          result.cpuMicrosPerOp,
          median(serverMicros.get(`${keys}|${variant.name}`)!),
          `${(opsPerSecond / get).toFixed(2)}×`,
          `${(opsPerSecond / flex).toFixed(2)}×`,
        ]);
      }
    }
    printTable(
      [
        'variant',
        'decisions/s',
        'p50 ms',
        'p99 ms',
        'client CPU µs/op',
        'Redis µs/call',
        'vs GET',
        'vs rlflx',
      ],
      rows,
    );
  }

  // Commands per decision from the server's view.
  const counter = new CommandCounter(host, port);
  await counter.start();
  console.log('\nCommands per decision (commands Redis executed per call, from MONITOR; sequential calls)');
  const trips: [string, number][] = [];
  for (const variant of variants) trips.push([variant.name, await counter.perCall(variant.make('many'))]);
  printTable(['variant', 'commands per decision'], trips);
  counter.stop();

  // Memory per limiter key.
  console.log('\nMEMORY USAGE of one limiter key (bytes, SAMPLES 0; limit 100 per 60 s)');
  const memoryRows: (string | number)[][] = [];
  for (const algorithm of ALGORITHMS) {
    const prefix = `mem:${run}:`;
    const limiter = createRateLimiter(overIoredis, {
      name: 'mem',
      prefix,
      algorithm,
      limit: 100,
      windowMs: WINDOW_MS,
    });
    const code = {
      'fixed-window': 'fw',
      'sliding-window': 'sw',
      'sliding-log': 'sl',
      'token-bucket': 'tb',
      gcra: 'gcra',
    }[algorithm];
    const row: (string | number)[] = [`@redisotel/ratelimit ${algorithm}`];
    for (const admitted of [10, 100]) {
      const key = `user-${algorithm}-${admitted}`;
      for (let i = 0; i < admitted; i++) await limiter.consume(key);
      row.push(
        Number(
          await ioredis.call('MEMORY', 'USAGE', `${prefix}{${key}}:${code}:${WINDOW_MS}`, 'SAMPLES', '0'),
        ),
      );
    }
    memoryRows.push(row);
  }
  {
    const limiter = new RateLimiterRedis({
      storeClient: ioredis,
      points: 100,
      duration: 60,
      keyPrefix: `memflx:${run}`,
    });
    const row: (string | number)[] = ['rate-limiter-flexible fixed window'];
    for (const admitted of [10, 100]) {
      const key = `user-${admitted}`;
      for (let i = 0; i < admitted; i++) await limiter.consume(key);
      row.push(Number(await ioredis.call('MEMORY', 'USAGE', `memflx:${run}:${key}`, 'SAMPLES', '0')));
    }
    memoryRows.push(row);
  }
  printTable(['limiter', 'after 10 admissions', 'after 100 admissions'], memoryRows);

  // Targets of issue 4, from paired slices: each limiter, rate-limiter-flexible and a bare GET alternate in
  // short slices on one client, and every ratio is taken within a slice (see pairedRatios).
  const slices = Number(process.env.BENCH_PAIRED_SLICES ?? 20);
  const sliceOps = 3_000;
  console.log(
    `\nPaired (${slices} alternating slices of ${sliceOps} decisions at concurrency ${CONCURRENCY}; median ` +
      'of the per-slice ratios, interquartile range in brackets)',
  );
  const paired = new Map<string, Map<string, PairedRatio>>();
  const pairedRows: string[][] = [];
  for (const client of ['ioredis', 'node-redis'] as const) {
    const ofClient = variants.filter((v) => v.client === client);
    const flexName = `rate-limiter-flexible fixed window (${client})`;
    for (const keys of ['one', 'many'] as const) {
      const operations = Object.fromEntries(ofClient.map((v) => [v.name, v.make(keys)]));
      const vsFlex = await pairedRatios(operations, flexName, { concurrency: CONCURRENCY, slices, sliceOps });
      const vsGet = await pairedRatios(operations, `bare GET (${client})`, {
        concurrency: CONCURRENCY,
        slices: Math.max(4, Math.round(slices / 2)),
        sliceOps,
      });
      paired.set(`${client}|${keys}|flex`, vsFlex);
      paired.set(`${client}|${keys}|get`, vsGet);
    }
    for (const variant of ofClient) {
      pairedRows.push([
        variant.name,
        ...(['one', 'many'] as const).flatMap((keys) => [
          formatRatio(paired.get(`${client}|${keys}|flex`)!.get(variant.name)!),
          formatRatio(paired.get(`${client}|${keys}|get`)!.get(variant.name)!),
        ]),
      ]);
    }
  }
  printTable(['variant', '1 key: vs rlflx', 'vs GET', '10,000 keys: vs rlflx', 'vs GET'], pairedRows);

  console.log('\nTargets (ioredis 6, concurrency 64, paired medians; 1 key / 10,000 keys)');
  const targetRows: (string | number)[][] = [];
  const pairedOf = (keys: 'one' | 'many', base: 'flex' | 'get', name: string) =>
    paired.get(`ioredis|${keys}|${base}`)!.get(name)!.median;
  for (const algorithm of ALGORITHMS) {
    const name = `@redisotel/ratelimit ${algorithm} (ioredis)`;
    const need = algorithm === 'fixed-window' ? 1 : 0.9;
    const vsFlex = (['one', 'many'] as const).map((k) => pairedOf(k, 'flex', name));
    targetRows.push([
      `${algorithm} ≥ ${need.toFixed(2)} × rate-limiter-flexible`,
      vsFlex.map((r) => `${r.toFixed(2)}×`).join(' / '),
      vsFlex.every((r) => r >= need) ? 'met' : 'MISSED',
    ]);
    if (O1_ALGORITHMS.has(algorithm)) {
      const vsGet = (['one', 'many'] as const).map((k) => pairedOf(k, 'get', name));
      targetRows.push([
        `${algorithm} ≥ 0.80 × bare GET`,
        vsGet.map((r) => `${r.toFixed(2)}×`).join(' / '),
        vsGet.every((r) => r >= 0.8) ? 'met' : 'MISSED',
      ]);
    }
  }
  const flexVsGet = (['one', 'many'] as const).map((k) =>
    pairedOf(k, 'get', 'rate-limiter-flexible fixed window (ioredis)'),
  );
  targetRows.push([
    '(reference) rate-limiter-flexible vs bare GET',
    flexVsGet.map((r) => `${r.toFixed(2)}×`).join(' / '),
    '',
  ]);
  printTable(['target', 'measured', ''], targetRows);

  await overIoredis.subscriber().close();
  await overNodeRedis.subscriber().close();
  ioredis.disconnect();
  await nodeRedis.close();
  await server.stop();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
