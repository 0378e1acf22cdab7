import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SentinelHandle, startRedis } from '../src/index.js';
import { pairs, parseInfo } from '../src/info.js';
import { respCommand } from '../src/resp.js';
import { alive, expectCleanedUp } from './helpers.js';

const send = (port: number, args: (string | number)[]) => respCommand('127.0.0.1', port, args);

async function masterPerSentinel(sentinel: SentinelHandle): Promise<number[]> {
  return Promise.all(
    sentinel.sentinels.map(async (node) => {
      const reply = (await send(node.port, [
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        sentinel.masterName,
      ])) as string[];
      return Number(reply[1]);
    }),
  );
}

describe('startRedis sentinel (binary)', () => {
  let group: SentinelHandle;
  beforeAll(async () => {
    group = await startRedis({ topology: 'sentinel', sources: ['binary'], masterName: 'primary' });
  });
  afterAll(async () => {
    await group?.stop();
  });

  it('runs a master, a replica and 3 sentinels that agree on the master and see the replica', async () => {
    expect(group.masterName).toBe('primary');
    expect(group.nodes).toHaveLength(2);
    expect(group.sentinels).toHaveLength(3);
    expect(group.servers).toHaveLength(5);
    for (const server of group.servers) expect(alive(server.pid as number)).toBe(true);
    expect(await masterPerSentinel(group)).toEqual([group.master.port, group.master.port, group.master.port]);
    const replica = group.nodes.find((node) => node !== group.master);
    expect(parseInfo(await send(replica?.port as number, ['INFO', 'replication']))).toMatchObject({
      role: 'slave',
      master_port: String(group.master.port),
      master_link_status: 'up',
    });
    for (const sentinel of group.sentinels) {
      const replicas = ((await send(sentinel.port, ['SENTINEL', 'REPLICAS', 'primary'])) as string[][]).map(
        pairs,
      );
      expect(replicas.map((entry) => Number(entry.port))).toEqual([replica?.port]);
      const others = (await send(sentinel.port, ['SENTINEL', 'SENTINELS', 'primary'])) as unknown[];
      expect(others).toHaveLength(2);
    }
    expect(group.deployment).toEqual({
      topology: 'sentinel',
      source: 'binary',
      redisVersion: group.redisVersion,
      masterName: 'primary',
      master: { host: '127.0.0.1', port: group.master.port },
      sentinels: group.sentinels.map((node) => ({ host: '127.0.0.1', port: node.port })),
      nodes: group.nodes.map((node) => ({ host: '127.0.0.1', port: node.port, role: node.role })),
    });
  });

  it('fails over with SENTINEL FAILOVER', async () => {
    const before = group.master;
    const promoted = await group.failover();
    expect(promoted.port).not.toBe(before.port);
    expect(group.master).toBe(promoted);
    expect(before.role).toBe('replica');
    expect(await masterPerSentinel(group)).toEqual([promoted.port, promoted.port, promoted.port]);
    expect(parseInfo(await send(before.port, ['INFO', 'replication']))).toMatchObject({
      role: 'slave',
      master_port: String(promoted.port),
    });
  });

  it('promotes the replica when the master is killed, and takes the old master back after restart', async () => {
    const before = group.master;
    await group.kill(before);
    expect(before.running).toBe(false);
    await group.waitHealthy();
    expect(group.master.port).not.toBe(before.port);
    expect(await masterPerSentinel(group)).toEqual(Array(3).fill(group.master.port));
    await group.restart(before);
    await group.waitHealthy();
    expect(before.role).toBe('replica');
    expect(parseInfo(await send(before.port, ['INFO', 'replication']))).toMatchObject({
      role: 'slave',
      master_port: String(group.master.port),
      master_link_status: 'up',
    });
  });

  it('keeps working when a sentinel is killed and restarted', async () => {
    const sentinel = group.sentinels[2];
    if (!sentinel) throw new Error('no sentinel');
    await group.kill(sentinel);
    await group.waitHealthy();
    await group.restart(sentinel);
    await group.waitHealthy();
    expect(await masterPerSentinel(group)).toEqual(Array(3).fill(group.master.port));
  });

  it('stops every process and removes its directory', async () => {
    const pids = group.servers.map((server) => server.pid as number);
    const directory = group.nodes[0]?.directory?.replace(/\/node-0$/, '') as string;
    expect(directory).toMatch(/\/redisotel-sentinel-[^/]+$/);
    await group.stop();
    await expectCleanedUp(pids, [directory]);
  });
});
