import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RedisLike } from '@redisotel/core-hooks';
import { CLIENTS, type ClientCase, type ConnectedClient, connectClient } from '@redisotel/test-clients';
import type { RedisDeployment } from '@redisotel/testing';
import { useRedisDeployment } from '@redisotel/testing/vitest';

export { CLIENTS, type ClientCase, type ConnectedClient, connectClient };

/** The topologies the behaviour suite runs on. */
export const TOPOLOGIES = ['standalone', 'cluster'] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** Every client × topology pair, for `describe.each`. */
export const MATRIX = CLIENTS.flatMap((client) =>
  TOPOLOGIES.map((topology) => ({ client, topology, name: `${client.name} / ${topology}` })),
);

/** The deployment the global setup (`@redisotel/testing/global-setup`) started for `topology`. */
export function deploymentFor(topology: Topology): RedisDeployment {
  return useRedisDeployment(topology).deployment;
}

/** A cache prefix unique to this call (tests never share keys). */
export function uniquePrefix(name: string): string {
  return `test:cache:${name}:${randomBytes(4).toString('hex')}:`;
}

/** Send a raw command through the RedisLike, routed by its key (test set-up: foreign values, TTLs). */
export function raw(redis: RedisLike, name: string, ...args: (string | number)[]) {
  return redis.send({ name, args, keys: args.length > 0 ? [0] : [] });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `check` every 20 ms until it is true; reject after `timeoutMs` (a generous bound, not a measure). */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
}

/** A worker process (test/worker.ts) talking line-delimited JSON over stdio. */
export interface Worker {
  readonly process: ChildProcess;
  /** Send a command; resolves with the worker's reply to it. */
  request<T = unknown>(command: Record<string, unknown>): Promise<T>;
  /** Resolves with the next event of this type the worker emits (events are not replies). */
  nextEvent(type: string): Promise<Record<string, unknown>>;
  kill(): void;
  close(): Promise<void>;
}

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/** Start test/worker.ts in its own Node process, connected with `client` to `deployment`. */
export async function startWorker(
  client: ClientCase,
  deployment: RedisDeployment,
  cacheOptions: Record<string, unknown>,
): Promise<Worker> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      CACHE_WORKER_CONFIG: JSON.stringify({ client, deployment, cacheOptions }),
    },
  });
  let nextId = 1;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  const events: Record<string, unknown>[] = [];
  const eventWaiters: { type: string; resolve(e: Record<string, unknown>): void }[] = [];
  let exited = false;
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof message.id === 'number') {
      const p = pending.get(message.id);
      pending.delete(message.id);
      if (message.error !== undefined) p?.reject(new Error(String(message.error)));
      else p?.resolve(message.result);
      return;
    }
    const waiter = eventWaiters.findIndex((w) => w.type === message.event);
    if (waiter !== -1) eventWaiters.splice(waiter, 1)[0]!.resolve(message);
    else events.push(message);
  });
  child.on('exit', () => {
    exited = true;
    for (const p of pending.values()) p.reject(new Error('worker exited'));
    pending.clear();
  });
  const worker: Worker = {
    process: child,
    request<T>(command: Record<string, unknown>): Promise<T> {
      if (exited) return Promise.reject(new Error('worker exited'));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.stdin!.write(`${JSON.stringify({ ...command, id })}\n`);
      });
    },
    nextEvent(type: string) {
      const index = events.findIndex((e) => e.event === type);
      if (index !== -1) return Promise.resolve(events.splice(index, 1)[0]!);
      return new Promise((resolve) => eventWaiters.push({ type, resolve }));
    },
    kill() {
      child.kill('SIGKILL');
    },
    async close() {
      if (exited) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.stdin!.end();
      await Promise.race([done, sleep(10_000).then(() => child.kill('SIGKILL'))]);
    },
  };
  await worker.request({ type: 'ready' });
  return worker;
}
