import {
  type ConformanceOptions,
  type ConformanceTarget,
  type ConformanceTestApi,
  describeRedisLikeConformance,
} from './conformance.js';
import { connectResp } from './resp.js';
import { startRedis } from './start-redis.js';
import type { ClusterHandle, SentinelHandle, StandaloneHandle } from './types.js';

/** One client (library × major) under test, and how it connects to each deployment. */
export interface ConformanceClient {
  /** The group names are `<name> × standalone`, `<name> × cluster`, `<name> × sentinel`. */
  readonly name: string;
  standalone(deployment: StandaloneHandle): Promise<ConformanceTarget>;
  cluster(deployment: ClusterHandle): Promise<ConformanceTarget>;
  sentinel(deployment: SentinelHandle): Promise<ConformanceTarget>;
}

/** Options of {@link describeRedisLikeConformanceOnOwnDeployments}. */
export interface OwnDeploymentsConformanceOptions {
  /** The runner's functions, e.g. `{ describe, it, beforeAll, afterAll }` from vitest. */
  readonly test: ConformanceTestApi;
  /** Capability groups the adapter declares it lacks (as in {@link ConformanceOptions}). */
  readonly skip?: ConformanceOptions['skip'];
  /** How long starting the three deployments may take (the `beforeAll` timeout), in ms. @default 180000 */
  readonly startTimeoutMs?: number;
}

/**
 * Declare the RedisLike conformance suite for every client in `clients` on all three topologies, against
 * deployments of its own: one standalone server, one cluster and one sentinel group, spawned from
 * `redis-server` (`sources: ['binary']`) in a `beforeAll` and stopped in an `afterAll`, shared by the
 * clients. Because they are its own, the standalone group also runs the "server restart" tests (kill,
 * restart, wait until healthy), and the cluster's `onEveryMaster` commands reach every running node,
 * replicas included (a client may subscribe on a replica). Groups are declared client by client, in the
 * order standalone, cluster, sentinel.
 * @example
 * ```ts
 * import { afterAll, beforeAll, describe, it } from 'vitest';
 * describeRedisLikeConformanceOnOwnDeployments(
 *   [{
 *     name: 'node-redis 6',
 *     standalone: async (server) => target(await createClient({ url: server.url }).connect()),
 *     cluster: async (cluster) => target(await createCluster({ rootNodes: … }).connect()),
 *     sentinel: async (group) => target(await createSentinel({ name: group.masterName, … }).connect()),
 *   }],
 *   { test: { describe, it, beforeAll, afterAll } },
 * );
 * ```
 */
export function describeRedisLikeConformanceOnOwnDeployments(
  clients: readonly ConformanceClient[],
  options: OwnDeploymentsConformanceOptions,
): void {
  const { test, skip } = options;
  let standalone: StandaloneHandle | undefined;
  let cluster: ClusterHandle | undefined;
  let sentinel: SentinelHandle | undefined;
  const started = <T>(handle: T | undefined, topology: string): T => {
    if (handle === undefined) throw new Error(`the ${topology} deployment did not start (see beforeAll)`);
    return handle;
  };
  test.beforeAll(async () => {
    const sources = ['binary'] as const;
    [standalone, cluster, sentinel] = await Promise.all([
      startRedis({ topology: 'standalone', sources }) as Promise<StandaloneHandle>,
      startRedis({ topology: 'cluster', sources }) as Promise<ClusterHandle>,
      startRedis({ topology: 'sentinel', sources, downAfterMs: 1000 }) as Promise<SentinelHandle>,
    ]);
  }, options.startTimeoutMs ?? 180_000);
  test.afterAll(async () => {
    await Promise.all([standalone?.stop(), cluster?.stop(), sentinel?.stop()]);
  });

  /** Run a command on every running data node: masters and replicas. */
  async function onEveryClusterNode(command: readonly (string | number | Buffer)[]): Promise<void> {
    for (const node of started(cluster, 'cluster').nodes) {
      if (!node.running) continue;
      const connection = await connectResp({ host: node.host, port: node.port });
      try {
        await connection.command([...command]);
      } finally {
        await connection.close();
      }
    }
  }

  for (const client of clients) {
    describeRedisLikeConformance(
      `${client.name} × standalone`,
      () => client.standalone(started(standalone, 'standalone')),
      {
        test,
        topology: 'standalone',
        ...(skip === undefined ? {} : { skip }),
        async restart() {
          const server = started(standalone, 'standalone');
          await server.kill(server.port);
          await server.restart(server.port);
          await server.waitHealthy();
        },
      },
    );
    describeRedisLikeConformance(
      `${client.name} × cluster`,
      () => client.cluster(started(cluster, 'cluster')),
      {
        test,
        topology: 'cluster',
        ...(skip === undefined ? {} : { skip }),
        onEveryMaster: onEveryClusterNode,
      },
    );
    describeRedisLikeConformance(
      `${client.name} × sentinel`,
      () => client.sentinel(started(sentinel, 'sentinel')),
      { test, topology: 'sentinel', ...(skip === undefined ? {} : { skip }) },
    );
  }
}
