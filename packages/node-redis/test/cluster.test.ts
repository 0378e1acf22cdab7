import {
  CrossSlotError,
  defineScript,
  keySlot,
  type RedisLike,
  type RedisMessage,
  RedisReplyError,
} from '@redisotel/core-hooks';
import { recordPeers } from '@redisotel/testing';
import { useRedisDeployment } from '@redisotel/testing/vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromNodeRedis } from '../src/index.js';
import { eventually, MODULES, prefix, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

// The project's shared cluster (test/global-setup.ts); keys are under this file's prefix() or nr-*.
const { deployment: cluster } = useRedisDeployment('cluster');

describe.each(MODULES)('fromNodeRedis cluster ($name)', ({ lib, major }) => {
  let client: ReturnType<typeof lib.createCluster>;
  let redis: RedisLike;
  const p = prefix();
  beforeAll(async () => {
    const first = cluster.nodes[0]!;
    client = lib.createCluster({ rootNodes: [{ url: `redis://${first.host}:${first.port}` }] });
    client.on('error', () => {});
    await client.connect();
    redis = fromNodeRedis(client);
  });
  afterAll(async () => {
    await redis?.subscriber().close();
    await client?.close();
  });

  const ownerOf = async (key: string) => {
    const slot = keySlot(key);
    const nodes = await redis.nodes();
    const owner = nodes.find((node) => node.slots?.some(([from, to]) => slot >= from && slot <= to));
    return owner ? { address: owner.address, port: owner.port } : undefined;
  };

  it('describes a cluster and lists masters with slot ranges and replicas', async () => {
    const description = redis.describe();
    expect(description.topology).toBe('cluster');
    expect(description.library.version.startsWith(`${major}.`)).toBe(true);
    expect(description.capabilities.requiresSameSlot).toBe(true);
    expect(description.capabilities.shardedPubSub).toBe(true);
    expect(description.server).toEqual({ address: cluster.nodes[0]!.host, port: cluster.nodes[0]!.port });
    expect(description.database).toBe(0);
    const nodes = await redis.nodes();
    const masters = nodes.filter((n) => n.role === 'master');
    const replicas = nodes.filter((n) => n.role === 'replica');
    expect(masters).toHaveLength(3);
    expect(replicas).toHaveLength(3);
    let covered = 0;
    for (const master of masters) {
      expect(master.id).toMatch(/^[0-9a-f]{40}$/);
      for (const [from, to] of master.slots ?? []) covered += to - from + 1;
    }
    expect(covered).toBe(16384);
    const ports = new Set(cluster.nodes.map((n) => n.port));
    for (const node of nodes) expect(ports.has(node.port)).toBe(true);
  });

  it('routes every command by its first key and reports the slot owner as peer', async () => {
    const { peers, hook } = recordPeers();
    redis.addHook(hook);
    const keys = Array.from({ length: 12 }, (_, i) => `nr-route-${major}-${i}`);
    for (const key of keys) {
      expect(await redis.send({ name: 'SET', args: [key, key.toUpperCase()], keys: [0] })).toBe('OK');
    }
    for (const key of keys) {
      expect(await redis.send({ name: 'GET', args: [key], keys: [0] })).toBe(key.toUpperCase());
    }
    const slots = new Set(keys.map((key) => keySlot(key)));
    expect(slots.size).toBeGreaterThan(3);
    const expected = await Promise.all(keys.map(ownerOf));
    expect(peers.slice(keys.length)).toEqual(expected);
    expect(new Set(expected.map((e) => e?.port)).size).toBe(3);
    await redis.send({ name: 'DEL', args: keys.slice(0, 1), keys: [0] });
  });

  it('rejects a cross-slot batch before anything is sent', async () => {
    const error = await redis
      .batch([
        { name: 'SET', args: ['{x}cross', '1'], keys: [0] },
        { name: 'SET', args: ['{y}cross', '2'], keys: [0] },
      ])
      .catch((e) => e);
    expect(CrossSlotError.isInstance(error)).toBe(true);
    expect(error.slots).toHaveLength(2);
    expect(await redis.send({ name: 'EXISTS', args: ['{x}cross'], keys: [0] })).toBe(0);
    const atomic = await redis
      .batch(
        [
          { name: 'SET', args: ['{x}cross', '1'], keys: [0] },
          { name: 'SET', args: ['{y}cross', '2'], keys: [0] },
        ],
        { atomic: true },
      )
      .catch((e) => e);
    expect(CrossSlotError.isInstance(atomic)).toBe(true);
    expect(await redis.send({ name: 'EXISTS', args: ['{x}cross'], keys: [0] })).toBe(0);
    // a multi-key command across slots is rejected by core too
    await expect(
      Promise.resolve().then(() => redis.send({ name: 'MGET', args: ['{x}a', '{y}b'], keys: [0, 1] })),
    ).rejects.toSatisfy((e: unknown) => CrossSlotError.isInstance(e));
  });

  it('runs same-slot pipelines and transactions on the slot owner', async () => {
    let batchPeer: unknown;
    redis.addHook({
      processBatch: (next) => async (commands, info) => {
        try {
          return await next(commands, info);
        } finally {
          batchPeer = info.peer;
        }
      },
    });
    const results = await redis.batch([
      { name: 'SET', args: [`${p}a`, '1'], keys: [0] },
      { name: 'INCR', args: [`${p}a`], keys: [0] },
      { name: 'HGET', args: [`${p}a`, 'f'], keys: [0] },
      { name: 'GET', args: [`${p}a`], keys: [0], binary: true },
    ]);
    expect(results[0]).toEqual({ ok: true, value: 'OK' });
    expect(results[1]).toEqual({ ok: true, value: 2 });
    expect(results[2]!.ok).toBe(false);
    expect(results[3]!.ok && Buffer.isBuffer(results[3]!.value)).toBe(true);
    expect(batchPeer).toEqual(await ownerOf(`${p}a`));
    const atomic = await redis.batch(
      [
        { name: 'INCR', args: [`${p}a`], keys: [0] },
        { name: 'MGET', args: [`${p}a`, `${p}missing`], keys: [0, 1] },
      ],
      { atomic: true },
    );
    expect(atomic).toEqual([
      { ok: true, value: 3 },
      { ok: true, value: ['3', null] },
    ]);
    const aborted = await redis
      .batch(
        [
          { name: 'INCR', args: [`${p}a`], keys: [0] },
          { name: 'INCR', args: [] },
        ],
        { atomic: true },
      )
      .catch((e) => e);
    expect(RedisReplyError.isInstance(aborted)).toBe(true);
    expect(aborted.prefix).toBe('EXECABORT');
    expect(await redis.send({ name: 'GET', args: [`${p}a`], keys: [0] })).toBe('3');
  });

  it('runs scripts on the owner of their keys, also after SCRIPT FLUSH on every master', async () => {
    const script = defineScript({
      name: `cluster-incr-${major}`,
      source: 'return redis.call("INCRBY", KEYS[1], ARGV[1])',
    });
    expect(await redis.runScript(script, [`${p}script`], [2])).toBe(2);
    for (const master of client.masters) {
      const node = await client.nodeClient(master);
      await node.sendCommand(['SCRIPT', 'FLUSH']);
    }
    expect(await redis.runScript(script, [`${p}script`], [3])).toBe(5);
    expect(await redis.runScript(script, ['nr-other-slot'], [1])).toBeGreaterThanOrEqual(1);
  });

  it('subscribes to channels, patterns and sharded channels on the cluster connections', async () => {
    const subscriber = redis.subscriber();
    const messages: RedisMessage[] = [];
    const stops = await Promise.all([
      subscriber.subscribe(`${p}c`, (m) => messages.push(m)),
      subscriber.psubscribe(`${p}p:*`, (m) => messages.push(m)),
      subscriber.ssubscribe(`${p}s`, (m) => messages.push(m)),
      subscriber.ssubscribe('nr-sharded-elsewhere', (m) => messages.push(m)),
    ]);
    await redis.send({ name: 'PUBLISH', args: [`${p}c`, 'one'] });
    await redis.send({ name: 'PUBLISH', args: [`${p}p:1`, 'two'] });
    await redis.send({ name: 'SPUBLISH', args: [`${p}s`, 'three'], keys: [0] });
    await redis.send({ name: 'SPUBLISH', args: ['nr-sharded-elsewhere', 'four'], keys: [0] });
    await eventually(() => messages.length === 4);
    expect(messages).toEqual(
      expect.arrayContaining([
        { channel: `${p}c`, message: 'one' },
        { channel: `${p}p:1`, message: 'two', pattern: `${p}p:*` },
        { channel: `${p}s`, message: 'three' },
        { channel: 'nr-sharded-elsewhere', message: 'four' },
      ]),
    );
    for (const stop of stops) await stop();
  });
});
