import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { alive, eventually, expectCleanedUp } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/start-and-die.mts', import.meta.url));
const packageDirectory = fileURLToPath(new URL('..', import.meta.url));

interface Started {
  pid: number;
  directory: string;
  reaper: number;
}

/** Run the fixture in its own Node process; resolve with what it started and how it ended. */
function runFixture(mode: string): Promise<{ started: Started; code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], {
      cwd: packageDirectory,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (!line) {
        reject(new Error(`the fixture printed nothing (code ${code}, signal ${signal}): ${stderr}`));
        return;
      }
      resolve({ started: JSON.parse(line) as Started, code, signal });
    });
  });
}

describe('cleanup when the process that started the servers dies', () => {
  it('the reaper kills the servers and removes the directory after a SIGKILL', async () => {
    const { started, signal } = await runFixture('sigkill');
    expect(signal).toBe('SIGKILL');
    expect(started.pid).toBeGreaterThan(0);
    expect(started.directory).toMatch(/\/redisotel-standalone-[^/]+$/);
    expect(started.reaper).toBeGreaterThan(0);
    await expectCleanedUp([started.pid], [started.directory]);
    // and the reaper itself goes away
    await eventually('reaper exited', () => !alive(started.reaper));
  });

  it('the exit handler cleans up on process.exit()', async () => {
    const { started, code } = await runFixture('exit');
    expect(code).toBe(3);
    await expectCleanedUp([started.pid], [started.directory]);
  });

  it('the signal handler cleans up on SIGTERM and the process still terminates', async () => {
    const { started, signal } = await runFixture('sigterm');
    expect(signal).toBe('SIGTERM');
    await expectCleanedUp([started.pid], [started.directory]);
  });

  it('servers do not keep a forgetful process alive, and are cleaned up when it ends', async () => {
    const { started, code } = await runFixture('forget');
    expect(code).toBe(0);
    await expectCleanedUp([started.pid], [started.directory]);
    expect(existsSync(started.directory)).toBe(false);
  });
});
