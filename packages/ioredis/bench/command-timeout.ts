// What ioredis' own `commandTimeout` costs (the adapter arms no per-command timer of its own):
// GET at concurrency 64 on one client with and without `commandTimeout`, interleaved rounds, medians.
// Run: node --import tsx packages/ioredis/bench/command-timeout.ts   (starts its own redis-server)
import { startRedis } from '@redisotel/testing';
import Redis from 'ioredis';

const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
const total = Number(process.env.BENCH_OPS ?? 100_000);

async function run(send: () => Promise<unknown>): Promise<{ opsPerSecond: number; cpuMicrosPerOp: number }> {
  let sent = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (sent++ < total) await send();
    }),
  );
  const used = process.cpuUsage(cpu);
  return {
    opsPerSecond: (total / (performance.now() - started)) * 1000,
    cpuMicrosPerOp: (used.user + used.system) / total,
  };
}

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const server = await startRedis({ topology: 'standalone', sources: ['binary'] });
const plain = new Redis(server.url, { lazyConnect: true });
const timed = new Redis(server.url, { lazyConnect: true, commandTimeout: 1000 });
try {
  await Promise.all([plain.connect(), timed.connect()]);
  await plain.set('k', 'v');
  const results = {
    none: [] as Array<Awaited<ReturnType<typeof run>>>,
    timed: [] as Array<Awaited<ReturnType<typeof run>>>,
  };
  for (let round = 0; round < rounds; round++) {
    results.none.push(await run(() => plain.get('k')));
    results.timed.push(await run(() => timed.get('k')));
  }
  for (const [label, samples] of Object.entries(results)) {
    console.log(
      `${label === 'none' ? 'no commandTimeout   ' : 'commandTimeout: 1000'}  ${Math.round(median(samples.map((s) => s.opsPerSecond)))} GET/s  ${median(samples.map((s) => s.cpuMicrosPerOp)).toFixed(2)} CPU µs/GET`,
    );
  }
} finally {
  plain.disconnect();
  timed.disconnect();
  await server.stop();
}
