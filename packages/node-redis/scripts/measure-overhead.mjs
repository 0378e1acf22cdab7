import { createClient } from 'redis';
// CPU microseconds per GET at concurrency 64: node-redis 6 bare (default command timeout and
// `commandOptions: { timeout: 0 }`), fromNodeRedis and instrumentNodeRedis with no OpenTelemetry SDK.
// Usage (after `pnpm --filter @redisotel/node-redis build`), against a Redis you started yourself:
//   node packages/node-redis/scripts/measure-overhead.mjs redis://127.0.0.1:<port>
import { fromNodeRedis, instrumentNodeRedis } from '../dist/index.js';

const url = process.argv[2];
if (!url) {
  console.error('usage: node scripts/measure-overhead.mjs redis://host:port (a server of your own)');
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
  const us = (cpu.user + cpu.system) / count;
  if (!results[name]) results[name] = [];
  results[name].push(us);
}
const def = await createClient({ url }).connect();
const zero = await createClient({ url, commandOptions: { timeout: 0 } }).connect();
await zero.set('k', 'v');
const redis = fromNodeRedis(zero);
const redisDef = fromNodeRedis(def);
const cmd = { name: 'GET', args: ['k'], keys: [0] };
for (let round = 0; round < 4; round++) {
  await run('bare get(), default timeout 5000', () => def.get('k'));
  await run('bare get(), timeout 0', () => zero.get('k'));
  await run('fromNodeRedis send, no SDK, timeout 0', () => redis.send(cmd));
  await run('fromNodeRedis send, no SDK, default', () => redisDef.send(cmd));
  const i = instrumentNodeRedis(zero);
  await run('instrumentNodeRedis get(), no SDK, t0', () => zero.get('k'));
  i.disable();
}
for (const [name, list] of Object.entries(results)) {
  const sorted = [...list].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(40)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} µs CPU/op  (min ${sorted[0].toFixed(2)})`,
  );
}
await def.close();
await zero.close();
