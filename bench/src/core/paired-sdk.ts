// The SDK-mode cost on ioredis, measured paired: one process, one SDK (AlwaysOn sampler, batch span
// processor, metric reader, discarding exporters), one client, and four ways of sending the same command
// alternating in slices of a closed loop at concurrency 64:
//   bare     the client, with the contrib instrumentation disabled;
//   contrib  the client, with @opentelemetry/instrumentation-ioredis enabled (spans);
//   from     fromIoredis with spans and the duration metric (contrib disabled);
//   spans    fromIoredis with `metrics: false` (contrib disabled);
//   floor    a bare span and one histogram point around the client, nothing else (contrib disabled).
// Run as separate processes, these variants drift apart by more than their differences on a shared
// machine; here each slice of a variant sits next to a slice of `bare`. Prints one JSON line: the extra
// CPU µs per command over `bare` of each variant (median over slices).
// argv: <GET|SET> <slices> <operations per slice>; env BENCH_REDIS_URL.
import { createRequire } from 'node:module';
import type { RedisCommand } from '@redisotel/core-hooks';
import { closedLoop, median } from '../lib/measure.js';
import { BENCH_VALUE, benchKey, benchRedisUrl } from './child.js';
import { floorSender, registerDiscardingSdk } from './sdk.js';

const [op = 'GET', slicesText = '30', sliceText = '4000'] = process.argv.slice(2);
const url = benchRedisUrl();
const slices = Number(slicesText);
const sliceOps = Number(sliceText);
const CONCURRENCY = 64;
const require = createRequire(import.meta.url);
const key = benchKey('paired-sdk');
const value = BENCH_VALUE;

export type SdkVariant = 'contrib' | 'from' | 'spans' | 'floor';
/** Extra CPU µs per command over the bare client, per variant (median of the per-slice differences). */
export type PairedSdkResult = Record<SdkVariant, number>;

registerDiscardingSdk();

async function main(): Promise<void> {
  // The contrib instrumentation patches ioredis when it is required: register it first, then toggle it.
  const { registerInstrumentations } = require('@opentelemetry/instrumentation');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis');
  const contrib = new IORedisInstrumentation({ requireParentSpan: false });
  registerInstrumentations({ instrumentations: [contrib] });
  const Redis = require('ioredis') as typeof import('ioredis').default;
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  const { fromIoredis } = await import('@redisotel/ioredis');
  const withMetric = fromIoredis(client);
  const spansOnly = fromIoredis(client, { metrics: false });
  const command: RedisCommand =
    op === 'GET' ? { name: 'GET', args: [key], keys: [0] } : { name: 'SET', args: [key, value], keys: [0] };
  const bare = op === 'GET' ? () => client.get(key) : () => client.set(key, value);

  const floor = floorSender(url, op, bare);

  const sides: Record<'bare' | SdkVariant, { run: () => Promise<unknown>; contrib: boolean }> = {
    bare: { run: bare, contrib: false },
    contrib: { run: bare, contrib: true },
    from: { run: () => withMetric.send(command), contrib: false },
    spans: { run: () => spansOnly.send(command), contrib: false },
    floor: { run: floor, contrib: false },
  };
  const names = Object.keys(sides) as Array<keyof typeof sides>;
  const measure = async (name: keyof typeof sides, total: number) => {
    const side = sides[name];
    if (side.contrib) contrib.enable();
    else contrib.disable();
    const before = process.cpuUsage();
    await closedLoop(side.run, CONCURRENCY, total, undefined);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / total;
  };
  await client.set(key, value);
  for (const name of names) await measure(name, 10_000); // JIT warm-up of every path
  const extra = new Map<SdkVariant, number[]>();
  for (let slice = 0; slice < slices; slice++) {
    const order = slice % 2 === 0 ? names : [...names].reverse();
    const cpu = new Map<string, number>();
    for (const name of order) cpu.set(name, await measure(name, sliceOps));
    for (const name of names) {
      if (name === 'bare') continue;
      const list = extra.get(name) ?? [];
      list.push(cpu.get(name)! - cpu.get('bare')!);
      extra.set(name, list);
    }
  }
  contrib.disable();
  const result = Object.fromEntries(
    [...extra].map(([name, list]) => [name, median(list)]),
  ) as PairedSdkResult;
  await client.quit();
  console.log(JSON.stringify(result));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
