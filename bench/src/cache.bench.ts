// `pnpm bench -- cache`: @redisotel/cache beside bentocache 1.6.1 (Redis only, and with its memory tier)
// and cache-manager 7.2.9 (Keyv + @keyv/redis), all in this one process against one Redis this program
// starts, with no OpenTelemetry SDK registered.
//   1. Redis-tier hits: get/s at concurrency 64, beside a hand-written GET + JSON.parse on each client.
//   2. getOrLoad hits (bentocache getOrSet, cache-manager wrap) at concurrency 64.
//   3. Memory-tier hits: ops/s and CPU µs per hit.
//   4. Round trips per hit, counted by the server (MONITOR; commands run inside a script show as `lua`
//      and do not count).
// Every key is pre-populated (1,000 keys, a ~300-byte JSON object each): hits only. Rounds are
// interleaved (order rotated each round) and the median round is reported; besides ops/s, each table
// gives CPU µs per operation of this process, which a busy machine disturbs less than wall-clock
// throughput. BENCH_ROUNDS and BENCH_OPS scale it.
import { deepStrictEqual } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import KeyvRedis from '@keyv/redis';
import { createCache as createRedisotelCache } from '@redisotel/cache';
import type { RedisLike } from '@redisotel/core-hooks';
import { fromIoredis } from '@redisotel/ioredis';
import { fromNodeRedis } from '@redisotel/node-redis';
import { startRedis } from '@redisotel/testing';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import Redis from 'ioredis';
import { Keyv } from 'keyv';
import { createClient } from 'redis';
import { type LoadResult, median, printTable, runLoad } from './lib/measure.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const ops = Number(process.env.BENCH_OPS ?? 30_000);
const CONCURRENCY = 64;
const KEYS = 1_000;
const TTL_MS = 600_000;
const VALUE = {
  id: 42,
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  roles: ['admin', 'editor', 'viewer'],
  address: { street: '12 Analytical Engine Way', city: 'London', zip: 'N1 9GU', country: 'UK' },
  preferences: { theme: 'dark', language: 'en-GB', notifications: { email: true, sms: false } },
  createdAt: '2026-01-01T00:00:00.000Z',
  tags: ['math', 'poetry', 'engines'],
};

type Operation = (i: number) => Promise<unknown>;
interface Variant {
  readonly name: string;
  readonly run: Operation;
  /** The variant every ratio of this table is relative to. */
  readonly baseline?: boolean;
}

const key = (prefix: string, i: number) => `${prefix}${i % KEYS}`;
const loader = async () => VALUE;

/** Counts the commands Redis executes, from MONITOR (script-internal `lua` commands excluded). */
class CommandCounter {
  #socket: Socket | undefined;
  #buffer = '';
  #count = 0;
  readonly #waiters = new Map<string, () => void>();

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const socket = connect({ host: this.host, port: this.port });
    this.#socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let newline = this.#buffer.indexOf('\r\n');
      while (newline !== -1) {
        this.#onLine(this.#buffer.slice(0, newline));
        this.#buffer = this.#buffer.slice(newline + 2);
        newline = this.#buffer.indexOf('\r\n');
      }
    });
    socket.write('MONITOR\r\n');
    await this.sync();
  }

  #onLine(line: string): void {
    const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
    if (!match) return;
    const marker = /^"ECHO" "(bench-marker-[0-9a-f]+)"$/.exec(match[2]!);
    if (marker) {
      this.#waiters.get(marker[1]!)?.();
      return;
    }
    if (match[1] !== 'lua') this.#count++;
  }

  /** Wait until MONITOR has shown everything sent before now; returns the count so far. */
  async sync(): Promise<number> {
    const marker = `bench-marker-${randomBytes(6).toString('hex')}`;
    const seen = new Promise<void>((resolve) => this.#waiters.set(marker, resolve));
    const socket = connect({ host: this.host, port: this.port });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`ECHO ${marker}\r\n`);
    await seen;
    this.#waiters.delete(marker);
    socket.destroy();
    return this.#count;
  }

  /** Commands per call of `operation`, over `calls` sequential calls. */
  async perCall(operation: Operation, calls = 500): Promise<number> {
    const before = await this.sync();
    for (let i = 0; i < calls; i++) await operation(i);
    return ((await this.sync()) - before) / calls;
  }

  stop(): void {
    this.#socket?.destroy();
  }
}

async function measure(
  title: string,
  variants: readonly Variant[],
  columns: 'throughput' | 'cpu',
): Promise<Map<string, LoadResult>> {
  const samples = new Map<string, LoadResult[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no variant always runs first (or right after another).
    for (let j = 0; j < variants.length; j++) {
      const variant = variants[(j + round) % variants.length]!;
      samples.get(variant.name)!.push(await runLoad(variant.run, { concurrency: CONCURRENCY, total: ops }));
    }
  }
  const medians = new Map<string, LoadResult>();
  for (const [name, results] of samples) {
    medians.set(name, {
      operations: ops,
      opsPerSecond: median(results.map((r) => r.opsPerSecond)),
      p50Ms: median(results.map((r) => r.p50Ms)),
      p99Ms: median(results.map((r) => r.p99Ms)),
      cpuMicrosPerOp: median(results.map((r) => r.cpuMicrosPerOp)),
    });
  }
  const baseline = medians.get(variants.find((v) => v.baseline)?.name ?? variants[0]!.name)!;
  console.log(`\n${title} (c=${CONCURRENCY}, ${ops} ops, median of ${rounds} rounds)`);
  printTable(
    columns === 'throughput'
      ? ['variant', 'ops/s', 'ratio', 'p50 ms', 'p99 ms', 'CPU µs/op', 'CPU-efficiency ratio']
      : ['variant', 'ops/s', 'CPU µs/op', 'CPU ratio'],
    variants.map((v) => {
      const r = medians.get(v.name)!;
      return columns === 'throughput'
        ? [
            v.name,
            r.opsPerSecond,
            `${(r.opsPerSecond / baseline.opsPerSecond).toFixed(2)}×`,
            r.p50Ms,
            r.p99Ms,
            r.cpuMicrosPerOp,
            `${(baseline.cpuMicrosPerOp / r.cpuMicrosPerOp).toFixed(2)}×`,
          ]
        : [
            v.name,
            r.opsPerSecond,
            r.cpuMicrosPerOp,
            `${(r.cpuMicrosPerOp / baseline.cpuMicrosPerOp).toFixed(2)}×`,
          ];
    }),
  );
  return medians;
}

async function main(): Promise<void> {
  const server = process.env.REDIS_URL ? undefined : await startRedis({ topology: 'standalone' });
  const url = new URL(process.env.REDIS_URL ?? server!.url);
  const host = url.hostname;
  const port = Number(url.port || 6379);
  console.log(`Redis ${server?.redisVersion ?? '(external)'} at ${url}; no OpenTelemetry SDK registered`);

  const ioredis = new Redis({ host, port, lazyConnect: true });
  await ioredis.connect();
  const nodeRedis = createClient({ url: url.toString() });
  await nodeRedis.connect();
  const bentoConnection = new Redis({ host, port, lazyConnect: true });
  await bentoConnection.connect();
  const redisotelIoredis: RedisLike = fromIoredis(ioredis);
  const redisotelNodeRedis: RedisLike = fromNodeRedis(nodeRedis);

  const ours = createRedisotelCache(redisotelIoredis, { prefix: 'ours-io:', ttlMs: TTL_MS });
  const oursNodeRedis = createRedisotelCache(redisotelNodeRedis, { prefix: 'ours-nr:', ttlMs: TTL_MS });
  const oursL1 = createRedisotelCache(redisotelIoredis, {
    prefix: 'ours-l1:',
    ttlMs: TTL_MS,
    l1: { maxEntries: 10_000 },
  });
  const bentoRedis = new BentoCache({
    default: 'cache',
    prefix: 'bento',
    stores: { cache: bentostore().useL2Layer(redisDriver({ connection: bentoConnection })) },
  });
  const bentoTiered = new BentoCache({
    default: 'cache',
    prefix: 'bento-tiered',
    stores: {
      cache: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection: bentoConnection })),
    },
  });
  const keyvRedis = new KeyvRedis(url.toString());
  const managerRedis = createCacheManager({ stores: [new Keyv({ store: keyvRedis, namespace: 'cm' })] });
  const managerTiered = createCacheManager({
    stores: [new Keyv(), new Keyv({ store: new KeyvRedis(url.toString()), namespace: 'cm-tiered' })],
  });

  // Pre-populate: every measured call is a hit.
  for (let i = 0; i < KEYS; i++) {
    const json = JSON.stringify(VALUE);
    await ioredis.set(key('hand:', i), json, 'PX', TTL_MS);
    await ours.set(key('k', i), VALUE);
    await oursNodeRedis.set(key('k', i), VALUE);
    await oursL1.set(key('k', i), VALUE);
    await bentoRedis.set({ key: key('k', i), value: VALUE, ttl: TTL_MS });
    await bentoTiered.set({ key: key('k', i), value: VALUE, ttl: TTL_MS });
    await managerRedis.set(key('k', i), VALUE, TTL_MS);
    await managerTiered.set(key('k', i), VALUE, TTL_MS);
  }

  const handIoredis: Variant = {
    name: 'hand-written GET + JSON.parse (ioredis)',
    baseline: true,
    run: async (i) => JSON.parse((await ioredis.get(key('hand:', i)))!),
  };
  const handNodeRedis: Variant = {
    name: 'hand-written GET + JSON.parse (node-redis)',
    run: async (i) => JSON.parse((await nodeRedis.get(key('hand:', i)))!),
  };
  const redisGets: Variant[] = [
    handIoredis,
    handNodeRedis,
    { name: '@redisotel/cache get (fromIoredis)', run: (i) => ours.get(key('k', i)) },
    { name: '@redisotel/cache get (fromNodeRedis)', run: (i) => oursNodeRedis.get(key('k', i)) },
    { name: 'bentocache get (Redis only)', run: (i) => bentoRedis.get({ key: key('k', i) }) },
    { name: 'cache-manager get (Keyv + @keyv/redis)', run: (i) => managerRedis.get(key('k', i)) },
  ];
  const getOrLoads: Variant[] = [
    handIoredis,
    { name: '@redisotel/cache getOrLoad (fromIoredis)', run: (i) => ours.getOrLoad(key('k', i), loader) },
    {
      name: '@redisotel/cache getOrLoad (fromNodeRedis)',
      run: (i) => oursNodeRedis.getOrLoad(key('k', i), loader),
    },
    {
      name: 'bentocache getOrSet (Redis only)',
      run: (i) => bentoRedis.getOrSet({ key: key('k', i), factory: loader, ttl: TTL_MS }),
    },
    { name: 'cache-manager wrap', run: (i) => managerRedis.wrap(key('k', i), loader, TTL_MS) },
  ];
  const memoryGets: Variant[] = [
    { name: '@redisotel/cache get (L1)', baseline: true, run: (i) => oursL1.get(key('k', i)) },
    { name: '@redisotel/cache getOrLoad (L1)', run: (i) => oursL1.getOrLoad(key('k', i), loader) },
    { name: 'bentocache get (memory + Redis)', run: (i) => bentoTiered.get({ key: key('k', i) }) },
    {
      name: 'bentocache getOrSet (memory + Redis)',
      run: (i) => bentoTiered.getOrSet({ key: key('k', i), factory: loader, ttl: TTL_MS }),
    },
    { name: 'cache-manager get (memory + Redis)', run: (i) => managerTiered.get(key('k', i)) },
  ];
  // Warm the memory tiers (the first read of each key fills them).
  for (let i = 0; i < KEYS; i++) for (const v of memoryGets) await v.run(i);

  // Every variant must answer the stored value (a hit), or the comparison means nothing.
  for (const v of [...redisGets, ...getOrLoads, ...memoryGets])
    deepStrictEqual(await v.run(7), VALUE, v.name);

  const redis = await measure('Redis-tier hits: get', redisGets, 'throughput');
  const loads = await measure('Redis-tier hits: getOrLoad / getOrSet / wrap', getOrLoads, 'throughput');
  await measure('Memory-tier hits', memoryGets, 'cpu');

  const counter = new CommandCounter(host, port);
  await counter.start();
  console.log('\nRound trips per hit (commands Redis executed per call, from MONITOR; sequential calls)');
  const trips: [string, number][] = [];
  for (const v of [...redisGets, ...getOrLoads.slice(1), ...memoryGets]) {
    trips.push([v.name, await counter.perCall(v.run)]);
  }
  printTable(['variant', 'commands per hit'], trips);
  counter.stop();

  const base = redis.get(handIoredis.name)!.opsPerSecond;
  const baseNode = redis.get(handNodeRedis.name)!.opsPerSecond;
  console.log('\nTargets');
  printTable(
    ['target', 'measured'],
    [
      [
        'Redis-tier get ≥ 0.70 × hand-written GET + JSON.parse (ioredis)',
        `${(redis.get('@redisotel/cache get (fromIoredis)')!.opsPerSecond / base).toFixed(2)}×`,
      ],
      [
        'Redis-tier get ≥ 0.70 × hand-written GET + JSON.parse (node-redis)',
        `${(redis.get('@redisotel/cache get (fromNodeRedis)')!.opsPerSecond / baseNode).toFixed(2)}×`,
      ],
      [
        'getOrLoad hit vs hand-written (ioredis)',
        `${(loads.get('@redisotel/cache getOrLoad (fromIoredis)')!.opsPerSecond / base).toFixed(2)}×`,
      ],
    ],
  );

  await Promise.all([ours.close(), oursNodeRedis.close(), oursL1.close()]);
  await bentoRedis.disconnectAll().catch(() => {});
  await bentoTiered.disconnectAll().catch(() => {});
  await managerRedis.disconnect().catch(() => {});
  await managerTiered.disconnect().catch(() => {});
  await redisotelIoredis.subscriber().close();
  await redisotelNodeRedis.subscriber().close();
  ioredis.disconnect();
  bentoConnection.disconnect();
  await nodeRedis.close();
  await server?.stop();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
