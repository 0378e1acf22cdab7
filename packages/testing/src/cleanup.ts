import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * Everything this process started and has not cleaned up yet: server pids and temporary directories.
 * Cleaned three ways: by the handle's `stop()`; by `exit`/`SIGINT`/`SIGTERM` handlers of this process;
 * and by a detached reaper process that holds a pipe from us and cleans up when the pipe closes (this
 * process died, even by SIGKILL).
 */
const pids = new Set<number>();
const directories = new Set<string>();
let reaper: ChildProcess | undefined;
let handlersInstalled = false;

/**
 * The reaper, run with `node -e`. It reads `+pid N`, `-pid N`, `+dir D`, `-dir D` lines on stdin; when
 * stdin ends it SIGKILLs the pids still registered (on Linux only when their working directory is still
 * a registered directory, so a recycled pid is never hit) and removes the directories.
 */
const REAPER_SOURCE = `
const fs = require('node:fs');
const pids = new Set();
const dirs = new Set();
let rest = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  rest += chunk;
  let index;
  while ((index = rest.indexOf('\\n')) >= 0) {
    const line = rest.slice(0, index);
    rest = rest.slice(index + 1);
    const value = line.slice(5);
    if (line.startsWith('+pid ')) pids.add(Number(value));
    else if (line.startsWith('-pid ')) pids.delete(Number(value));
    else if (line.startsWith('+dir ')) dirs.add(value);
    else if (line.startsWith('-dir ')) dirs.delete(value);
  }
});
const ours = (pid) => {
  if (!fs.existsSync('/proc')) return true;
  try {
    const cwd = fs.readlinkSync('/proc/' + pid + '/cwd');
    for (const dir of dirs) if (cwd === dir || cwd.startsWith(dir + '/')) return true;
    return false;
  } catch { return false; }
};
const finish = () => {
  for (const pid of pids) { try { if (ours(pid)) process.kill(pid, 'SIGKILL'); } catch {} }
  const deadline = Date.now() + 2000;
  const sweep = () => {
    for (const dir of dirs) { try { fs.rmSync(dir, { recursive: true, force: true }); } catch {} }
    process.exit(0);
  };
  // give the kernel a moment to release the killed processes' working directories
  const wait = () => {
    let alive = false;
    for (const pid of pids) {
      try {
        process.kill(pid, 0);
        // zombies (killed, waiting for their new parent to reap them) count as gone
        if (!/^\\d+ \\(.*\\) Z/.test(fs.readFileSync('/proc/' + pid + '/stat', 'utf8'))) alive = true;
      } catch {}
    }
    if (alive && Date.now() < deadline) setTimeout(wait, 20); else sweep();
  };
  wait();
};
process.stdin.on('end', finish);
process.stdin.on('close', finish);
process.stdin.on('error', finish);
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});
`;

function send(line: string): void {
  if (!reaper?.stdin || reaper.stdin.destroyed) return;
  try {
    reaper.stdin.write(`${line}\n`);
  } catch {
    // the reaper is gone; the exit handlers still clean up
  }
}

function ensureReaper(): void {
  if (reaper && reaper.exitCode === null && reaper.signalCode === null) return;
  try {
    reaper = spawn(process.execPath, ['-e', REAPER_SOURCE], {
      cwd: tmpdir(),
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: process.env.PATH ?? '' },
      windowsHide: true,
    });
    reaper.on('error', () => {
      reaper = undefined;
    });
    reaper.stdin?.on('error', () => {});
    // Neither the reaper nor its pipe may keep this process alive.
    reaper.unref();
    (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    for (const pid of pids) send(`+pid ${pid}`);
    for (const dir of directories) send(`+dir ${dir}`);
  } catch {
    reaper = undefined;
  }
}

/** Synchronously kill what is left and remove the directories (exit and signal handlers). */
function cleanupNow(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  pids.clear();
  for (const dir of directories) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
    } catch {
      // best effort
    }
  }
  directories.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupNow();
  // When we are the only listener, keep the default behaviour of the signal: terminate.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupNow);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

/** @internal */
export function registerDirectory(dir: string): void {
  installHandlers();
  ensureReaper();
  directories.add(dir);
  send(`+dir ${dir}`);
}

/** @internal */
export function releaseDirectory(dir: string): void {
  directories.delete(dir);
  send(`-dir ${dir}`);
}

/** @internal */
export function registerPid(pid: number): void {
  installHandlers();
  ensureReaper();
  pids.add(pid);
  send(`+pid ${pid}`);
}

/** @internal */
export function releasePid(pid: number): void {
  pids.delete(pid);
  send(`-pid ${pid}`);
}

/**
 * The pid of this process's reaper, when one runs (tests).
 * @internal
 */
export function reaperPid(): number | undefined {
  return reaper?.pid;
}
