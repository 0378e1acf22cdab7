import type { RedisLike } from '@redisotel/core-hooks';
import { recordPeers } from '@redisotel/testing';
import type Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromIoredis } from '../src/index.js';
import {
  eventually,
  MODULES,
  ownSentinel,
  prefix,
  recordDials,
  trackUnhandledRejections,
} from './helpers.js';

trackUnhandledRejections();

const deployment = ownSentinel();

// Failovers change the deployment: the majors run one after the other on the same group.
describe.each(MODULES)('fromIoredis sentinel ($name)', ({ Redis: RedisClass, major }) => {
  let client: Redis;
  let redis: RedisLike;
  const { peers, hook } = recordPeers();

  beforeAll(async () => {
    client = new RedisClass({
      sentinels: deployment.sentinels.map((sentinel) => ({ host: sentinel.host, port: sentinel.port })),
      name: deployment.masterName,
      lazyConnect: true,
      // ioredis' documented failover setting: a demoted master answers READONLY until it drops its
      // clients; reconnect (through the sentinels, to the new master) and resend the command.
      reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    });
    client.on('error', () => {});
    await client.connect();
    redis = fromIoredis(client, { hooks: [hook] });
  });
  afterAll(async () => {
    await redis?.subscriber().close();
    await client?.quit();
  });

  it('describes a sentinel client and enumerates master, replicas and sentinels', async () => {
    const description = redis.describe();
    expect(description.topology).toBe('sentinel');
    expect(description.masterName).toBe(deployment.masterName);
    expect(description.library.version).toBe(major === 6 ? '6.0.0' : '5.11.1');
    expect(description.server).toEqual({
      address: deployment.sentinels[0]!.host,
      port: deployment.sentinels[0]!.port,
    });
    const nodes = await redis.nodes();
    const master = nodes.find((node) => node.role === 'master');
    expect(master?.port).toBe(deployment.master.port);
    expect(nodes.filter((node) => node.role === 'replica').length).toBeGreaterThanOrEqual(1);
    expect(nodes.filter((node) => node.role === 'sentinel').map((node) => node.port)).toEqual(
      deployment.sentinels.map((sentinel) => sentinel.port),
    );
  });

  it('reports connection attempts to dial hooks (the first one names the first sentinel)', async () => {
    const { dials, settled, hook } = recordDials();
    const fresh = new RedisClass({
      sentinels: deployment.sentinels.map((sentinel) => ({ host: sentinel.host, port: sentinel.port })),
      name: deployment.masterName,
      lazyConnect: true,
    });
    fresh.on('error', () => {});
    try {
      fromIoredis(fresh, {
        hooks: [hook],
      });
      await fresh.connect();
      await eventually(() => settled.length === 1);
      expect(dials).toEqual([
        { address: deployment.sentinels[0]!.host, port: deployment.sentinels[0]!.port, purpose: 'command' },
      ]);
    } finally {
      fresh.disconnect();
    }
  });

  it('enumerates nodes from a client connected to a replica (role: slave)', async () => {
    const replicaClient = new RedisClass({
      sentinels: deployment.sentinels.map((sentinel) => ({ host: sentinel.host, port: sentinel.port })),
      name: deployment.masterName,
      role: 'slave',
      lazyConnect: true,
    });
    replicaClient.on('error', () => {});
    try {
      await replicaClient.connect();
      const nodes = await fromIoredis(replicaClient).nodes();
      expect(nodes.find((node) => node.role === 'master')?.port).toBe(deployment.master.port);
      expect(nodes.filter((node) => node.role === 'replica').map((node) => node.port)).not.toContain(
        deployment.master.port,
      );
    } finally {
      replicaClient.disconnect();
    }
  });

  it('resumes against the new master after a failover and reports it as peer', async () => {
    const p = prefix();
    peers.length = 0;
    expect(await redis.send({ name: 'SET', args: [`${p}k`, 'before'], keys: [0] })).toBe('OK');
    const before = deployment.master.port;
    expect(peers[0]?.port).toBe(before);
    const promoted = await deployment.failover();
    expect(promoted.port).not.toBe(before);
    // ioredis notices the switch (the old master turns replica and drops clients) and reconnects through
    // the sentinels; commands meanwhile are queued or fail with typed errors.
    await eventually(async () => {
      peers.length = 0;
      const reply = await redis.send({ name: 'SET', args: [`${p}k`, 'after'], keys: [0] });
      return reply === 'OK' && peers[0]?.port === promoted.port;
    }, 30_000);
    expect(await redis.send({ name: 'GET', args: [`${p}k`], keys: [0] })).toBe('after');
    const master = (await redis.nodes()).find((node) => node.role === 'master');
    expect(master?.port).toBe(promoted.port);
  }, 90_000);
});
