import { SpanStatusCode } from '@opentelemetry/api';
import { captureTelemetry } from '@redisotel/testing';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { fromIoredis } from '../src/index.js';
import { eventually, MODULES, ownStandalone, prefix, trackUnhandledRejections } from './helpers.js';

trackUnhandledRejections();

const server = ownStandalone();

const tracing = captureTelemetry();
const spansNamed = (name: string) => tracing.findSpans(name);
afterAll(() => tracing.shutdown());

describe.each(MODULES)('fromIoredis telemetry ($name)', ({ Redis: RedisClass }) => {
  beforeEach(() => tracing.reset());

  it('records the real connect time of the first connection, reconnects and the subscriber', async () => {
    const client = new RedisClass({
      host: server.host,
      port: server.port,
      lazyConnect: true,
      retryStrategy: () => 50,
    });
    client.on('error', () => {});
    const redis = fromIoredis(client, { tracerProvider: tracing.tracerProvider, metrics: false });
    try {
      await client.connect();
      await eventually(() => spansNamed('connect').length === 1);
      const [first] = spansNamed('connect');
      expect(first!.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(first!.attributes).toMatchObject({
        'db.system.name': 'redis',
        'server.address': server.host,
        'server.port': server.port,
        'redis.connection.purpose': 'command',
      });
      // The connection is killed: ioredis reconnects, and that attempt is a dial too.
      await redis.send({ name: 'CLIENT', args: ['KILL', 'TYPE', 'normal', 'SKIPME', 'no'] }).catch(() => {});
      await eventually(() => spansNamed('connect').length >= 2);
      await eventually(async () => (await redis.send({ name: 'PING', args: [] })) === 'PONG');
      await redis.subscriber().subscribe(`${prefix()}c`, () => {});
      await eventually(() =>
        spansNamed('connect').some((span) => span.attributes['redis.connection.purpose'] === 'subscriber'),
      );
    } finally {
      await redis.subscriber().close();
      client.disconnect();
    }
  });

  it('records spans with the peer, and error spans with a stable error.type when the server dies', async () => {
    const client = new RedisClass({
      host: server.host,
      port: server.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => 50,
    });
    client.on('error', () => {});
    await client.connect();
    const redis = fromIoredis(client, { tracerProvider: tracing.tracerProvider, metrics: false });
    const p = prefix();
    try {
      await redis.send({ name: 'SET', args: [`${p}k`, 'secret'], keys: [0] });
      await redis.send({ name: 'LPUSH', args: [`${p}k`, 'x'], keys: [0] }).catch(() => {});
      const [set] = spansNamed('SET');
      expect(set!.attributes).toMatchObject({
        'db.operation.name': 'SET',
        'db.query.text': `SET ${p}k ?`,
        'network.peer.address': '127.0.0.1',
        'network.peer.port': server.port,
      });
      const [lpush] = spansNamed('LPUSH');
      expect(lpush!.status.code).toBe(SpanStatusCode.ERROR);
      expect(lpush!.attributes['error.type']).toBe('WRONGTYPE');
      expect(lpush!.attributes['db.response.status_code']).toBe('WRONGTYPE');
      await server.kill(server.port);
      await redis.send({ name: 'GET', args: [`${p}k`], keys: [0] }).catch(() => {});
      const [get] = spansNamed('GET');
      expect(get!.status.code).toBe(SpanStatusCode.ERROR);
      expect(get!.attributes['error.type']).toBe('NOT_CONNECTED');
      expect(get!.attributes['db.response.status_code']).toBeUndefined();
    } finally {
      client.disconnect();
      await server.restart(server.port);
    }
  });
});
