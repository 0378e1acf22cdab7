import { randomFillSync } from 'node:crypto';
import { type Context, context, type Span } from '@opentelemetry/api';
import type { RedisReply } from '@redisotel/core-hooks';
import { parseAcquire } from './backend.js';
import { DeadlineCall } from './call.js';
import { LockLostError, LockNotAcquiredError, LockUnavailableError } from './errors.js';
import { HeldLease, inSpan, type LeaseContext, recordError, spanAttributes } from './lease.js';
import { resolveAcquireOptions } from './options.js';
import {
  type AcquireOutcome,
  ATTR_LOCK_ACQUIRED,
  ATTR_LOCK_ATTEMPTS,
  ATTR_LOCK_FENCING_TOKEN,
  ATTR_LOCK_OUTCOME,
  ATTR_LOCK_WAIT_MS,
  NON_RECORDING_SPAN,
  SPAN_OPERATIONS,
  startSpan,
  tracingOn,
} from './telemetry.js';
import type { AcquireOptions, Lease, Lock, LockedFunction } from './types.js';
import { joinWakeUps, sleep, type WakeUpHandle } from './wake-up.js';

function abortError(signal: AbortSignal): DOMException {
  return new DOMException('The acquisition was aborted', { name: 'AbortError', cause: signal.reason });
}

// Tokens come from a pool of cryptographically random bytes, refilled 256 tokens at a time and turned
// into hex once per refill: a token is then a 32-character substring (V8 shares the pool's characters).
const TOKEN_HEX = 32;
const POOL_TOKENS = 256;
const pool = Buffer.alloc((TOKEN_HEX / 2) * POOL_TOKENS);
let poolHex = '';
let poolOffset = 0;

function newToken(): string {
  if (poolOffset === poolHex.length) {
    randomFillSync(pool);
    poolHex = pool.toString('hex');
    poolOffset = 0;
  }
  const token = poolHex.substring(poolOffset, poolOffset + TOKEN_HEX);
  poolOffset += TOKEN_HEX;
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

/** One acquire script run under its deadline: a started lease, or when to retry. */
class AcquireCall extends DeadlineCall<AttemptResult | Promise<HeldLease>> {
  /** Written by {@link parseAcquire} when acquired. */
  fencingToken = 0;
  expiresAt = 0;
  readonly #ctx: LeaseContext;
  readonly #token: string;
  readonly #sentAt: number;
  readonly #parentContext: Context;
  readonly #autoExtend: boolean;
  /**
   * Set for the first attempt of an acquire that records nothing (see {@link LockEngine.acquire}): when
   * the resource is taken, the call goes on with the engine's retry loop instead of answering the delay.
   */
  readonly #continueIn: LockEngine | undefined;

  constructor(
    ctx: LeaseContext,
    token: string,
    sentAt: number,
    parentContext: Context,
    autoExtend: boolean,
    continueIn: LockEngine | undefined,
  ) {
    super();
    this.#ctx = ctx;
    this.#token = token;
    this.#sentAt = sentAt;
    this.#parentContext = parentContext;
    this.#autoExtend = autoExtend;
    this.#continueIn = continueIn;
  }

  protected override map(reply: RedisReply): AttemptResult | Promise<HeldLease> {
    const acquired = parseAcquire(reply, this, this.#ctx.options.ttlMs);
    if (acquired !== true) {
      return this.#continueIn === undefined
        ? acquired
        : this.#continueIn.retryUnrecorded(acquired, this.#sentAt, this.#parentContext, this.#autoExtend);
    }
    // Extension spans start in the caller's context, not under this acquire span.
    const lease = new HeldLease(
      this.#ctx,
      this.#token,
      this.fencingToken,
      this.expiresAt,
      this.#sentAt,
      this.#parentContext,
    );
    lease.start(this.#autoExtend, this.#sentAt);
    return lease;
  }

  protected override failure(error: unknown): unknown {
    const ctx = this.#ctx;
    return new LockUnavailableError(
      `Could not acquire the ${ctx.kind} "${ctx.options.name}": Redis failed`,
      'acquire',
      { cause: error },
    );
  }
}

/** The state of an acquire that found the resource taken: the retry loop's, read by its `finally`. */
interface Waiting {
  attempts: number;
  outcome: AcquireOutcome;
  wake: WakeUpHandle | undefined;
}

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
    // No SDK (no-op instruments, no span): nothing would read the clock's answer.
    if (!telemetry.metered && span === NON_RECORDING_SPAN) return;
    const recording = span.isRecording();
    const waitedMs = performance.now() - startedAt;
    const attributes = telemetry.outcomeAttributes[outcome];
    telemetry.acquireOutcomes.add(1, attributes);
    if (outcome !== 'busy') telemetry.acquireWait.record(waitedMs / 1000, attributes);
    if (recording) {
      span.setAttributes({
        [ATTR_LOCK_ATTEMPTS]: attempts,
        [ATTR_LOCK_WAIT_MS]: Math.round(waitedMs),
        [ATTR_LOCK_ACQUIRED]: outcome === 'acquired',
        [ATTR_LOCK_OUTCOME]: outcome,
      });
    }
    span.end();
  }

  /**
   * One attempt; a started lease or the reply saying when to retry. An attempt never waits longer than
   * the lease would live, nor less than the caller's wait. The deadline is the lock's own (shared timer
   * lists); with tracing on the adapter gets it too, so the command's span ends with it.
   */
  #attempt(
    autoExtend: boolean,
    callerContext: Context,
    remainingMs: number,
    traced: boolean,
    sentAt: number,
  ): Promise<AttemptResult> {
    const ctx = this.#ctx;
    const { ttlMs } = ctx.options;
    const token = newToken();
    const timeoutMs = Math.max(ttlMs, Math.ceil(remainingMs));
    const call = new AcquireCall(ctx, token, sentAt, callerContext, autoExtend, undefined);
    return call.run(
      ctx.backend.acquire(token, ttlMs, traced ? { timeoutMs } : undefined),
      timeoutMs,
      sentAt,
    ) as Promise<AttemptResult>;
  }

  async #acquire(callOptions: AcquireOptions | undefined, autoExtend: boolean): Promise<HeldLease> {
    const ctx = this.#ctx;
    const { options, telemetry } = ctx;
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
    const traced = span !== NON_RECORDING_SPAN;
    let outcome = 'error' as AcquireOutcome;
    let attempts = 0;
    // Set once the first attempt found the resource taken (the uncontended path allocates no state).
    let waiting: Waiting | undefined;
    try {
      if (signal?.aborted) {
        outcome = 'aborted';
        throw abortError(signal);
      }
      attempts = 1;
      const first = await (traced
        ? inSpan(span, () => this.#attempt(autoExtend, callerContext, waitMs, true, startedAt))
        : this.#attempt(autoExtend, callerContext, waitMs, false, startedAt));
      let lease: HeldLease;
      if (typeof first !== 'number') {
        lease = first;
      } else {
        waiting = { attempts: 1, outcome: 'error', wake: undefined };
        const state = waiting;
        lease = await (traced
          ? inSpan(span, () =>
              this.#retry(state, first, signal, waitMs, startedAt, callerContext, autoExtend, true),
            )
          : this.#retry(state, first, signal, waitMs, startedAt, callerContext, autoExtend, false));
      }
      outcome = 'acquired';
      if (traced && span.isRecording()) span.setAttribute(ATTR_LOCK_FENCING_TOKEN, lease.fencingToken);
      return lease;
    } catch (error) {
      if (waiting !== undefined) outcome = waiting.outcome;
      recordError(span, error);
      throw error;
    } finally {
      waiting?.wake?.leave();
      this.#finish(span, outcome, startedAt, waiting?.attempts ?? attempts);
    }
  }

  /** The resource was taken (`result`: when the holder expires at the latest): wait and retry. */
  async #retry(
    state: Waiting,
    firstResult: number,
    signal: AbortSignal | undefined,
    waitMs: number,
    startedAt: number,
    callerContext: Context,
    autoExtend: boolean,
    traced: boolean,
  ): Promise<HeldLease> {
    const { options, backend, redis } = this.#ctx;
    let result = firstResult;
    let wakeTried = !options.wakeUp;
    let woken = false;
    let generation = 0;
    for (;;) {
      const elapsed = performance.now() - startedAt;
      if (state.attempts >= options.maxAttempts || elapsed >= waitMs) {
        state.outcome = 'timed_out';
        throw new LockNotAcquiredError(
          `Could not acquire the ${this.#where} within ${waitMs} ms (${state.attempts} attempt${state.attempts === 1 ? '' : 's'})`,
          state.attempts,
          Math.round(elapsed),
        );
      }
      if (!wakeTried) {
        // Contended: subscribe to release notifications, then retry at once, since a release may
        // have happened before the subscription was in place.
        wakeTried = true;
        state.wake = await joinWithin(
          joinWakeUps(redis, backend.channel, backend.sharded, backend.wakeAll),
          waitMs - (performance.now() - startedAt),
          signal,
        );
      } else {
        const remaining = waitMs - (performance.now() - startedAt);
        const jitter = options.retryJitterMs > 0 ? Math.random() * options.retryJitterMs : 0;
        let delay = Math.min(options.retryDelayMs + jitter, remaining);
        // Never sleep past the holder's expiry (expiry publishes nothing).
        if (result >= 0) delay = Math.min(delay, result + 1);
        delay = Math.max(0, delay);
        const wake = state.wake;
        const waited =
          wake !== undefined ? await wake.wait(generation, delay, signal) : await sleep(delay, signal);
        if (waited === 'aborted') {
          state.outcome = 'aborted';
          throw abortError(signal!);
        }
        woken = waited === 'woken';
      }
      if (signal?.aborted) {
        state.outcome = 'aborted';
        // A release woke this waiter but it gives up: let the next waiter have the wake-up.
        if (woken) state.wake?.forward();
        throw abortError(signal);
      }
      woken = false;
      generation = state.wake?.generation ?? 0;
      state.attempts++;
      const sentAt = performance.now();
      const attempt = await this.#attempt(
        autoExtend,
        callerContext,
        waitMs - (sentAt - startedAt),
        traced,
        sentAt,
      );
      if (typeof attempt !== 'number') return attempt;
      result = attempt;
    }
  }

  acquire(callOptions?: AcquireOptions): Promise<Lease> {
    const ctx = this.#ctx;
    const { telemetry, options } = ctx;
    if (callOptions !== undefined || telemetry.metered || tracingOn(telemetry)) {
      return this.#acquire(callOptions, options.autoExtend);
    }
    // Nothing to record (no SDK) and no per-call options: the first attempt's promise is the caller's,
    // with no async function around it; a taken resource continues in `retryUnrecorded`.
    const startedAt = performance.now();
    const token = newToken();
    const { ttlMs, waitMs } = options;
    const timeoutMs = Math.max(ttlMs, waitMs);
    const call = new AcquireCall(ctx, token, startedAt, context.active(), options.autoExtend, this);
    return call.run(ctx.backend.acquire(token, ttlMs, undefined), timeoutMs, startedAt) as Promise<Lease>;
  }

  /**
   * @internal The first attempt of an unrecorded {@link acquire} found the resource taken (`retryInMs`):
   * the retry loop, as {@link #acquire} runs it (whose span and metrics would record nothing here).
   */
  async retryUnrecorded(
    retryInMs: number,
    startedAt: number,
    callerContext: Context,
    autoExtend: boolean,
  ): Promise<HeldLease> {
    const waiting: Waiting = { attempts: 1, outcome: 'error', wake: undefined };
    try {
      return await this.#retry(
        waiting,
        retryInMs,
        undefined,
        this.#ctx.options.waitMs,
        startedAt,
        callerContext,
        autoExtend,
        false,
      );
    } finally {
      waiting.wake?.leave();
    }
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
    const traced = span !== NON_RECORDING_SPAN;
    let outcome = 'error' as AcquireOutcome;
    try {
      const result = await (traced
        ? inSpan(span, () => this.#attempt(ctx.options.autoExtend, callerContext, 0, true, startedAt))
        : this.#attempt(ctx.options.autoExtend, callerContext, 0, false, startedAt));
      if (typeof result === 'number') {
        outcome = 'busy';
        return null;
      }
      outcome = 'acquired';
      if (traced && span.isRecording()) span.setAttribute(ATTR_LOCK_FENCING_TOKEN, result.fencingToken);
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
