import { type RedisReply, TimerEntry, timeoutError } from '@redisotel/core-hooks';

function ignore(): void {}

/**
 * One script call raced against a deadline on the shared timer lists (timers.ts) instead of the
 * adapter's `timeoutMs` (a Node timer and a wrapper promise per call): the reply is mapped by
 * {@link DeadlineCall.map} and a failure (or the deadline) by {@link DeadlineCall.failure}, both in
 * the one reaction to the adapter's promise, and the caller gets the promise {@link DeadlineCall.run}
 * returns. A reply that comes after the deadline is ignored.
 */
export abstract class DeadlineCall<T> extends TimerEntry {
  #resolve: ((value: T) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #timeoutMs = 0;

  constructor() {
    super(ignore, undefined);
  }

  /** The result for `reply` (throwing rejects the caller with that error). */
  protected abstract map(reply: RedisReply): T;

  /** The error the caller rejects with when the call failed or `error` is the deadline's timeout. */
  protected abstract failure(error: unknown): unknown;

  /** Settle with `call`'s mapped reply, or reject after `timeoutMs` (`performance.now()` based). */
  run(call: Promise<RedisReply>, timeoutMs: number, now: number): Promise<T> {
    this.#timeoutMs = timeoutMs;
    const promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.schedule(now + timeoutMs, now);
    call.then(
      (reply) => this.#settle(reply),
      (error: unknown) => this.#fail(error),
    );
    return promise;
  }

  #settle(reply: RedisReply): void {
    if (!this.scheduled) return; // the deadline passed first
    this.cancel();
    let value: T;
    try {
      value = this.map(reply);
    } catch (error) {
      this.#reject!(error);
      return;
    }
    this.#resolve!(value);
  }

  #fail(error: unknown): void {
    if (!this.scheduled) return;
    this.cancel();
    this.#reject!(this.failure(error));
  }

  /** @internal The deadline passed (the timer list has already unscheduled the entry). */
  override fire(): void {
    const timeoutMs = this.#timeoutMs;
    this.#reject!(this.failure(timeoutError(timeoutMs)));
  }
}
