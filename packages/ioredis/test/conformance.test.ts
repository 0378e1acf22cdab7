import type { RedisLike } from '@redisotel/core-hooks';
import { type ConformanceTarget, describeRedisLikeConformanceOnOwnDeployments } from '@redisotel/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { fromIoredis } from '../src/index.js';
import { MODULES, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

/** The RedisLike over a connected client; closing it closes its subscriber, then disconnects the client. */
function target(redis: RedisLike, client: { disconnect(): void }): ConformanceTarget {
  return {
    redis,
    async close() {
      await redis.subscriber().close();
      client.disconnect();
    },
  };
}

// One standalone server, cluster and sentinel group of the file's own (the standalone one is restarted).
describeRedisLikeConformanceOnOwnDeployments(
  MODULES.map(({ name, Redis, Cluster }) => ({
    name: `ioredis (${name})`,
    async standalone(server) {
      const client = new Redis({
        host: server.host,
        port: server.port,
        lazyConnect: true,
        retryStrategy: () => 100,
      });
      client.on('error', () => {});
      await client.connect();
      return target(fromIoredis(client), client);
    },
    async cluster(cluster) {
      const client = new Cluster(
        cluster.nodes.map((node) => ({ host: node.host, port: node.port })),
        { lazyConnect: true },
      );
      client.on('error', () => {});
      await client.connect();
      return target(fromIoredis(client), client);
    },
    async sentinel(group) {
      const client = new Redis({
        sentinels: group.sentinels.map((s) => ({ host: s.host, port: s.port })),
        name: group.masterName,
        lazyConnect: true,
      });
      client.on('error', () => {});
      await client.connect();
      return target(fromIoredis(client), client);
    },
  })),
  { test: { describe, it, beforeAll, afterAll } },
);
