// `pnpm bench -- lock`: @redisotel/lock beside redis-semaphore (Mutex) and redlock (5.0.0-beta.2), all
// in this one process against one Redis that this program starts, with no OpenTelemetry SDK registered.
//   1. Uncontended acquire+release per second (a fresh resource per operation) at concurrency 1 and 32,
//      with a hand-written `SET NX PX` + Lua compare-and-delete release as the baseline on each client.
//   2. Round trips per uncontended acquire+release, and commands per acquisition under contention,
//      counted by the server (MONITOR; commands run inside a script show as `lua` and do not count).
//   3. Contended hand-off latency: 8 workers in this process loop acquire → hold 1 ms → release → 5 ms
//      of work outside the lock (BENCH_REST_MS), on one resource; hand-off = from the holder calling
//      release() to the next acquisition, counted when someone was waiting; plus what callers waited.
// Rounds are interleaved and the median round is reported. BENCH_ROUNDS, BENCH_OPS and BENCH_HANDOFFS
// scale it.
// node-redis runs with `commandOptions: { timeout: 0 }` (one client, shared by every node-redis variant):
// its default 5 s per-command timeout arms an AbortSignal per call, which swings by several µs between
// rounds (see packages/node-redis/README.md) and would hide what the lock itself costs.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { defineScript, type RedisLike } from '@redisotel/core-hooks';
import { fromIoredis } from '@redisotel/ioredis';
import { createLock } from '@redisotel/lock';
import { fromNodeRedis } from '@redisotel/node-redis';
import { startRedis } from '@redisotel/testing';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { Mutex } from 'redis-semaphore';
import Redlock from 'redlock';
import {
  formatRatio,
  type LoadResult,
  median,
  pairedRatios,
  percentile,
  printTable,
  runLoad,
} from './lib/measure.js';
import { CommandCounter } from './lib/monitor.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const ops32 = Number(process.env.BENCH_OPS ?? 20_000);
const ops1 = Math.round(ops32 / 4);
const handoffs = Number(process.env.BENCH_HANDOFFS ?? 1_000);
const TTL_MS = 10_000;
/** Time a worker spends outside the lock between releases (so the releaser rarely re-takes it at once). */
const REST_MS = Number(process.env.BENCH_REST_MS ?? 5);

const RELEASE_SOURCE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const RELEASE_SCRIPT = defineScript({ name: 'release', source: RELEASE_SOURCE });
const RELEASE_SHA = RELEASE_SCRIPT.sha1;

const makeNodeRedis = (url: string) => createClient({ url, commandOptions: { timeout: 0 } });
type NodeRedisClient = ReturnType<typeof makeNodeRedis>;

interface Clients {
  ioredis: Redis;
  nodeRedis: NodeRedisClient;
  fromIoredis: RedisLike;
  fromNodeRedis: RedisLike;
  redlock: Redlock;
}

/** One uncontended acquire+release on `resource`. */
type Cycle = (resource: string) => Promise<void>;

function token(): string {
  return randomBytes(16).toString('hex');
}

function uncontendedVariants(c: Clients): [string, Cycle][] {
  return [
    [
      'hand-written SET NX PX + Lua release (ioredis)',
      async (resource) => {
        const t = token();
        const key = `hand:${resource}`;
        if ((await c.ioredis.set(key, t, 'PX', TTL_MS, 'NX')) !== 'OK') throw new Error('not acquired');
        await c.ioredis.evalsha(RELEASE_SHA, 1, key, t);
      },
    ],
    [
      'hand-written, same 2 commands through fromIoredis',
      async (resource) => {
        const t = token();
        const key = `hand-rl:${resource}`;
        const reply = await c.fromIoredis.send({
          name: 'SET',
          args: [key, t, 'PX', TTL_MS, 'NX'],
          keys: [0],
        });
        if (reply !== 'OK') throw new Error('not acquired');
        await c.fromIoredis.runScript(RELEASE_SCRIPT, [key], [t]);
      },
    ],
    [
      '@redisotel/lock (fromIoredis)',
      async (resource) => {
        const lease = await createLock(c.fromIoredis, resource, {
          prefix: 'ours-io:',
          ttlMs: TTL_MS,
        }).acquire();
        await lease.release();
      },
    ],
    [
      'redis-semaphore Mutex (ioredis)',
      async (resource) => {
        const mutex = new Mutex(c.ioredis, `rs:${resource}`, { lockTimeout: TTL_MS });
        await mutex.acquire();
        await mutex.release();
      },
    ],
    [
      'redlock 5.0.0-beta.2 (ioredis)',
      async (resource) => {
        const lock = await c.redlock.acquire([`rl:${resource}`], TTL_MS, { retryCount: 0 });
        await lock.release();
      },
    ],
    [
      'hand-written SET NX PX + Lua release (node-redis)',
      async (resource) => {
        const t = token();
        const key = `hand-nr:${resource}`;
        if (
          (await c.nodeRedis.set(key, t, { condition: 'NX', expiration: { type: 'PX', value: TTL_MS } })) !==
          'OK'
        )
          throw new Error('not acquired');
        await c.nodeRedis.evalSha(RELEASE_SHA, { keys: [key], arguments: [t] });
      },
    ],
    [
      'hand-written, same 2 commands through fromNodeRedis',
      async (resource) => {
        const t = token();
        const key = `hand-nrl:${resource}`;
        const reply = await c.fromNodeRedis.send({
          name: 'SET',
          args: [key, t, 'PX', TTL_MS, 'NX'],
          keys: [0],
        });
        if (reply !== 'OK') throw new Error('not acquired');
        await c.fromNodeRedis.runScript(RELEASE_SCRIPT, [key], [t]);
      },
    ],
    [
      '@redisotel/lock (fromNodeRedis)',
      async (resource) => {
        const lease = await createLock(c.fromNodeRedis, resource, {
          prefix: 'ours-nr:',
          ttlMs: TTL_MS,
        }).acquire();
        await lease.release();
      },
    ],
  ];
}

/** A contended loop body: acquire, then return a release function. */
type Acquirer = () => Promise<() => Promise<unknown>>;

function contendedVariants(
  c: Clients,
  resource: string,
): { name: string; acquirer: Acquirer; handoffs: number }[] {
  const ours = (redis: RedisLike, prefix: string): Acquirer => {
    const lock = createLock(redis, resource, { prefix, ttlMs: TTL_MS, waitMs: 60_000 });
    return async () => {
      const lease = await lock.acquire();
      return () => lease.release();
    };
  };
  return [
    { name: '@redisotel/lock (fromIoredis)', acquirer: ours(c.fromIoredis, 'ours-c-io:'), handoffs },
    { name: '@redisotel/lock (fromNodeRedis)', acquirer: ours(c.fromNodeRedis, 'ours-c-nr:'), handoffs },
    {
      name: 'redis-semaphore Mutex (defaults: 10 ms retry)',
      acquirer: async () => {
        const mutex = new Mutex(c.ioredis, `rs-c:${resource}`, {
          lockTimeout: TTL_MS,
          acquireTimeout: 60_000,
        });
        await mutex.acquire();
        return () => mutex.release();
      },
      handoffs,
    },
    {
      name: 'redlock (retryDelay 10 ms, jitter 10 ms)',
      acquirer: async () => {
        const lock = await c.redlock.acquire([`rl-c:${resource}`], TTL_MS, {
          retryCount: -1,
          retryDelay: 10,
          retryJitter: 10,
        });
        return () => lock.release();
      },
      handoffs,
    },
    {
      name: 'redlock (default delays 200 ms + 100 ms jitter)',
      acquirer: async () => {
        const lock = await c.redlock.acquire([`rl-d:${resource}`], TTL_MS, { retryCount: -1 });
        return () => lock.release();
      },
      handoffs: Math.max(50, Math.round(handoffs / 10)),
    },
  ];
}

interface HandoffResult {
  handoffs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** What callers waited in acquire(), from the call to the lease. */
  waitP99Ms: number;
  acquisitionsPerSecond: number;
}

/**
 * 8 workers on one resource: acquire → hold 1 ms → release → rest `REST_MS` outside the lock. Hand-off =
 * from a release() call to the next acquisition, counted only when someone was waiting at that release
 * (so it measures how fast a waiter takes over, not arrival gaps).
 */
async function contended(acquirer: Acquirer, total: number): Promise<HandoffResult> {
  const latencies: number[] = [];
  const waits: number[] = [];
  let releaseStartedAt: number | undefined;
  let waitingAtRelease = 0;
  let waiting = 0;
  let acquisitions = 0;
  let stop = false;
  const started = performance.now();
  const worker = async () => {
    while (!stop) {
      const calledAt = performance.now();
      waiting++;
      const release = await acquirer();
      waiting--;
      const now = performance.now();
      waits.push(now - calledAt);
      if (releaseStartedAt !== undefined && waitingAtRelease > 0) latencies.push(now - releaseStartedAt);
      releaseStartedAt = undefined;
      acquisitions++;
      if (latencies.length >= total) stop = true;
      await new Promise((resolve) => setTimeout(resolve, 1));
      releaseStartedAt = performance.now();
      waitingAtRelease = waiting;
      await release();
      await new Promise((resolve) => setTimeout(resolve, REST_MS));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  waits.sort((a, b) => a - b);
  return {
    handoffs: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies[latencies.length - 1]!,
    waitP99Ms: percentile(waits, 0.99),
    acquisitionsPerSecond: (acquisitions / elapsed) * 1000,
  };
}

async function main(): Promise<void> {
  const server = process.env.REDIS_URL ? undefined : await startRedis({ topology: 'standalone' });
  const url = new URL(process.env.REDIS_URL ?? server!.url);
  const host = url.hostname;
  const port = Number(url.port || 6379);
  const ioredis = new Redis({ host, port, lazyConnect: true });
  await ioredis.connect();
  const nodeRedis = makeNodeRedis(url.toString());
  await nodeRedis.connect();
  const clients: Clients = {
    ioredis,
    nodeRedis,
    fromIoredis: fromIoredis(ioredis),
    fromNodeRedis: fromNodeRedis(nodeRedis),
    redlock: new Redlock([ioredis]),
  };
  await ioredis.script('LOAD', RELEASE_SOURCE);
  console.log(
    `Redis ${server?.redisVersion ?? '(external)'} at ${host}:${port}; Node ${process.version}; no OpenTelemetry SDK registered; ${rounds} rounds`,
  );
  try {
    // 1. Uncontended throughput.
    const variants = uncontendedVariants(clients);
    for (const concurrency of [1, 32]) {
      const total = concurrency === 1 ? ops1 : ops32;
      const samples = new Map<string, LoadResult[]>(variants.map(([name]) => [name, []]));
      // One discarded warm-up pass, then rounds with the order rotated, so no variant always runs first.
      for (const [, cycle] of variants) {
        const run = `warm-${concurrency}-${randomBytes(3).toString('hex')}`;
        await runLoad((i) => cycle(`${run}:${i}`), { concurrency, total: Math.min(total, 2000), warmup: 0 });
      }
      for (let round = 0; round < rounds; round++) {
        const order = [
          ...variants.slice(round % variants.length),
          ...variants.slice(0, round % variants.length),
        ];
        for (const [name, cycle] of order) {
          const run = `${round}-${concurrency}-${randomBytes(3).toString('hex')}`;
          samples
            .get(name)!
            .push(await runLoad((i) => cycle(`${run}:${i}`), { concurrency, total, warmup: 500 }));
        }
      }
      const summary = new Map(
        [...samples].map(([name, results]) => [
          name,
          {
            opsPerSecond: median(results.map((r) => r.opsPerSecond)),
            p50Ms: median(results.map((r) => r.p50Ms)),
            p99Ms: median(results.map((r) => r.p99Ms)),
            cpuMicrosPerOp: median(results.map((r) => r.cpuMicrosPerOp)),
          },
        ]),
      );
      const baseline = (name: string) =>
        summary.get(
          name.includes('node-redis') || name.includes('NodeRedis')
            ? 'hand-written SET NX PX + Lua release (node-redis)'
            : 'hand-written SET NX PX + Lua release (ioredis)',
        )!;
      console.log(
        `\nUncontended acquire+release, concurrency ${concurrency}, ${total} ops (median of ${rounds} rounds)`,
      );
      printTable(
        ['variant', 'acq+rel/s', '× hand-written', 'p50 ms', 'p99 ms', 'CPU µs/op'],
        variants.map(([name]) => {
          const r = summary.get(name)!;
          return [
            name,
            r.opsPerSecond,
            `${(r.opsPerSecond / baseline(name).opsPerSecond).toFixed(2)}×`,
            r.p50Ms,
            r.p99Ms,
            r.cpuMicrosPerOp,
          ];
        }),
      );
    }

    // 1b. The same at concurrency 32, paired: every variant of one client alternates with its hand-written
    // baseline in short slices, each ratio taken within a slice (a shared machine moves whole runs by more).
    const slices = Number(process.env.BENCH_PAIRED_SLICES ?? 20);
    const sliceOps = 2_000;
    let pairedRun = 0;
    console.log(
      `\nUncontended, paired: ${slices} alternating slices of ${sliceOps} acquire+release at concurrency 32 ` +
        '(median of per-slice ratios, interquartile range in brackets)',
    );
    const pairedRows: string[][] = [];
    for (const client of ['ioredis', 'node-redis'] as const) {
      const ofClient = variants.filter(([name]) =>
        client === 'ioredis' ? !/node-?redis/i.test(name) : /node-?redis/i.test(name),
      );
      const base = `hand-written SET NX PX + Lua release (${client})`;
      const operations = Object.fromEntries(
        ofClient.map(([name, cycle]) => {
          const run = `p${++pairedRun}-${randomBytes(3).toString('hex')}`;
          return [name, (i: number) => cycle(`${run}:${i}`)];
        }),
      );
      // Unique resources across slices: each operation's index keeps growing.
      let next = 0;
      const counted = Object.fromEntries(
        Object.entries(operations).map(([name, op]) => [name, () => op(next++)]),
      );
      const ratios = await pairedRatios(counted, base, { concurrency: 32, slices, sliceOps });
      for (const [name] of ofClient) pairedRows.push([name, formatRatio(ratios.get(name)!)]);
    }
    printTable(['variant', '× hand-written (same client)'], pairedRows);

    // 2. Round trips, from the server's view.
    const counter = new CommandCounter(host, port);
    await counter.start();
    const cycles = 200;
    const roundTrips: (string | number)[][] = [];
    for (const [name, cycle] of variants) {
      const run = `rt-${randomBytes(3).toString('hex')}`;
      await cycle(`${run}:warm`); // scripts loaded, subscriber connected
      const before = await counter.sync();
      for (let i = 0; i < cycles; i++) await cycle(`${run}:${i}`);
      const after = await counter.sync();
      roundTrips.push([name, (after - before) / cycles]);
    }
    const contendedCommands = new Map<string, number>();
    const handoffSamples = new Map<string, HandoffResult[]>();
    const contendedList = contendedVariants(clients, `hot-${randomBytes(3).toString('hex')}`);
    for (const variant of contendedList) {
      const before = await counter.sync();
      const result = await contended(variant.acquirer, Math.min(200, variant.handoffs));
      const after = await counter.sync();
      contendedCommands.set(variant.name, (after - before) / (result.handoffs + 1));
    }
    counter.stop();
    console.log(`\nRound trips per uncontended acquire+release (MONITOR, ${cycles} cycles; target 2)`);
    printTable(['variant', 'commands'], roundTrips);

    // 3. Contended hand-off (MONITOR off).
    for (let round = 0; round < rounds; round++) {
      const variantsOfRound = contendedVariants(clients, `hot-${round}-${randomBytes(3).toString('hex')}`);
      const shift = round % variantsOfRound.length;
      for (const variant of [...variantsOfRound.slice(shift), ...variantsOfRound.slice(0, shift)]) {
        const samples = handoffSamples.get(variant.name) ?? [];
        samples.push(await contended(variant.acquirer, variant.handoffs));
        handoffSamples.set(variant.name, samples);
      }
    }
    console.log(
      `\nContended hand-off, 8 workers in one process, one resource, 1 ms hold + ${REST_MS} ms rest (median of ${rounds} rounds)`,
    );
    printTable(
      ['variant', 'hand-offs', 'p50 ms', 'p99 ms', 'max ms', 'wait p99 ms', 'acq/s', 'cmds/acq'],
      contendedList.map((variant) => {
        const results = handoffSamples.get(variant.name)!;
        return [
          variant.name,
          results[0]!.handoffs,
          median(results.map((r) => r.p50Ms)),
          median(results.map((r) => r.p99Ms)),
          Math.max(...results.map((r) => r.maxMs)),
          median(results.map((r) => r.waitP99Ms)),
          median(results.map((r) => r.acquisitionsPerSecond)),
          contendedCommands.get(variant.name)!,
        ];
      }),
    );
  } finally {
    await clients.fromIoredis.subscriber().close();
    await clients.fromNodeRedis.subscriber().close();
    ioredis.disconnect();
    await nodeRedis.close();
    await server?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
