import { RedisTimeoutError } from '@redisotel/core-hooks';

interface Pending {
  readonly at: number;
  readonly reject: (error: unknown) => void;
}

/**
 * The cache's per-round-trip deadline, shared by every call in flight: one coarse interval timer (a
 * quarter of the timeout, 5–250 ms) instead of a timer armed and cleared per command, which costs more
 * than the rest of a cache hit. A call that misses its deadline rejects with `RedisTimeoutError` between
 * `timeoutMs` and `timeoutMs` + one tick after it started; the command may still run on the server.
 */
export class Deadlines {
  readonly #timeoutMs: number;
  readonly #tickMs: number;
  readonly #pending = new Set<Pending>();
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#tickMs = Math.max(5, Math.min(250, Math.ceil(timeoutMs / 4)));
  }

  /**
   * `promise`, or a `RedisTimeoutError` if it has not settled by the deadline. `settled` (if given) sees
   * the outcome first (the circuit breaker's bookkeeping), in the same promise layer.
   */
  race<T>(promise: Promise<T>, settled?: (error: unknown) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = {
        at: performance.now() + this.#timeoutMs,
        reject: (error) => {
          settled?.(error);
          reject(error);
        },
      };
      this.#pending.add(pending);
      if (this.#timer === undefined) this.#arm();
      promise.then(
        (value) => {
          if (!this.#pending.delete(pending)) return;
          settled?.(undefined);
          resolve(value);
        },
        (error: unknown) => {
          if (!this.#pending.delete(pending)) return;
          settled?.(error ?? new Error('rejected with undefined'));
          reject(error);
        },
      );
    });
  }

  #arm(): void {
    this.#timer = setInterval(() => this.#sweep(), this.#tickMs);
    this.#timer.unref();
  }

  #sweep(): void {
    if (this.#pending.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const pending of this.#pending) {
      if (pending.at <= now) {
        this.#pending.delete(pending);
        pending.reject(
          new RedisTimeoutError(
            `Redis did not answer within the cache's timeoutMs (${this.#timeoutMs} ms)`,
            this.#timeoutMs,
          ),
        );
      }
    }
  }

  /** Stop the timer (pending calls keep their own promises). */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
