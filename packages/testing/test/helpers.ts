import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Whether a process with this pid exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // a zombie (killed, not yet reaped by its new parent) is dead for our purposes
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Poll until `check` is true; fails with `what` after `timeoutMs` (a deadline, not a timing assertion). */
export async function eventually(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still not true after ${timeoutMs}ms: ${what}`);
    await sleep(50);
  }
}

/** Every pid is gone and every directory removed. */
export async function expectCleanedUp(
  pids: readonly number[],
  directories: readonly string[],
): Promise<void> {
  await eventually(`pids ${pids.join(', ')} gone`, () => pids.every((pid) => !alive(pid)));
  await eventually(`${directories.join(', ')} removed`, () => directories.every((dir) => !existsSync(dir)));
}

/** An environment where no Redis can be found: no external variables, no binary, no Docker. */
export function noRedisEnv(): Record<string, string | undefined> {
  return { PATH: '/nonexistent-bin', REDIS_SERVER_BIN: '/nonexistent/redis-server' };
}
