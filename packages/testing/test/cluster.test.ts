import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterHandle, startRedis } from '../src/index.js';
import { parseClusterNodes, parseInfo } from '../src/info.js';
import { respCommand } from '../src/resp.js';
import { alive, expectCleanedUp } from './helpers.js';

const send = (port: number, args: (string | number)[]) => respCommand('127.0.0.1', port, args);

describe('startRedis cluster (binary)', () => {
  let cluster: ClusterHandle;
  beforeAll(async () => {
    cluster = await startRedis({ topology: 'cluster', sources: ['binary'] });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs 3 masters and 3 replicas covering all 16384 slots, healthy on every node', async () => {
    expect(cluster.nodes).toHaveLength(6);
    expect(cluster.masters()).toHaveLength(3);
    expect(cluster.replicas()).toHaveLength(3);
    expect(new Set(cluster.nodes.map((node) => node.port)).size).toBe(6);
    for (const node of cluster.nodes) {
      expect(alive(node.pid as number)).toBe(true);
      const info = parseInfo(await send(node.port, ['CLUSTER', 'INFO']));
      expect(info).toMatchObject({
        cluster_state: 'ok',
        cluster_slots_assigned: '16384',
        cluster_known_nodes: '6',
      });
      const role = parseInfo(await send(node.port, ['INFO', 'replication'])).role;
      expect(role).toBe(node.role === 'master' ? 'master' : 'slave');
    }
    const view = parseClusterNodes(await send(cluster.nodes[0]?.port as number, ['CLUSTER', 'NODES']));
    for (const master of view.filter((line) => line.flags.includes('master'))) {
      expect(view.filter((line) => line.masterId === master.id)).toHaveLength(1);
    }
    // every slot range lists its master and one replica, as cluster clients read it
    const slots = (await send(cluster.nodes[0]?.port as number, ['CLUSTER', 'SLOTS'])) as unknown[][];
    expect(slots).toHaveLength(3);
    expect(slots.reduce((total, range) => total + (Number(range[1]) - Number(range[0]) + 1), 0)).toBe(16384);
    for (const range of slots) expect(range).toHaveLength(4);
    expect(cluster.deployment).toEqual({
      topology: 'cluster',
      source: 'binary',
      redisVersion: cluster.redisVersion,
      nodes: cluster.nodes.map((node) => ({ host: '127.0.0.1', port: node.port, role: node.role })),
    });
  });

  it('serves keys on the slot owner (MOVED elsewhere)', async () => {
    const key = '{t-cluster}:k';
    const slot = Number(await send(cluster.nodes[0]?.port as number, ['CLUSTER', 'KEYSLOT', key]));
    const owner = parseClusterNodes(await send(cluster.nodes[0]?.port as number, ['CLUSTER', 'NODES'])).find(
      (line) =>
        line.flags.includes('master') &&
        line.slots.some((range) => {
          const [from, to] = range.split('-').map(Number) as [number, number?];
          return slot >= from && slot <= (to ?? from);
        }),
    );
    expect(owner).toBeDefined();
    expect(await send(owner?.port as number, ['SET', key, 'v'])).toBe('OK');
    const other = cluster.masters().find((node) => node.port !== owner?.port);
    await expect(send(other?.port as number, ['GET', key])).rejects.toThrow(/^MOVED \d+ 127\.0\.0\.1:\d+/);
  });

  it('fails over a master to its replica with CLUSTER FAILOVER', async () => {
    const master = cluster.masters()[0];
    if (!master) throw new Error('no master');
    const promoted = await cluster.failover(master);
    expect(promoted.port).not.toBe(master.port);
    expect(promoted.role).toBe('master');
    expect(master.role).toBe('replica');
    expect(parseInfo(await send(promoted.port, ['INFO', 'replication'])).role).toBe('master');
    expect(parseInfo(await send(master.port, ['INFO', 'replication']))).toMatchObject({
      role: 'slave',
      master_port: String(promoted.port),
    });
    expect(cluster.masters()).toHaveLength(3);
  });

  it('survives a killed master (automatic failover) and takes it back as a replica after restart', async () => {
    const master = cluster.masters()[1];
    if (!master) throw new Error('no master');
    const pid = master.pid as number;
    await cluster.kill(master);
    expect(alive(pid)).toBe(false);
    expect(master.running).toBe(false);
    await cluster.waitHealthy();
    expect(cluster.masters().filter((node) => node.running)).toHaveLength(3);
    await cluster.restart(master);
    expect(master.running).toBe(true);
    await cluster.waitHealthy();
    expect(master.role).toBe('replica');
    expect(cluster.masters()).toHaveLength(3);
    expect(parseInfo(await send(master.port, ['CLUSTER', 'INFO'])).cluster_state).toBe('ok');
  });

  it('stops every node and removes its directory', async () => {
    const pids = cluster.nodes.map((node) => node.pid as number);
    const directory = cluster.nodes[0]?.directory?.replace(/\/node-0$/, '') as string;
    expect(directory).toMatch(/\/redisotel-cluster-[^/]+$/);
    await cluster.stop();
    await expectCleanedUp(pids, [directory]);
  });
});
