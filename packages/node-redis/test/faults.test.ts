import { RedisConnectionError, type RedisLike } from '@redisotel/core-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromNodeRedis } from '../src/index.js';
import { eventually, MODULES, ownStandalone, pause, prefix, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

describe.each(MODULES)('a killed standalone server ($name)', ({ lib }) => {
  const server = ownStandalone();
  let client: ReturnType<typeof lib.createClient>;
  let offline: ReturnType<typeof lib.createClient>;
  let redis: RedisLike;
  let offlineRedis: RedisLike;
  const p = prefix();
  beforeAll(async () => {
    const options = { url: server.url, socket: { reconnectStrategy: () => 100 } };
    client = lib.createClient(options);
    client.on('error', () => {});
    offline = lib.createClient({ ...options, disableOfflineQueue: true });
    offline.on('error', () => {});
    await Promise.all([client.connect(), offline.connect()]);
    redis = fromNodeRedis(client);
    offlineRedis = fromNodeRedis(offline);
  });
  afterAll(async () => {
    await redis?.subscriber().close();
    for (const c of [client, offline]) if (c?.isOpen) c.destroy();
    // then useOwnRedis' afterAll (registered first, run last) stops the server
  });

  it('rejects in-flight and offline commands with typed errors, then recovers after a restart', async () => {
    await redis.send({ name: 'SET', args: [`${p}k`, 'v'], keys: [0] });
    const messages: string[] = [];
    await redis.subscriber().subscribe(`${p}chan`, (m) => messages.push(m.message));
    // in flight when the server dies: a blocking pop and a pipeline/transaction behind it
    const blocked = redis.send({ name: 'BLPOP', args: [`${p}list`, 3], keys: [0] }).catch((e) => e);
    const batch = redis
      .batch([{ name: 'BLPOP', args: [`${p}list2`, 3], keys: [0] }], { atomic: false })
      .catch((e) => e);
    await pause(100);
    await server.kill(server.port);

    const inFlight = await blocked;
    expect(RedisConnectionError.isInstance(inFlight)).toBe(true);
    expect(['CONNECTION_CLOSED', 'ECONNRESET']).toContain(inFlight.code);
    expect(inFlight.command).toBe('BLPOP');
    expect(inFlight.cause).toBeInstanceOf(Error);
    const batchError = await batch;
    expect(RedisConnectionError.isInstance(batchError)).toBe(true);

    // while down: a client without offline queue fails fast with a stable code
    await eventually(() => !offline.isReady);
    const down = await offlineRedis.send({ name: 'GET', args: [`${p}k`], keys: [0] }).catch((e) => e);
    expect(RedisConnectionError.isInstance(down)).toBe(true);
    expect(down.code).toBe('NOT_CONNECTED');

    // a command sent while down waits in node-redis' offline queue and completes after the restart
    const queued = redis.send({ name: 'PING', args: [] });
    queued.catch(() => {});
    await server.restart(server.port);
    await server.waitHealthy();
    await eventually(async () => (await redis.send({ name: 'PING', args: [] })) === 'PONG');
    await expect(queued).resolves.toBe('PONG');
    await eventually(async () => (await offlineRedis.send({ name: 'PING', args: [] })) === 'PONG');
    // data is gone (no persistence) but the adapter works again, subscriptions included
    expect(await redis.send({ name: 'SET', args: [`${p}k`, 'again'], keys: [0] })).toBe('OK');
    await eventually(async () => {
      await redis.send({ name: 'PUBLISH', args: [`${p}chan`, 'after-restart'] });
      return messages.includes('after-restart');
    });
  });

  it('closes a subscriber that is still trying to connect to a server that is down', async () => {
    const unreachable = lib.createClient({
      url: 'redis://127.0.0.1:1',
      socket: { reconnectStrategy: () => 50 },
    });
    unreachable.on('error', () => {});
    const redis = fromNodeRedis(unreachable);
    const subscription = redis.subscriber().subscribe('never', () => {});
    subscription.catch(() => {});
    await pause(200);
    await redis.subscriber().close();
    const error = await subscription.catch((e) => e);
    expect(RedisConnectionError.isInstance(error)).toBe(true);
  });
});
