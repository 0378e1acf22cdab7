import { context, metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { captureTelemetry } from '../src/index.js';
import { useTelemetryCapture } from '../src/vitest.js';

describe('captureTelemetry', () => {
  const telemetry = useTelemetryCapture();

  it('captures ended spans with their attributes, kind and status', () => {
    const tracer = telemetry.tracerProvider.getTracer('test-scope', '1.2.3');
    const span = tracer.startSpan('GET', {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'redis' },
    });
    span.setStatus({ code: SpanStatusCode.ERROR });
    expect(telemetry.spans()).toEqual([]); // not ended yet
    span.end();
    const [captured] = telemetry.spans();
    expect(captured?.name).toBe('GET');
    expect(captured?.kind).toBe(SpanKind.CLIENT);
    expect(captured?.status.code).toBe(SpanStatusCode.ERROR);
    expect(captured?.instrumentationScope).toMatchObject({ name: 'test-scope', version: '1.2.3' });
    expect(telemetry.attributes('GET')).toEqual({ 'db.system.name': 'redis' });
    expect(telemetry.span(/^G/)).toBe(captured);
  });

  it('starts clean in each test', () => {
    expect(telemetry.spans()).toEqual([]);
  });

  it('links children to their parent through the active context', async () => {
    const tracer = telemetry.tracerProvider.getTracer('test');
    await tracer.startActiveSpan('cache getOrLoad', async (parent) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      tracer.startSpan('GET').end();
      await Promise.resolve();
      tracer.startSpan('SET').end();
      parent.end();
    });
    tracer.startSpan('unrelated').end();
    const parent = telemetry.span('cache getOrLoad');
    expect(telemetry.children(parent).map((span) => span.name)).toEqual(['GET', 'SET']);
    expect(telemetry.children(telemetry.span('GET'))).toEqual([]);
    expect(telemetry.span('unrelated').parentSpanContext).toBeUndefined();
    expect(telemetry.findSpans(/^(GET|SET)$/)).toHaveLength(2);
    expect(telemetry.findSpans('nothing')).toEqual([]);
  });

  it('span() throws listing the names that did end', () => {
    telemetry.tracerProvider.getTracer('test').startSpan('PING').end();
    expect(() => telemetry.span('GET')).toThrow('no span named GET ended; spans: PING');
  });

  it('collects counters, histograms and gauges by name with attributes', async () => {
    const meter = telemetry.meterProvider.getMeter('@redisotel/core-hooks', '0.0.0');
    const duration = meter.createHistogram('db.client.operation.duration', { unit: 's' });
    const counter = meter.createCounter('redis.commands');
    const gauge = meter.createGauge('pool.size');
    duration.record(0.002, { 'db.operation.name': 'GET' });
    duration.record(0.004, { 'db.operation.name': 'GET' });
    duration.record(0.1, { 'db.operation.name': 'SET' });
    counter.add(2, { outcome: 'ok' });
    gauge.record(5);
    let collected = await telemetry.collectMetrics();
    expect(Object.keys(collected).sort()).toEqual([
      'db.client.operation.duration',
      'pool.size',
      'redis.commands',
    ]);
    const histogram = collected['db.client.operation.duration'];
    expect(histogram?.kind).toBe('histogram');
    expect(histogram?.unit).toBe('s');
    expect(histogram?.points).toEqual([
      expect.objectContaining({
        attributes: { 'db.operation.name': 'GET' },
        count: 2,
        min: 0.002,
        max: 0.004,
      }),
      expect.objectContaining({ attributes: { 'db.operation.name': 'SET' }, count: 1, sum: 0.1 }),
    ]);
    expect(histogram?.points[0]).toMatchObject({
      scope: { name: '@redisotel/core-hooks', version: '0.0.0' },
    });
    expect((histogram?.points[0] as { sum: number } | undefined)?.sum).toBeCloseTo(0.006);
    expect(collected['redis.commands']?.points).toEqual([
      expect.objectContaining({ attributes: { outcome: 'ok' }, value: 2 }),
    ]);
    expect(collected['pool.size']).toMatchObject({ kind: 'gauge', points: [{ value: 5 }] });

    // a second collection still counts from the start (not only since the last collection)
    counter.add(3, { outcome: 'ok' });
    duration.record(0.001, { 'db.operation.name': 'GET' });
    collected = await telemetry.collectMetrics();
    expect(collected['redis.commands']?.points[0]).toMatchObject({ value: 5 });
    expect(collected['db.client.operation.duration']?.points[0]).toMatchObject({ count: 3, min: 0.001 });
  });

  it('reset() forgets recorded metrics', async () => {
    const counter = telemetry.meterProvider.getMeter('m').createCounter('resets');
    counter.add(1);
    expect((await telemetry.metric('resets')).points[0]).toMatchObject({ value: 1 });
    await telemetry.reset();
    counter.add(4);
    expect((await telemetry.metric('resets')).points[0]).toMatchObject({ value: 4 });
    await expect(telemetry.metric('missing')).rejects.toThrow(
      'no metric named missing was recorded; metrics: resets',
    );
  });
});

describe('captureTelemetry as the global providers', () => {
  const first = captureTelemetry({ global: true });
  afterAll(() => first.shutdown());

  it('records what the global API creates, and undoes the registration on shutdown', async () => {
    trace.getTracer('global-user').startSpan('global span').end();
    metrics.getMeter('global-user').createCounter('global.counter').add(1);
    expect(first.span('global span').instrumentationScope.name).toBe('global-user');
    expect((await first.metric('global.counter')).points[0]).toMatchObject({ value: 1 });

    // a second global capture replaces the first
    const second = captureTelemetry({ global: true });
    trace.getTracer('global-user').startSpan('second span').end();
    expect(second.findSpans('second span')).toHaveLength(1);
    expect(first.findSpans('second span')).toHaveLength(0);
    await second.shutdown();

    // after shutdown the globals are no-ops again: nothing is recorded anywhere
    trace.getTracer('global-user').startSpan('after shutdown').end();
    expect(second.spans()).toEqual([]);
    expect(first.findSpans('after shutdown')).toEqual([]);
    expect(trace.getTracer('x').startSpan('noop').spanContext().traceFlags).toBe(0);
  });

  it('registers an AsyncLocalStorage context manager once', () => {
    const key = Symbol('probe');
    const seen = context.with(context.active().setValue(key, 'value'), () => context.active().getValue(key));
    expect(seen).toBe('value');
  });

  it('validates its options', () => {
    expect(() => captureTelemetry({ global: 'yes' as never })).toThrow(
      /captureTelemetry: options\.global must be a boolean, received yes/,
    );
    expect(() => captureTelemetry(null as never)).toThrow(TypeError);
  });
});
