import { defineScript, type RedisLike, RedisReplyError } from '@redisotel/core-hooks';
import { captureTelemetry, recordPeers } from '@redisotel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromNodeRedis, instrumentNodeRedis } from '../src/index.js';
import { eventually, MODULES, ownSentinel, prefix, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

const group = ownSentinel();

describe.each(MODULES)('fromNodeRedis sentinel ($name)', ({ lib, major }) => {
  let client: ReturnType<typeof lib.createSentinel>;
  let redis: RedisLike;
  const p = prefix();
  beforeAll(async () => {
    client = lib.createSentinel({
      name: group.masterName,
      sentinelRootNodes: group.sentinels.map((s) => ({ host: s.host, port: s.port })),
    });
    client.on('error', () => {});
    await client.connect();
    redis = fromNodeRedis(client, { masterName: group.masterName });
  });
  afterAll(async () => {
    await redis?.subscriber().close();
    await client?.close();
  });

  it('describes the sentinel group and lists master, replica and sentinel', async () => {
    const description = redis.describe();
    expect(description.topology).toBe('sentinel');
    expect(description.masterName).toBe(group.masterName);
    expect(description.library.version.startsWith(`${major}.`)).toBe(true);
    const sentinelPorts = group.sentinels.map((s) => s.port);
    expect(sentinelPorts).toContain(description.server.port);
    const nodes = await redis.nodes();
    expect(nodes.filter((n) => n.role === 'master')).toEqual([
      { address: group.master.host, port: group.master.port, role: 'master' },
    ]);
    expect(nodes.some((n) => n.role === 'sentinel')).toBe(true);
  });

  it('sends commands, batches and scripts to the master', async () => {
    const { peers, hook } = recordPeers();
    redis.addHook(hook);
    expect(await redis.send({ name: 'SET', args: [`${p}k`, 'v'], keys: [0] })).toBe('OK');
    expect(await redis.send({ name: 'HSET', args: [`${p}h`, 'a', '1'], keys: [0] })).toBe(1);
    expect(await redis.send({ name: 'HGETALL', args: [`${p}h`], keys: [0] })).toEqual(['a', '1']);
    expect(peers.at(-1)).toEqual({ address: group.master.host, port: group.master.port });
    expect(
      await redis.batch([
        { name: 'INCR', args: [`${p}n`], keys: [0] },
        { name: 'INCR', args: [`${p}n`], keys: [0] },
      ]),
    ).toEqual([
      { ok: true, value: 1 },
      { ok: true, value: 2 },
    ]);
    const aborted = await redis.batch([{ name: 'INCR', args: [] }], { atomic: true }).catch((e) => e);
    expect(RedisReplyError.isInstance(aborted) && aborted.prefix).toBe('EXECABORT');
    const script = defineScript({ name: 'sentinel-get', source: 'return redis.call("GET", KEYS[1])' });
    expect(await redis.runScript(script, [`${p}k`], [])).toBe('v');
    const messages: string[] = [];
    const stop = await redis.subscriber().subscribe(`${p}c`, (m) => messages.push(m.message));
    await redis.send({ name: 'PUBLISH', args: [`${p}c`, 'hi'] });
    await eventually(() => messages.length === 1);
    await stop();
  });
});

describe.each(MODULES)('instrumentNodeRedis on a sentinel client ($name)', ({ lib }) => {
  it('records the application commands once, with the master as peer, also next to fromNodeRedis', async () => {
    const client = lib.createSentinel({
      name: group.masterName,
      sentinelRootNodes: group.sentinels.map((s) => ({ host: s.host, port: s.port })),
    });
    client.on('error', () => {});
    await client.connect();
    const capture = captureTelemetry();
    const providers = { tracerProvider: capture.tracerProvider, meterProvider: capture.meterProvider };
    const instrumentation = instrumentNodeRedis(client, providers);
    const redis = fromNodeRedis(client, providers);
    const p = prefix();
    try {
      await client.set(`${p}k`, 'v');
      expect(await redis.send({ name: 'GET', args: [`${p}k`], keys: [0] })).toBe('v');
      await redis.batch([{ name: 'INCR', args: [`${p}n`], keys: [0] }], { atomic: true });
    } finally {
      instrumentation.disable();
      await client.close();
    }
    const spans = capture.spans().filter((span) => span.name !== 'connect');
    expect(spans.map((span) => span.attributes['db.operation.name'])).toEqual(['SET', 'GET', 'MULTI INCR']);
    for (const span of spans) {
      expect(span.attributes['network.peer.address']).toBe(group.master.host);
      expect(span.attributes['network.peer.port']).toBe(group.master.port);
    }
    await capture.shutdown();
  });
});

describe('a sentinel failover', () => {
  it.each(MODULES)('commands resume against the new master and peer shows it ($name)', async ({ lib }) => {
    const client = lib.createSentinel({
      name: group.masterName,
      sentinelRootNodes: group.sentinels.map((s) => ({ host: s.host, port: s.port })),
    });
    client.on('error', () => {});
    await client.connect();
    const redis = fromNodeRedis(client, { masterName: group.masterName });
    const peers: { address: string; port?: number }[] = [];
    redis.addHook({
      process: (next) => async (command, info) => {
        try {
          return await next(command, info);
        } finally {
          if (info.peer) peers.push(info.peer);
        }
      },
    });
    try {
      const p = prefix();
      await redis.send({ name: 'SET', args: [`${p}before`, '1'], keys: [0] });
      const oldMaster = { address: group.master.host, port: group.master.port };
      expect(peers.at(-1)).toEqual(oldMaster);
      const newMaster = await group.failover();
      expect(newMaster.port).not.toBe(oldMaster.port);
      await eventually(
        async () => {
          await redis.send({ name: 'SET', args: [`${p}after`, '2'], keys: [0] });
          return peers.at(-1)?.port === newMaster.port;
        },
        { timeoutMs: 30_000 },
      );
      expect(await redis.send({ name: 'GET', args: [`${p}after`], keys: [0] })).toBe('2');
      expect(peers.at(-1)).toEqual({ address: newMaster.host, port: newMaster.port });
    } finally {
      await client.close();
    }
  });
});
