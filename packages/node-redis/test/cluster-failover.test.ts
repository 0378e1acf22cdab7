import { keySlot, type RedisLike } from '@redisotel/core-hooks';
import { recordPeers } from '@redisotel/testing';
import { describe, expect, it } from 'vitest';
import { fromNodeRedis } from '../src/index.js';
import { MODULES, ownCluster, prefix, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

describe.each(MODULES)('cluster batches after a failover moved their slot ($name)', ({ lib }) => {
  // A cluster of its own per major: a failover leaves the demoted master syncing as a replica for a while.
  const cluster = ownCluster();

  it('follow the slot to its new master (pipeline and MULTI) and report it as peer', async () => {
    const first = cluster.nodes[0]!;
    const client = lib.createCluster({ rootNodes: [{ url: `redis://${first.host}:${first.port}` }] });
    client.on('error', () => {});
    await client.connect();
    const redis: RedisLike = fromNodeRedis(client);
    const { peers, hook } = recordPeers({ commands: false, batches: true });
    redis.addHook(hook);
    try {
      const p = prefix();
      const key = `${p}counter`;
      expect(await redis.batch([{ name: 'SET', args: [key, '1'], keys: [0] }], { atomic: true })).toEqual([
        { ok: true, value: 'OK' },
      ]);
      const slot = keySlot(key);
      const owner = (await redis.nodes()).find((node) =>
        node.slots?.some(([from, to]) => slot >= from && slot <= to),
      )!;
      expect(peers.at(-1)).toEqual({ address: owner.address, port: owner.port });
      const promoted = await cluster.failover(owner.port);
      expect(promoted.port).not.toBe(owner.port);

      // node-redis still maps the slot to the old master, which now answers MOVED
      expect(
        await redis.batch(
          [
            { name: 'INCR', args: [key], keys: [0] },
            { name: 'GET', args: [key], keys: [0] },
          ],
          { atomic: true },
        ),
      ).toEqual([
        { ok: true, value: 2 },
        { ok: true, value: '2' },
      ]);
      expect(peers.at(-1)).toEqual({ address: promoted.host, port: promoted.port });
      expect(
        await redis.batch([
          { name: 'INCR', args: [key], keys: [0] },
          { name: 'GET', args: [key], keys: [0] },
        ]),
      ).toEqual([
        { ok: true, value: 3 },
        { ok: true, value: '3' },
      ]);
      expect(await redis.send({ name: 'GET', args: [key], keys: [0] })).toBe('3');
    } finally {
      await client.close();
    }
  });
});
