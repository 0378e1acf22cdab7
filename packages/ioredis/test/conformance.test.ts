import {
  type ClusterHandle,
  connectResp,
  describeRedisLikeConformance,
  type SentinelHandle,
  type StandaloneHandle,
} from '@redisotel/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { fromIoredis } from '../src/index.js';
import {
  MODULES,
  startCluster,
  startSentinel,
  startStandalone,
  trackUnhandledRejections,
} from './helpers.js';

trackUnhandledRejections();

const test = { describe, it, beforeAll, afterAll };

let standalone: StandaloneHandle;
let cluster: ClusterHandle;
let sentinel: SentinelHandle;
beforeAll(async () => {
  [standalone, cluster, sentinel] = await Promise.all([startStandalone(), startCluster(), startSentinel()]);
}, 180_000);
afterAll(async () => {
  await Promise.all([standalone?.stop(), cluster?.stop(), sentinel?.stop()]);
});

/** Run a command on every data node (masters and replicas: ioredis may subscribe on a replica). */
async function onEveryClusterNode(command: readonly (string | number | Buffer)[]): Promise<void> {
  for (const node of cluster.nodes) {
    if (!node.running) continue;
    const connection = await connectResp({ host: node.host, port: node.port });
    try {
      await connection.command([...command]);
    } finally {
      await connection.close();
    }
  }
}

for (const { name, Redis, Cluster } of MODULES) {
  describeRedisLikeConformance(
    `ioredis (${name}) × standalone`,
    async () => {
      const client = new Redis({
        host: standalone.host,
        port: standalone.port,
        lazyConnect: true,
        retryStrategy: () => 100,
      });
      client.on('error', () => {});
      await client.connect();
      const redis = fromIoredis(client);
      return {
        redis,
        async close() {
          await redis.subscriber().close();
          client.disconnect();
        },
      };
    },
    {
      test,
      topology: 'standalone',
      async restart() {
        await standalone.kill(standalone.port);
        await standalone.restart(standalone.port);
        await standalone.waitHealthy();
      },
    },
  );

  describeRedisLikeConformance(
    `ioredis (${name}) × cluster`,
    async () => {
      const client = new Cluster(
        cluster.nodes.map((node) => ({ host: node.host, port: node.port })),
        { lazyConnect: true },
      );
      client.on('error', () => {});
      await client.connect();
      const redis = fromIoredis(client);
      return {
        redis,
        async close() {
          await redis.subscriber().close();
          client.disconnect();
        },
      };
    },
    { test, topology: 'cluster', onEveryMaster: onEveryClusterNode },
  );

  describeRedisLikeConformance(
    `ioredis (${name}) × sentinel`,
    async () => {
      const client = new Redis({
        sentinels: sentinel.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: sentinel.masterName,
        lazyConnect: true,
      });
      client.on('error', () => {});
      await client.connect();
      const redis = fromIoredis(client);
      return {
        redis,
        async close() {
          await redis.subscriber().close();
          client.disconnect();
        },
      };
    },
    { test, topology: 'sentinel' },
  );
}
