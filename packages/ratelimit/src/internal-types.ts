/** The state of one limit as a script (or the local limiter) reports it. */
export interface RawLimitState {
  readonly remaining: number;
  readonly resetAfterMs: number;
  /** 0 when admitted, -1 when never, else the wait in ms. */
  readonly retryAfterMs: number;
}

/** What one script call (or local limiter call) answers. */
export interface RawResult {
  readonly allowed: boolean;
  /** 0 no block, 1 already blocked, 2 this denied consume started a block. */
  readonly blocked: 0 | 1 | 2;
  readonly limits: readonly RawLimitState[];
}

/** The script modes. */
export type Mode = 1 | 2 | 3 | 4;
