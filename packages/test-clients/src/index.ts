import type { CreateRedisLikeOptions, RedisLike } from '@redisotel/core-hooks';
import { fromIoredis } from '@redisotel/ioredis';
import { fromNodeRedis } from '@redisotel/node-redis';
import type { RedisDeployment } from '@redisotel/testing';
import IoredisV6, { Cluster as ClusterV6 } from 'ioredis';
import IoredisV5, { Cluster as ClusterV5 } from 'ioredis-v5';
import * as nodeRedisV6 from 'redis';
import * as nodeRedisV5 from 'redis-v5';

/** A client library and major version the suites run against. */
export interface ClientCase {
  /** `node-redis 6`, `ioredis 5`… (for test names). */
  readonly name: string;
  readonly library: 'node-redis' | 'ioredis';
  readonly major: 5 | 6;
}

/** The current major of each client: what building-block suites run against. */
export const CLIENTS: readonly ClientCase[] = [
  { name: 'node-redis 6', library: 'node-redis', major: 6 },
  { name: 'ioredis 6', library: 'ioredis', major: 6 },
];

/** Every supported client × major: what adapter suites run against. */
export const ALL_CLIENTS: readonly ClientCase[] = [
  ...CLIENTS,
  { name: 'node-redis 5', library: 'node-redis', major: 5 },
  { name: 'ioredis 5', library: 'ioredis', major: 5 },
];

/**
 * Client `'error'` events (a killed server, a dropped socket) are reported here instead of crashing the
 * test process: the commands that fail get typed errors of their own, which is what tests assert on.
 * Tests that care about the events themselves attach their own listener.
 */
function ignoreClientErrors(client: {
  on(event: 'error', listener: (error: unknown) => void): unknown;
}): void {
  client.on('error', () => {});
}

/** A connected client and the RedisLike over it. */
export interface ConnectedClient {
  readonly name: string;
  readonly redis: RedisLike;
  /** The client object itself (node-redis or ioredis, standalone/cluster/sentinel). */
  readonly client: unknown;
  /** Close the RedisLike's subscriber connection and the client. */
  close(): Promise<void>;
}

type NodeRedisModule = typeof nodeRedisV6;

/**
 * Connect `client` to `deployment` and wrap it with the matching adapter.
 * `options` go to `fromNodeRedis` / `fromIoredis` (telemetry providers, hooks…).
 */
export async function connectClient(
  client: ClientCase,
  deployment: RedisDeployment,
  options: CreateRedisLikeOptions = {},
): Promise<ConnectedClient> {
  if (client.library === 'node-redis') {
    const lib = (client.major === 6 ? nodeRedisV6 : nodeRedisV5) as unknown as NodeRedisModule;
    const raw = await connectNodeRedis(lib, deployment);
    const redis = fromNodeRedis(raw as Parameters<typeof fromNodeRedis>[0], options);
    return {
      name: client.name,
      redis,
      client: raw,
      async close() {
        await redis.subscriber().close();
        await (raw as { close(): Promise<void> }).close();
      },
    };
  }
  const raw = await connectIoredis(client.major, deployment);
  const redis = fromIoredis(raw as Parameters<typeof fromIoredis>[0], options);
  return {
    name: client.name,
    redis,
    client: raw,
    async close() {
      await redis.subscriber().close();
      await (raw as { quit(): Promise<unknown> }).quit();
    },
  };
}

async function connectNodeRedis(lib: NodeRedisModule, deployment: RedisDeployment): Promise<unknown> {
  switch (deployment.topology) {
    case 'standalone': {
      const client = lib.createClient({ url: deployment.url });
      ignoreClientErrors(client);
      return client.connect();
    }
    case 'cluster': {
      const cluster = lib.createCluster({
        rootNodes: deployment.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })),
      });
      ignoreClientErrors(cluster);
      return cluster.connect();
    }
    case 'sentinel': {
      const sentinel = lib.createSentinel({
        name: deployment.masterName,
        sentinelRootNodes: deployment.sentinels.map((s) => ({ host: s.host, port: s.port })),
      });
      ignoreClientErrors(sentinel);
      return sentinel.connect();
    }
  }
}

async function connectIoredis(major: 5 | 6, deployment: RedisDeployment): Promise<unknown> {
  const Redis = (major === 6 ? IoredisV6 : IoredisV5) as unknown as typeof IoredisV6;
  const Cluster = (major === 6 ? ClusterV6 : ClusterV5) as unknown as typeof ClusterV6;
  let raw: IoredisV6 | ClusterV6;
  switch (deployment.topology) {
    case 'standalone':
      raw = new Redis({ host: deployment.host, port: deployment.port, lazyConnect: true });
      break;
    case 'cluster':
      raw = new Cluster(
        deployment.nodes.map((n) => ({ host: n.host, port: n.port })),
        { lazyConnect: true },
      );
      break;
    case 'sentinel':
      raw = new Redis({
        sentinels: deployment.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: deployment.masterName,
        lazyConnect: true,
      });
      break;
  }
  ignoreClientErrors(raw);
  await raw.connect();
  return raw;
}
