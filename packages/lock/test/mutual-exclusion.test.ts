import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RedisLike } from '@redisotel/core-hooks';
import { CLIENTS, type ConnectedClient, connectClient } from '@redisotel/test-clients';
import type { RedisDeployment } from '@redisotel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deploymentFor, filePrefix, TOPOLOGIES } from './support.js';

const prefix = filePrefix('mutex');
const worker = fileURLToPath(new URL('./fixtures/critical-section-worker.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));

interface WorkerSummary {
  worker: string;
  violations: number;
  maxInside: number;
}

/** Run one worker process (`node --import tsx`) and resolve with its summary. */
function runWorker(input: Record<string, unknown>): Promise<WorkerSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, JSON.stringify(input)], {
      cwd: packageDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`worker ${String(input.worker)} exited with ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop()!) as WorkerSummary);
    });
  });
}

describe.each(TOPOLOGIES)('%s: several processes × many iterations', (topology) => {
  let deployment: RedisDeployment;
  let connected: ConnectedClient;
  let redis: RedisLike;
  const send = (name: string, args: (string | number)[]) => redis.send({ name, args, keys: [0] });

  beforeAll(async () => {
    deployment = await deploymentFor(topology);
    connected = await connectClient(CLIENTS[0]!, deployment);
    redis = connected.redis;
  });
  afterAll(async () => {
    await connected?.close();
  });

  it('control: without the lock the same read-modify-write loses updates', async () => {
    const base = `${prefix}control:{${topology}}`;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const value = Number((await send('GET', [`${base}:counter`])) ?? 0);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
        await send('SET', [`${base}:counter`, value + 1]);
      }),
    );
    expect(Number(await send('GET', [`${base}:counter`]))).toBeLessThan(10);
  });

  it('the lock keeps a read-modify-write exact and fencing tokens strictly increasing', async () => {
    const resource = `counter-${topology}`;
    const iterations = 40;
    // Two processes per client library: node-redis and ioredis holders contend for one lock.
    const workers = [...CLIENTS, ...CLIENTS].map((client, i) => ({
      deployment,
      client: client.name,
      prefix,
      resource,
      iterations,
      worker: `w${i}`,
    }));
    const summaries = await Promise.all(workers.map(runWorker));
    const base = `${prefix}data:{${resource}}`;
    expect(Number(await send('GET', [`${base}:counter`]))).toBe(workers.length * iterations);
    expect(summaries.map((s) => s.violations)).toEqual(workers.map(() => 0));
    const fences = ((await send('LRANGE', [`${base}:fences`, 0, -1])) as string[]).map(Number);
    expect(fences).toHaveLength(workers.length * iterations);
    for (let i = 1; i < fences.length; i++) expect(fences[i]!).toBeGreaterThan(fences[i - 1]!);
  }, 240_000);

  it('the semaphore never admits more than its limit across processes', async () => {
    const resource = `slots-${topology}`;
    const limit = 2;
    const iterations = 30;
    const workers = [...CLIENTS, ...CLIENTS].map((client, i) => ({
      deployment,
      client: client.name,
      prefix,
      resource,
      iterations,
      worker: `s${i}`,
      limit,
    }));
    const summaries = await Promise.all(workers.map(runWorker));
    const base = `${prefix}data:{${resource}}`;
    const observed = ((await send('LRANGE', [`${base}:max`, 0, -1])) as string[]).map(Number);
    expect(observed).toHaveLength(workers.length * iterations);
    expect(Math.max(...observed)).toBeLessThanOrEqual(limit);
    expect(Math.max(...summaries.map((s) => s.maxInside))).toBeLessThanOrEqual(limit);
    expect(await send('GET', [`${base}:inside`])).toBe('0');
  }, 240_000);
});
