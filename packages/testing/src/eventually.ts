import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** Give up after this long, in ms. @default 15000 */
  readonly timeoutMs?: number;
  /** Wait this long between two checks, in ms. @default 50 */
  readonly intervalMs?: number;
}

/**
 * Poll `check` until it returns (or resolves to) `true`, for things that happen asynchronously: a
 * reconnect, a span that ends on a later tick, a message delivered. A check that throws counts as not
 * yet. The timeout is a deadline, not a timing assertion.
 * @throws {Error} `condition not met in time` once `timeoutMs` passed without a `true`.
 * @example
 * ```ts
 * await eventually(() => messages.length === 2);
 * await eventually(async () => (await redis.send({ name: 'PING', args: [] })) === 'PONG', { timeoutMs: 20_000 });
 * ```
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  options: EventuallyOptions = {},
): Promise<void> {
  const { timeoutMs = 15_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet: keep polling
    }
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(intervalMs);
  }
}
