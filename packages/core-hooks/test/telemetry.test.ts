import { createServer } from 'node:net';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { captureTelemetry, type TelemetryCapture } from '@redisotel/testing';
import { useRedisDeployment } from '@redisotel/testing/vitest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisConnectionError, RedisReplyError, RedisTimeoutError } from '../src/errors.js';
import { type CreateRedisLikeOptions, createRedisLike } from '../src/redis-like.js';
import { defineScript } from '../src/script.js';
import { DB_CLIENT_OPERATION_DURATION_BUCKETS } from '../src/semconv.js';
import { scheduledTimerCount } from '../src/timers.js';
import type { RedisLike } from '../src/types.js';
import { histogramPoints, numberPoints, pointWith, spanSeconds } from './helpers.js';
import { createRespDriver, type RespDriver } from './resp-driver.js';

const DURATION = 'db.client.operation.duration';

const { deployment: server, keyPrefix } = useRedisDeployment('standalone');
let capture: TelemetryCapture;
const drivers: RespDriver[] = [];

beforeEach(() => {
  capture = captureTelemetry();
});
afterEach(async () => {
  for (const driver of drivers.splice(0)) await driver.disconnect();
  await capture.shutdown();
});

function connect(options: CreateRedisLikeOptions = {}, database = 0): RedisLike {
  const driver = createRespDriver({ host: server.host, port: server.port, database });
  drivers.push(driver);
  return createRedisLike(driver, {
    tracerProvider: capture.tracerProvider,
    meterProvider: capture.meterProvider,
    ...options,
  });
}

/** The only finished span with this name. */
function only(name: string) {
  const spans = capture.findSpans(name);
  expect(spans, `spans named ${name}: ${capture.spans().map((span) => span.name)}`).toHaveLength(1);
  return spans[0]!;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('command spans', () => {
  it('records a CLIENT span with every stable attribute', async () => {
    const redis = connect();
    await redis.send({ name: 'set', args: [`${keyPrefix}a`, 'secret-value'], keys: [0] });
    const span = only('SET');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.instrumentationScope.name).toBe('@redisotel/core-hooks');
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'SET',
      'db.namespace': '0',
      'server.address': server.host,
      'server.port': server.port,
      'network.peer.address': server.host,
      'network.peer.port': server.port,
      'db.query.text': `SET ${keyPrefix}a ?`,
    });
    expect(typeof span.attributes['server.port']).toBe('number');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(JSON.stringify(span.attributes)).not.toContain('secret-value');
  });

  it('upper-cases db.operation.name and uses the key table when the command has no key positions', async () => {
    const redis = connect();
    await redis.send({ name: 'set', args: [`${keyPrefix}b`, 'v'] });
    await redis.send({ name: 'get', args: [`${keyPrefix}b`] });
    expect(only('GET').attributes['db.operation.name']).toBe('GET');
    expect(only('GET').attributes['db.query.text']).toBe(`GET ${keyPrefix}b`);
    expect(only('SET').attributes['db.query.text']).toBe(`SET ${keyPrefix}b ?`);
  });

  it('records the database index as db.namespace', async () => {
    const redis = connect({}, 3);
    await redis.send({ name: 'SET', args: [`${keyPrefix}db3`, 'v'], keys: [0] });
    expect(only('SET').attributes['db.namespace']).toBe('3');
    const [point] = await histogramPoints(capture, DURATION);
    expect(point?.attributes['db.namespace']).toBe('3');
  });

  it('parents command spans under the active span, and makes roots without one', async () => {
    const redis = connect();
    const tracer = capture.tracerProvider.getTracer('test');
    await tracer.startActiveSpan('parent', async (parent) => {
      await redis.send({ name: 'GET', args: [`${keyPrefix}p`], keys: [0] });
      parent.end();
    });
    await redis.send({ name: 'PING', args: [] });
    const parent = only('parent');
    const child = only('GET');
    expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(only('PING').parentSpanContext).toBeUndefined();
  });
});

describe('errors', () => {
  it('WRONGTYPE: status ERROR described by the prefix only, db.response.status_code and error.type', async () => {
    const redis = connect();
    await redis.send({ name: 'SET', args: [`${keyPrefix}str`, 'v'], keys: [0] });
    const error = await redis
      .send({ name: 'LPUSH', args: [`${keyPrefix}str`, 'x'], keys: [0] })
      .catch((e) => e);
    expect(RedisReplyError.isInstance(error)).toBe(true);
    const span = only('LPUSH');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'WRONGTYPE' });
    expect(span.attributes['db.response.status_code']).toBe('WRONGTYPE');
    expect(span.attributes['error.type']).toBe('WRONGTYPE');
    expect(span.events).toHaveLength(0);
    const point = pointWith(await histogramPoints(capture, DURATION), { 'db.operation.name': 'LPUSH' });
    expect(point?.attributes['error.type']).toBe('WRONGTYPE');
    expect(point?.attributes['db.response.status_code']).toBe('WRONGTYPE');
  });

  it('never records an error message (Redis echoes arguments in some of them)', async () => {
    const redis = connect();
    const error = await redis.send({ name: 'NOSUCHCOMMAND', args: ['hunter2-secret'] }).catch((e) => e);
    expect(String(error.message)).toContain('hunter2-secret'); // Redis did echo it…
    const span = only('NOSUCHCOMMAND');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ERR' });
    expect(span.attributes['error.type']).toBe('ERR');
    expect(JSON.stringify({ a: span.attributes, s: span.status, e: span.events })).not.toContain('hunter2'); // …we did not
  });

  it('connection refused: error.type is the stable code, on the command and the connect span', async () => {
    const port = await freePort();
    const driver = createRespDriver({ host: '127.0.0.1', port });
    const redis = createRedisLike(driver, {
      tracerProvider: capture.tracerProvider,
      meterProvider: capture.meterProvider,
    });
    const error = await redis.send({ name: 'GET', args: ['k'], keys: [0] }).catch((e) => e);
    expect(RedisConnectionError.isInstance(error)).toBe(true);
    expect(error.code).toBe('ECONNREFUSED');
    const span = only('GET');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'ECONNREFUSED' });
    expect(span.attributes['error.type']).toBe('ECONNREFUSED');
    expect(span.attributes['db.response.status_code']).toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    const connectSpan = only('connect');
    expect(connectSpan.attributes['error.type']).toBe('ECONNREFUSED');
    expect(connectSpan.status.code).toBe(SpanStatusCode.ERROR);
    const errors = await numberPoints(capture, 'redis.client.connection.errors');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.value).toBe(1);
    expect(errors[0]?.attributes['error.type']).toBe('ECONNREFUSED');
  });
});

describe('scripts', () => {
  it('NOSCRIPT fallback stays one EVALSHA span named after the script, without ARGV', async () => {
    const redis = connect();
    const script = defineScript({ name: 'incr_by', source: "return redis.call('INCRBY', KEYS[1], ARGV[1])" });
    await redis.send({ name: 'SCRIPT', args: ['FLUSH'] });
    const reply = await redis.runScript(script, [`${keyPrefix}counter`], [41]);
    expect(typeof reply).toBe('number');
    const span = only('EVALSHA incr_by');
    expect(capture.findSpans('EVAL')).toHaveLength(0);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['db.operation.name']).toBe('EVALSHA');
    expect(span.attributes['db.stored_procedure.name']).toBe('incr_by');
    expect(span.attributes['db.query.text']).toBe(`EVALSHA ${script.sha1} 1 ${keyPrefix}counter ?`);
    const point = pointWith(await histogramPoints(capture, DURATION), { 'db.operation.name': 'EVALSHA' });
    expect(point?.attributes['db.stored_procedure.name']).toBe('incr_by');
    expect(point?.count).toBe(1);
  });
});

describe('batches', () => {
  it('one PIPELINE GET span and one metric point for a homogeneous pipeline', async () => {
    const redis = connect();
    const results = await redis.batch([
      { name: 'GET', args: [`${keyPrefix}x`], keys: [0] },
      { name: 'get', args: [`${keyPrefix}y`], keys: [0] },
    ]);
    expect(results).toHaveLength(2);
    expect(capture.spans().map((span) => span.name)).toEqual(['connect', 'PIPELINE GET']);
    const span = only('PIPELINE GET');
    expect(span.attributes['db.operation.name']).toBe('PIPELINE GET');
    expect(span.attributes['db.operation.batch.size']).toBe(2);
    expect(span.attributes['db.query.text']).toBe(`GET ${keyPrefix}x; GET ${keyPrefix}y`);
    expect(span.attributes['redis.batch.errors']).toBeUndefined();
    const points = await histogramPoints(capture, DURATION);
    expect(points).toHaveLength(1);
    expect(points[0]?.attributes['db.operation.name']).toBe('PIPELINE GET');
    expect(points[0]?.count).toBe(1);
    expect(points[0]?.attributes['db.operation.batch.size']).toBeUndefined();
  });

  it('MULTI with different commands, and MULTI SET when they are all SET', async () => {
    const redis = connect();
    await redis.batch(
      [
        { name: 'SET', args: [`${keyPrefix}m`, '1'], keys: [0] },
        { name: 'INCR', args: [`${keyPrefix}m`], keys: [0] },
      ],
      { atomic: true },
    );
    await redis.batch(
      [
        { name: 'SET', args: [`${keyPrefix}m1`, 'a'], keys: [0] },
        { name: 'SET', args: [`${keyPrefix}m2`, 'b'], keys: [0] },
        { name: 'SET', args: [`${keyPrefix}m3`, 'c'], keys: [0] },
      ],
      { atomic: true },
    );
    expect(only('MULTI').attributes['db.operation.batch.size']).toBe(2);
    expect(only('MULTI').attributes['db.query.text']).toBe(`SET ${keyPrefix}m ?; INCR ${keyPrefix}m`);
    expect(only('MULTI SET').attributes['db.operation.batch.size']).toBe(3);
    expect(capture.findSpans('SET')).toHaveLength(0);
  });

  it('a batch whose commands failed individually is not a failed span; redis.batch.errors counts them', async () => {
    const redis = connect();
    await redis.send({ name: 'SET', args: [`${keyPrefix}notint`, 'abc'], keys: [0] });
    const results = await redis.batch([
      { name: 'INCR', args: [`${keyPrefix}notint`], keys: [0] },
      { name: 'GET', args: [`${keyPrefix}notint`], keys: [0] },
    ]);
    expect(results[0]?.ok).toBe(false);
    const span = only('PIPELINE');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['redis.batch.errors']).toBe(1);
    expect(span.attributes['error.type']).toBeUndefined();
  });

  it('a single-command batch has no db.operation.batch.size', async () => {
    const redis = connect();
    await redis.batch([{ name: 'GET', args: [`${keyPrefix}solo`], keys: [0] }]);
    expect(only('PIPELINE GET').attributes['db.operation.batch.size']).toBeUndefined();
  });

  it('batchCommandSpans adds one child span per command, and no extra metric point', async () => {
    const redis = connect({ batchCommandSpans: true });
    await redis.send({ name: 'SET', args: [`${keyPrefix}str2`, 'v'], keys: [0] });
    await redis.batch([
      { name: 'GET', args: [`${keyPrefix}str2`], keys: [0] },
      { name: 'LPUSH', args: [`${keyPrefix}str2`, 'secret'], keys: [0] },
    ]);
    const batch = only('PIPELINE');
    const children = capture
      .spans()
      .filter((span) => span.parentSpanContext?.spanId === batch.spanContext().spanId);
    expect(children.map((span) => span.name).sort()).toEqual(['GET', 'LPUSH']);
    const lpush = children.find((span) => span.name === 'LPUSH')!;
    expect(lpush.status).toEqual({ code: SpanStatusCode.ERROR, message: 'WRONGTYPE' });
    expect(lpush.attributes['db.query.text']).toBe(`LPUSH ${keyPrefix}str2 ?`);
    const points = await histogramPoints(capture, DURATION);
    expect(points.map((point) => point.attributes['db.operation.name']).sort()).toEqual(['PIPELINE', 'SET']);
  });
});

describe('metrics', () => {
  it('db.client.operation.duration: seconds, advisory buckets, low-cardinality attributes only', async () => {
    const redis = connect();
    await redis.send({ name: 'SET', args: [`${keyPrefix}metric-key`, 'metric-value'], keys: [0] });
    const data = await capture.metric(DURATION);
    expect(data.unit).toBe('s');
    const [point] = (await histogramPoints(capture, DURATION)).filter(
      (p) => p.attributes['db.operation.name'] === 'SET',
    );
    expect(point?.buckets.boundaries).toEqual(DB_CLIENT_OPERATION_DURATION_BUCKETS);
    // Standalone: the serving node is the configured server, so the point has no network.peer.*.
    expect(point?.attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'SET',
      'db.namespace': '0',
      'server.address': server.host,
      'server.port': server.port,
    });
    expect(JSON.stringify(point?.attributes)).not.toContain('metric-');
  });

  it('the span duration and the histogram value come from the same measurement', async () => {
    const redis = connect();
    await redis.send({ name: 'ECHO', args: ['x'] });
    const span = only('ECHO');
    const point = pointWith(await histogramPoints(capture, DURATION), { 'db.operation.name': 'ECHO' });
    expect(point?.count).toBe(1);
    expect(Math.abs((point?.sum ?? -1) - spanSeconds(span))).toBeLessThan(1e-6);
  });

  it('a connect span and db.client.connection.create_time for the real connection', async () => {
    const redis = connect();
    await redis.send({ name: 'PING', args: [] });
    const span = only('connect');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toEqual({
      'db.system.name': 'redis',
      'server.address': server.host,
      'server.port': server.port,
      'redis.connection.purpose': 'command',
    });
    const [point] = await histogramPoints(capture, 'db.client.connection.create_time');
    expect(point?.count).toBe(1);
    expect(point?.attributes['db.client.connection.pool.name']).toBe(`${server.host}:${server.port}/0`);
    expect(Math.abs((point?.sum ?? -1) - spanSeconds(span))).toBeLessThan(1e-6);
  });
});

describe('noise controls', () => {
  it('excludeCommands (any case): no span, but still the metric point', async () => {
    const redis = connect({ excludeCommands: ['ping'] });
    await redis.send({ name: 'PING', args: [] });
    await redis.send({ name: 'GET', args: [`${keyPrefix}e`], keys: [0] });
    expect(capture.findSpans('PING')).toHaveLength(0);
    expect(capture.findSpans('GET')).toHaveLength(1);
    const points = await histogramPoints(capture, DURATION);
    expect(pointWith(points, { 'db.operation.name': 'PING' })?.count).toBe(1);
  });

  it('includeCommands: only those commands get spans; batches when any command is included', async () => {
    const redis = connect({ includeCommands: ['get'] });
    await redis.send({ name: 'SET', args: [`${keyPrefix}i`, 'v'], keys: [0] });
    await redis.send({ name: 'GET', args: [`${keyPrefix}i`], keys: [0] });
    await redis.batch([
      { name: 'SET', args: [`${keyPrefix}i`, 'v'], keys: [0] },
      { name: 'GET', args: [`${keyPrefix}i`], keys: [0] },
    ]);
    await redis.batch([{ name: 'SET', args: [`${keyPrefix}i`, 'v'], keys: [0] }]);
    expect(
      capture
        .spans()
        .map((span) => span.name)
        .filter((name) => name !== 'connect'),
    ).toEqual(['GET', 'PIPELINE']);
  });

  it('requireParentSpan: no span without a parent (the metric stays), a child span with one', async () => {
    const redis = connect({ requireParentSpan: true });
    await redis.send({ name: 'GET', args: [`${keyPrefix}r`], keys: [0] });
    expect(capture.findSpans('GET')).toHaveLength(0);
    expect(capture.findSpans('connect')).toHaveLength(0);
    const tracer = capture.tracerProvider.getTracer('test');
    await tracer.startActiveSpan('parent', async (parent) => {
      await redis.send({ name: 'GET', args: [`${keyPrefix}r`], keys: [0] });
      parent.end();
    });
    expect(only('GET').parentSpanContext?.spanId).toBe(only('parent').spanContext().spanId);
    const points = await histogramPoints(capture, DURATION);
    expect(pointWith(points, { 'db.operation.name': 'GET' })?.count).toBe(2);
  });

  it('tracing: false records metrics only; metrics: false records spans only', async () => {
    const quiet = connect({ tracing: false });
    await quiet.send({ name: 'GET', args: [`${keyPrefix}t`], keys: [0] });
    expect(capture.spans()).toHaveLength(0);
    expect(pointWith(await histogramPoints(capture, DURATION), { 'db.operation.name': 'GET' })?.count).toBe(
      1,
    );
    const spansOnly = connect({ metrics: false });
    await spansOnly.send({ name: 'TYPE', args: [`${keyPrefix}t`], keys: [0] });
    expect(capture.findSpans('TYPE')).toHaveLength(1);
    expect(
      pointWith(await histogramPoints(capture, DURATION), { 'db.operation.name': 'TYPE' }),
    ).toBeUndefined();
  });

  it('queryText: false, keys: hash, maxQueryTextLength and a custom dbStatementSerializer', async () => {
    await connect({ queryText: false }).send({ name: 'GET', args: [`${keyPrefix}q`], keys: [0] });
    expect(only('GET').attributes['db.query.text']).toBeUndefined();

    await connect({ keys: 'hash' }).send({ name: 'STRLEN', args: [`${keyPrefix}q`], keys: [0] });
    expect(only('STRLEN').attributes['db.query.text']).toMatch(/^STRLEN [0-9a-f]{12}$/);

    await connect({ maxQueryTextLength: 12 }).send({ name: 'EXISTS', args: [`${keyPrefix}q`], keys: [0] });
    expect(only('EXISTS').attributes['db.query.text']).toBe(`EXISTS ${keyPrefix.slice(0, 4)}…`);

    const seen: unknown[] = [];
    const serializer = (name: string, args: readonly unknown[], keys: readonly number[]) => {
      seen.push({ name, args, keys });
      return `${name} custom ${'x'.repeat(50)}`;
    };
    await connect({ dbStatementSerializer: serializer, maxQueryTextLength: 20 }).send({
      name: 'TTL',
      args: [`${keyPrefix}q`],
    });
    expect(seen).toEqual([{ name: 'TTL', args: [`${keyPrefix}q`], keys: [0] }]);
    expect(only('TTL').attributes['db.query.text']).toBe('TTL custom xxxxxxxx…');

    await connect({
      dbStatementSerializer: () => {
        throw new Error('boom');
      },
    }).send({ name: 'PTTL', args: [`${keyPrefix}q`] });
    expect(only('PTTL').attributes['db.query.text']).toBeUndefined();
  });

  it('responseHook sees the reply or the error; a throwing hook does not break the command', async () => {
    const redis = connect({
      responseHook: (span, info) => {
        span.setAttribute('test.reply', String(info.reply));
        if (info.error !== undefined) span.setAttribute('test.failed', true);
        if (info.operation === 'ECHO') throw new Error('hook bug');
      },
    });
    await redis.send({ name: 'SET', args: [`${keyPrefix}h`, 'hello'], keys: [0] });
    await redis.send({ name: 'GET', args: [`${keyPrefix}h`], keys: [0] });
    await expect(redis.send({ name: 'LPUSH', args: [`${keyPrefix}h`, 'x'], keys: [0] })).rejects.toThrow();
    expect(await redis.send({ name: 'ECHO', args: ['still works'] })).toBe('still works');
    expect(only('GET').attributes['test.reply']).toBe('hello');
    expect(only('LPUSH').attributes['test.failed']).toBe(true);
    expect(only('ECHO').status.code).toBe(SpanStatusCode.UNSET);
  });
});

describe('option validation', () => {
  const driver = () => createRespDriver({ host: server.host, port: server.port });
  it.each([
    [{ maxQueryTextLength: 0 }, RangeError, /maxQueryTextLength.*0/],
    [{ maxQueryTextLength: 1.5 }, RangeError, /maxQueryTextLength.*1\.5/],
    [{ maxQueryTextLength: '10' }, TypeError, /maxQueryTextLength.*"10"/],
    [{ keys: 'secret' }, TypeError, /keys.*"secret"/],
    [{ tracing: 'yes' }, TypeError, /tracing.*"yes"/],
    [{ includeCommands: 'GET' }, TypeError, /includeCommands.*"GET"/],
    [{ excludeCommands: [1] }, TypeError, /excludeCommands.*1/],
    [{ responseHook: 42 }, TypeError, /responseHook.*42/],
    [{ tracerProvider: {} }, TypeError, /tracerProvider/],
  ])('%j → %s', (options, type, message) => {
    expect(() => createRedisLike(driver(), options as never)).toThrow(type);
    expect(() => createRedisLike(driver(), options as never)).toThrow(message);
  });
});

describe('context', () => {
  it('does not leave the command span active in the caller', async () => {
    const redis = connect();
    await redis.send({ name: 'PING', args: [] });
    expect(trace.getSpan(context.active())).toBeUndefined();
  });
});

describe('per-call deadlines', () => {
  it('ends the span with error.type=timeout when the caller gives up, without waiting for Redis', async () => {
    const redis = connect();
    // BLPOP on an empty list blocks on the server for 2 s; the caller's deadline is 50 ms.
    const pending = redis.send(
      { name: 'BLPOP', args: [`${keyPrefix}empty-list`, 2], keys: [0] },
      { timeoutMs: 50 },
    );
    const error = await pending.catch((caught: unknown) => caught);
    expect(RedisTimeoutError.isInstance(error)).toBe(true);
    expect((error as RedisTimeoutError).timeoutMs).toBe(50);
    // The span ended when the deadline passed (the server is still blocking): it is already exported.
    const span = only('BLPOP');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('timeout');
    expect(spanSeconds(span)).toBeLessThan(2);
    const points = await histogramPoints(capture, DURATION);
    expect(pointWith(points, { 'db.operation.name': 'BLPOP', 'error.type': 'timeout' })?.count).toBe(1);
  });

  it('rejects with the abort reason and records it on the span when the signal aborts', async () => {
    const redis = connect();
    const controller = new AbortController();
    const pending = redis.batch([{ name: 'BLPOP', args: [`${keyPrefix}empty-list-2`, 2], keys: [0] }], {
      signal: controller.signal,
    });
    controller.abort(new Error('caller went away'));
    await expect(pending).rejects.toThrow('caller went away');
    const span = only('PIPELINE BLPOP');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('_OTHER');
  });

  it('leaves no deadline behind: settled calls unschedule theirs from the shared timer lists', async () => {
    const redis = connect();
    const before = scheduledTimerCount();
    const pending = Array.from({ length: 50 }, (_, i) =>
      redis.send({ name: 'SET', args: [`${keyPrefix}dl${i}`, 'v'], keys: [0] }, { timeoutMs: 10_000 }),
    );
    expect(scheduledTimerCount()).toBe(before + 50);
    await Promise.all(pending);
    expect(scheduledTimerCount()).toBe(before);
    await redis
      .send({ name: 'BLPOP', args: [`${keyPrefix}dl-empty`, 1], keys: [0] }, { timeoutMs: 20 })
      .catch(() => {});
    expect(scheduledTimerCount()).toBe(before);
  });

  it('refuses a timeoutMs that is not a positive number', async () => {
    const redis = connect();
    await expect(redis.send({ name: 'PING', args: [] }, { timeoutMs: 0 })).rejects.toThrow(RangeError);
    await expect(redis.send({ name: 'PING', args: [] }, { timeoutMs: Number.NaN })).rejects.toThrow(
      /timeoutMs/,
    );
  });
});

describe('hooks', () => {
  it('turns a hook that throws synchronously into a rejection, recorded on the span', async () => {
    const redis = connect({
      hooks: [
        {
          process: () => () => {
            throw new Error('hook broke');
          },
        },
      ],
    });
    let returned: Promise<unknown> | undefined;
    expect(() => {
      returned = redis.send({ name: 'PING', args: [] });
    }).not.toThrow();
    await expect(returned).rejects.toThrow('hook broke');
    const span = only('PING');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('_OTHER');
  });

  it('runs user hooks inside the telemetry hook, in the order they were added', async () => {
    const order: string[] = [];
    const redis = connect({
      hooks: [
        {
          process: (next) => async (command, info) => {
            order.push('first:before');
            const reply = await next(command, info);
            order.push('first:after');
            return reply;
          },
        },
      ],
    });
    redis.addHook({
      process: (next) => async (command, info) => {
        order.push(`second:${info.operation}`);
        return next(command, info);
      },
    });
    expect(await redis.send({ name: 'echo', args: ['hi'] })).toBe('hi');
    expect(order).toEqual(['first:before', 'second:ECHO', 'first:after']);
    expect(only('ECHO').status.code).toBe(SpanStatusCode.UNSET);
  });
});
