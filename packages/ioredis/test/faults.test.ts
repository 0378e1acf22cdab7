import { RedisConnectionError, type RedisLike, RedisReplyError } from '@redisotel/core-hooks';
import type Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromIoredis } from '../src/index.js';
import { eventually, MODULES, ownStandalone, prefix, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

const server = ownStandalone();

describe.each(MODULES)('faults ($name)', ({ Redis: RedisClass }) => {
  let client: Redis;
  let redis: RedisLike;
  beforeAll(async () => {
    // No offline queue: while the server is down, commands fail at once instead of waiting for
    // ioredis' 20 retries (`maxRetriesPerRequest`).
    client = new RedisClass({
      host: server.host,
      port: server.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => 50,
    });
    client.on('error', () => {});
    await client.connect();
    redis = fromIoredis(client);
  });
  afterAll(async () => {
    await redis?.subscriber().close();
    client?.disconnect();
  });

  it('fails with typed connection errors while the server is down, and recovers after a restart', async () => {
    const p = prefix();
    expect(await redis.send({ name: 'SET', args: [`${p}k`, 'v'], keys: [0] })).toBe('OK');
    const inFlight = redis.send({ name: 'BLPOP', args: [`${p}list`, 0], keys: [0] }).catch((e) => e);
    await server.kill(server.port);
    const blocked = await inFlight;
    expect(RedisConnectionError.isInstance(blocked)).toBe(true);
    // ioredis resends unfulfilled commands after a reconnect and gives up after maxRetriesPerRequest.
    expect(['CONNECTION_CLOSED', 'ECONNRESET', 'MAX_RETRIES_PER_REQUEST']).toContain(blocked.code);
    expect(blocked.command).toBe('BLPOP');
    expect(blocked.cause).toBeInstanceOf(Error);

    const down = await redis.send({ name: 'GET', args: [`${p}k`], keys: [0] }).catch((e) => e);
    expect(RedisConnectionError.isInstance(down)).toBe(true);
    expect(down.code).toBe('NOT_CONNECTED');
    const batch = await redis.batch([{ name: 'GET', args: [`${p}k`], keys: [0] }]).catch((e) => e);
    expect(RedisConnectionError.isInstance(batch)).toBe(true);
    const tx = await redis
      .batch([{ name: 'GET', args: [`${p}k`], keys: [0] }], { atomic: true })
      .catch((e) => e);
    expect(RedisConnectionError.isInstance(tx)).toBe(true);
    expect(RedisReplyError.isInstance(tx)).toBe(false);

    await server.restart(server.port);
    await eventually(async () => (await redis.send({ name: 'PING', args: [] })) === 'PONG');
    expect(await redis.send({ name: 'SET', args: [`${p}k`, 'again'], keys: [0] })).toBe('OK');
    expect(await redis.batch([{ name: 'GET', args: [`${p}k`], keys: [0] }], { atomic: true })).toEqual([
      { ok: true, value: 'again' },
    ]);
  });

  it('closes the subscriber connection while the server is down without waiting for it', async () => {
    const subscriber = redis.subscriber();
    await subscriber.subscribe(`${prefix()}c`, () => {});
    await server.kill(server.port);
    try {
      await subscriber.close();
      // A new subscription after close() opens a new connection (once the server is back).
    } finally {
      await server.restart(server.port);
    }
    const off = await subscriber.subscribe(`${prefix()}d`, () => {});
    await off();
  });

  it("maps ioredis' commandTimeout to TIMEOUT", async () => {
    const pauser = new RedisClass({ host: server.host, port: server.port, lazyConnect: true });
    const timed = new RedisClass({
      host: server.host,
      port: server.port,
      lazyConnect: true,
      commandTimeout: 100,
    });
    timed.on('error', () => {});
    try {
      await Promise.all([pauser.connect(), timed.connect()]);
      const adapter = fromIoredis(timed);
      await pauser.call('CLIENT', 'PAUSE', '1000', 'ALL');
      const error = await adapter.send({ name: 'PING', args: [] }).catch((e) => e);
      expect(RedisConnectionError.isInstance(error)).toBe(true);
      expect(error.code).toBe('TIMEOUT');
    } finally {
      await pauser.call('CLIENT', 'UNPAUSE').catch(() => {});
      pauser.disconnect();
      timed.disconnect();
    }
  });

  it('maps ioredis giving up after maxRetriesPerRequest to a typed error', async () => {
    const retrying = new RedisClass({
      host: server.host,
      port: server.port,
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 20,
    });
    retrying.on('error', () => {});
    try {
      await retrying.connect();
      const adapter = fromIoredis(retrying);
      await server.kill(server.port);
      const error = await adapter.send({ name: 'PING', args: [] }).catch((e) => e);
      expect(RedisConnectionError.isInstance(error)).toBe(true);
      expect(['MAX_RETRIES_PER_REQUEST', 'CONNECTION_CLOSED']).toContain(error.code);
    } finally {
      retrying.disconnect();
      if (!server.servers[0]?.running) await server.restart(server.port);
    }
  });
});
