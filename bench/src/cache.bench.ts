// `pnpm bench -- cache`: @redisotel/cache beside bentocache 1.6.1 (Redis only, and with its memory tier)
// and cache-manager 7.2.9 (Keyv + @keyv/redis), against one Redis this program starts, with no
// OpenTelemetry SDK registered. Each measurement runs in a fresh process (this file with `--variant`)
// that builds only the library it measures, so no variant pays for another's heap or timers.
//   1. Redis-tier hits: get/s at concurrency 64, beside a hand-written GET + JSON.parse on each client.
//   2. getOrLoad hits (bentocache getOrSet, cache-manager wrap) at concurrency 64.
//   3. Memory-tier hits: ops/s and CPU µs per hit.
//   4. Round trips per hit, counted by the server (MONITOR; commands run inside a script show as `lua`
//      and do not count).
// Every key is pre-populated (1,000 keys, a ~300-byte JSON object each): hits only, and every variant
// is checked to answer the stored value. Rounds are interleaved (order rotated each round) and the
// median round is reported; besides ops/s, each table gives the measuring process's CPU µs per
// operation, which a busy machine disturbs less than wall-clock throughput. BENCH_ROUNDS and BENCH_OPS
// scale it.
import { deepStrictEqual } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import KeyvRedis from '@keyv/redis';
import { createCache as createRedisotelCache } from '@redisotel/cache';
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
import { CommandCounter } from './lib/monitor.js';

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
/** A built variant: its operation and how to release what it opened. */
interface Built {
  readonly run: Operation;
  close(): Promise<void>;
}
interface VariantSpec {
  readonly id: string;
  readonly name: string;
  /** Build the variant against `url`; memory-tier variants are warmed before they are returned. */
  build(url: URL): Promise<Built>;
}

const key = (prefix: string, i: number) => `${prefix}${i % KEYS}`;
const loader = async () => VALUE;

async function ioredisClient(url: URL): Promise<Redis> {
  const client = new Redis({ host: url.hostname, port: Number(url.port || 6379), lazyConnect: true });
  await client.connect();
  return client;
}

async function nodeRedisClient(url: URL) {
  const client = createClient({ url: url.toString() });
  await client.connect();
  return client;
}

async function warm(run: Operation): Promise<void> {
  for (let i = 0; i < KEYS; i++) await run(i);
}

/** Our cache over the client the name says; `l1` adds the memory tier (its channel is awaited). */
async function ours(url: URL, client: 'ioredis' | 'node-redis', prefix: string, l1 = false) {
  const raw = client === 'ioredis' ? await ioredisClient(url) : await nodeRedisClient(url);
  const redis = client === 'ioredis' ? fromIoredis(raw as Redis) : fromNodeRedis(raw as never);
  const cache = createRedisotelCache(redis, {
    prefix,
    ttlMs: TTL_MS,
    l1: l1 ? { maxEntries: 10_000 } : false,
  });
  const close = async () => {
    await cache.close();
    await redis.subscriber().close();
    if (client === 'ioredis') (raw as Redis).disconnect();
    else await (raw as { close(): Promise<void> }).close();
  };
  return { cache, close };
}

function bento(prefix: string, tiered: boolean, connection: Redis) {
  const store = tiered
    ? bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection }))
    : bentostore().useL2Layer(redisDriver({ connection }));
  return new BentoCache({ default: 'cache', prefix, stores: { cache: store } });
}

/** bentocache over its own ioredis connection; `tiered` adds its memory layer, warmed before measuring. */
async function bentoVariant(
  url: URL,
  tiered: boolean,
  operation: (cache: ReturnType<typeof bento>, i: number) => Promise<unknown>,
): Promise<Built> {
  const connection = await ioredisClient(url);
  const cache = bento('bento', tiered, connection);
  const run: Operation = (i) => operation(cache, i);
  if (tiered) await warm(run);
  return {
    run,
    close: async () => {
      await cache.disconnectAll().catch(() => {});
      connection.disconnect();
    },
  };
}

/** Our cache with its L1 over ioredis, warmed before measuring. */
async function oursL1Variant(
  url: URL,
  operation: (cache: ReturnType<typeof createRedisotelCache>, i: number) => Promise<unknown>,
): Promise<Built> {
  const { cache, close } = await ours(url, 'ioredis', 'ours:', true);
  // The L1 fills once its invalidation channel is subscribed (a few ms after the first write).
  await cache.set('__warm', 1);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const run: Operation = (i) => operation(cache, i);
  await warm(run);
  return { run, close };
}

function manager(url: URL, namespace: string, tiered: boolean) {
  const redisStore = new Keyv({ store: new KeyvRedis(url.toString()), namespace });
  return createCacheManager({ stores: tiered ? [new Keyv(), redisStore] : [redisStore] });
}

const HAND_IOREDIS = 'hand-written GET + JSON.parse (ioredis)';

const SPECS: VariantSpec[] = [
  {
    id: 'hand-ioredis',
    name: HAND_IOREDIS,
    async build(url) {
      const client = await ioredisClient(url);
      return {
        run: async (i) => JSON.parse((await client.get(key('hand:', i)))!),
        close: async () => void client.disconnect(),
      };
    },
  },
  {
    id: 'hand-node-redis',
    name: 'hand-written GET + JSON.parse (node-redis)',
    async build(url) {
      const client = await nodeRedisClient(url);
      return {
        run: async (i) => JSON.parse((await client.get(key('hand:', i)))!),
        close: () => client.close(),
      };
    },
  },
  {
    id: 'ours-get-io',
    name: '@redisotel/cache get (fromIoredis)',
    async build(url) {
      const { cache, close } = await ours(url, 'ioredis', 'ours:');
      return { run: (i) => cache.get(key('k', i)), close };
    },
  },
  {
    id: 'ours-get-nr',
    name: '@redisotel/cache get (fromNodeRedis)',
    async build(url) {
      const { cache, close } = await ours(url, 'node-redis', 'ours:');
      return { run: (i) => cache.get(key('k', i)), close };
    },
  },
  {
    id: 'bento-get',
    name: 'bentocache get (Redis only)',
    build: (url) => bentoVariant(url, false, (cache, i) => cache.get({ key: key('k', i) })),
  },
  {
    id: 'manager-get',
    name: 'cache-manager get (Keyv + @keyv/redis)',
    async build(url) {
      const cache = manager(url, 'cm', false);
      return { run: (i) => cache.get(key('k', i)), close: async () => void (await cache.disconnect()) };
    },
  },
  {
    id: 'ours-load-io',
    name: '@redisotel/cache getOrLoad (fromIoredis)',
    async build(url) {
      const { cache, close } = await ours(url, 'ioredis', 'ours:');
      return { run: (i) => cache.getOrLoad(key('k', i), loader), close };
    },
  },
  {
    id: 'ours-load-nr',
    name: '@redisotel/cache getOrLoad (fromNodeRedis)',
    async build(url) {
      const { cache, close } = await ours(url, 'node-redis', 'ours:');
      return { run: (i) => cache.getOrLoad(key('k', i), loader), close };
    },
  },
  {
    id: 'bento-load',
    name: 'bentocache getOrSet (Redis only)',
    build: (url) =>
      bentoVariant(url, false, (cache, i) =>
        cache.getOrSet({ key: key('k', i), factory: loader, ttl: TTL_MS }),
      ),
  },
  {
    id: 'manager-load',
    name: 'cache-manager wrap',
    async build(url) {
      const cache = manager(url, 'cm', false);
      return {
        run: (i) => cache.wrap(key('k', i), loader, TTL_MS),
        close: async () => void (await cache.disconnect()),
      };
    },
  },
  {
    id: 'ours-l1-get',
    name: '@redisotel/cache get (L1)',
    build: (url) => oursL1Variant(url, (cache, i) => cache.get(key('k', i))),
  },
  {
    id: 'ours-l1-load',
    name: '@redisotel/cache getOrLoad (L1)',
    build: (url) => oursL1Variant(url, (cache, i) => cache.getOrLoad(key('k', i), loader)),
  },
  {
    id: 'bento-l1-get',
    name: 'bentocache get (memory + Redis)',
    build: (url) => bentoVariant(url, true, (cache, i) => cache.get({ key: key('k', i) })),
  },
  {
    id: 'bento-l1-load',
    name: 'bentocache getOrSet (memory + Redis)',
    build: (url) =>
      bentoVariant(url, true, (cache, i) =>
        cache.getOrSet({ key: key('k', i), factory: loader, ttl: TTL_MS }),
      ),
  },
  {
    id: 'manager-l1-get',
    name: 'cache-manager get (memory + Redis)',
    async build(url) {
      const cache = manager(url, 'cm', true);
      const run: Operation = (i) => cache.get(key('k', i));
      // cache-manager's get does not copy a Redis hit into the memory store: fill it with set.
      for (let i = 0; i < KEYS; i++) await cache.set(key('k', i), VALUE, TTL_MS);
      return { run, close: async () => void (await cache.disconnect()) };
    },
  },
];

const TABLES: { title: string; columns: 'throughput' | 'cpu'; ids: string[] }[] = [
  {
    title: 'Redis-tier hits: get',
    columns: 'throughput',
    ids: ['hand-ioredis', 'hand-node-redis', 'ours-get-io', 'ours-get-nr', 'bento-get', 'manager-get'],
  },
  {
    title: 'Redis-tier hits: getOrLoad / getOrSet / wrap',
    columns: 'throughput',
    ids: ['hand-ioredis', 'ours-load-io', 'ours-load-nr', 'bento-load', 'manager-load'],
  },
  {
    title: 'Memory-tier hits',
    columns: 'cpu',
    ids: ['ours-l1-get', 'ours-l1-load', 'bento-l1-get', 'bento-l1-load', 'manager-l1-get'],
  },
];

const spec = (id: string) => SPECS.find((s) => s.id === id)!;

/** Child mode: build one variant, check it answers the stored value, measure, print the result. */
async function child(id: string, url: URL): Promise<void> {
  const built = await spec(id).build(url);
  deepStrictEqual(await built.run(7), VALUE, spec(id).name);
  const result = await runLoad(built.run, { concurrency: CONCURRENCY, total: ops });
  await built.close();
  console.log(JSON.stringify(result));
}

function measureInChild(id: string, url: URL): LoadResult {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--variant', id, url.toString()],
    { encoding: 'utf8', env: process.env },
  );
  if (result.status !== 0) throw new Error(`variant ${id} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as LoadResult;
}

function measure(
  title: string,
  ids: readonly string[],
  columns: 'throughput' | 'cpu',
  url: URL,
): Map<string, LoadResult> {
  const samples = new Map<string, LoadResult[]>(ids.map((id) => [id, []]));
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no variant always runs first (or right after another).
    for (let j = 0; j < ids.length; j++) {
      const id = ids[(j + round) % ids.length]!;
      samples.get(id)!.push(measureInChild(id, url));
    }
  }
  const medians = new Map<string, LoadResult>();
  for (const [id, results] of samples) {
    medians.set(id, {
      operations: ops,
      opsPerSecond: median(results.map((r) => r.opsPerSecond)),
      p50Ms: median(results.map((r) => r.p50Ms)),
      p99Ms: median(results.map((r) => r.p99Ms)),
      cpuMicrosPerOp: median(results.map((r) => r.cpuMicrosPerOp)),
    });
  }
  const baseline = medians.get(ids[0]!)!;
  console.log(
    `\n${title} (c=${CONCURRENCY}, ${ops} ops, one process per measurement, median of ${rounds} rounds)`,
  );
  printTable(
    columns === 'throughput'
      ? ['variant', 'ops/s', 'ratio', 'p50 ms', 'p99 ms', 'CPU µs/op', 'CPU-efficiency ratio']
      : ['variant', 'ops/s', 'CPU µs/op', 'CPU ratio'],
    ids.map((id) => {
      const r = medians.get(id)!;
      const name = spec(id).name;
      return columns === 'throughput'
        ? [
            name,
            r.opsPerSecond,
            `${(r.opsPerSecond / baseline.opsPerSecond).toFixed(2)}×`,
            r.p50Ms,
            r.p99Ms,
            r.cpuMicrosPerOp,
            `${(baseline.cpuMicrosPerOp / r.cpuMicrosPerOp).toFixed(2)}×`,
          ]
        : [
            name,
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
  console.log(`Redis ${server?.redisVersion ?? '(external)'} at ${url}; no OpenTelemetry SDK registered`);

  // Pre-populate through each library's own write path: every measured call is a hit.
  {
    const hand = await ioredisClient(url);
    const io = await ours(url, 'ioredis', 'ours:');
    const connection = await ioredisClient(url);
    const bentoCache = bento('bento', false, connection);
    const managerCache = manager(url, 'cm', false);
    for (let i = 0; i < KEYS; i++) {
      await hand.set(key('hand:', i), JSON.stringify(VALUE), 'PX', TTL_MS);
      await io.cache.set(key('k', i), VALUE);
      await bentoCache.set({ key: key('k', i), value: VALUE, ttl: TTL_MS });
      await managerCache.set(key('k', i), VALUE, TTL_MS);
    }
    hand.disconnect();
    await io.close();
    await bentoCache.disconnectAll().catch(() => {});
    connection.disconnect();
    await managerCache.disconnect();
  }

  const results = TABLES.map((table) => measure(table.title, table.ids, table.columns, url));

  const host = url.hostname;
  const port = Number(url.port || 6379);
  const counter = new CommandCounter(host, port);
  await counter.start();
  console.log('\nRound trips per hit (commands Redis executed per call, from MONITOR; sequential calls)');
  const trips: [string, number][] = [];
  for (const table of TABLES) {
    for (const id of table.ids) {
      if (trips.some(([name]) => name === spec(id).name)) continue;
      const built = await spec(id).build(url);
      trips.push([spec(id).name, await counter.perCall(built.run)]);
      await built.close();
    }
  }
  printTable(['variant', 'commands per hit'], trips);
  counter.stop();

  const [gets, loads] = results as [Map<string, LoadResult>, Map<string, LoadResult>];
  const ratio = (table: Map<string, LoadResult>, id: string, base: string) =>
    `${(table.get(id)!.opsPerSecond / table.get(base)!.opsPerSecond).toFixed(2)}× (CPU ${(table.get(base)!.cpuMicrosPerOp / table.get(id)!.cpuMicrosPerOp).toFixed(2)}×)`;
  console.log('\nTargets');
  printTable(
    ['target', 'measured'],
    [
      [
        'Redis-tier get ≥ 0.70 × hand-written GET + JSON.parse (ioredis)',
        ratio(gets, 'ours-get-io', 'hand-ioredis'),
      ],
      [
        'Redis-tier get ≥ 0.70 × hand-written GET + JSON.parse (node-redis)',
        ratio(gets, 'ours-get-nr', 'hand-node-redis'),
      ],
      ['getOrLoad hit vs hand-written (ioredis)', ratio(loads, 'ours-load-io', 'hand-ioredis')],
      [
        'memory-tier hit ≤ 2 µs CPU',
        `${(results[2]!.get('ours-l1-get')!.cpuMicrosPerOp).toFixed(2)} µs (getOrLoad ${(results[2]!.get('ours-l1-load')!.cpuMicrosPerOp).toFixed(2)} µs)`,
      ],
    ],
  );
  await server?.stop();
}

const variantIndex = process.argv.indexOf('--variant');
const run =
  variantIndex === -1
    ? main()
    : child(process.argv[variantIndex + 1]!, new URL(process.argv[variantIndex + 2]!));
run.then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
