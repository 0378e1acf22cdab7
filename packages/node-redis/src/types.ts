import type { CreateRedisLikeOptions, RedisTelemetryOptions } from '@redisotel/core-hooks';

/**
 * Options of {@link fromNodeRedis}: core-hooks' telemetry and hook options, plus what the adapter
 * cannot read from the client itself.
 */
export interface FromNodeRedisOptions extends CreateRedisLikeOptions {
  /**
   * Sentinel only: the master group name you passed to `createSentinel({ name })`. node-redis keeps
   * its options private, so `describe().masterName` is only filled when you repeat it here.
   * @default undefined (no `masterName` in `describe()`)
   */
  readonly masterName?: string;
}

/** Options of {@link instrumentNodeRedis}: the same telemetry options as {@link fromNodeRedis}. */
export interface InstrumentNodeRedisOptions extends RedisTelemetryOptions {
  /**
   * Record each command of a pipeline as its own span as well (node-redis publishes every pipelined
   * command and the pipeline). By default a pipeline is one span, like a `MULTI`.
   * @default false
   */
  readonly batchCommandSpans?: boolean;
  /**
   * What to do when the installed node-redis publishes no `diagnostics_channel` events (older than
   * 5.12.0): `'throw'` a `TypeError`, or `'warn'` once (`process.emitWarning`) and return a no-op.
   * @default 'throw'
   */
  readonly onUnsupported?: 'throw' | 'warn';
}

/** What {@link instrumentNodeRedis} returns: call `disable()` to stop recording and unsubscribe. */
export interface NodeRedisInstrumentation {
  /** Unsubscribe from the client's channels; idempotent. */
  disable(): void;
  /** Whether the instrumentation is currently recording. */
  readonly enabled: boolean;
}
