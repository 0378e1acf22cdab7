import { SpanStatusCode } from '@opentelemetry/api';
import { captureTelemetry, type TelemetryCapture } from '@redisotel/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { fromNodeRedis } from '../src/index.js';
import {
  eventually,
  histogramPoints,
  MODULES,
  ownStandalone,
  pause,
  prefix,
  trackUnhandledRejections,
} from './helpers.js';

trackUnhandledRejections();

describe.each(MODULES)('fromNodeRedis telemetry ($name)', ({ lib }) => {
  const server = ownStandalone();
  let capture: TelemetryCapture;
  const p = prefix();
  afterEach(async () => {
    await capture?.shutdown();
  });

  it('records the real connect time of the first connection, reconnects and the subscriber', async () => {
    capture = captureTelemetry();
    const client = lib.createClient({ url: server.url, socket: { reconnectStrategy: () => 50 } });
    client.on('error', () => {});
    const redis = fromNodeRedis(client, {
      tracerProvider: capture.tracerProvider,
      meterProvider: capture.meterProvider,
    });
    try {
      await client.connect();
      await eventually(() => capture.findSpans('connect').length === 1);
      const [first] = capture.findSpans('connect');
      expect(first!.status.code).not.toBe(SpanStatusCode.ERROR);
      expect(first!.attributes).toMatchObject({
        'db.system.name': 'redis',
        'server.address': server.host,
        'server.port': server.port,
        'redis.connection.purpose': 'command',
      });
      // the connection is killed: node-redis reconnects, and that attempt is a dial too
      await redis.send({ name: 'CLIENT', args: ['KILL', 'TYPE', 'normal', 'SKIPME', 'no'] }).catch(() => {});
      await eventually(() => capture.findSpans('connect').length >= 2);
      await eventually(async () => (await redis.send({ name: 'PING', args: [] })) === 'PONG');
      // the subscriber connection is reported with its purpose
      await redis.subscriber().subscribe(`${p}c`, () => {});
      await eventually(() =>
        capture
          .findSpans('connect')
          .some((span) => span.attributes['redis.connection.purpose'] === 'subscriber'),
      );
      const createTimes = await histogramPoints(capture, 'db.client.connection.create_time');
      expect(createTimes.reduce((sum, point) => sum + point.count, 0)).toBeGreaterThanOrEqual(3);
    } finally {
      await redis.subscriber().close();
      if (client.isOpen) await client.close();
    }
  });

  it('records spans with the peer, and error spans with a stable error.type when the server dies', async () => {
    capture = captureTelemetry();
    const client = lib.createClient({ url: server.url, socket: { reconnectStrategy: () => 100 } });
    client.on('error', () => {});
    await client.connect();
    const redis = fromNodeRedis(client, {
      tracerProvider: capture.tracerProvider,
      meterProvider: capture.meterProvider,
    });
    try {
      await redis.send({ name: 'SET', args: [`${p}k`, 'v'], keys: [0] });
      const [set] = capture.findSpans('SET');
      expect(set!.attributes).toMatchObject({
        'db.operation.name': 'SET',
        'network.peer.address': server.host,
        'network.peer.port': server.port,
        'db.query.text': `SET ${p}k ?`,
      });
      const blocked = redis.send({ name: 'BLPOP', args: [`${p}list`, 3], keys: [0] }).catch((e) => e);
      await pause(100);
      await server.kill(server.port);
      await blocked;
      const [blpop] = capture.findSpans('BLPOP');
      expect(blpop!.status.code).toBe(SpanStatusCode.ERROR);
      expect(['CONNECTION_CLOSED', 'ECONNRESET']).toContain(blpop!.attributes['error.type']);
      expect(blpop!.attributes['db.response.status_code']).toBeUndefined();
    } finally {
      await server.restart(server.port);
      await server.waitHealthy();
      await eventually(async () => (await redis.send({ name: 'PING', args: [] })) === 'PONG');
      await client.close();
    }
  });
});
