import { join } from 'node:path';
import type { RedisBinaries } from './binaries.js';
import { RedisDeploymentError } from './errors.js';
import { parseClusterNodes, parseInfo } from './info.js';
import { respCommand } from './resp.js';
import { dataServerArgs, ManagedServer } from './server.js';
import { createDeploymentDirectory, SpawnedDeployment, timeoutOf } from './spawned-deployment.js';
import type {
  ClusterDeployment,
  ClusterHandle,
  RedisNodeSelector,
  RedisServerNode,
  WaitHealthyOptions,
} from './types.js';
import { waitUntil } from './wait.js';

const HOST = '127.0.0.1';
const MASTERS = 3;
const SLOTS = 16384;

/** The slot ranges of master `index` of `count`: as even as `redis-cli --cluster create`. */
function slotRange(index: number, count: number): [number, number] {
  const from = Math.floor((index * SLOTS) / count);
  const to = Math.floor(((index + 1) * SLOTS) / count) - 1;
  return [from, to];
}

function command(server: { host: string; port: number }, args: (string | number)[], timeoutMs = 5000) {
  return respCommand(server.host, server.port, args, timeoutMs);
}

/**
 * Why the cluster is not healthy yet, seen from every running node, or `undefined` when it is:
 * `cluster_state:ok` everywhere; each running node sees every other running node connected and not
 * failing; every running replica has its replication link up.
 */
async function clusterProblem(
  servers: readonly ManagedServer[],
  expectReplicas: boolean,
): Promise<string | undefined> {
  const running = servers.filter((server) => server.running);
  const runningPorts = new Set(running.map((server) => server.port));
  for (const server of running) {
    const info = parseInfo(await command(server, ['CLUSTER', 'INFO']));
    if (info.cluster_state !== 'ok') return `${server.port}: cluster_state:${info.cluster_state}`;
    const nodes = parseClusterNodes(await command(server, ['CLUSTER', 'NODES']));
    for (const port of runningPorts) {
      const seen = nodes.find((node) => node.port === port);
      if (!seen) return `${server.port} does not know ${port} yet`;
      if (
        seen.flags.some(
          (flag) => flag === 'fail' || flag === 'fail?' || flag === 'handshake' || flag === 'noaddr',
        )
      ) {
        return `${server.port} sees ${port} as ${seen.flags.join(',')}`;
      }
      if (!seen.flags.includes('myself') && seen.linkState !== 'connected') {
        return `${server.port} has no link to ${port}`;
      }
    }
    for (const owner of nodes.filter((node) => node.flags.includes('master') && node.slots.length > 0)) {
      if (!runningPorts.has(owner.port))
        return `${server.port} still routes slots to stopped master ${owner.port}`;
    }
    const replication = parseInfo(await command(server, ['INFO', 'replication']));
    if (replication.role === 'slave' && replication.master_link_status !== 'up') {
      return `${server.port}: replication link ${replication.master_link_status}`;
    }
    if (expectReplicas) {
      const masters = nodes.filter((node) => node.flags.includes('master') && node.slots.length > 0);
      const replicas = nodes.filter((node) => node.flags.includes('slave'));
      if (masters.length !== MASTERS || replicas.length !== MASTERS) {
        return `${server.port} sees ${masters.length} masters with slots and ${replicas.length} replicas`;
      }
      const slots = await command(server, ['CLUSTER', 'SLOTS']);
      if (!Array.isArray(slots) || slots.some((range) => !Array.isArray(range) || range.length < 4)) {
        return `${server.port}: CLUSTER SLOTS does not list a replica for every range yet`;
      }
    }
  }
  return undefined;
}

class SpawnedCluster extends SpawnedDeployment implements ClusterHandle {
  readonly topology = 'cluster' as const;

  constructor(
    binaries: RedisBinaries,
    directory: string,
    serverArgs: readonly string[],
    nodeTimeoutMs: number,
  ) {
    super(binaries, directory);
    for (let index = 0; index < MASTERS * 2; index += 1) {
      const nodeDirectory = join(directory, `node-${index}`);
      this.managed.push(
        new ManagedServer({
          name: `cluster node ${index}`,
          host: HOST,
          directory: nodeDirectory,
          file: binaries.server,
          role: index < MASTERS ? 'master' : 'replica',
          clusterBus: true,
          args: (port) => [
            ...dataServerArgs(port, HOST, nodeDirectory, binaries.major, []),
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(nodeDirectory, 'nodes.conf'),
            '--cluster-node-timeout',
            String(nodeTimeoutMs),
            ...serverArgs,
          ],
        }),
      );
    }
  }

  get nodes(): readonly RedisServerNode[] {
    return this.managed;
  }

  masters(): RedisServerNode[] {
    return this.managed.filter((server) => server.role === 'master');
  }

  replicas(): RedisServerNode[] {
    return this.managed.filter((server) => server.role === 'replica');
  }

  get deployment(): ClusterDeployment {
    return {
      topology: 'cluster',
      source: this.source,
      redisVersion: this.redisVersion,
      nodes: this.managed.map((server) => server.toJSON()),
    };
  }

  async create(deadline: number): Promise<void> {
    await Promise.all(this.managed.map((server) => server.start(deadline)));
    const masters = this.managed.slice(0, MASTERS);
    const replicas = this.managed.slice(MASTERS);
    const ids = await Promise.all(
      masters.map(async (server) => String(await command(server, ['CLUSTER', 'MYID']))),
    );
    // Distinct config epochs, set before the nodes meet (what redis-cli --cluster create does).
    await Promise.all(
      this.managed.map((server, index) => command(server, ['CLUSTER', 'SET-CONFIG-EPOCH', index + 1])),
    );
    await Promise.all(
      masters.map((server, index) => {
        const [from, to] = slotRange(index, MASTERS);
        const slots: number[] = [];
        for (let slot = from; slot <= to; slot += 1) slots.push(slot);
        return command(server, ['CLUSTER', 'ADDSLOTS', ...slots]);
      }),
    );
    // Every node meets every other one: no waiting for gossip to spread the introductions.
    await Promise.all(
      this.managed.map(async (server, index) => {
        for (const other of this.managed.slice(index + 1)) {
          await command(server, ['CLUSTER', 'MEET', other.host, other.port]);
        }
      }),
    );
    await waitUntil('cluster nodes meeting', deadline, async () => {
      for (const server of this.managed) {
        const nodes = parseClusterNodes(await command(server, ['CLUSTER', 'NODES']));
        const known = nodes.filter((node) => !node.flags.includes('handshake') && node.id !== '');
        if (known.length < this.managed.length) return `${server.port} knows ${known.length} nodes`;
        for (const id of ids) if (!nodes.some((node) => node.id === id)) return `${server.port} lacks ${id}`;
      }
      return undefined;
    });
    for (const [index, replica] of replicas.entries()) {
      const masterId = ids[index] as string;
      await waitUntil(`replica ${replica.port} replicating`, deadline, async () => {
        await command(replica, ['CLUSTER', 'REPLICATE', masterId]);
        return undefined;
      });
    }
    await waitUntil(
      'cluster healthy after creation',
      deadline,
      () => clusterProblem(this.managed, true),
      100,
    );
  }

  async waitHealthy(options?: WaitHealthyOptions): Promise<void> {
    const deadline = Date.now() + timeoutOf(options);
    await waitUntil('cluster healthy', deadline, () => clusterProblem(this.managed, false), 100);
    await this.refreshRoles(this.managed);
  }

  async failover(masterSelector: RedisNodeSelector): Promise<RedisServerNode> {
    this.assertActive();
    const master = this.find(masterSelector);
    const deadline = Date.now() + 60_000;
    const source = master.running ? master : this.managed.find((server) => server.running);
    if (!source) throw new RedisDeploymentError('no cluster node runs');
    const view = parseClusterNodes(await command(source, ['CLUSTER', 'NODES']));
    const masterLine = view.find((node) => node.port === master.port);
    if (!masterLine?.flags.includes('master')) {
      throw new RedisDeploymentError(
        `${master.describe()} is not a master (flags ${masterLine?.flags.join(',')})`,
      );
    }
    const replicaLine = view.find(
      (node) =>
        node.masterId === masterLine.id &&
        this.managed.some((server) => server.port === node.port && server.running),
    );
    const replica = replicaLine ? this.find(replicaLine.port) : undefined;
    if (!replica) throw new RedisDeploymentError(`${master.describe()} has no running replica to promote`);
    // A dead master cannot agree to a manual failover: FORCE skips that handshake.
    const failoverArgs = master.running ? ['CLUSTER', 'FAILOVER'] : ['CLUSTER', 'FAILOVER', 'FORCE'];
    let sentAt = 0;
    await waitUntil(
      `cluster failover of ${master.describe()} to ${replica.describe()}`,
      deadline,
      async () => {
        const info = parseInfo(await command(replica, ['INFO', 'replication']));
        if (info.role === 'master') {
          if (!master.running) return undefined;
          const old = parseInfo(await command(master, ['INFO', 'replication']));
          return old.role === 'slave' ? undefined : 'the old master still answers as master';
        }
        if (Date.now() - sentAt > 10_000) {
          await command(replica, failoverArgs);
          sentAt = Date.now();
        }
        return `replica ${replica.port} is still ${info.role}`;
      },
    );
    replica.role = 'master';
    if (master.running) master.role = 'replica';
    await this.waitHealthy({ timeoutMs: Math.max(1000, deadline - Date.now()) });
    return replica;
  }
}

/** Start 3 masters and 3 replicas covering all 16384 slots. @internal */
export async function startCluster(
  binaries: RedisBinaries,
  serverArgs: readonly string[],
  nodeTimeoutMs: number,
  deadline: number,
): Promise<ClusterHandle> {
  const deployment = new SpawnedCluster(
    binaries,
    createDeploymentDirectory('cluster'),
    serverArgs,
    nodeTimeoutMs,
  );
  try {
    await deployment.create(deadline);
    return deployment;
  } catch (error) {
    await deployment.stop();
    throw error;
  }
}
