import type { RedisLike, RedisMessage } from '@redisotel/core-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromNodeRedis } from '../src/index.js';
import { eventually, MODULES, ownStandalone, prefix, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

const server = ownStandalone();

describe.each(MODULES)('subscriber on a standalone client ($name)', ({ lib }) => {
  let client: ReturnType<typeof lib.createClient>;
  let redis: RedisLike;
  const p = prefix();
  beforeAll(async () => {
    client = lib.createClient({ url: server.url });
    client.on('error', () => {});
    await client.connect();
    redis = fromNodeRedis(client);
  });
  afterAll(async () => {
    await redis?.subscriber().close();
    if (client?.isOpen) await client.close();
  });

  const clientCount = async (type: 'pubsub' | 'normal') =>
    ((await redis.send({ name: 'CLIENT', args: ['LIST', 'TYPE', type] })) as string)
      .split('\n')
      .filter((line) => line.trim() !== '').length;

  it('opens no connection before the first subscription, then exactly one', async () => {
    expect(await clientCount('pubsub')).toBe(0);
    const normalBefore = await clientCount('normal');
    const subscriber = redis.subscriber();
    expect(redis.subscriber()).toBe(subscriber);
    expect(await clientCount('normal')).toBe(normalBefore);
    const messages: RedisMessage[] = [];
    const unsubscribe = await subscriber.subscribe(`${p}news`, (message) => messages.push(message));
    expect(await clientCount('pubsub')).toBe(1);
    await redis.send({ name: 'PUBLISH', args: [`${p}news`, 'hello'] });
    await eventually(() => messages.length === 1);
    expect(messages[0]).toEqual({ channel: `${p}news`, message: 'hello' });
    await unsubscribe();
    await redis.send({ name: 'PUBLISH', args: [`${p}news`, 'after'] });
    // the unsubscribed listener gets nothing more (checked after a round trip through the subscriber)
    const again: RedisMessage[] = [];
    const second = await subscriber.subscribe(`${p}news`, (message) => again.push(message));
    await redis.send({ name: 'PUBLISH', args: [`${p}news`, 'third'] });
    await eventually(() => again.length === 1);
    expect(messages).toHaveLength(1);
    await second();
  });

  it('delivers pattern messages with the pattern and sharded messages', async () => {
    const subscriber = redis.subscriber();
    const patterned: RedisMessage[] = [];
    const sharded: RedisMessage[] = [];
    const stopPattern = await subscriber.psubscribe(`${p}user:*`, (message) => patterned.push(message));
    const stopSharded = await subscriber.ssubscribe(`${p}shard`, (message) => sharded.push(message));
    await redis.send({ name: 'PUBLISH', args: [`${p}user:1`, 'p1'] });
    await redis.send({ name: 'SPUBLISH', args: [`${p}shard`, 's1'], keys: [0] });
    await eventually(() => patterned.length === 1 && sharded.length === 1);
    expect(patterned[0]).toEqual({ channel: `${p}user:1`, message: 'p1', pattern: `${p}user:*` });
    expect(sharded[0]).toEqual({ channel: `${p}shard`, message: 's1' });
    await stopPattern();
    await stopSharded();
  });

  it('keeps other listeners of the same channel when one unsubscribes', async () => {
    const subscriber = redis.subscriber();
    const first: string[] = [];
    const second: string[] = [];
    const stopFirst = await subscriber.subscribe(`${p}shared`, (m) => first.push(m.message));
    const stopSecond = await subscriber.subscribe(`${p}shared`, (m) => second.push(m.message));
    await stopFirst();
    await redis.send({ name: 'PUBLISH', args: [`${p}shared`, 'x'] });
    await eventually(() => second.length === 1);
    expect(first).toEqual([]);
    await stopSecond();
  });

  it('validates its arguments', async () => {
    const subscriber = redis.subscriber();
    await expect(subscriber.subscribe([], () => {})).rejects.toThrow(TypeError);
    await expect(subscriber.subscribe('c', 'nope' as never)).rejects.toThrow(/listener must be a function/);
    expect(() => subscriber.onReconnect(42 as never)).toThrow(TypeError);
  });

  it('resubscribes after the connection is killed and calls onReconnect', async () => {
    const subscriber = redis.subscriber();
    const messages: string[] = [];
    let reconnects = 0;
    const stopListening = subscriber.onReconnect(() => {
      reconnects++;
    });
    const stop = await subscriber.subscribe(`${p}resub`, (m) => messages.push(m.message));
    const stopPattern = await subscriber.psubscribe(`${p}resub-*`, (m) => messages.push(m.message));
    expect(await redis.send({ name: 'CLIENT', args: ['KILL', 'TYPE', 'pubsub'] })).toBeGreaterThanOrEqual(1);
    await eventually(() => reconnects === 1);
    await eventually(async () => {
      await redis.send({ name: 'PUBLISH', args: [`${p}resub`, 'back'] });
      return messages.includes('back');
    });
    await redis.send({ name: 'PUBLISH', args: [`${p}resub-x`, 'pattern-back'] });
    await eventually(() => messages.includes('pattern-back'));
    stopListening();
    await stop();
    await stopPattern();
  });

  it('close() drops the connection; the user client keeps working', async () => {
    const subscriber = redis.subscriber();
    await subscriber.subscribe(`${p}closing`, () => {});
    expect(await clientCount('pubsub')).toBe(1);
    await subscriber.close();
    await eventually(async () => (await clientCount('pubsub')) === 0);
    expect(await redis.send({ name: 'PING', args: [] })).toBe('PONG');
    await expect(subscriber.subscribe('again', () => {})).rejects.toThrow(/closed/);
  });

  it('closes its connection when the user closes the client', async () => {
    const other = lib.createClient({ url: server.url });
    other.on('error', () => {});
    await other.connect();
    const otherRedis = fromNodeRedis(other);
    await otherRedis.subscriber().subscribe(`${p}owner`, () => {});
    const before = await clientCount('pubsub');
    expect(before).toBeGreaterThanOrEqual(1);
    await other.close();
    await eventually(async () => (await clientCount('pubsub')) === before - 1);
  });
});
