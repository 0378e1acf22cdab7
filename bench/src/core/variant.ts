// One variant of the core benchmark, in its own process (so global OpenTelemetry registration and JIT
// state never leak between variants). Prints one JSON line with the measured LoadResult.
// argv: <variant> <concurrency> <GET|SET> <total>; env BENCH_REDIS_URL.
import { createRequire } from 'node:module';
import type { RedisCommand, RedisLike } from '@redisotel/core-hooks';
import { runLoad } from '../lib/measure.js';
import { BENCH_VALUE, benchKey, benchRedisUrl } from './child.js';
import { floorSender, registerDiscardingSdk } from './sdk.js';

const [variant = '', concurrencyText = '64', op = 'GET', totalText = '100000'] = process.argv.slice(2);
const url = benchRedisUrl();
const concurrency = Number(concurrencyText);
const total = Number(totalText);
const [library, mode] = variant.split(':') as ['node-redis' | 'ioredis', string];
const withSdk = mode.includes('-sdk');

// An SDK that does all the work an application's would (AlwaysOn sampling, batch processor, metric
// aggregation) and then discards the result, so the figure is the instrumentation's cost, not an exporter's.
if (withSdk) registerDiscardingSdk();

const require = createRequire(import.meta.url);
const key = benchKey('core');
const value = BENCH_VALUE;

async function main(): Promise<void> {
  let send: (i: number) => Promise<unknown>;
  let close: () => Promise<void>;
  if (mode === 'contrib-sdk') {
    // The contrib instrumentation patches ioredis through require hooks: enable it, then require ioredis.
    const { registerInstrumentations } = require('@opentelemetry/instrumentation');
    const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis');
    registerInstrumentations({
      instrumentations: [new IORedisInstrumentation({ requireParentSpan: false })],
    });
  }
  if (library === 'node-redis') {
    const { createClient } = require('redis') as typeof import('redis');
    const client = await createClient(
      mode === 'bare-default-timeout' ? { url } : { url, commandOptions: { timeout: 0 } },
    ).connect();
    close = async () => void (await client.close());
    const redis = await wrap(client);
    send = makeSender(redis, op, (k, v) => (v === undefined ? client.get(k) : client.set(k, v)));
  } else {
    const Redis = require('ioredis') as typeof import('ioredis').default;
    const client = new Redis(url, { lazyConnect: true });
    await client.connect();
    close = async () => void (await client.quit());
    const redis = await wrap(client);
    send = makeSender(redis, op, (k, v) => (v === undefined ? client.get(k) : client.set(k, v)));
  }
  await send(0); // make sure the key exists for GET
  const result = await runLoad(send, { concurrency, total });
  await close();
  console.log(JSON.stringify(result));
}

/** `from-sdk-spans`: the same SDK, with our duration metric turned off (spans only, like contrib). */
const telemetryOptions = mode === 'from-sdk-spans' ? { metrics: false } : {};

/** The RedisLike for `from*` variants; for `instrument*` it turns the channel instrumentation on. */
async function wrap(client: unknown): Promise<RedisLike | undefined> {
  if (mode.startsWith('from')) {
    if (library === 'node-redis') {
      const { fromNodeRedis } = await import('@redisotel/node-redis');
      return fromNodeRedis(client as Parameters<typeof fromNodeRedis>[0], telemetryOptions);
    }
    const { fromIoredis } = await import('@redisotel/ioredis');
    return fromIoredis(client as Parameters<typeof fromIoredis>[0], telemetryOptions);
  }
  if (mode.startsWith('instrument')) {
    if (library === 'node-redis') {
      const { instrumentNodeRedis } = await import('@redisotel/node-redis');
      instrumentNodeRedis(client as Parameters<typeof instrumentNodeRedis>[0]);
    } else {
      const { instrumentIoredis } = await import('@redisotel/ioredis');
      instrumentIoredis(client as Parameters<typeof instrumentIoredis>[0]);
    }
  }
  return undefined;
}

function makeSender(
  redis: RedisLike | undefined,
  operation: string,
  bare: (key: string, value?: string) => Promise<unknown>,
): (i: number) => Promise<unknown> {
  if (mode === 'floor-sdk' || mode === 'span-sdk')
    return floorSender(url, operation, operation === 'GET' ? () => bare(key) : () => bare(key, value), {
      point: mode === 'floor-sdk',
    });
  if (redis) {
    // Preallocated commands: the figure is the RedisLike path's cost, not object allocation in the loop.
    const get: RedisCommand = { name: 'GET', args: [key], keys: [0] };
    const set: RedisCommand = { name: 'SET', args: [key, value], keys: [0] };
    const command = operation === 'GET' ? get : set;
    return () => redis.send(command);
  }
  return operation === 'GET' ? () => bare(key) : () => bare(key, value);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
