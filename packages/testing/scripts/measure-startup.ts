// Measures how long startRedis takes per topology (from the call until it resolves healthy) and how long
// stop() takes. Usage: pnpm exec tsx packages/testing/scripts/measure-startup.ts [runs]
import { startRedis } from '../src/index.js';

const runs = Number(process.argv[2] ?? 5);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

for (const topology of (process.argv[3]?.split(',') ?? ['standalone', 'cluster', 'sentinel']) as (
  | 'standalone'
  | 'cluster'
  | 'sentinel'
)[]) {
  const starts: number[] = [];
  const stops: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    const redis = await startRedis({ topology, sources: ['binary'] });
    starts.push(performance.now() - started);
    const stopping = performance.now();
    await redis.stop();
    stops.push(performance.now() - stopping);
  }
  const format = (values: number[]) =>
    `median ${median(values).toFixed(0)} ms, min ${Math.min(...values).toFixed(0)}, max ${Math.max(...values).toFixed(0)}`;
  console.log(`${topology.padEnd(10)} start: ${format(starts)} | stop: ${format(stops)} (${runs} runs)`);
}
