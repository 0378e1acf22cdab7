import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/** How to start data servers and sentinels from local binaries. */
export interface RedisBinaries {
  /** Path of `redis-server`. */
  readonly server: string;
  /** The command that runs a sentinel: `[redis-sentinel]` or `[redis-server, '--sentinel']` (flag last). */
  readonly sentinel: { readonly file: string; readonly sentinelFlag: boolean };
  /** `7.0.15` from `redis-server --version`. */
  readonly version: string;
  /** The major version number. */
  readonly major: number;
}

type Env = Readonly<Record<string, string | undefined>>;

function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: Env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Find `redis-server` (`REDIS_SERVER_BIN`, else `PATH`) and a way to run a sentinel
 * (`REDIS_SENTINEL_BIN`, else `redis-sentinel` beside the server or on `PATH`, else `redis-server --sentinel`).
 * Returns the reason when there is none.
 * @internal
 */
export function findBinaries(env: Env): RedisBinaries | { reason: string } {
  let server: string | undefined;
  const explicit = env.REDIS_SERVER_BIN;
  if (explicit !== undefined && explicit !== '') {
    if (!isExecutable(explicit)) {
      return { reason: `REDIS_SERVER_BIN=${explicit} is not an executable file` };
    }
    server = explicit;
  } else {
    server = onPath('redis-server', env);
    if (server === undefined)
      return { reason: 'redis-server is not on PATH and REDIS_SERVER_BIN is not set' };
  }
  let version: string;
  try {
    const output = execFileSync(server, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    const match = /v=(\d+\.\d+\.\d+)/.exec(output);
    if (!match?.[1]) return { reason: `${server} --version printed no version: ${output.trim()}` };
    version = match[1];
  } catch (error) {
    return { reason: `${server} --version failed: ${(error as Error).message}` };
  }
  const major = Number(version.split('.')[0]);
  if (major < 6) return { reason: `${server} is Redis ${version}; Redis 6.2 or newer is needed` };

  let sentinel: RedisBinaries['sentinel'];
  const sentinelBin = env.REDIS_SENTINEL_BIN;
  if (sentinelBin !== undefined && sentinelBin !== '') {
    if (!isExecutable(sentinelBin)) {
      return { reason: `REDIS_SENTINEL_BIN=${sentinelBin} is not an executable file` };
    }
    sentinel = { file: sentinelBin, sentinelFlag: false };
  } else {
    const beside = join(dirname(server), 'redis-sentinel');
    const found = isExecutable(beside) ? beside : onPath('redis-sentinel', env);
    sentinel = found ? { file: found, sentinelFlag: false } : { file: server, sentinelFlag: true };
  }
  return { server, sentinel, version, major };
}
