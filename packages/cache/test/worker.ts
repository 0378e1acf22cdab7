// A cache in its own process, driven by the multi-process tests over stdio (one JSON object per line).
import { createInterface } from 'node:readline';
import { type ClientCase, connectClient } from '@redisotel/test-clients';
import type { RedisDeployment } from '@redisotel/testing';
import { createCache } from '../src/index.js';

interface Config {
  client: ClientCase;
  deployment: RedisDeployment;
  cacheOptions: Record<string, unknown>;
}

const config = JSON.parse(process.env.CACHE_WORKER_CONFIG ?? '{}') as Config;
const connected = await connectClient(config.client, config.deployment);
const redis = connected.redis;
const cache = createCache(redis, config.cacheOptions as unknown as Parameters<typeof createCache>[1]);

function emit(message: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

process.on('unhandledRejection', (error) => {
  emit({ event: 'unhandledRejection', error: String(error) });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function handle(command: Record<string, unknown>): Promise<unknown> {
  const key = command.key as string;
  switch (command.type) {
    case 'ready':
      return true;
    case 'getOrLoadConcurrently': {
      // `concurrency` simultaneous misses; the loader counts its calls in Redis (INCR counterKey).
      let localCalls = 0;
      const results = await Promise.all(
        Array.from({ length: command.concurrency as number }, () =>
          cache.getOrLoad(key, async () => {
            localCalls++;
            await redis.send({ name: 'INCR', args: [command.counterKey as string], keys: [0] });
            await sleep(command.loadMs as number);
            return { loadedBy: process.pid };
          }),
        ),
      );
      return { localCalls, results };
    }
    case 'hangingLoad': {
      // Takes the lease and never finishes: the test kills this process mid-load.
      void cache.getOrLoad(key, async () => {
        emit({ event: 'loading', key });
        await new Promise(() => {});
        return 'never';
      });
      return true;
    }
    case 'getOrLoad':
      return cache.getOrLoad(key, async () => {
        await sleep((command.loadMs as number | undefined) ?? 0);
        return { loadedBy: process.pid, value: command.value };
      });
    case 'get':
      return (await cache.get(key)) ?? null;
    case 'set':
      return cache.set(key, command.value, command.options as never);
    case 'delete':
      return cache.delete(...(command.keys as string[]));
    case 'invalidateTags':
      await cache.invalidateTags(...(command.tags as string[]));
      return true;
    default:
      throw new Error(`unknown command ${String(command.type)}`);
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const command = JSON.parse(line) as Record<string, unknown>;
  handle(command).then(
    (result) => emit({ id: command.id, result: result === undefined ? null : result }),
    (error: unknown) => emit({ id: command.id, error: String(error) }),
  );
});
lines.on('close', async () => {
  await cache.close();
  await connected.close();
  process.exit(0);
});
