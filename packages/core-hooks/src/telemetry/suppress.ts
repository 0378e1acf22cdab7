import { context } from '@opentelemetry/api';

/**
 * The key of the suppression state, on `globalThis` and in the OpenTelemetry context. `Symbol.for`
 * makes two copies of core-hooks (ESM + CJS, or two versions) share it.
 */
const SUPPRESS = Symbol.for('redisotel.suppress');

interface SuppressState {
  depth: number;
  /** How many channel instrumentations are enabled (by any copy of core-hooks). */
  instrumentations: number;
}

const globals = globalThis as unknown as Record<symbol, SuppressState | undefined>;
globals[SUPPRESS] ??= { depth: 0, instrumentations: 0 };
const STATE: SuppressState = globals[SUPPRESS];
STATE.instrumentations ??= 0;

/**
 * Declare that a `diagnostics_channel` instrumentation (`instrumentNodeRedis`, `instrumentIoredis`)
 * is enabled; call the returned function when it is disabled. While none is enabled,
 * {@link runWithoutChannelTracing} has nothing to tell and costs nothing (no context is made).
 */
export function registerChannelInstrumentation(): () => void {
  STATE.instrumentations++;
  let registered = true;
  return () => {
    if (!registered) return;
    registered = false;
    STATE.instrumentations--;
  };
}

/**
 * Run `fn` with `diagnostics_channel` instrumentation (`instrumentNodeRedis`, `instrumentIoredis`)
 * told to skip what it sees: the command is already recorded by a `RedisLike`'s telemetry hook, so
 * combining `fromX` and `instrumentX` on one client still gives exactly one span per command.
 *
 * Two marks are set: a synchronous module-level flag (shared by every copy of core-hooks through
 * `globalThis[Symbol.for('redisotel.suppress')]`), which covers channel events published during the
 * synchronous part of `fn`; and a value in the active OpenTelemetry context, which also covers events
 * published later in `fn`'s async continuations (a retry after `await`) when a context manager is
 * registered. Returns what `fn` returns.
 * @example
 * ```ts
 * const reply = runWithoutChannelTracing(() => client.sendCommand(['GET', key]));
 * ```
 */
export function runWithoutChannelTracing<T>(fn: () => T): T {
  if (STATE.instrumentations === 0) return fn();
  STATE.depth++;
  try {
    return context.with(context.active().setValue(SUPPRESS, true), fn);
  } finally {
    STATE.depth--;
  }
}

/**
 * Whether a channel event being handled now belongs to a command that is already recorded (see
 * {@link runWithoutChannelTracing}). Call it first thing in the `start` handler of a tracing channel,
 * which runs synchronously in the caller's context; skip the event when it returns `true`.
 */
export function isChannelTracingSuppressed(): boolean {
  return STATE.depth > 0 || context.active().getValue(SUPPRESS) === true;
}
