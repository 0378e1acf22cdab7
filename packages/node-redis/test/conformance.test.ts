import type { RedisLike } from '@redisotel/core-hooks';
import { type ConformanceTarget, describeRedisLikeConformanceOnOwnDeployments } from '@redisotel/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { fromNodeRedis } from '../src/index.js';
import { MODULES, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

/** The RedisLike over a connected client; closing it closes its subscriber, then the client. */
function target(redis: RedisLike, closeClient: () => Promise<unknown>): ConformanceTarget {
  return {
    redis,
    async close() {
      await redis.subscriber().close();
      await closeClient();
    },
  };
}

// One standalone server, cluster and sentinel group of the file's own (the standalone one is restarted).
describeRedisLikeConformanceOnOwnDeployments(
  MODULES.map(({ name, lib }) => ({
    name: `node-redis (${name})`,
    async standalone(server) {
      const client = lib.createClient({ url: server.url, socket: { reconnectStrategy: () => 100 } });
      client.on('error', () => {});
      await client.connect();
      return target(fromNodeRedis(client), async () => {
        if (client.isOpen) await client.close();
      });
    },
    async cluster(cluster) {
      const first = cluster.nodes[0]!;
      const client = lib.createCluster({ rootNodes: [{ url: `redis://${first.host}:${first.port}` }] });
      client.on('error', () => {});
      await client.connect();
      return target(fromNodeRedis(client), () => client.close());
    },
    async sentinel(group) {
      const client = lib.createSentinel({
        name: group.masterName,
        sentinelRootNodes: group.sentinels.map((s) => ({ host: s.host, port: s.port })),
      });
      client.on('error', () => {});
      await client.connect();
      return target(fromNodeRedis(client, { masterName: group.masterName }), () => client.close());
    },
  })),
  { test: { describe, it, beforeAll, afterAll } },
);
