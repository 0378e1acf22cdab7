import { setTimeout as sleep } from 'node:timers/promises';
import { RedisDeploymentError } from './errors.js';

/**
 * Poll `check` until it returns `undefined` (done) or the deadline passes. `check` returns (or throws)
 * the reason it is not done yet; the last reason goes into the timeout error.
 * @internal
 */
export async function waitUntil(
  what: string,
  deadline: number,
  check: () => Promise<string | undefined>,
  intervalMs = 50,
): Promise<void> {
  let reason = 'not checked yet';
  for (;;) {
    try {
      const notYet = await check();
      if (notYet === undefined) return;
      reason = notYet;
    } catch (error) {
      reason = (error as Error).message;
    }
    if (Date.now() >= deadline) {
      throw new RedisDeploymentError(`${what}: still not done at the deadline (${reason})`);
    }
    await sleep(intervalMs);
  }
}
