import {
  type ClusterHandle,
  connectResp,
  describeRedisLikeConformance,
  type SentinelHandle,
  type StandaloneHandle,
} from '@redisotel/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { fromNodeRedis } from '../src/index.js';
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

/** Run a command on every data node (masters and replicas: node-redis may subscribe on a replica). */
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

for (const { name, lib } of MODULES) {
  describeRedisLikeConformance(
    `node-redis (${name}) × standalone`,
    async () => {
      const client = lib.createClient({ url: standalone.url, socket: { reconnectStrategy: () => 100 } });
      client.on('error', () => {});
      await client.connect();
      const redis = fromNodeRedis(client);
      return {
        redis,
        async close() {
          await redis.subscriber().close();
          if (client.isOpen) await client.close();
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
    `node-redis (${name}) × cluster`,
    async () => {
      const first = cluster.nodes[0]!;
      const client = lib.createCluster({ rootNodes: [{ url: `redis://${first.host}:${first.port}` }] });
      client.on('error', () => {});
      await client.connect();
      const redis = fromNodeRedis(client);
      return {
        redis,
        async close() {
          await redis.subscriber().close();
          await client.close();
        },
      };
    },
    { test, topology: 'cluster', onEveryMaster: onEveryClusterNode },
  );

  describeRedisLikeConformance(
    `node-redis (${name}) × sentinel`,
    async () => {
      const client = lib.createSentinel({
        name: sentinel.masterName,
        sentinelRootNodes: sentinel.sentinels.map((s) => ({ host: s.host, port: s.port })),
      });
      client.on('error', () => {});
      await client.connect();
      const redis = fromNodeRedis(client, { masterName: sentinel.masterName });
      return {
        redis,
        async close() {
          await redis.subscriber().close();
          await client.close();
        },
      };
    },
    { test, topology: 'sentinel' },
  );
}
