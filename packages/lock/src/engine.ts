import { randomFillSync } from 'node:crypto';
import { type Context, context, type Span } from '@opentelemetry/api';
import { LockLostError, LockNotAcquiredError, LockUnavailableError } from './errors.js';
import type { AcquireReply } from './internal-types.js';
import { HeldLease, inSpan, type LeaseContext, recordError, spanAttributes } from './lease.js';
import { resolveAcquireOptions } from './options.js';
import {
  type AcquireOutcome,
  ATTR_LOCK_ACQUIRED,
  ATTR_LOCK_ATTEMPTS,
  ATTR_LOCK_FENCING_TOKEN,
  ATTR_LOCK_OUTCOME,
  ATTR_LOCK_WAIT_MS,
  SPAN_OPERATIONS,
  startSpan,
} from './telemetry.js';
import type { AcquireOptions, Lease, Lock, LockedFunction } from './types.js';
import { joinWakeUps, sleep, type WakeUpHandle } from './wake-up.js';

function abortError(signal: AbortSignal): DOMException {
  return new DOMException('The acquisition was aborted', { name: 'AbortError', cause: signal.reason });
}

// Tokens come from a pool of cryptographically random bytes, refilled 256 tokens at a time.
const TOKEN_BYTES = 16;
const pool = Buffer.alloc(TOKEN_BYTES * 256);
let poolOffset = pool.length;

function newToken(): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const token = pool.toString('hex', poolOffset, poolOffset + TOKEN_BYTES);
  poolOffset += TOKEN_BYTES;
  return token;
}

/**
 * Wait for a subscription at most `ms` (or until `signal` aborts); when it comes later, leave it at once.
 * `undefined` means: no wake-ups this time, retry on the timer.
 */
function joinWithin(
  joining: Promise<WakeUpHandle | undefined>,
  ms: number,
  signal: AbortSignal | undefined,
): Promise<WakeUpHandle | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (handle: WakeUpHandle | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(handle);
    };
    const onAbort = () => finish(undefined);
    const timer = setTimeout(onAbort, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
    joining.then((handle) => {
      if (settled) handle?.leave();
      else finish(handle);
    });
  });
}

/** A started lease, or when to retry (the reply's `retryInMs`): no wrapper object per attempt. */
type AttemptResult = HeldLease | number;

/** The acquire loop, tryAcquire and withLock shared by locks and semaphores (methods on a prototype:
 * locks are often created per request, so creating one allocates little). */
class LockEngine implements Lock {
  readonly resource: string;
  readonly #ctx: LeaseContext;
  readonly #redisName: string;

  constructor(parts: Omit<LeaseContext, 'spanAttributes'>, redisName: string) {
    this.#ctx = {
      redis: parts.redis,
      backend: parts.backend,
      options: parts.options,
      telemetry: parts.telemetry,
      kind: parts.kind,
      resource: parts.resource,
      spanAttributes: spanAttributes(parts),
    };
    this.resource = parts.resource;
    this.#redisName = redisName;
  }

  /** `lock "name"`, for error messages (built only when one is thrown). */
  get #where(): string {
    return `${this.#ctx.kind} "${this.#ctx.options.name}"`;
  }

  #finish(span: Span, outcome: AcquireOutcome, startedAt: number, attempts: number): void {
    const { telemetry } = this.#ctx;
    const waitedMs = performance.now() - startedAt;
    const attributes = telemetry.outcomeAttributes[outcome];
    telemetry.acquireOutcomes.add(1, attributes);
    if (outcome !== 'busy') telemetry.acquireWait.record(waitedMs / 1000, attributes);
    if (span.isRecording()) {
      span.setAttributes({
        [ATTR_LOCK_ATTEMPTS]: attempts,
        [ATTR_LOCK_WAIT_MS]: Math.round(waitedMs),
        [ATTR_LOCK_ACQUIRED]: outcome === 'acquired',
        [ATTR_LOCK_OUTCOME]: outcome,
      });
    }
    span.end();
  }

  /** One attempt; a started lease or the reply saying when to retry. */
  async #attempt(autoExtend: boolean, callerContext: Context, remainingMs: number): Promise<AttemptResult> {
    const ctx = this.#ctx;
    const { ttlMs } = ctx.options;
    const token = newToken();
    const sentAt = performance.now();
    let reply: AcquireReply;
    try {
      // An attempt never waits longer than the lease would live, nor less than the caller's wait.
      reply = await ctx.backend.acquire(token, ttlMs, Math.max(ttlMs, Math.ceil(remainingMs)));
    } catch (error) {
      throw new LockUnavailableError(`Could not acquire the ${this.#where}: Redis failed`, 'acquire', {
        cause: error,
      });
    }
    if (!reply.acquired) return reply.retryInMs;
    // Extension spans start in the caller's context, not under this acquire span.
    const lease = new HeldLease(ctx, token, reply.fencingToken, reply.expiresAt, sentAt, callerContext);
    lease.start(autoExtend);
    return lease;
  }

  async #acquire(callOptions: AcquireOptions | undefined, autoExtend: boolean): Promise<HeldLease> {
    const ctx = this.#ctx;
    const { options, telemetry, backend } = ctx;
    const { signal, waitMs } =
      callOptions === undefined
        ? { signal: undefined, waitMs: options.waitMs }
        : resolveAcquireOptions(`${this.#redisName}.acquire`, callOptions, options.waitMs);
    const startedAt = performance.now();
    const callerContext = context.active();
    const span = startSpan(
      telemetry,
      `${ctx.kind} ${SPAN_OPERATIONS.acquire}`,
      ctx.spanAttributes,
      callerContext,
    );
    let attempts = 0;
    let wake: WakeUpHandle | undefined;
    let wakeTried = !options.wakeUp;
    let outcome = 'error' as AcquireOutcome;
    let woken = false;
    const loop = async (): Promise<HeldLease> => {
      for (;;) {
        if (signal?.aborted) {
          outcome = 'aborted';
          // A release woke this waiter but it gives up: let the next waiter have the wake-up.
          if (woken) wake?.forward();
          throw abortError(signal);
        }
        woken = false;
        const generation = wake?.generation ?? 0;
        attempts++;
        const result = await this.#attempt(
          autoExtend,
          callerContext,
          waitMs - (performance.now() - startedAt),
        );
        if (typeof result !== 'number') {
          outcome = 'acquired';
          if (span.isRecording()) span.setAttribute(ATTR_LOCK_FENCING_TOKEN, result.fencingToken);
          return result;
        }
        const elapsed = performance.now() - startedAt;
        if (attempts >= options.maxAttempts || elapsed >= waitMs) {
          outcome = 'timed_out';
          throw new LockNotAcquiredError(
            `Could not acquire the ${this.#where} within ${waitMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'})`,
            attempts,
            Math.round(elapsed),
          );
        }
        if (!wakeTried) {
          // Contended: subscribe to release notifications, then retry at once, since a release may
          // have happened before the subscription was in place.
          wakeTried = true;
          wake = await joinWithin(
            joinWakeUps(ctx.redis, backend.channel, backend.sharded, backend.wakeAll),
            waitMs - (performance.now() - startedAt),
            signal,
          );
          continue;
        }
        const remaining = waitMs - (performance.now() - startedAt);
        const jitter = options.retryJitterMs > 0 ? Math.random() * options.retryJitterMs : 0;
        let delay = Math.min(options.retryDelayMs + jitter, remaining);
        // Never sleep past the holder's expiry (expiry publishes nothing).
        if (result >= 0) delay = Math.min(delay, result + 1);
        delay = Math.max(0, delay);
        const waited =
          wake !== undefined ? await wake.wait(generation, delay, signal) : await sleep(delay, signal);
        if (waited === 'aborted') {
          outcome = 'aborted';
          throw abortError(signal!);
        }
        woken = waited === 'woken';
      }
    };
    try {
      return await inSpan(span, loop);
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      wake?.leave();
      this.#finish(span, outcome, startedAt, attempts);
    }
  }

  acquire(callOptions?: AcquireOptions): Promise<Lease> {
    return this.#acquire(callOptions, this.#ctx.options.autoExtend);
  }

  async tryAcquire(): Promise<Lease | null> {
    const ctx = this.#ctx;
    const startedAt = performance.now();
    const callerContext = context.active();
    const span = startSpan(
      ctx.telemetry,
      `${ctx.kind} ${SPAN_OPERATIONS.acquire}`,
      ctx.spanAttributes,
      callerContext,
    );
    let outcome = 'error' as AcquireOutcome;
    try {
      const result = await inSpan(span, () => this.#attempt(ctx.options.autoExtend, callerContext, 0));
      if (typeof result === 'number') {
        outcome = 'busy';
        return null;
      }
      outcome = 'acquired';
      if (span.isRecording()) span.setAttribute(ATTR_LOCK_FENCING_TOKEN, result.fencingToken);
      return result;
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      this.#finish(span, outcome, startedAt, 1);
    }
  }

  async withLock<T>(fn: LockedFunction<T>, callOptions?: AcquireOptions): Promise<T> {
    const ctx = this.#ctx;
    if (typeof fn !== 'function') {
      throw new TypeError(`${ctx.kind}.withLock: "fn" must be a function, received ${typeof fn}`);
    }
    const span = startSpan(ctx.telemetry, `${ctx.kind} ${SPAN_OPERATIONS.withLock}`, ctx.spanAttributes);
    try {
      return await inSpan(span, async () => {
        const lease = await this.#acquire(callOptions, true);
        lease.lossSpan = span;
        if (span.isRecording()) span.setAttribute(ATTR_LOCK_FENCING_TOKEN, lease.fencingToken);
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
            `Lost the ${this.#where} while the function ran: Redis no longer held the lease at release`,
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
  }
}

/** Make the engine of a lock or semaphore. */
export function createEngine(parts: Omit<LeaseContext, 'spanAttributes'>, redisName: string): Lock {
  return new LockEngine(parts, redisName);
}
