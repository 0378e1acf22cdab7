import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ConnectedClient } from '@redisotel/test-clients';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  INSTRUMENTATION_SCOPE,
  METRIC_DECISION_DURATION,
  METRIC_DECISIONS,
  type RateLimiterOptions,
  RateLimitUnavailableError,
  VERSION,
} from '../src/index.js';
import { type Capture, createCapture } from './capture.js';
import { CLIENTS, connect, filePrefix } from './support.js';

describe.each(CLIENTS)('telemetry ($name)', (client) => {
  let capture: Capture;
  let connected: ConnectedClient;
  const prefix = filePrefix(`telemetry-${client.library}`);
  /** The span that was active when each script call went out. */
  const activeAtCommand: (string | undefined)[] = [];

  beforeAll(async () => {
    capture = createCapture();
    connected = await connect(client, 'standalone', {
      tracerProvider: capture.tracerProvider,
      meterProvider: capture.meterProvider,
    });
    connected.redis.addHook({
      process: (next) => (command, info) => {
        if (info.operation === 'EVALSHA') activeAtCommand.push(trace.getActiveSpan()?.spanContext().spanId);
        return next(command, info);
      },
    });
  });
  afterAll(async () => {
    await connected?.close();
    await capture?.shutdown();
  });
  beforeEach(() => {
    capture.reset();
    activeAtCommand.length = 0;
  });

  const make = (options: Partial<RateLimiterOptions> = {}) =>
    createRateLimiter(connected.redis, {
      name: `tel-${client.library}`,
      prefix,
      algorithm: 'gcra',
      limit: 2,
      windowMs: 600_000,
      tracerProvider: capture.tracerProvider,
      meterProvider: capture.meterProvider,
      ...options,
    });

  it('opens one span per decision with the limiter attributes; the script call runs inside it', async () => {
    const limiter = make();
    await limiter.consume('user:1', { cost: 2 });
    await limiter.consume('user:1');
    const spans = capture.spansNamed('ratelimit consume');
    expect(spans).toHaveLength(2);
    const [admitted, denied] = spans;
    expect(admitted!.kind).toBe(SpanKind.INTERNAL);
    expect(admitted!.instrumentationScope).toMatchObject({ name: INSTRUMENTATION_SCOPE, version: VERSION });
    expect(admitted!.attributes).toEqual({
      'ratelimit.name': `tel-${client.library}`,
      'ratelimit.algorithm': 'gcra',
      'ratelimit.limits': 1,
      'ratelimit.cost': 2,
      'ratelimit.allowed': true,
      'ratelimit.remaining': 0,
      'ratelimit.limit': 2,
      'ratelimit.window_ms': 600_000,
      'ratelimit.reset_after_ms': expect.any(Number),
      'ratelimit.source': 'redis',
    });
    expect(denied!.attributes).toMatchObject({
      'ratelimit.allowed': false,
      'ratelimit.reason': 'limit-exceeded',
      'ratelimit.retry_after_ms': expect.any(Number),
    });
    expect(admitted!.status.code).toBe(SpanStatusCode.UNSET);
    // No key, no value on spans by default.
    for (const span of spans) expect(JSON.stringify(span.attributes)).not.toContain('user:1');
    // The command went out with our span active, so the adapter's EVALSHA span is its child.
    expect(activeAtCommand).toEqual(spans.map((span) => span.spanContext().spanId));
    const commandSpans = capture
      .spans()
      .filter(
        (span) => span.instrumentationScope.name === '@redisotel/core-hooks' && span.name.includes('EVALSHA'),
      );
    expect(commandSpans.map((span) => span.parentSpanContext?.spanId)).toEqual(
      spans.map((span) => span.spanContext().spanId),
    );
    commandSpans.forEach((span, i) => {
      expect(span.spanContext().traceId).toBe(spans[i]!.spanContext().traceId);
    });
  });

  it('without a tracer provider of its own, follows the global one, registered or not', async () => {
    const limiter = make({ tracerProvider: undefined });
    const commandSpans = () =>
      capture
        .spans()
        .filter(
          (span) =>
            span.instrumentationScope.name === '@redisotel/core-hooks' && span.name.includes('EVALSHA'),
        );
    // None registered: no decision span, and the command span stays the child of the caller's span.
    const outer = capture.tracerProvider.getTracer('test').startSpan('outer');
    await context.with(trace.setSpan(context.active(), outer), () => limiter.consume('user:global'));
    outer.end();
    expect(capture.spansNamed('ratelimit consume')).toHaveLength(0);
    expect(activeAtCommand).toEqual([outer.spanContext().spanId]);
    expect(commandSpans().map((span) => span.parentSpanContext?.spanId)).toEqual([
      outer.spanContext().spanId,
    ]);
    // Registered after the limiter was made: decisions have spans again, parents of the command spans.
    trace.setGlobalTracerProvider(capture.tracerProvider);
    try {
      capture.reset();
      activeAtCommand.length = 0;
      await limiter.consume('user:global');
      const spans = capture.spansNamed('ratelimit consume');
      expect(spans).toHaveLength(1);
      expect(activeAtCommand).toEqual([spans[0]!.spanContext().spanId]);
      expect(commandSpans().map((span) => span.parentSpanContext?.spanId)).toEqual([
        spans[0]!.spanContext().spanId,
      ]);
    } finally {
      trace.disable();
    }
  });

  it('records the key on spans only when asked to', async () => {
    await make({ recordKey: true }).consume('user:2');
    expect(capture.spansNamed('ratelimit consume')[0]!.attributes['ratelimit.key']).toBe('user:2');
  });

  it('names the other operations', async () => {
    const limiter = make();
    await limiter.peek('user:3');
    await limiter.penalty('user:3', 1);
    await limiter.reward('user:3', 1);
    await limiter.block('user:3', 1000);
    await limiter.reset('user:3');
    expect(
      capture
        .spans()
        .filter((s) => s.instrumentationScope.name === INSTRUMENTATION_SCOPE)
        .map((s) => s.name),
    ).toEqual([
      'ratelimit peek',
      'ratelimit penalty',
      'ratelimit reward',
      'ratelimit block',
      'ratelimit reset',
    ]);
  });

  it('marks failed Redis calls on the span and reports the policy outcome', async () => {
    const throwing = make({ name: `tel-fail-${client.library}` });
    await expect(throwing.consume('user:4', { signal: AbortSignal.abort() })).rejects.toSatisfy(
      RateLimitUnavailableError.isInstance,
    );
    const [span] = capture.spansNamed('ratelimit consume');
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.attributes['error.type']).toBe('aborted');
    expect(span!.events.map((e) => e.name)).toContain('exception');
  });

  it('counts decisions by name, algorithm, outcome and source, never by key, with a duration histogram', async () => {
    const name = `tel-metrics-${client.library}`;
    const options = { name, denyCache: true } as const;
    const limiter = make(options);
    const allowing = make({ ...options, onRedisError: 'allow' });
    const denying = make({ ...options, onRedisError: 'deny' });
    const local = make({ ...options, onRedisError: 'local' });
    const throwing = make(options);
    const aborted = { signal: AbortSignal.abort() };
    await limiter.consume('user:5'); // allowed
    await limiter.consume('user:5'); // allowed
    await limiter.consume('user:5'); // denied by Redis
    await limiter.consume('user:5'); // denied from the deny cache
    await allowing.consume('user:6', aborted);
    await denying.consume('user:6', aborted);
    await local.consume('user:6', aborted);
    await throwing.consume('user:6', aborted).catch(() => undefined);

    const points = (await capture.points(METRIC_DECISIONS)).filter(
      (p) => p.attributes['ratelimit.name'] === name,
    );
    const counts = Object.fromEntries(
      points.map((p) => [
        `${p.attributes['ratelimit.outcome']}/${p.attributes['ratelimit.source']}`,
        p.value,
      ]),
    );
    expect(counts).toEqual({
      'allowed/redis': 2,
      'denied/redis': 1,
      'denied/cache': 1,
      'fail-open/fail-open': 1,
      'fail-closed/fail-closed': 1,
      'local/local': 1,
      'error/none': 1,
    });
    for (const point of points) {
      expect(Object.keys(point.attributes).sort()).toEqual([
        'ratelimit.algorithm',
        'ratelimit.name',
        'ratelimit.outcome',
        'ratelimit.source',
      ]);
    }
    const duration = await capture.metric(METRIC_DECISION_DURATION);
    expect(duration?.descriptor.unit).toBe('s');
    const histogram = duration!.dataPoints.filter((p) => p.attributes['ratelimit.name'] === name);
    const total = histogram.reduce((sum, p) => sum + (p.value as { count: number }).count, 0);
    expect(total).toBe(8);
  });
});
