import { createClient } from 'redis';
// CPU microseconds per GET at concurrency 64: node-redis 6 bare (default command timeout and
// `commandOptions: { timeout: 0 }`), fromNodeRedis and instrumentNodeRedis with no OpenTelemetry SDK.
// Usage (after `pnpm --filter @redisotel/node-redis build`), against a Redis you started yourself:
//   node packages/node-redis/scripts/measure-overhead.mjs redis://127.0.0.1:<port>
import { fromNodeRedis, instrumentNodeRedis } from '../dist/index.js';
import { createMeter, median, urlArgument } from './measure.mjs';

const url = urlArgument('measure-overhead.mjs');
const { run, sorted } = createMeter();
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
for (const [name, list] of sorted()) {
  console.log(`${name.padEnd(40)} median ${median(list).toFixed(2)} µs CPU/op  (min ${list[0].toFixed(2)})`);
}
await def.close();
await zero.close();
