import { type Attributes, type Context, context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { type RedisLike, type RedisReply, TimerEntry } from '@redisotel/core-hooks';
import { parseRelease } from './backend.js';
import { DeadlineCall } from './call.js';
import { LockLostError, type LockLostReason, LockUnavailableError } from './errors.js';
import type { Backend } from './internal-types.js';
import type { ResolvedOptions } from './options.js';
import {
  ATTR_ERROR_TYPE,
  ATTR_LOCK_AUTO,
  ATTR_LOCK_EXTENDED,
  ATTR_LOCK_FENCING_TOKEN,
  ATTR_LOCK_LOST_REASON,
  ATTR_LOCK_RELEASED,
  ATTR_LOCK_RESOURCE,
  ATTR_LOCK_TTL_MS,
  EVENT_LOCK_LOST,
  type LockKind,
  type LockTelemetry,
  NON_RECORDING_SPAN,
  SPAN_OPERATIONS,
  tracingOn,
} from './telemetry.js';
import type { Lease } from './types.js';

/** What a lease needs from the lock that issued it. */
export interface LeaseContext {
  readonly redis: RedisLike;
  readonly backend: Backend;
  readonly options: ResolvedOptions;
  readonly telemetry: LockTelemetry;
  readonly kind: LockKind;
  readonly resource: string;
  /** {@link spanAttributes} of this lock. */
  readonly spanAttributes: Attributes;
}

/** Record `error` on `span` (type, status, exception). */
export function recordError(span: Span, error: unknown): void {
  const type =
    typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : typeof error;
  span.setAttribute(ATTR_ERROR_TYPE, type);
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
}

/** The span attributes every span of one lock carries (computed once per lock). */
export function spanAttributes(ctx: Omit<LeaseContext, 'spanAttributes'>): Attributes {
  if (!ctx.options.recordResource) return ctx.telemetry.baseAttributes;
  const attributes: Attributes = { ...ctx.telemetry.baseAttributes };
  if (ctx.options.recordResource) attributes[ATTR_LOCK_RESOURCE] = ctx.resource;
  return Object.freeze(attributes);
}

/**
 * Run `fn` with `span` active, so the adapter's command spans become its children. A non-recording
 * span (no SDK, or not sampled) carries its parent's context already: skip the context switch.
 */
export function inSpan<T>(span: Span, fn: () => T): T {
  return span.isRecording() ? context.with(trace.setSpan(context.active(), span), fn) : fn();
}

function onLeaseTimer(lease: HeldLease): void {
  lease.onTimer();
}

/** A held lease: extension timers, loss detection and release. */
export class HeldLease implements Lease {
  readonly resource: string;
  readonly token: string;
  readonly fencingToken: number;
  expiresAt: number;
  readonly #ctx: LeaseContext;
  #state: 'held' | 'released' | 'lost' = 'held';
  #ttlMs: number;
  /** `performance.now()` by which the lease surely expired on Redis if not extended since. */
  #deadline: number;
  readonly #acquiredAt: number;
  /** One timer for both automatic extension and loss detection (on the shared lists of timers.ts). */
  readonly #timer = new TimerEntry(onLeaseTimer, this);
  #autoExtend = false;
  #nextExtendAt = Number.POSITIVE_INFINITY;
  #extending = false;
  /** Created on first access of `signal` (most leases are released without anyone reading it). */
  #controller: AbortController | undefined;
  #lostError: LockLostError | undefined;
  #lastError: unknown;
  /** The context extension spans start in: the one `acquire` was called in (withLock's span, say). */
  readonly #parentContext: Context;
  /** A span to put the loss event on besides the detecting one (withLock's span). */
  lossSpan: Span | undefined;

  constructor(
    ctx: LeaseContext,
    token: string,
    fencingToken: number,
    expiresAt: number,
    sentAt: number,
    parentContext: Context,
  ) {
    this.#ctx = ctx;
    this.resource = ctx.resource;
    this.token = token;
    this.fencingToken = fencingToken;
    this.expiresAt = expiresAt;
    this.#ttlMs = ctx.options.ttlMs;
    // Redis set the expiry after we sent the script, so counting from the send is conservative.
    this.#deadline = sentAt + this.#ttlMs;
    this.#acquiredAt = sentAt;
    this.#parentContext = parentContext;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#lostError !== undefined) this.#controller.abort(this.#lostError);
    }
    return this.#controller.signal;
  }

  get held(): boolean {
    return this.#state === 'held';
  }

  /**
   * Arm the loss timer and, when asked, automatic extension; `now` is when the acquire script was sent
   * (so the first extension comes a little early, never late).
   */
  start(autoExtend: boolean, now: number): void {
    this.#autoExtend = autoExtend;
    if (autoExtend) this.#nextExtendAt = now + this.#ctx.options.autoExtendIntervalMs;
    this.#arm(now);
  }

  /** (Re)arm the one timer for the next thing due: an extension, or the deadline. */
  #arm(now?: number): void {
    if (this.#state !== 'held') return;
    this.#timer.schedule(
      this.#extending ? this.#deadline : Math.min(this.#deadline, this.#nextExtendAt),
      now ?? performance.now(),
    );
  }

  /** @internal The lease timer fired (see {@link onLeaseTimer}). */
  onTimer(): void {
    if (this.#state !== 'held') return;
    const now = performance.now();
    if (now >= this.#deadline) {
      // No extension succeeded in time: Redis has expired (or is about to expire) the lease.
      this.#lose('expired', this.#lastError, undefined);
      return;
    }
    if (this.#autoExtend && !this.#extending && now >= this.#nextExtendAt) this.#autoExtendNow();
    this.#arm();
  }

  #autoExtendNow(): void {
    this.#extending = true;
    context
      .with(this.#parentContext, () => this.#extend(this.#ttlMs, true))
      .then(
        () => {
          this.#nextExtendAt = performance.now() + this.#ctx.options.autoExtendIntervalMs;
        },
        (error: unknown) => {
          // Redis unreachable: try again soon, well before the deadline; the timer declares the lease
          // lost if no attempt succeeds in time. (A loss found by the extension is already recorded.)
          this.#lastError = LockUnavailableError.isInstance(error) ? error.cause : error;
          const remaining = this.#deadline - performance.now();
          this.#nextExtendAt =
            performance.now() + Math.max(10, Math.min(this.#ctx.options.autoExtendIntervalMs, remaining / 4));
        },
      )
      .finally(() => {
        this.#extending = false;
        this.#arm();
      });
  }

  extend(ms?: number): Promise<void> {
    if (ms !== undefined && (!Number.isInteger(ms) || ms < 1 || ms > 2_147_483_647)) {
      return Promise.reject(
        new RangeError(`lease.extend: "ms" must be an integer from 1 to 2147483647, received ${String(ms)}`),
      );
    }
    return this.#extend(ms ?? this.#ttlMs, false);
  }

  async #extend(ttlMs: number, auto: boolean): Promise<void> {
    const { telemetry } = this.#ctx;
    const span = tracingOn(telemetry)
      ? telemetry.tracer.startSpan(`${this.#ctx.kind} ${SPAN_OPERATIONS.extend}`, {
          attributes: {
            ...this.#ctx.spanAttributes,
            [ATTR_LOCK_FENCING_TOKEN]: this.fencingToken,
            [ATTR_LOCK_TTL_MS]: ttlMs,
            [ATTR_LOCK_AUTO]: auto,
          },
        })
      : NON_RECORDING_SPAN;
    try {
      if (this.#state !== 'held') {
        const error = this.#notHeldError();
        span.setAttribute(ATTR_LOCK_EXTENDED, false);
        throw error;
      }
      const sentAt = performance.now();
      // Automatic extension must not hang past the deadline; an explicit call waits for the adapter.
      const timeoutMs = auto ? Math.max(10, Math.floor(this.#deadline - sentAt)) : undefined;
      let reply: { extended: boolean; expiresAt: number };
      try {
        reply = await inSpan(span, () => this.#ctx.backend.extend(this.token, ttlMs, timeoutMs));
      } catch (error) {
        throw new LockUnavailableError(
          `Could not extend the ${this.#ctx.kind} "${this.#ctx.options.name}": Redis failed`,
          'extend',
          { cause: error },
        );
      }
      span.setAttribute(ATTR_LOCK_EXTENDED, reply.extended);
      if (this.#state !== 'held') {
        // Released (or lost) while the extension was in flight: the outcome no longer matters.
        if (reply.extended) return;
        throw this.#notHeldError();
      }
      if (!reply.extended) {
        this.#lose('not-held', undefined, span);
        throw this.#lostError;
      }
      this.expiresAt = reply.expiresAt;
      this.#ttlMs = ttlMs;
      this.#lastError = undefined;
      this.#deadline = sentAt + ttlMs;
      this.#arm();
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  #notHeldError(): LockLostError {
    if (this.#lostError !== undefined) return this.#lostError;
    return new LockLostError(
      `The ${this.#ctx.kind} "${this.#ctx.options.name}" was already released`,
      'not-held',
    );
  }

  /** Mark the lease lost: stop timers, abort the signal, record the loss. */
  #lose(reason: LockLostReason, cause: unknown, span: Span | undefined): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#stopTimers();
    const { telemetry } = this.#ctx;
    const error = new LockLostError(
      reason === 'not-held'
        ? `Lost the ${this.#ctx.kind} "${this.#ctx.options.name}": Redis no longer holds this lease`
        : `Lost the ${this.#ctx.kind} "${this.#ctx.options.name}": it could not be extended before it expired`,
      reason,
      cause === undefined ? undefined : { cause },
    );
    const eventAttributes = { [ATTR_LOCK_LOST_REASON]: reason, [ATTR_LOCK_FENCING_TOKEN]: this.fencingToken };
    telemetry.lost.add(1, { ...telemetry.baseAttributes, [ATTR_LOCK_LOST_REASON]: reason });
    telemetry.holdDuration.record((performance.now() - this.#acquiredAt) / 1000, telemetry.baseAttributes);
    if (span !== undefined) span.addEvent(EVENT_LOCK_LOST, eventAttributes);
    if (this.lossSpan !== undefined) this.lossSpan.addEvent(EVENT_LOCK_LOST, eventAttributes);
    if (span === undefined && this.lossSpan === undefined) {
      // Found by the expiry timer, outside any span: a short span carries the event.
      const lostSpan = telemetry.tracer.startSpan(
        `${this.#ctx.kind} ${SPAN_OPERATIONS.lost}`,
        { attributes: this.#ctx.spanAttributes },
        this.#parentContext,
      );
      lostSpan.addEvent(EVENT_LOCK_LOST, eventAttributes);
      lostSpan.end();
    }
    this.#lostError = error;
    this.#controller?.abort(error);
  }

  #stopTimers(): void {
    this.#timer.cancel();
  }

  release(): Promise<boolean> {
    const { telemetry } = this.#ctx;
    if (tracingOn(telemetry)) return this.#releaseTraced();
    // No SDK: no span, no async function around the one script call.
    if (this.#state !== 'held') return Promise.resolve(false);
    this.#state = 'released';
    this.#stopTimers();
    const now = performance.now();
    if (telemetry.metered)
      telemetry.holdDuration.record((now - this.#acquiredAt) / 1000, telemetry.baseAttributes);
    return new ReleaseCall(this.#ctx).run(this.#ctx.backend.release(this.token, undefined), this.#ttlMs, now);
  }

  async #releaseTraced(): Promise<boolean> {
    const { telemetry } = this.#ctx;
    const span = telemetry.tracer.startSpan(`${this.#ctx.kind} ${SPAN_OPERATIONS.release}`, {
      attributes: { ...this.#ctx.spanAttributes, [ATTR_LOCK_FENCING_TOKEN]: this.fencingToken },
    });
    try {
      if (this.#state !== 'held') {
        span.setAttribute(ATTR_LOCK_RELEASED, false);
        return false;
      }
      this.#state = 'released';
      this.#stopTimers();
      telemetry.holdDuration.record((performance.now() - this.#acquiredAt) / 1000, telemetry.baseAttributes);
      // After ttlMs the lease expires on its own: waiting longer for Redis is pointless. The adapter
      // gets the deadline too, so the command's span ends with it.
      const ttlMs = this.#ttlMs;
      const now = performance.now();
      const released = await inSpan(span, () =>
        new ReleaseCall(this.#ctx).run(
          this.#ctx.backend.release(this.token, { timeoutMs: ttlMs }),
          ttlMs,
          now,
        ),
      );
      span.setAttribute(ATTR_LOCK_RELEASED, released);
      return released;
    } catch (error) {
      recordError(span, error);
      throw error;
    } finally {
      span.end();
    }
  }
}

/** One release script run under its deadline (the lease's TTL: after it the lease expires anyway). */
class ReleaseCall extends DeadlineCall<boolean> {
  readonly #ctx: LeaseContext;

  constructor(ctx: LeaseContext) {
    super();
    this.#ctx = ctx;
  }

  protected override map(reply: RedisReply): boolean {
    return parseRelease(reply);
  }

  protected override failure(error: unknown): unknown {
    return new LockUnavailableError(
      `Could not release the ${this.#ctx.kind} "${this.#ctx.options.name}": Redis failed (it expires on its own)`,
      'release',
      { cause: error },
    );
  }
}
