import { randomBytes } from 'node:crypto';
import { type Context, context, trace } from '@opentelemetry/api';
import { LockLostError, LockNotAcquiredError, LockUnavailableError } from './errors.js';
import { HeldLease, type LeaseContext, recordError, spanAttributes } from './lease.js';
import { resolveAcquireOptions } from './options.js';
import {
  type AcquireOutcome,
  ATTR_LOCK_ACQUIRED,
  ATTR_LOCK_ATTEMPTS,
  ATTR_LOCK_FENCING_TOKEN,
  ATTR_LOCK_OUTCOME,
  ATTR_LOCK_WAIT_MS,
  SPAN_OPERATIONS,
} from './telemetry.js';
import type { AcquireOptions, Lease, Lock, LockedFunction } from './types.js';
import { joinWakeUps, sleep, type WakeUpHandle } from './wake-up.js';

function abortError(signal: AbortSignal): DOMException {
  return new DOMException('The acquisition was aborted', { name: 'AbortError', cause: signal.reason });
}

function newToken(): string {
  return randomBytes(16).toString('hex');
}

/** The acquire loop, tryAcquire and withLock shared by locks and semaphores. */
export function createEngine(ctx: LeaseContext, redisName: string): Lock {
  const { backend, options, telemetry, kind } = ctx;
  const where = `${kind} "${options.name}"`;

  function finish(outcome: AcquireOutcome, startedAt: number): number {
    const waitedMs = performance.now() - startedAt;
    const attributes = { ...telemetry.baseAttributes, [ATTR_LOCK_OUTCOME]: outcome };
    telemetry.acquireOutcomes.add(1, attributes);
    if (outcome !== 'busy') telemetry.acquireWait.record(waitedMs / 1000, attributes);
    return waitedMs;
  }

  /** One attempt; a started lease or the reply saying when to retry. */
  async function attempt(
    autoExtend: boolean,
    callerContext: Context,
    remainingMs: number,
  ): Promise<{ lease: HeldLease; retryInMs?: undefined } | { lease?: undefined; retryInMs: number }> {
    const token = newToken();
    const sentAt = performance.now();
    let reply: Awaited<ReturnType<typeof backend.acquire>>;
    try {
      // An attempt never waits longer than the lease would live, nor less than the caller's wait.
      reply = await backend.acquire(token, options.ttlMs, Math.max(options.ttlMs, Math.ceil(remainingMs)));
    } catch (error) {
      throw new LockUnavailableError(`Could not acquire the ${where}: Redis failed`, 'acquire', {
        cause: error,
      });
    }
    if (!reply.acquired) return { retryInMs: reply.retryInMs };
    // Extension spans start in the caller's context, not under this acquire span.
    const lease = new HeldLease(ctx, token, reply.fencingToken, reply.expiresAt, sentAt, callerContext);
    lease.start(autoExtend);
    return { lease };
  }

  async function acquire(callOptions: AcquireOptions | undefined, autoExtend: boolean): Promise<HeldLease> {
    const { signal, waitMs } = resolveAcquireOptions(`${redisName}.acquire`, callOptions, options.waitMs);
    const startedAt = performance.now();
    const callerContext = context.active();
    const span = telemetry.tracer.startSpan(
      `${kind} ${SPAN_OPERATIONS.acquire}`,
      { attributes: spanAttributes(ctx) },
      callerContext,
    );
    const spanContext = trace.setSpan(callerContext, span);
    let attempts = 0;
    let wake: WakeUpHandle | undefined;
    let wakeTried = !options.wakeUp;
    let outcome = 'error' as AcquireOutcome;
    try {
      return await context.with(spanContext, async () => {
        for (;;) {
          if (signal?.aborted) {
            outcome = 'aborted';
            throw abortError(signal);
          }
          const generation = wake?.generation ?? 0;
          attempts++;
          const result = await attempt(autoExtend, callerContext, waitMs - (performance.now() - startedAt));
          if (result.lease !== undefined) {
            outcome = 'acquired';
            span.setAttribute(ATTR_LOCK_FENCING_TOKEN, result.lease.fencingToken);
            return result.lease;
          }
          const elapsed = performance.now() - startedAt;
          if (attempts >= options.maxAttempts || elapsed >= waitMs) {
            outcome = 'timed_out';
            throw new LockNotAcquiredError(
              `Could not acquire the ${where} within ${waitMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'})`,
              attempts,
              Math.round(elapsed),
            );
          }
          if (!wakeTried) {
            // Contended: subscribe to release notifications, then retry at once, since a release
            // may have happened before the subscription was in place.
            wakeTried = true;
            wake = await joinWakeUps(ctx.redis, backend.channel, backend.sharded);
            continue;
          }
          const remaining = waitMs - (performance.now() - startedAt);
          const jitter = options.retryJitterMs > 0 ? Math.random() * options.retryJitterMs : 0;
          let delay = Math.min(options.retryDelayMs + jitter, remaining);
          // Never sleep past the holder's expiry (expiry publishes nothing).
          if (result.retryInMs >= 0) delay = Math.min(delay, result.retryInMs + 1);
          delay = Math.max(0, delay);
          const waited =
            wake !== undefined ? await wake.wait(generation, delay, signal) : await sleep(delay, signal);
          if (waited === 'aborted') {
            outcome = 'aborted';
            throw abortError(signal!);
          }
        }
      });
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      wake?.leave();
      const waitedMs = finish(outcome, startedAt);
      span.setAttributes({
        [ATTR_LOCK_ATTEMPTS]: attempts,
        [ATTR_LOCK_WAIT_MS]: Math.round(waitedMs),
        [ATTR_LOCK_ACQUIRED]: outcome === 'acquired',
        [ATTR_LOCK_OUTCOME]: outcome,
      });
      span.end();
    }
  }

  return {
    resource: ctx.resource,
    acquire(callOptions?: AcquireOptions): Promise<Lease> {
      try {
        return acquire(callOptions, options.autoExtend);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async tryAcquire(): Promise<Lease | null> {
      const startedAt = performance.now();
      const callerContext = context.active();
      const span = telemetry.tracer.startSpan(
        `${kind} ${SPAN_OPERATIONS.acquire}`,
        { attributes: spanAttributes(ctx) },
        callerContext,
      );
      const spanContext = trace.setSpan(callerContext, span);
      let outcome = 'error' as AcquireOutcome;
      try {
        const result = await context.with(spanContext, () => attempt(options.autoExtend, callerContext, 0));
        if (result.lease === undefined) {
          outcome = 'busy';
          return null;
        }
        outcome = 'acquired';
        span.setAttribute(ATTR_LOCK_FENCING_TOKEN, result.lease.fencingToken);
        return result.lease;
      } catch (error) {
        recordError(span, error);
        throw error;
      } finally {
        const waitedMs = finish(outcome, startedAt);
        span.setAttributes({
          [ATTR_LOCK_ATTEMPTS]: 1,
          [ATTR_LOCK_WAIT_MS]: Math.round(waitedMs),
          [ATTR_LOCK_ACQUIRED]: outcome === 'acquired',
          [ATTR_LOCK_OUTCOME]: outcome,
        });
        span.end();
      }
    },
    async withLock<T>(fn: LockedFunction<T>, callOptions?: AcquireOptions): Promise<T> {
      if (typeof fn !== 'function') {
        throw new TypeError(`${redisName}.withLock: "fn" must be a function, received ${typeof fn}`);
      }
      const span = telemetry.tracer.startSpan(`${kind} ${SPAN_OPERATIONS.withLock}`, {
        attributes: spanAttributes(ctx),
      });
      try {
        return await context.with(trace.setSpan(context.active(), span), async () => {
          const lease = await acquire(callOptions, true);
          lease.lossSpan = span;
          span.setAttribute(ATTR_LOCK_FENCING_TOKEN, lease.fencingToken);
          let result: T;
          try {
            result = await fn(lease.signal, lease);
          } catch (error) {
            await lease.release().catch(() => false);
            throw error;
          }
          const lostWhileRunning = lease.signal.aborted;
          let released = false;
          try {
            released = await lease.release();
          } catch (error) {
            // The work is done; a failed release only delays others until the lease expires.
            span.addEvent('lock.release_failed', {
              'error.type': error instanceof Error ? error.name : typeof error,
            });
            return result;
          }
          if (lostWhileRunning) throw lease.signal.reason;
          if (!released) {
            throw new LockLostError(
              `Lost the ${where} while the function ran: Redis no longer held the lease at release`,
              'not-held',
            );
          }
          return result;
        });
      } catch (error) {
        recordError(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  };
}
