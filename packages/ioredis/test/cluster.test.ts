import {
  CrossSlotError,
  defineScript,
  keySlot,
  type RedisLike,
  RedisReplyError,
} from '@redisotel/core-hooks';
import { recordPeers } from '@redisotel/testing';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromIoredis } from '../src/index.js';
import { eventually, MODULES, ownCluster, prefix, recordDials, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

const deployment = ownCluster();

describe.each(MODULES)('fromIoredis cluster ($name)', ({ Cluster: ClusterClass, major }) => {
  let client: Cluster;
  let redis: RedisLike;
  const recorder = recordPeers({ batches: true });

  /** The port of the master serving `key`'s slot, from CLUSTER NODES (via nodes()). */
  async function ownerPort(key: string): Promise<number> {
    const slot = keySlot(key);
    const nodes = await redis.nodes();
    const owner = nodes.find(
      (node) => node.role === 'master' && node.slots?.some(([from, to]) => slot >= from && slot <= to),
    );
    if (owner === undefined) throw new Error(`no owner for slot ${slot}`);
    return owner.port;
  }

  beforeAll(async () => {
    client = new ClusterClass(
      deployment.nodes.map((node) => ({ host: node.host, port: node.port })),
      { lazyConnect: true },
    );
    await client.connect();
    redis = fromIoredis(client, { hooks: [recorder.hook] });
  });
  afterAll(async () => {
    await redis?.subscriber().close();
    await client?.quit();
  });

  it('describes a cluster and enumerates masters with slots and replicas', async () => {
    const description = redis.describe();
    expect(description.topology).toBe('cluster');
    expect(description.library.version).toBe(major === 6 ? '6.0.0' : '5.11.1');
    expect(description.server).toEqual({
      address: deployment.nodes[0]!.host,
      port: deployment.nodes[0]!.port,
    });
    expect(description.database).toBe(0);
    expect(description.capabilities.requiresSameSlot).toBe(true);
    expect(description.capabilities.shardedPubSub).toBe(true);
    const nodes = await redis.nodes();
    const masters = nodes.filter((node) => node.role === 'master');
    const replicas = nodes.filter((node) => node.role === 'replica');
    expect(masters).toHaveLength(3);
    expect(replicas).toHaveLength(3);
    for (const node of nodes) expect(node.id).toMatch(/^[0-9a-f]{40}$/);
    const covered = masters
      .flatMap((node) => node.slots ?? [])
      .reduce((sum, [from, to]) => sum + (to - from + 1), 0);
    expect(covered).toBe(16384);
    expect(new Set(masters.map((node) => node.port))).toEqual(
      new Set(deployment.masters().map((node) => node.port)),
    );
  });

  it('routes by explicit keys and reports the slot owner as peer', async () => {
    for (const key of ['alpha', 'beta', 'gamma', 'delta', '{user:1}:x']) {
      const k = `${prefix()}${key}`;
      recorder.peers.length = 0;
      expect(await redis.send({ name: 'SET', args: [k, key], keys: [0] })).toBe('OK');
      expect(await redis.send({ name: 'GET', args: [k], keys: [0] })).toBe(key);
      const port = await ownerPort(k);
      expect(recorder.peers.map((peer) => peer?.port)).toEqual([port, port]);
    }
    // A key that is not the first argument (ioredis' table would look elsewhere for an unknown command).
    const k = `${prefix()}explicit`;
    expect(
      await redis.send({ name: 'EVAL', args: ["return redis.call('SET', KEYS[1], 'e')", 1, k], keys: [2] }),
    ).toBe('OK');
    expect(await redis.send({ name: 'GET', args: [k], keys: [0] })).toBe('e');
  });

  it('sends keyless commands to one master and names it', async () => {
    recorder.peers.length = 0;
    expect(await redis.send({ name: 'PING', args: [] })).toBe('PONG');
    const masterPorts = deployment.masters().map((node) => node.port);
    expect(masterPorts).toContain(recorder.peers[0]?.port);
  });

  it('rejects a cross-slot batch before sending anything', async () => {
    const a = `${prefix()}a`;
    const b = `${prefix()}b`;
    expect(keySlot(a)).not.toBe(keySlot(b));
    const error = await redis
      .batch([
        { name: 'SET', args: [a, '1'], keys: [0] },
        { name: 'SET', args: [b, '1'], keys: [0] },
      ])
      .catch((e) => e);
    expect(CrossSlotError.isInstance(error)).toBe(true);
    expect(await redis.send({ name: 'EXISTS', args: [a], keys: [0] })).toBe(0);
    // (core's send() currently throws this synchronously rather than rejecting: accept both.)
    const multiKey = await (async () => redis.send({ name: 'MGET', args: [a, b], keys: [0, 1] }))().catch(
      (e) => e,
    );
    expect(CrossSlotError.isInstance(multiKey)).toBe(true);
  });

  it('runs same-slot pipelines and transactions on the owner', async () => {
    const p = prefix();
    recorder.peers.length = 0;
    const results = await redis.batch([
      { name: 'SET', args: [`${p}1`, 'a'], keys: [0] },
      { name: 'INCR', args: [`${p}n`], keys: [0] },
      { name: 'GET', args: [`${p}1`], keys: [0] },
    ]);
    expect(results).toEqual([
      { ok: true, value: 'OK' },
      { ok: true, value: 1 },
      { ok: true, value: 'a' },
    ]);
    const tx = await redis.batch(
      [
        { name: 'INCR', args: [`${p}n`], keys: [0] },
        { name: 'LPUSH', args: [`${p}1`, 'x'], keys: [0] },
        { name: 'GET', args: [`${p}1`], keys: [0] },
      ],
      { atomic: true },
    );
    expect(tx[0]).toEqual({ ok: true, value: 2 });
    expect(!tx[1]!.ok && RedisReplyError.isInstance(tx[1]!.error) && tx[1]!.error.prefix).toBe('WRONGTYPE');
    expect(tx[2]).toEqual({ ok: true, value: 'a' });
    // A keyless command first: the batch still goes to (and names) the slot owner of the others.
    const mixed = await redis.batch([
      { name: 'PING', args: [] },
      { name: 'GET', args: [`${p}1`], keys: [0] },
    ]);
    expect(mixed).toEqual([
      { ok: true, value: 'PONG' },
      { ok: true, value: 'a' },
    ]);
    const port = await ownerPort(`${p}1`);
    expect(recorder.peers.map((peer) => peer?.port)).toEqual([port, port, port]);
    const aborted = await redis
      .batch(
        [
          { name: 'SET', args: [`${p}abort`, 'a'], keys: [0] },
          { name: 'NOSUCHCOMMAND', args: [] },
        ],
        { atomic: true },
      )
      .catch((e) => e);
    expect(aborted.prefix).toBe('EXECABORT');
    expect(aborted.cause.command).toBe('NOSUCHCOMMAND');
  });

  it('runs scripts on the owner, again after SCRIPT FLUSH on every master', async () => {
    const script = defineScript({ name: 'pair', source: 'return {KEYS[1], ARGV[1]}' });
    const keys = ['s1', 's2', 's3', 's4'].map((key) => `${prefix()}${key}`);
    for (const key of keys) expect(await redis.runScript(script, [key], ['v'])).toEqual([key, 'v']);
    await Promise.all(client.nodes('master').map((node) => node.script('FLUSH')));
    for (const key of keys) expect(await redis.runScript(script, [key], ['w'])).toEqual([key, 'w']);
  });

  it('reports the connection attempts of the node connections to dial hooks', async () => {
    const { dials, settled, hook } = recordDials();
    const fresh = new ClusterClass(
      deployment.nodes.map((node) => ({ host: node.host, port: node.port })),
      { lazyConnect: true },
    );
    try {
      const adapter = fromIoredis(fresh, {
        hooks: [hook],
      });
      await fresh.connect();
      for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) {
        await adapter.send({ name: 'SET', args: [`${prefix()}${key}`, '1'], keys: [0] });
      }
      await new Promise((resolve) => setImmediate(resolve));
      const ports = new Set(deployment.nodes.map((node) => node.port));
      expect(dials.length).toBeGreaterThanOrEqual(1);
      for (const dial of dials) {
        expect(dial.purpose).toBe('command');
        expect(ports.has(dial.port!)).toBe(true);
      }
      await eventually(() => settled.length === dials.length);
    } finally {
      fresh.disconnect();
    }
  });
});

// Failovers change the deployment: they run after the suites above, one per major, on different masters.
describe('fromIoredis cluster failover', () => {
  const failedOver = new Set<number>();
  for (const { name, Cluster: ClusterClass } of MODULES) {
    it(`follows a failover: commands resume and the peer is the promoted master (${name})`, async () => {
      const client = new ClusterClass(
        deployment.nodes.map((node) => ({ host: node.host, port: node.port })),
        { lazyConnect: true },
      );
      const recorder = recordPeers({ batches: true });
      try {
        await client.connect();
        const redis = fromIoredis(client, { hooks: [recorder.hook] });
        const owner = async (key: string) => {
          const slot = keySlot(key);
          const nodes = await redis.nodes();
          return nodes.find(
            (node) => node.role === 'master' && node.slots?.some(([from, to]) => slot >= from && slot <= to),
          )!.port;
        };
        let key = '';
        let oldPort = 0;
        for (let i = 0; ; i++) {
          key = `${prefix()}failover-${i}`;
          oldPort = await owner(key);
          if (!failedOver.has(oldPort)) break;
        }
        await redis.send({ name: 'SET', args: [key, 'before'], keys: [0] });
        const promoted = await deployment.failover(oldPort);
        failedOver.add(oldPort).add(promoted.port);
        expect(promoted.port).not.toBe(oldPort);
        // ioredis follows the MOVED redirection and refreshes its slots; the peer is the owner after the call.
        recorder.peers.length = 0;
        expect(await redis.send({ name: 'SET', args: [key, 'after'], keys: [0] })).toBe('OK');
        expect(recorder.peers.at(-1)?.port).toBe(promoted.port);
        expect(await redis.send({ name: 'GET', args: [key], keys: [0] })).toBe('after');
      } finally {
        client.disconnect();
      }
    }, 90_000);
  }
});
