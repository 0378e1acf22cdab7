import { createClient } from 'redis';
// CPU microseconds per two-command batch at concurrency 64, node-redis 6 with `timeout: 0`: node-redis'
// own multi().execAsPipeline() / multi().exec() against fromNodeRedis' batch() (no OpenTelemetry SDK).
// Usage (after `pnpm --filter @redisotel/node-redis build`), against a Redis you started yourself:
//   node packages/node-redis/scripts/measure-batch.mjs redis://127.0.0.1:<port>
import { fromNodeRedis } from '../dist/index.js';
import { createMeter, median, urlArgument } from './measure.mjs';

const url = urlArgument('measure-batch.mjs');
const { run, sorted } = createMeter();
const zero = await createClient({ url, commandOptions: { timeout: 0 } }).connect();
const redis = fromNodeRedis(zero);
const batch = [
  { name: 'INCR', args: ['{b}n'], keys: [0] },
  { name: 'GET', args: ['{b}n'], keys: [0] },
];
for (let round = 0; round < 4; round++) {
  await run('bare multi().execAsPipeline()', () => zero.multi().incr('{b}n').get('{b}n').execAsPipeline());
  await run('fromNodeRedis batch (pipeline)', () => redis.batch(batch));
  await run('bare multi().exec()', () => zero.multi().incr('{b}n').get('{b}n').exec());
  await run('fromNodeRedis batch (atomic)', () => redis.batch(batch, { atomic: true }));
}
for (const [name, list] of sorted()) {
  console.log(`${name.padEnd(34)} median ${median(list).toFixed(2)} µs CPU/batch`);
}
await zero.close();
