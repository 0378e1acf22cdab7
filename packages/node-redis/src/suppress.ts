import { AsyncLocalStorage } from 'node:async_hooks';
import * as diagnostics from 'node:diagnostics_channel';
import { isChannelTracingSuppressed, runWithoutChannelTracing } from '@redisotel/core-hooks';

/**
 * Marks commands this adapter sends on cluster and sentinel clients, whose node-redis `start` event
 * fires after an `await` inside the client (slot lookup, lease): a synchronous flag cannot reach it,
 * an AsyncLocalStorage does (with or without an OpenTelemetry context manager). Shared through
 * `globalThis` so the ESM and CJS builds of this package agree.
 */
const SCOPE_KEY = Symbol.for('redisotel.node-redis.adapter-scope');
const globals = globalThis as unknown as Record<symbol, AsyncLocalStorage<true> | undefined>;
globals[SCOPE_KEY] ??= new AsyncLocalStorage<true>();
const adapterScope: AsyncLocalStorage<true> = globals[SCOPE_KEY];

const commandStart = diagnostics.channel('tracing:node-redis:command:start');
const batchStart = diagnostics.channel('tracing:node-redis:batch:start');

/**
 * Run one send of the adapter so that `instrumentNodeRedis` on the same client skips it (the
 * `RedisLike` telemetry hook records it already). `async`: also covers events published after an
 * `await` inside node-redis (cluster routing, sentinel leases).
 * @internal
 */
export function suppressChannelTracing<T>(fn: () => T, async = false): T {
  // Nobody listens to node-redis' command events (no instrumentNodeRedis): nothing to mark. A cheap
  // check that keeps the adapter's cost near zero on the common path.
  if (!commandStart.hasSubscribers && !batchStart.hasSubscribers) return fn();
  return async ? adapterScope.run(true, runWithoutChannelTracing, fn) : runWithoutChannelTracing(fn);
}

/** Whether a channel event now belongs to a send of the adapter (see {@link suppressChannelTracing}). */
export function isSuppressed(): boolean {
  return isChannelTracingSuppressed() || adapterScope.getStore() === true;
}
