import { context, metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { AlwaysOffSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import {
  captureTelemetry,
  connectResp,
  type RespConnection,
  type TelemetryCapture,
} from '@redisotel/testing';
import { useRedisDeployment } from '@redisotel/testing/vitest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RedisDriver } from '../src/driver.js';
import { RedisConnectionError, RedisReplyError, RedisTimeoutError } from '../src/errors.js';
import { createRedisLike } from '../src/redis-like.js';
import { defineScript } from '../src/script.js';
import { createOperationRecorder, type OperationRecorder } from '../src/telemetry/operation-recorder.js';
import {
  isChannelTracingSuppressed,
  registerChannelInstrumentation,
  runWithoutChannelTracing,
} from '../src/telemetry/suppress.js';
import { histogramPoints, numberPoints, pointWith, spanSeconds } from './helpers.js';
import { createRespDriver, type RespDriver } from './resp-driver.js';

const DURATION = 'db.client.operation.duration';

const { deployment: server, keyPrefix } = useRedisDeployment('standalone');
let connection: RespConnection;
let capture: TelemetryCapture;
const drivers: RespDriver[] = [];

beforeAll(async () => {
  connection = await connectResp({ host: server.host, port: server.port });
});
afterAll(async () => {
  await connection?.close();
});
beforeEach(() => {
  capture = captureTelemetry();
});
afterEach(async () => {
  trace.disable();
  metrics.disable();
  for (const driver of drivers.splice(0)) await driver.disconnect();
  await capture.shutdown();
});

function recorderFor(options = {}): OperationRecorder {
  return createOperationRecorder(
    { tracerProvider: capture.tracerProvider, meterProvider: capture.meterProvider, ...options },
    { server: { address: server.host, port: server.port }, database: 0 },
  );
}

/** A resp driver that notes, at each client call, whether channel tracing is suppressed. */
function observingDriver(observed: [string, boolean][]): RedisDriver {
  const driver = createRespDriver({ host: server.host, port: server.port });
  drivers.push(driver);
  return {
    ...driver,
    send(command, info) {
      observed.push([command.name, isChannelTracingSuppressed()]);
      return driver.send(command, info);
    },
  };
}

describe('the diagnostics_channel path: startCommand / end around a real command', () => {
  it('records the same schema as the hook, in the context captured at start', async () => {
    const recorder = recorderFor();
    const tracer = capture.tracerProvider.getTracer('test');
    const parent = tracer.startSpan('parent');
    const captured = trace.setSpan(context.active(), parent);
    const token = recorder.startCommand({
      operation: 'set',
      args: [`${keyPrefix}a`, '?'], // a client's own sanitized args are fine
      server: { address: 'configured.example', port: 7000 },
      database: 2,
      context: captured,
    });
    expect(token).toBeDefined();
    const reply = await connection.command(['SET', `${keyPrefix}a`, 'v']);
    recorder.end(token, { reply: reply as string, peer: { address: server.host, port: server.port } });
    recorder.end(token, { error: new Error('ignored: already ended') });
    parent.end();
    const [span] = capture.findSpans('SET');
    expect(span?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(span?.attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'SET',
      'db.namespace': '2',
      'server.address': 'configured.example',
      'server.port': 7000,
      'network.peer.address': server.host,
      'network.peer.port': server.port,
      'db.query.text': `SET ${keyPrefix}a ?`,
    });
    expect(span?.status.code).toBe(SpanStatusCode.UNSET);
    const point = pointWith(await histogramPoints(capture, DURATION), { 'db.operation.name': 'SET' });
    expect(point?.count).toBe(1);
    expect(Math.abs((point?.sum ?? -1) - spanSeconds(span!))).toBeLessThan(1e-6);
  });

  it('a sampled-out span still gets its duration point, timed by the recorder', async () => {
    const dropping = new BasicTracerProvider({ sampler: new AlwaysOffSampler() });
    const recorder = createOperationRecorder(
      { tracerProvider: dropping, meterProvider: capture.meterProvider },
      { server: { address: server.host, port: server.port }, database: 0, topology: 'standalone' },
    );
    const before = performance.now();
    const token = recorder.startCommand({ operation: 'PING' });
    await connection.command(['PING']);
    recorder.end(token, { reply: 'PONG' });
    const elapsed = (performance.now() - before) / 1000;
    const point = pointWith(await histogramPoints(capture, DURATION), { 'db.operation.name': 'PING' });
    expect(point?.count).toBe(1);
    expect(point?.sum).toBeGreaterThan(0);
    expect(point?.sum).toBeLessThanOrEqual(elapsed);
    expect(capture.findSpans('PING')).toHaveLength(0);
    await dropping.shutdown();
  });

  it('FCALL and bare EVALSHA get db.stored_procedure.name from their arguments', async () => {
    const recorder = recorderFor();
    const source = 'return 1';
    const sha = (await connection.command(['SCRIPT', 'LOAD', source])) as string;
    const token = recorder.startCommand({ operation: 'evalsha', args: [sha, 0] });
    recorder.end(token, { reply: await (connection.command(['EVALSHA', sha, 0]) as Promise<number>) });
    const [span] = capture.findSpans(`EVALSHA ${sha}`);
    expect(span?.attributes['db.stored_procedure.name']).toBe(sha);
    const fcall = recorder.startCommand({ operation: 'FCALL', args: ['myfunc', 1, 'k', 'secret'] });
    recorder.end(fcall, { error: new RedisReplyError('ERR Function not found', 'FCALL') });
    const [fspan] = capture.findSpans('FCALL myfunc');
    expect(fspan?.attributes['db.stored_procedure.name']).toBe('myfunc');
    expect(fspan?.attributes['db.query.text']).toBe('FCALL myfunc 1 k ?');
  });

  it('error.type for every kind of failure, never the message', async () => {
    const recorder = recorderFor();
    const cases: [unknown, string, string | undefined][] = [
      [new RedisReplyError('WRONGTYPE Operation against a key', 'GET'), 'WRONGTYPE', 'WRONGTYPE'],
      [new RedisConnectionError('socket closed', 'CONNECTION_CLOSED', 'GET'), 'CONNECTION_CLOSED', undefined],
      [new RedisTimeoutError('no reply within 5 ms', 5), 'timeout', undefined],
      [
        Object.assign(new Error('NOPERM user has no permissions'), { name: 'ErrorReply' }),
        'NOPERM',
        'NOPERM',
      ],
      [Object.assign(new Error('ERR secret echoed'), { name: 'ReplyError' }), 'ERR', 'ERR'],
      [
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
        'ECONNREFUSED',
        undefined,
      ],
      [new Error('something odd with secret'), '_OTHER', undefined],
      ['a string', '_OTHER', undefined],
    ];
    for (const [index, [error, errorType, statusCode]] of cases.entries()) {
      const token = recorder.startCommand({ operation: `CMD${index}`, args: [] });
      await connection.command(['PING']);
      recorder.end(token, { error });
      const [span] = capture.findSpans(`CMD${index}`);
      expect(span?.attributes['error.type']).toBe(errorType);
      expect(span?.attributes['db.response.status_code']).toBe(statusCode);
      expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: statusCode ?? errorType });
      expect(JSON.stringify(span?.attributes)).not.toContain('secret');
    }
  });

  it('startBatch with only a size (ioredis MULTI) and commands inside it as child spans', async () => {
    const recorder = recorderFor({ batchCommandSpans: true });
    const batch = recorder.startBatch({ atomic: true, size: 2 });
    const first = recorder.startCommand({ operation: 'incr', args: [`${keyPrefix}n`], batch });
    const second = recorder.startCommand({ operation: 'get', args: [`${keyPrefix}n`], batch });
    const replies = await Promise.all([
      connection.command(['MULTI']),
      connection.command(['INCR', `${keyPrefix}n`]),
      connection.command(['GET', `${keyPrefix}n`]),
      connection.command(['EXEC']),
    ]);
    recorder.end(first, {});
    recorder.end(second, {});
    recorder.end(batch, { reply: replies[3] as string[], failedCommands: 0 });
    const [multi] = capture.findSpans('MULTI');
    expect(multi?.attributes['db.operation.batch.size']).toBe(2);
    const children = capture
      .spans()
      .filter((span) => span.parentSpanContext?.spanId === multi?.spanContext().spanId);
    expect(children.map((span) => span.name)).toEqual(['INCR', 'GET']);
    const points = await histogramPoints(capture, DURATION);
    expect(points.map((point) => point.attributes['db.operation.name'])).toEqual(['MULTI']);
  });

  it('a batch started without its commands is named after the commands started inside it', async () => {
    const recorder = recorderFor();
    const batch = recorder.startBatch({ atomic: false });
    const tokens = [
      recorder.startCommand({ operation: 'get', args: [`${keyPrefix}a`], batch }),
      recorder.startCommand({ operation: 'GET', args: [`${keyPrefix}b`], batch }),
    ];
    expect(tokens).toEqual([undefined, undefined]);
    const replies = await Promise.all([
      connection.command(['GET', `${keyPrefix}a`]),
      connection.command(['GET', `${keyPrefix}b`]),
    ]);
    recorder.end(batch, { reply: replies as string[] });
    const span = capture.span('PIPELINE GET');
    expect(span.attributes['db.operation.name']).toBe('PIPELINE GET');
    expect(span.attributes['db.operation.batch.size']).toBe(2);
    expect(span.attributes['db.query.text']).toBe(`GET ${keyPrefix}a; GET ${keyPrefix}b`);
    const [point] = await histogramPoints(capture, DURATION);
    expect(point?.attributes['db.operation.name']).toBe('PIPELINE GET');

    const mixed = recorder.startBatch({ atomic: true, size: 2 });
    recorder.startCommand({ operation: 'SET', args: [`${keyPrefix}a`, 'secret'], batch: mixed });
    recorder.startCommand({ operation: 'INCR', args: [`${keyPrefix}n`], batch: mixed });
    recorder.end(mixed, {});
    expect(capture.span('MULTI').attributes['db.query.text']).toBe(`SET ${keyPrefix}a ?; INCR ${keyPrefix}n`);
  });

  it('a command inside a batch records nothing without batchCommandSpans', () => {
    const recorder = recorderFor();
    const batch = recorder.startBatch({ atomic: false, commands: [{ name: 'GET' }, { name: 'GET' }] });
    expect(recorder.startCommand({ operation: 'GET', batch })).toBeUndefined();
    recorder.end(batch, { failedCommands: 1 });
    const [span] = capture.findSpans('PIPELINE GET');
    expect(span?.attributes['redis.batch.errors']).toBe(1);
    expect(span?.attributes['db.query.text']).toBeUndefined(); // no args known
  });

  it('observeConnections feeds db.client.connection.count by state until stopped', async () => {
    const recorder = recorderFor();
    let used = 1;
    const stop = recorder.observeConnections(() => ({ idle: 2, used }), { poolName: 'pool-a' });
    used = 3;
    const points = await numberPoints(capture, 'db.client.connection.count');
    expect(pointWith(points, { 'db.client.connection.state': 'idle' })?.value).toBe(2);
    expect(pointWith(points, { 'db.client.connection.state': 'used' })?.value).toBe(3);
    expect(points[0]?.attributes['db.client.connection.pool.name']).toBe('pool-a');
    stop();
    used = 9;
    const after = await numberPoints(capture, 'db.client.connection.count');
    expect(after.map((point) => point.value)).not.toContain(9);
  });

  it('recordConnectionError counts with the stable error.type', async () => {
    const recorder = recorderFor();
    recorder.recordConnectionError(new RedisConnectionError('reset', 'ECONNRESET'));
    recorder.recordConnectionError(new RedisConnectionError('reset', 'ECONNRESET'));
    const [point] = await numberPoints(capture, 'redis.client.connection.errors');
    expect(point?.value).toBe(2);
    expect(point?.attributes).toEqual({
      'db.system.name': 'redis',
      'db.client.connection.pool.name': `${server.host}:${server.port}/0`,
      'server.address': server.host,
      'server.port': server.port,
      'error.type': 'ECONNRESET',
    });
  });

  it('validates its target', () => {
    expect(() => createOperationRecorder({}, { server: { address: 'h' }, database: -1 })).toThrow(RangeError);
    expect(() => createOperationRecorder({}, {} as never)).toThrow(TypeError);
    expect(() =>
      createOperationRecorder({}, { server: { address: 'h' }, database: 0, topology: 'ring' as never }),
    ).toThrow(/"target.topology".*ring/);
  });

  it('duration points carry network.peer.* where the serving node can differ (cluster, sentinel, unknown), not on standalone', async () => {
    const peer = { address: '10.0.0.7', port: 7001 };
    for (const topology of ['standalone', 'cluster', 'sentinel', undefined] as const) {
      const recorder = createOperationRecorder(
        { tracerProvider: capture.tracerProvider, meterProvider: capture.meterProvider },
        { server: { address: server.host, port: server.port }, database: 0, topology },
      );
      const operation = `PEER_${topology ?? 'unknown'}`.toUpperCase();
      const token = recorder.startCommand({ operation, args: [] });
      await connection.command(['PING']);
      recorder.end(token, { reply: 'PONG', peer });
      const point = pointWith(await histogramPoints(capture, DURATION), { 'db.operation.name': operation });
      expect(point?.count).toBe(1);
      const expected = topology === 'standalone' ? undefined : peer;
      expect(point?.attributes['network.peer.address']).toBe(expected?.address);
      expect(point?.attributes['network.peer.port']).toBe(expected?.port);
      // Spans keep the peer on every topology.
      expect(capture.findSpans(operation)[0]?.attributes['network.peer.port']).toBe(peer.port);
    }
  });

  it('an error point gets its own attributes: the successes of the same operation stay without error.type', async () => {
    const recorder = createOperationRecorder(
      { tracerProvider: capture.tracerProvider, meterProvider: capture.meterProvider },
      { server: { address: server.host, port: server.port }, database: 0, topology: 'standalone' },
    );
    const run = async (outcome: { reply?: string; error?: unknown }) => {
      const token = recorder.startCommand({ operation: 'GET', args: [`${keyPrefix}shared`] });
      await connection.command(['PING']);
      recorder.end(token, outcome);
    };
    await run({ reply: 'v' });
    await run({ error: new RedisReplyError('WRONGTYPE Operation against a key', 'GET') });
    await run({ reply: 'v' });
    const points = (await histogramPoints(capture, DURATION)).filter(
      (p) => p.attributes['db.operation.name'] === 'GET',
    );
    expect(points.map((p) => [p.count, p.attributes['error.type']]).sort()).toEqual([
      [1, 'WRONGTYPE'],
      [2, undefined],
    ]);
  });
});

describe('no SDK registered', () => {
  it('records nothing and returns no token, then picks up an SDK registered later', async () => {
    const recorder = createOperationRecorder(
      {},
      { server: { address: server.host, port: server.port }, database: 0 },
    );
    expect(recorder.isRecording()).toBe(false);
    expect(recorder.startCommand({ operation: 'GET', args: ['k'] })).toBeUndefined();
    expect(recorder.startBatch({ atomic: false, size: 2 })).toBeUndefined();
    expect(recorder.startConnect({ address: server.host, port: server.port })).toBeUndefined();

    const driver = createRespDriver({ host: server.host, port: server.port });
    drivers.push(driver);
    const redis = createRedisLike(driver);
    await redis.send({ name: 'GET', args: [`${keyPrefix}lazy`], keys: [0] });
    const blockTracer = redis.telemetry.tracer; // taken before the SDK exists, as a building block would
    expect(blockTracer.startSpan('early').isRecording()).toBe(false);

    trace.setGlobalTracerProvider(capture.tracerProvider);
    metrics.setGlobalMeterProvider(capture.meterProvider);
    expect(recorder.isRecording()).toBe(true);
    await redis.send({ name: 'GET', args: [`${keyPrefix}lazy`], keys: [0] });
    expect(capture.findSpans('GET')).toHaveLength(1);
    expect(pointWith(await histogramPoints(capture, DURATION), { 'db.operation.name': 'GET' })?.count).toBe(
      1,
    );
    expect(redis.telemetry.tracerProvider).toBe(trace.getTracerProvider());
    expect(redis.telemetry.tracer).toBe(blockTracer);
    blockTracer.startSpan('block operation').end();
    expect(capture.findSpans('block operation')).toHaveLength(1);
    expect(redis.telemetry.meterProvider).toBe(capture.meterProvider);

    trace.disable();
    metrics.disable();
    await redis.send({ name: 'GET', args: [`${keyPrefix}lazy`], keys: [0] });
    expect(capture.findSpans('GET')).toHaveLength(1);
    expect(recorder.isRecording()).toBe(false);
  });

  it('does no per-command work at all: the serializer is never called', async () => {
    let calls = 0;
    const driver = createRespDriver({ host: server.host, port: server.port });
    drivers.push(driver);
    const redis = createRedisLike(driver, {
      dbStatementSerializer: () => {
        calls += 1;
        return 'x';
      },
      responseHook: () => {
        calls += 1;
      },
    });
    await redis.send({ name: 'SET', args: [`${keyPrefix}idle`, 'v'], keys: [0] });
    await redis.batch([{ name: 'GET', args: [`${keyPrefix}idle`], keys: [0] }]);
    expect(calls).toBe(0);
  });

  it('tracing and metrics both off never records, even with an SDK', () => {
    const recorder = recorderFor({ tracing: false, metrics: false });
    expect(recorder.isRecording()).toBe(false);
    expect(recorder.startCommand({ operation: 'GET' })).toBeUndefined();
  });
});

describe('channel de-duplication', () => {
  let unregister: () => void = () => {};
  beforeEach(() => {
    unregister = registerChannelInstrumentation();
  });
  afterEach(() => unregister());

  it('marks nothing while no channel instrumentation is enabled', () => {
    unregister();
    const state = (globalThis as unknown as Record<symbol, { depth: number; instrumentations: number }>)[
      Symbol.for('redisotel.suppress')
    ];
    expect(state?.instrumentations).toBe(0);
    expect(runWithoutChannelTracing(() => [isChannelTracingSuppressed(), state?.depth])).toEqual([false, 0]);
    // Registering twice and unregistering once keeps it on; the unregister function is idempotent.
    const first = registerChannelInstrumentation();
    const second = registerChannelInstrumentation();
    first();
    first();
    expect(runWithoutChannelTracing(() => isChannelTracingSuppressed())).toBe(true);
    second();
    expect(state?.instrumentations).toBe(0);
  });

  it('runWithoutChannelTracing sets a synchronous flag shared through globalThis', () => {
    expect(isChannelTracingSuppressed()).toBe(false);
    const state = (globalThis as unknown as Record<symbol, { depth: number }>)[
      Symbol.for('redisotel.suppress')
    ];
    const inside = runWithoutChannelTracing(() => [isChannelTracingSuppressed(), state?.depth]);
    expect(inside).toEqual([true, 1]);
    expect(isChannelTracingSuppressed()).toBe(false);
    expect(() =>
      runWithoutChannelTracing(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(state?.depth).toBe(0);
  });

  it('covers async continuations through the context, not the caller after it', async () => {
    const seen = await runWithoutChannelTracing(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return isChannelTracingSuppressed();
    });
    expect(seen).toBe(true);
    expect(isChannelTracingSuppressed()).toBe(false);
  });

  it('the telemetry hook suppresses channel tracing at every client call it records, NOSCRIPT retry included', async () => {
    const observed: [string, boolean][] = [];
    const redis = createRedisLike(observingDriver(observed), {
      tracerProvider: capture.tracerProvider,
      meterProvider: capture.meterProvider,
    });
    const script = defineScript({ name: 'dedup', source: 'return 7' });
    await redis.send({ name: 'SCRIPT', args: ['FLUSH'] });
    expect(await redis.runScript(script, [], [])).toBe(7);
    expect(observed).toEqual([
      ['SCRIPT', true],
      ['EVALSHA', true],
      ['EVAL', true],
    ]);
    expect(isChannelTracingSuppressed()).toBe(false);
  });

  it('does not suppress what it does not record (no SDK): the channel path stays the only recorder', async () => {
    const observed: [string, boolean][] = [];
    const redis = createRedisLike(observingDriver(observed));
    await redis.send({ name: 'PING', args: [] });
    expect(observed).toEqual([['PING', false]]);
  });
});
