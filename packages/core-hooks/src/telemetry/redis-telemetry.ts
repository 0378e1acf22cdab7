import { metrics, trace } from '@opentelemetry/api';
import type { RedisDescription, RedisHook, RedisTelemetryOptions, TelemetryHandle } from '../types.js';
import { VERSION } from '../version.js';

/** The scope name of everything core-hooks records. */
export const INSTRUMENTATION_SCOPE = '@redisotel/core-hooks';

/** The telemetry of one RedisLike: the handle building blocks reuse, and the hook that records commands. */
export interface RedisTelemetry {
  readonly handle: TelemetryHandle;
  readonly hook: RedisHook | undefined;
}

// WORK IN PROGRESS: the command/batch/dial hook (spans + db.client.operation.duration) lands next.
export function createRedisTelemetry(
  options: RedisTelemetryOptions,
  _description: RedisDescription,
): RedisTelemetry {
  const tracerProvider = options.tracerProvider ?? trace.getTracerProvider();
  const meterProvider = options.meterProvider ?? metrics.getMeterProvider();
  const handle: TelemetryHandle = {
    tracerProvider,
    meterProvider,
    tracer: tracerProvider.getTracer(INSTRUMENTATION_SCOPE, VERSION),
    meter: meterProvider.getMeter(INSTRUMENTATION_SCOPE, VERSION),
  };
  return { handle, hook: undefined };
}
