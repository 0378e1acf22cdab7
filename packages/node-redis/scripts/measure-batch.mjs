import { createClient } from 'redis';
// CPU microseconds per two-command batch at concurrency 64, node-redis 6 with `timeout: 0`: node-redis'
// own multi().execAsPipeline() / multi().exec() against fromNodeRedis' batch() (no OpenTelemetry SDK).
// Usage (after `pnpm --filter @redisotel/node-redis build`), against a Redis you started yourself:
//   node packages/node-redis/scripts/measure-batch.mjs redis://127.0.0.1:<port>
import { fromNodeRedis } from '../dist/index.js';

const url = process.argv[2];
if (!url) {
  console.error('usage: node scripts/measure-batch.mjs redis://host:port (a server of your own)');
  process.exit(2);
}
const CONC = 64,
  MS = 2000;
const results = {};
async function run(name, op) {
  let count = 0;
  const end = Date.now() + MS;
  const cpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (Date.now() < end) {
        await op();
        count++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  if (!results[name]) results[name] = [];
  results[name].push((cpu.user + cpu.system) / count);
}
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
for (const [name, list] of Object.entries(results)) {
  const sorted = [...list].sort((a, b) => a - b);
  console.log(`${name.padEnd(34)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} µs CPU/batch`);
}
await zero.close();
