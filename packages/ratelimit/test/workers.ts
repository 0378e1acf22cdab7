import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./fixtures/consume-worker.ts', import.meta.url));

/** One worker's answer per algorithm. */
export interface WorkerResult {
  algorithm: string;
  allowed: number;
  denied: number;
  sources: string[];
  maxRetryAfterMs: number;
  minRetryAfterMs: number;
  maxResetAfterMs: number;
}

interface Running {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<WorkerResult[]>;
}

function start(job: object): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(job)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const lines = createInterface({ input: child.stdout! });
  let onReady: () => void;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  const result = new Promise<WorkerResult[]>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') onReady();
      else if (line.startsWith('[')) resolve(JSON.parse(line) as WorkerResult[]);
    });
    child.on('exit', (code) => reject(new Error(`worker exited with ${code}: ${stderr.slice(-2000)}`)));
  });
  result.catch(() => undefined); // handled by the caller; never an unhandled rejection
  // Surface an early exit while waiting for `ready` too.
  const readyOrExit = Promise.race([ready, result.then(() => undefined)]);
  return { child, ready: readyOrExit, result };
}

/**
 * Run one worker process per job, start them together (after all connected) and collect their
 * results. Each job is the worker's JSON (see fixtures/consume-worker.ts).
 */
export async function runWorkers(jobs: readonly object[]): Promise<WorkerResult[][]> {
  const running = jobs.map(start);
  try {
    await Promise.all(running.map((r) => r.ready));
    for (const r of running) r.child.stdin!.write('go\n');
    return await Promise.all(running.map((r) => r.result));
  } finally {
    for (const r of running) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  }
}
