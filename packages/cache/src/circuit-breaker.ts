/**
 * A consecutive-failure circuit breaker for one cache instance. Open after `failureThreshold`
 * consecutive Redis failures; after `openMs`, one probe call is let through (half-open): success
 * closes the circuit, failure opens it again. Local process state on the monotonic clock.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #openMs: number;
  #failures = 0;
  #openUntil = 0;
  #probing = false;

  constructor(failureThreshold: number, openMs: number) {
    this.#threshold = failureThreshold;
    this.#openMs = openMs;
  }

  /** Whether a call may go to Redis now (claims the half-open probe when due). */
  allow(): boolean {
    if (this.#failures < this.#threshold) return true;
    if (this.#probing) return false;
    if (performance.now() < this.#openUntil) return false;
    this.#probing = true;
    return true;
  }

  get isOpen(): boolean {
    return this.#failures >= this.#threshold;
  }

  success(): void {
    this.#failures = 0;
    this.#probing = false;
  }

  failure(): void {
    this.#failures++;
    this.#probing = false;
    if (this.#failures >= this.#threshold) this.#openUntil = performance.now() + this.#openMs;
  }
}
