import {
  type Attributes,
  type Counter,
  context,
  createNoopMeter,
  type Histogram,
  INVALID_SPAN_CONTEXT,
  INVALID_TRACEID,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import {
  describeValue,
  isGlobalTracingRegistered,
  type RedisArgument,
  type RedisLike,
  type RedisReply,
} from '@redisotel/core-hooks';
import { DenyCache } from './deny-cache.js';
import { type RateLimitUnavailableError, toUnavailableError } from './errors.js';
import type { Mode, RawLimitState, RawResult } from './internal-types.js';
import { createLocalLimiter, type LocalLimiter } from './local-limiter.js';
import { resolveOptions, validateAmount, validateCallTimeout, validateKey } from './options.js';
import { FIXED_WINDOW_BLOCK, KEY_CODES, MODE, MULTI_SCRIPTS, SINGLE_SCRIPTS } from './scripts.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_RATELIMIT_ALGORITHM,
  ATTR_RATELIMIT_ALLOWED,
  ATTR_RATELIMIT_COST,
  ATTR_RATELIMIT_KEY,
  ATTR_RATELIMIT_LIMIT,
  ATTR_RATELIMIT_LIMITS,
  ATTR_RATELIMIT_NAME,
  ATTR_RATELIMIT_OUTCOME,
  ATTR_RATELIMIT_REASON,
  ATTR_RATELIMIT_REMAINING,
  ATTR_RATELIMIT_RESET_AFTER_MS,
  ATTR_RATELIMIT_RETRY_AFTER_MS,
  ATTR_RATELIMIT_SOURCE,
  ATTR_RATELIMIT_WINDOW_MS,
  DURATION_BUCKETS,
  INSTRUMENTATION_SCOPE,
  METRIC_DECISION_DURATION,
  METRIC_DECISIONS,
  type RateLimitOutcome,
  SPAN_NAMES,
} from './telemetry.js';
import type {
  ConsumeOptions,
  RateLimitCallOptions,
  RateLimitDecision,
  RateLimitDenyReason,
  RateLimiter,
  RateLimiterOptions,
  RateLimitLimitState,
  RateLimitSource,
} from './types.js';
import { VERSION } from './version.js';

const NEEDS_ENCODING = /[%{}]/;
const ENCODE = /[%{}]/g;

/** The span of a decision while no tracer provider is registered: non-recording, invalid context. */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * The limiter key inside the hash tag: `{`, `}` and `%` are percent-encoded, so every key of one
 * decision hashes to the same cluster slot whatever the key contains, and distinct keys stay distinct.
 */
function encodeKey(key: string): string {
  return NEEDS_ENCODING.test(key)
    ? key.replace(ENCODE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    : key;
}

/**
 * Create a rate limiter over any {@link RedisLike} (`fromNodeRedis(client)`, `fromIoredis(client)`),
 * standalone, cluster or sentinel. Each decision is one Lua script call (`EVALSHA`) on Redis' clock.
 * Options are validated here.
 * @example
 * ```ts
 * import { createRateLimiter, rateLimitHeaders } from '@redisotel/ratelimit';
 *
 * const limiter = createRateLimiter(redis, {
 *   name: 'api',
 *   algorithm: 'sliding-window',
 *   limit: 100,
 *   windowMs: 60_000,
 *   onRedisError: 'local',
 * });
 * const decision = await limiter.consume(`user:${userId}`);
 * if (!decision.allowed) return reply.code(429).headers(rateLimitHeaders(decision)).send();
 * ```
 * @throws {TypeError} when an option has the wrong type, or `redis` is not a RedisLike
 * @throws {RangeError} when an option is out of range
 */
export function createRateLimiter(redis: RedisLike, options: RateLimiterOptions): RateLimiter {
  if (
    typeof redis !== 'object' ||
    redis === null ||
    typeof (redis as Partial<RedisLike>).runScript !== 'function' ||
    typeof (redis as Partial<RedisLike>).send !== 'function'
  ) {
    throw new TypeError(
      `createRateLimiter: "redis" must be a RedisLike (fromNodeRedis / fromIoredis), received ${describeValue(redis)}`,
    );
  }
  const resolved = resolveOptions(options);
  const { name, algorithm, limits, prefix, blockDurationMs, onRedisError, recordKey } = resolved;
  const count = limits.length;
  // One limit runs the lean single-limit script; several the generic all-or-nothing one.
  const script = count === 1 ? SINGLE_SCRIPTS[algorithm] : MULTI_SCRIPTS[algorithm];
  /** Whether a block is also marked in the state (see `FIXED_WINDOW_BLOCK`). */
  const marksBlocks = count === 1 && algorithm === 'fixed-window';
  const ruleArgs = limits.flatMap((rule) => [rule.limit, rule.windowMs, rule.burst]);
  const code = KEY_CODES[algorithm];
  const suffixes = [...limits.map((rule) => `}:${code}:${rule.windowMs}`), '}:block'];
  const tagStart = `${prefix}{`;

  const keysOf = (key: string): string[] => {
    const tag = tagStart + encodeKey(key);
    const keys = new Array<string>(suffixes.length);
    for (let i = 0; i < suffixes.length; i++) keys[i] = tag + suffixes[i];
    return keys;
  };

  const denyCache = resolved.denyCacheMaxKeys > 0 ? new DenyCache(resolved.denyCacheMaxKeys) : undefined;
  let local: LocalLimiter | undefined;
  const localLimiter = () => {
    local ??= createLocalLimiter(algorithm, limits, resolved.localMaxKeys);
    return local;
  };

  // Telemetry: our own scope; the RedisLike's command spans become children of ours.
  const tracer = (resolved.tracerProvider ?? trace.getTracerProvider()).getTracer(
    INSTRUMENTATION_SCOPE,
    VERSION,
  );
  const meter = (resolved.meterProvider ?? metrics.getMeterProvider()).getMeter(
    INSTRUMENTATION_SCOPE,
    VERSION,
  );
  // The metrics API has no proxy: a no-op meter stays one, so skip the clock reads and lookups it would
  // throw away (the cost with no SDK must be near zero).
  const recordMetrics = Object.getPrototypeOf(meter) !== Object.getPrototypeOf(createNoopMeter());
  const decisions: Counter = meter.createCounter(METRIC_DECISIONS, {
    unit: '{decision}',
    description: 'Rate limit decisions (consume calls), by limiter name, algorithm, outcome and source.',
  });
  const durations: Histogram = meter.createHistogram(METRIC_DECISION_DURATION, {
    unit: 's',
    description: 'Duration of rate limit decisions (consume calls), as the caller sees it.',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  const baseAttributes: Attributes = {
    [ATTR_RATELIMIT_NAME]: name,
    [ATTR_RATELIMIT_ALGORITHM]: algorithm,
    [ATTR_RATELIMIT_LIMITS]: count,
  };
  // Metric attributes per outcome and source, made once: recording allocates nothing.
  const metricAttributes = new Map<string, Map<string, Attributes>>();
  const metricAttributesOf = (outcome: RateLimitOutcome | 'error', source: RateLimitSource | 'none') => {
    let bySource = metricAttributes.get(outcome);
    if (bySource === undefined) {
      bySource = new Map();
      metricAttributes.set(outcome, bySource);
    }
    let attributes = bySource.get(source);
    if (attributes === undefined) {
      attributes = Object.freeze({
        [ATTR_RATELIMIT_NAME]: name,
        [ATTR_RATELIMIT_ALGORITHM]: algorithm,
        [ATTR_RATELIMIT_OUTCOME]: outcome,
        [ATTR_RATELIMIT_SOURCE]: source,
      });
      bySource.set(source, attributes);
    }
    return attributes;
  };

  const explicitTracer = resolved.tracerProvider !== undefined;
  const startSpan = (spanName: string, key: string, cost: number): Span => {
    // No SDK behind the global tracer: its span would record nothing and parent nothing new (a no-op
    // span carries the active span context, which is already active), so there is nothing to start.
    if (!explicitTracer && !isGlobalTracingRegistered()) return NO_SPAN;
    const span = tracer.startSpan(spanName, { kind: SpanKind.INTERNAL });
    // Attributes only for spans that record: with no SDK (or sampled out) this costs nothing.
    if (span.isRecording()) {
      span.setAttributes(baseAttributes);
      span.setAttribute(ATTR_RATELIMIT_COST, cost);
      if (recordKey) span.setAttribute(ATTR_RATELIMIT_KEY, key);
    }
    return span;
  };

  /** Run `call` with `span` active, so the adapter's command span becomes its child. */
  const within = <T>(span: Span, call: () => Promise<T>): Promise<T> => {
    // A span that neither records nor carries a valid context (no SDK, no parent) has no child to parent.
    if (span === NO_SPAN) return call();
    if (!span.isRecording() && span.spanContext().traceId === INVALID_TRACEID) return call();
    return context.with(trace.setSpan(context.active(), span), call);
  };

  // Script arguments go out as strings made here (drivers would convert numbers on every call): the
  // limits once; mode and cost per call, except for a consume of 1, whose arguments never change. The
  // single-limit scripts take trailing arguments at their defaults as left out (blockMs 0, burst = limit,
  // a consume of 1), so a limiter without block or burst sends just [limit, windowMs] to consume 1.
  const ruleStrings: readonly string[] = (
    count === 1
      ? [limits[0]!.limit, limits[0]!.windowMs, blockDurationMs, limits[0]!.burst]
      : [blockDurationMs, count, ...ruleArgs]
  ).map(String);
  let consumeOneArgs: readonly RedisArgument[];
  if (count === 1) {
    let length = 4;
    if (limits[0]!.burst === limits[0]!.limit) {
      length = 3;
      if (blockDurationMs === 0) length = 2;
    }
    consumeOneArgs = Object.freeze(ruleStrings.slice(0, length));
  } else {
    consumeOneArgs = Object.freeze([String(MODE.consume), '1', ...ruleStrings]);
  }
  const scriptArgs = (mode: Mode, cost: number): readonly RedisArgument[] => {
    if (mode === MODE.consume && cost === 1) return consumeOneArgs;
    return count === 1
      ? [...ruleStrings, String(mode), String(cost)]
      : [String(mode), String(cost), ...ruleStrings];
  };

  const defaultSendOptions = Object.freeze({ timeoutMs: resolved.timeoutMs });
  const runScript = (
    span: Span,
    key: string,
    mode: Mode,
    cost: number,
    options: RateLimitCallOptions | undefined,
  ) => {
    const keys = keysOf(key);
    const args = scriptArgs(mode, cost);
    const sendOptions =
      options === undefined || (options.timeoutMs === undefined && options.signal === undefined)
        ? defaultSendOptions
        : { timeoutMs: options.timeoutMs ?? resolved.timeoutMs, signal: options.signal };
    if (span === NO_SPAN) return redis.runScript(script, keys, args, sendOptions);
    return within(span, () => redis.runScript(script, keys, args, sendOptions));
  };

  const onlyRule = limits[0]!;
  /** The decision of a script reply: the single-limit admitted fast path directly, else through RawResult. */
  const decisionOf = (reply: RedisReply): RateLimitDecision => {
    if (count === 1 && Array.isArray(reply) && reply.length === 2) {
      // Admitted, [remaining, resetAfterMs]: no intermediate result, no loop.
      const remaining = Number(reply[0]);
      const resetAfterMs = Number(reply[1]);
      return {
        allowed: true,
        limit: onlyRule.limit,
        windowMs: onlyRule.windowMs,
        remaining,
        resetAfterMs,
        retryAfterMs: 0,
        source: 'redis',
        reason: undefined,
        limits: [
          {
            name: onlyRule.name,
            limit: onlyRule.limit,
            windowMs: onlyRule.windowMs,
            allowed: true,
            remaining,
            resetAfterMs,
            retryAfterMs: 0,
          },
        ],
      };
    }
    return toDecision(parseReply(reply), 'redis');
  };

  const parseReply = (reply: RedisReply): RawResult => {
    if (count === 1 && Array.isArray(reply) && reply.length === 2) {
      // The single-limit fast path: admitted, [remaining, resetAfterMs].
      return {
        allowed: true,
        blocked: 0,
        limits: [{ remaining: Number(reply[0]), resetAfterMs: Number(reply[1]), retryAfterMs: 0 }],
      };
    }
    if (!Array.isArray(reply) || reply.length !== 2 + 3 * count) {
      throw new TypeError(`unexpected reply from the ${script.name} script: ${describeValue(reply)}`);
    }
    const states: RawLimitState[] = new Array(count);
    for (let i = 0; i < count; i++) {
      states[i] = {
        remaining: Number(reply[2 + 3 * i]),
        resetAfterMs: Number(reply[3 + 3 * i]),
        retryAfterMs: Number(reply[4 + 3 * i]),
      };
    }
    return { allowed: Number(reply[0]) === 1, blocked: Number(reply[1]) as 0 | 1 | 2, limits: states };
  };

  const toDecision = (
    raw: RawResult,
    source: RateLimitSource,
    error?: RateLimitUnavailableError,
  ): RateLimitDecision => {
    if (count === 1 && raw.allowed && error === undefined) {
      // The common case, without the loop: one limit that admitted.
      const rule = limits[0]!;
      const state = raw.limits[0]!;
      const only: RateLimitLimitState = {
        name: rule.name,
        limit: rule.limit,
        windowMs: rule.windowMs,
        allowed: true,
        remaining: state.remaining,
        resetAfterMs: state.resetAfterMs,
        retryAfterMs: 0,
      };
      return {
        allowed: true,
        limit: rule.limit,
        windowMs: rule.windowMs,
        remaining: state.remaining,
        resetAfterMs: state.resetAfterMs,
        retryAfterMs: 0,
        source,
        reason: undefined,
        limits: [only],
      };
    }
    const states: RateLimitLimitState[] = new Array(count);
    let binding = 0;
    let impossible = false;
    for (let i = 0; i < count; i++) {
      const rule = limits[i]!;
      const state = raw.limits[i]!;
      const retryAfterMs = state.retryAfterMs < 0 ? Number.POSITIVE_INFINITY : state.retryAfterMs;
      if (retryAfterMs === Number.POSITIVE_INFINITY) impossible = true;
      states[i] = {
        name: rule.name,
        limit: rule.limit,
        windowMs: rule.windowMs,
        allowed: raw.blocked !== 1 && retryAfterMs === 0,
        remaining: state.remaining,
        resetAfterMs: state.resetAfterMs,
        retryAfterMs,
      };
      if (i > 0) {
        const best = states[binding]!;
        const candidate = states[i]!;
        if (raw.allowed ? candidate.remaining < best.remaining : candidate.retryAfterMs > best.retryAfterMs) {
          binding = i;
        }
      }
    }
    const chosen = states[binding]!;
    let retryAfterMs = raw.allowed ? 0 : chosen.retryAfterMs;
    let resetAfterMs = chosen.resetAfterMs;
    let reason: RateLimitDenyReason | undefined;
    if (!raw.allowed) {
      if (raw.blocked === 1) reason = 'blocked';
      else if (impossible) reason = 'cost-exceeds-limit';
      else reason = 'limit-exceeded';
      if (raw.blocked === 2) retryAfterMs = Math.max(retryAfterMs, blockDurationMs);
      if (raw.blocked !== 0) resetAfterMs = Math.max(resetAfterMs, retryAfterMs);
    }
    const decision: {
      -readonly [K in keyof RateLimitDecision]: RateLimitDecision[K];
    } = {
      allowed: raw.allowed,
      limit: chosen.limit,
      windowMs: chosen.windowMs,
      remaining: chosen.remaining,
      resetAfterMs,
      retryAfterMs,
      source,
      reason,
      limits: states,
    };
    if (error !== undefined) decision.error = error;
    return decision;
  };

  const policyDecision = (
    allowed: boolean,
    cost: number,
    error: RateLimitUnavailableError,
  ): RateLimitDecision => {
    const states = limits.map(
      (rule): RateLimitLimitState => ({
        name: rule.name,
        limit: rule.limit,
        windowMs: rule.windowMs,
        allowed,
        remaining: allowed ? Math.max(0, rule.limit - cost) : 0,
        resetAfterMs: 0,
        retryAfterMs: allowed ? 0 : Math.min(rule.windowMs, 1000),
      }),
    );
    const first = states[0]!;
    return {
      allowed,
      limit: first.limit,
      windowMs: first.windowMs,
      remaining: first.remaining,
      resetAfterMs: 0,
      retryAfterMs: first.retryAfterMs,
      source: allowed ? 'fail-open' : 'fail-closed',
      reason: allowed ? undefined : 'redis-unavailable',
      limits: states,
      error,
    };
  };

  /** Apply the failure policy of a decision (consume, peek). Throws under `'throw'`. */
  const decideOnFailure = (failure: RateLimitUnavailableError, key: string, mode: Mode, cost: number) => {
    switch (onRedisError) {
      case 'allow':
        return policyDecision(true, cost, failure);
      case 'deny':
        return policyDecision(false, cost, failure);
      case 'local':
        return toDecision(localLimiter().run(key, mode, cost, blockDurationMs), 'local', failure);
      default:
        throw failure;
    }
  };

  const recordFailure = (span: Span, failure: RateLimitUnavailableError) => {
    span.recordException(failure);
    span.setAttribute(ATTR_ERROR_TYPE, failure.kind);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
  };

  const describeDecision = (span: Span, decision: RateLimitDecision) => {
    if (!span.isRecording()) return;
    span.setAttributes({
      [ATTR_RATELIMIT_ALLOWED]: decision.allowed,
      [ATTR_RATELIMIT_REMAINING]: decision.remaining,
      [ATTR_RATELIMIT_LIMIT]: decision.limit,
      [ATTR_RATELIMIT_WINDOW_MS]: decision.windowMs,
      [ATTR_RATELIMIT_RESET_AFTER_MS]: decision.resetAfterMs,
      [ATTR_RATELIMIT_SOURCE]: decision.source,
    });
    if (!decision.allowed) {
      span.setAttribute(ATTR_RATELIMIT_REASON, decision.reason ?? 'limit-exceeded');
      if (Number.isFinite(decision.retryAfterMs)) {
        span.setAttribute(ATTR_RATELIMIT_RETRY_AFTER_MS, decision.retryAfterMs);
      }
    }
  };

  const outcomeOf = (decision: RateLimitDecision): RateLimitOutcome => {
    switch (decision.source) {
      case 'fail-open':
        return 'fail-open';
      case 'fail-closed':
        return 'fail-closed';
      case 'local':
        return 'local';
      default:
        return decision.allowed ? 'allowed' : 'denied';
    }
  };

  /**
   * Run one decision-returning operation in its span. Every failure of the script call (error reply,
   * connection, timeout, abort, unexpected reply) is a Redis failure: the policy decides.
   */
  const decide = async (
    spanName: string,
    method: string,
    key: string,
    mode: Mode,
    cost: number,
    options: RateLimitCallOptions | undefined,
  ): Promise<RateLimitDecision> => {
    const span = startSpan(spanName, key, cost);
    try {
      let decision: RateLimitDecision;
      try {
        decision = decisionOf(await runScript(span, key, mode, cost, options));
      } catch (error) {
        const failure = toUnavailableError(error, name, method);
        recordFailure(span, failure);
        if (mode === MODE.consume || mode === MODE.peek) decision = decideOnFailure(failure, key, mode, cost);
        else if (onRedisError === 'local')
          decision = toDecision(localLimiter().run(key, mode, cost, 0), 'local', failure);
        else throw failure;
      }
      describeDecision(span, decision);
      return decision;
    } finally {
      span.end();
    }
  };

  /** A consume with its span, metrics, deny cache and per-call options. */
  const fullConsume = async (key: string, options?: ConsumeOptions): Promise<RateLimitDecision> => {
    validateKey('consume', key);
    const cost = options?.cost === undefined ? 1 : validateAmount('consume', 'cost', options.cost, 0);
    validateCallTimeout('consume', options?.timeoutMs);
    const started = recordMetrics ? performance.now() : 0;
    let outcome: RateLimitOutcome | 'error' = 'error';
    let source: RateLimitSource | 'none' = 'none';
    // The hot path, inline (one async frame): span, script, decision, metrics.
    const span = startSpan(SPAN_NAMES.consume, key, cost);
    try {
      let decision: RateLimitDecision;
      const cached = denyCache?.lookup(key, cost);
      if (cached !== undefined) {
        decision = cachedDecision(cached);
      } else {
        try {
          decision = decisionOf(await runScript(span, key, MODE.consume, cost, options));
        } catch (error) {
          const failure = toUnavailableError(error, name, 'consume');
          recordFailure(span, failure);
          decision = decideOnFailure(failure, key, MODE.consume, cost);
        }
        if (denyCache !== undefined && !decision.allowed && decision.source === 'redis') {
          const blocked =
            decision.reason === 'blocked' || (blockDurationMs > 0 && decision.reason === 'limit-exceeded');
          denyCache.remember(key, decision.retryAfterMs, decision.resetAfterMs, cost, blocked);
        }
      }
      describeDecision(span, decision);
      outcome = outcomeOf(decision);
      source = decision.source;
      return decision;
    } finally {
      span.end();
      if (recordMetrics) {
        const attributes = metricAttributesOf(outcome, source);
        decisions.add(1, attributes);
        durations.record((performance.now() - started) / 1000, attributes);
      }
    }
  };

  /** A failed script call of the lean consume: the failure policy decides (it throws under `'throw'`). */
  const leanFailure = (error: unknown, key: string): RateLimitDecision =>
    decideOnFailure(toUnavailableError(error, name, 'consume'), key, MODE.consume, 1);
  /** The lean consume's reply: an unexpected one is a Redis failure too, as on the full path. */
  const leanDecision = (reply: RedisReply, key: string): RateLimitDecision => {
    try {
      return decisionOf(reply);
    } catch (error) {
      return leanFailure(error, key);
    }
  };
  // With nothing to observe (no span, no metrics, no deny cache) a consume of 1 is the script call and
  // its decision: no async frame, no span bookkeeping, one reaction on the driver's promise.
  const leanConsume = !recordMetrics && denyCache === undefined;

  const limiter: RateLimiter = {
    name,
    algorithm,
    limits,

    consume(key: string, options?: ConsumeOptions): Promise<RateLimitDecision> {
      if (
        leanConsume &&
        options === undefined &&
        typeof key === 'string' &&
        key.length > 0 &&
        !explicitTracer &&
        !isGlobalTracingRegistered()
      ) {
        return redis.runScript(script, keysOf(key), consumeOneArgs, defaultSendOptions).then(
          (reply) => leanDecision(reply, key),
          (error: unknown) => leanFailure(error, key),
        );
      }
      return fullConsume(key, options);
    },

    async peek(key: string, options?: RateLimitCallOptions): Promise<RateLimitDecision> {
      validateKey('peek', key);
      validateCallTimeout('peek', options?.timeoutMs);
      return decide(SPAN_NAMES.peek, 'peek', key, MODE.peek, 1, options);
    },

    async penalty(key: string, points: number, options?: RateLimitCallOptions): Promise<RateLimitDecision> {
      validateKey('penalty', key);
      validateAmount('penalty', 'points', points, 0);
      validateCallTimeout('penalty', options?.timeoutMs);
      return decide(SPAN_NAMES.penalty, 'penalty', key, MODE.penalty, points, options);
    },

    async reward(key: string, points: number, options?: RateLimitCallOptions): Promise<RateLimitDecision> {
      validateKey('reward', key);
      validateAmount('reward', 'points', points, 0);
      validateCallTimeout('reward', options?.timeoutMs);
      denyCache?.forget(key);
      return decide(SPAN_NAMES.reward, 'reward', key, MODE.reward, points, options);
    },

    async block(key: string, durationMs: number, options?: RateLimitCallOptions): Promise<void> {
      validateKey('block', key);
      validateAmount('block', 'durationMs', durationMs, 1);
      const timeoutMs = validateCallTimeout('block', options?.timeoutMs) ?? resolved.timeoutMs;
      const span = startSpan(SPAN_NAMES.block, key, 0);
      try {
        const keys = keysOf(key);
        const sendOptions = { timeoutMs, signal: options?.signal };
        await within(span, () =>
          marksBlocks
            ? // The single-limit fixed window also marks its counter, which its consume fast path reads.
              redis.runScript(FIXED_WINDOW_BLOCK, keys, [String(durationMs)], sendOptions)
            : redis.send(
                { name: 'SET', args: [keys[count]!, '1', 'PX', durationMs], keys: [0] },
                sendOptions,
              ),
        );
        denyCache?.remember(key, durationMs, durationMs, 0, true);
        local?.block(key, durationMs);
      } catch (error) {
        const failure = toUnavailableError(error, name, 'block');
        recordFailure(span, failure);
        if (onRedisError !== 'local') throw failure;
        localLimiter().block(key, durationMs);
      } finally {
        span.end();
      }
    },

    async reset(key: string, options?: RateLimitCallOptions): Promise<void> {
      validateKey('reset', key);
      const timeoutMs = validateCallTimeout('reset', options?.timeoutMs) ?? resolved.timeoutMs;
      const span = startSpan(SPAN_NAMES.reset, key, 0);
      denyCache?.forget(key);
      local?.reset(key);
      try {
        const keys = keysOf(key);
        await within(span, () =>
          redis.send(
            { name: 'DEL', args: keys, keys: keys.map((_, i) => i) },
            { timeoutMs, signal: options?.signal },
          ),
        );
      } catch (error) {
        const failure = toUnavailableError(error, name, 'reset');
        recordFailure(span, failure);
        if (onRedisError !== 'local') throw failure;
      } finally {
        span.end();
      }
    },
  };

  /** A denial answered by the local deny cache. */
  function cachedDecision(cached: {
    retryAfterMs: number;
    resetAfterMs: number;
    blocked: boolean;
  }): RateLimitDecision {
    const states = limits.map(
      (rule): RateLimitLimitState => ({
        name: rule.name,
        limit: rule.limit,
        windowMs: rule.windowMs,
        allowed: false,
        remaining: 0,
        resetAfterMs: cached.resetAfterMs,
        retryAfterMs: cached.retryAfterMs,
      }),
    );
    const first = states[0]!;
    return {
      allowed: false,
      limit: first.limit,
      windowMs: first.windowMs,
      remaining: 0,
      resetAfterMs: cached.resetAfterMs,
      retryAfterMs: cached.retryAfterMs,
      source: 'cache',
      reason: cached.blocked ? 'blocked' : 'limit-exceeded',
      limits: states,
    };
  }

  return Object.freeze(limiter);
}
