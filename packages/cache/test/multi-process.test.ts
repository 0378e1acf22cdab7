// Several Node processes sharing one cache prefix: cross-process stampede protection (the Redis lease
// with wake-ups), a follower taking over from a killed leader, and L1 coherence through the channel.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConnectedClient,
  connectClient,
  deploymentFor,
  MATRIX,
  raw,
  sleep,
  startWorker,
  uniquePrefix,
  type Worker,
  waitUntil,
} from './support.js';

interface ConcurrentResult {
  localCalls: number;
  results: { loadedBy: number }[];
}

function unique(name: string): string {
  return `${name}-${randomBytes(3).toString('hex')}`;
}

describe.each(MATRIX)('across processes on $name', ({ client, topology }) => {
  const deployment = () => deploymentFor(topology);
  const prefix = uniquePrefix('mp');
  const options = { ttlMs: 60_000, prefix, distributed: { leaseMs: 1500 }, l1: true };
  let connected: ConnectedClient;
  let workers: Worker[] = [];

  beforeAll(async () => {
    connected = await connectClient(client, deployment());
    workers = await Promise.all([0, 1, 2].map(() => startWorker(client, deployment(), options)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    await connected?.close();
  });

  const counter = async (counterKey: string) => Number((await raw(connected.redis, 'GET', counterKey)) ?? 0);

  it('3 processes × 50 concurrent misses with distributed: true → 1 loader call in total', async () => {
    const key = unique('stampede');
    const counterKey = `${prefix}{${key}}:loads`;
    const replies = await Promise.all(
      workers.map((worker) =>
        worker.request<ConcurrentResult>({
          type: 'getOrLoadConcurrently',
          key,
          concurrency: 50,
          loadMs: 1000,
          counterKey,
        }),
      ),
    );
    expect(await counter(counterKey)).toBe(1);
    expect(replies.reduce((sum, reply) => sum + reply.localCalls, 0)).toBe(1);
    const results = replies.flatMap((reply) => reply.results);
    expect(results).toHaveLength(150);
    expect(new Set(results.map((result) => result.loadedBy)).size).toBe(1);
  });

  it('a follower loads when the leader is killed mid-load', async () => {
    const key = unique('leader');
    const counterKey = `${prefix}{${key}}:loads`;
    const leader = await startWorker(client, deployment(), options);
    try {
      await leader.request({ type: 'hangingLoad', key });
      await leader.nextEvent('loading');
      expect(await raw(connected.redis, 'EXISTS', `${prefix}{${key}}:lease`)).toBe(1);
      const follower = workers[0]!;
      const pending = follower.request<ConcurrentResult>({
        type: 'getOrLoadConcurrently',
        key,
        concurrency: 5,
        loadMs: 0,
        counterKey,
      });
      await sleep(300);
      // The follower is waiting on the leader's lease, not loading.
      expect(await counter(counterKey)).toBe(0);
      leader.kill();
      const reply = await pending;
      expect(reply.localCalls).toBe(1);
      expect(await counter(counterKey)).toBe(1);
      expect(new Set(reply.results.map((result) => result.loadedBy))).toEqual(
        new Set([follower.process.pid]),
      );
    } finally {
      leader.kill();
    }
  }, 30_000);

  it('keeps the L1 of two processes coherent through the invalidation channel', async () => {
    const [writer, reader] = workers as [Worker, Worker];
    const key = unique('l1');
    // The reader's own write fills its L1 (a fill racing a foreign invalidation is dropped, so a read
    // right after another process's write may legitimately skip the L1).
    // Overwrite Redis behind every cache's back (no announcement): the reader keeps serving its L1 copy
    // (retried until the reader's channel is subscribed, from which point its L1 fills).
    await waitUntil(async () => {
      await reader.request({ type: 'set', key, value: 'v1' });
      const time = (await connected.redis.send({ name: 'TIME', args: [] })) as [string, string];
      const createdUs = `${time[0]}${time[1].padStart(6, '0')}`;
      await raw(connected.redis, 'SET', `${prefix}{${key}}`, `~rc1 ${createdUs} 60000 0 \n"behind the back"`);
      return (await reader.request({ type: 'get', key })) === 'v1';
    });
    expect(await reader.request({ type: 'get', key })).toBe('v1');
    // An announced write evicts it everywhere.
    await writer.request({ type: 'set', key, value: 'v2' });
    await waitUntil(async () => (await reader.request({ type: 'get', key })) === 'v2');
    await writer.request({ type: 'delete', keys: [key] });
    await waitUntil(async () => (await reader.request({ type: 'get', key })) === null);
    await writer.request({ type: 'set', key, value: 'tagged', options: { tags: ['t'] } });
    expect(await reader.request({ type: 'get', key })).toBe('tagged');
    await writer.request({ type: 'invalidateTags', tags: ['t'] });
    await waitUntil(async () => (await reader.request({ type: 'get', key })) === null);
  });
});

describe('without distributed (control)', () => {
  const client = MATRIX[0]!.client;
  let workers: Worker[] = [];
  let connected: ConnectedClient;
  const prefix = uniquePrefix('control');

  beforeAll(async () => {
    connected = await connectClient(client, deploymentFor('standalone'));
    workers = await Promise.all(
      [0, 1].map(() => startWorker(client, deploymentFor('standalone'), { ttlMs: 60_000, prefix })),
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.close()));
    await connected?.close();
  });

  it('each process loads once (in-process protection only): the distributed test can fail', async () => {
    const key = 'k';
    const counterKey = `${prefix}{${key}}:loads`;
    const replies = await Promise.all(
      workers.map((worker) =>
        worker.request<ConcurrentResult>({
          type: 'getOrLoadConcurrently',
          key,
          concurrency: 50,
          loadMs: 1000,
          counterKey,
        }),
      ),
    );
    expect(replies.map((reply) => reply.localCalls)).toEqual([1, 1]);
    expect(Number(await raw(connected.redis, 'GET', counterKey))).toBe(2);
  });
});
