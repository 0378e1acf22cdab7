import type { RedisLike, RedisMessage } from '@redisotel/core-hooks';
import type { ClusterHandle, StandaloneHandle } from '@redisotel/testing';
import type { Cluster, default as Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromIoredis } from '../src/index.js';
import {
  eventually,
  MODULES,
  prefix,
  startCluster,
  startStandalone,
  trackUnhandledRejections,
} from './helpers.js';

trackUnhandledRejections();

let server: StandaloneHandle;
let cluster: ClusterHandle;
beforeAll(async () => {
  [server, cluster] = await Promise.all([startStandalone(), startCluster()]);
});
afterAll(async () => {
  await Promise.all([server?.stop(), cluster?.stop()]);
});

async function publishUntil(
  redis: RedisLike,
  name: 'PUBLISH' | 'SPUBLISH',
  channel: string,
  received: RedisMessage[],
  message: string,
): Promise<void> {
  await eventually(async () => {
    await redis.send({ name, args: [channel, message], ...(name === 'SPUBLISH' ? { keys: [0] } : {}) });
    return received.some((m) => m.message === message);
  });
}

describe.each(MODULES)('subscriber ($name)', ({ Redis: RedisClass, Cluster: ClusterClass }) => {
  describe('standalone', () => {
    let client: Redis;
    let redis: RedisLike;
    beforeAll(async () => {
      client = new RedisClass({ host: server.host, port: server.port, lazyConnect: true });
      await client.connect();
      redis = fromIoredis(client);
    });
    afterAll(async () => {
      await redis?.subscriber().close();
      await client?.quit();
    });

    it('opens no connection until the first subscription', async () => {
      const before = String(await client.client('LIST'))
        .trim()
        .split('\n').length;
      const subscriber = redis.subscriber();
      expect(redis.subscriber()).toBe(subscriber);
      const after = String(await client.client('LIST'))
        .trim()
        .split('\n').length;
      expect(after).toBe(before);
    });

    it('delivers channel, pattern and sharded messages, and unsubscribes', async () => {
      const p = prefix();
      const subscriber = redis.subscriber();
      const channel: RedisMessage[] = [];
      const pattern: RedisMessage[] = [];
      const sharded: RedisMessage[] = [];
      const offChannel = await subscriber.subscribe(`${p}news`, (m) => channel.push(m));
      const offPattern = await subscriber.psubscribe(`${p}n*`, (m) => pattern.push(m));
      const offSharded = await subscriber.ssubscribe(`${p}shard`, (m) => sharded.push(m));
      expect(await redis.send({ name: 'PUBLISH', args: [`${p}news`, 'hello'] })).toBe(2);
      expect(await redis.send({ name: 'SPUBLISH', args: [`${p}shard`, 'sharded'], keys: [0] })).toBe(1);
      await eventually(() => channel.length === 1 && pattern.length === 1 && sharded.length === 1);
      expect(channel[0]).toEqual({ channel: `${p}news`, message: 'hello' });
      expect(pattern[0]).toEqual({ channel: `${p}news`, message: 'hello', pattern: `${p}n*` });
      expect(sharded[0]).toEqual({ channel: `${p}shard`, message: 'sharded' });
      await offChannel();
      await offPattern();
      await offSharded();
      expect(await redis.send({ name: 'PUBLISH', args: [`${p}news`, 'again'] })).toBe(0);
      expect(await redis.send({ name: 'SPUBLISH', args: [`${p}shard`, 'again'], keys: [0] })).toBe(0);
    });

    it('keeps one subscription per channel for several listeners', async () => {
      const p = prefix();
      const subscriber = redis.subscriber();
      const a: RedisMessage[] = [];
      const b: RedisMessage[] = [];
      const offA = await subscriber.subscribe([`${p}c`], (m) => a.push(m));
      const offB = await subscriber.subscribe(`${p}c`, (m) => b.push(m));
      expect(await redis.send({ name: 'PUBLISH', args: [`${p}c`, '1'] })).toBe(1);
      await eventually(() => a.length === 1 && b.length === 1);
      await offA();
      expect(await redis.send({ name: 'PUBLISH', args: [`${p}c`, '2'] })).toBe(1);
      await eventually(() => b.length === 2);
      expect(a).toHaveLength(1);
      await offB();
    });

    it('resubscribes after the connection is killed and tells onReconnect listeners', async () => {
      const p = prefix();
      const subscriber = redis.subscriber();
      const received: RedisMessage[] = [];
      let reconnects = 0;
      const offReconnect = subscriber.onReconnect(() => {
        reconnects++;
      });
      const off = await subscriber.subscribe(`${p}live`, (m) => received.push(m));
      const offShard = await subscriber.ssubscribe(`${p}s`, (m) => received.push(m));
      expect(await client.call('CLIENT', 'KILL', 'TYPE', 'pubsub')).toBeGreaterThanOrEqual(1);
      await eventually(() => reconnects === 1);
      await publishUntil(redis, 'PUBLISH', `${p}live`, received, 'after-kill');
      await publishUntil(redis, 'SPUBLISH', `${p}s`, received, 'sharded-after-kill');
      offReconnect();
      await off();
      await offShard();
    });

    it('rejects invalid arguments with TypeError', async () => {
      const subscriber = redis.subscriber();
      await expect(subscriber.subscribe([], () => {})).rejects.toThrow(TypeError);
      await expect(subscriber.subscribe('x', 'nope' as never)).rejects.toThrow(TypeError);
      expect(() => subscriber.onReconnect(42 as never)).toThrow(TypeError);
    });
  });

  describe('cluster', () => {
    let client: Cluster;
    let redis: RedisLike;
    beforeAll(async () => {
      client = new ClusterClass(
        cluster.nodes.map((node) => ({ host: node.host, port: node.port })),
        { lazyConnect: true },
      );
      await client.connect();
      redis = fromIoredis(client);
    });
    afterAll(async () => {
      await redis?.subscriber().close();
      await client?.quit();
    });

    it('delivers sharded messages from channels on different nodes, and classic ones', async () => {
      const subscriber = redis.subscriber();
      const received: RedisMessage[] = [];
      const channels = ['alpha', 'beta', 'gamma', 'delta'].map((name) => `${prefix()}${name}`);
      const off = await subscriber.ssubscribe(channels, (m) => received.push(m));
      for (const channel of channels) {
        expect(await redis.send({ name: 'SPUBLISH', args: [channel, `m-${channel}`], keys: [0] })).toBe(1);
      }
      await eventually(() => received.length === channels.length);
      expect(new Set(received.map((m) => m.channel))).toEqual(new Set(channels));
      await off();
      const classic: RedisMessage[] = [];
      const p = prefix();
      const offClassic = await subscriber.subscribe(`${p}broadcast`, (m) => classic.push(m));
      await publishUntil(redis, 'PUBLISH', `${p}broadcast`, classic, 'hi');
      await offClassic();
    });

    it('resubscribes after the subscriber connection is killed and tells onReconnect listeners', async () => {
      const subscriber = redis.subscriber();
      const received: RedisMessage[] = [];
      let reconnects = 0;
      subscriber.onReconnect(() => {
        reconnects++;
      });
      const p = prefix();
      const off = await subscriber.subscribe(`${p}live`, (m) => received.push(m));
      // ioredis picks the subscriber node among masters and replicas.
      await Promise.all(client.nodes('all').map((node) => node.call('CLIENT', 'KILL', 'TYPE', 'pubsub')));
      await eventually(() => reconnects >= 1);
      await publishUntil(redis, 'PUBLISH', `${p}live`, received, 'after-kill');
      await off();
    });
  });
});
