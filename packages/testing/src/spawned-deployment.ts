import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RedisBinaries } from './binaries.js';
import { registerDirectory, releaseDirectory } from './cleanup.js';
import { RedisDeploymentError } from './errors.js';
import { parseInfo } from './info.js';
import { respCommand } from './resp.js';
import type { ManagedServer } from './server.js';
import type { RedisNodeSelector, RedisServerNode, RedisTopologyName, WaitHealthyOptions } from './types.js';
import { waitUntil } from './wait.js';

/** The default time to wait for a start or for health. @internal */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** Create `<tmpdir>/redisotel-<topology>-XXXXXX` and register it for cleanup. @internal */
export function createDeploymentDirectory(topology: RedisTopologyName): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), `redisotel-${topology}-`)));
  registerDirectory(dir);
  return dir;
}

/** Normalise a node selector to a port. @internal */
export function selectorPort(selector: RedisNodeSelector): number {
  if (typeof selector === 'number') return selector;
  if (typeof selector === 'object' && selector !== null && typeof selector.port === 'number') {
    return selector.port;
  }
  throw new TypeError(
    `node must be a node, { host, port } or a port number, received ${JSON.stringify(selector)}`,
  );
}

/**
 * What every deployment of spawned servers shares: its directory, its processes, kill/restart/stop.
 * @internal
 */
export abstract class SpawnedDeployment {
  readonly source = 'binary' as const;
  readonly directory: string;
  readonly binaries: RedisBinaries;
  protected readonly managed: ManagedServer[] = [];
  private stopping: Promise<void> | undefined;

  constructor(binaries: RedisBinaries, directory: string) {
    this.binaries = binaries;
    this.directory = directory;
  }

  get redisVersion(): string {
    return this.binaries.version;
  }

  get servers(): readonly RedisServerNode[] {
    return this.managed;
  }

  protected find(selector: RedisNodeSelector): ManagedServer {
    const port = selectorPort(selector);
    const server = this.managed.find((candidate) => candidate.port === port);
    if (!server) {
      throw new RangeError(
        `node ${port} is not part of this deployment (ports: ${this.managed.map((s) => s.port).join(', ')})`,
      );
    }
    return server;
  }

  protected assertActive(): void {
    if (this.stopping) throw new RedisDeploymentError('the deployment was stopped');
  }

  async kill(selector: RedisNodeSelector): Promise<void> {
    this.assertActive();
    await this.find(selector).kill();
  }

  async restart(selector: RedisNodeSelector): Promise<void> {
    this.assertActive();
    const server = this.find(selector);
    await this.beforeRestart(server);
    await server.restart(Date.now() + DEFAULT_TIMEOUT_MS);
  }

  /** Topology hook: adjust a node's configuration before it restarts. */
  protected async beforeRestart(_server: ManagedServer): Promise<void> {}

  abstract waitHealthy(options?: WaitHealthyOptions): Promise<void>;

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled(this.managed.map((server) => server.stop()));
      rmSync(this.directory, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
      releaseDirectory(this.directory);
    })();
    return this.stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** Read each running data node's role from `INFO replication`. */
  protected async refreshRoles(servers: readonly ManagedServer[]): Promise<void> {
    await Promise.all(
      servers
        .filter((server) => server.running)
        .map(async (server) => {
          const info = parseInfo(await respCommand(server.host, server.port, ['INFO', 'replication']));
          if (info.role === 'master') server.role = 'master';
          else if (info.role === 'slave') server.role = 'replica';
        }),
    );
  }
}

/** @internal */
export function timeoutOf(options: WaitHealthyOptions | undefined): number {
  const timeout = options?.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !(timeout > 0)) {
    throw new RangeError(
      `waitHealthy: options.timeoutMs must be a positive number, received ${String(timeout)}`,
    );
  }
  return timeout;
}

/** Wait until one server answers `PING`. @internal */
export function waitPing(server: { host: string; port: number }, deadline: number): Promise<void> {
  return waitUntil(`${server.host}:${server.port} answering PING`, deadline, async () => {
    const reply = await respCommand(server.host, server.port, ['PING'], 1000);
    return reply === 'PONG' ? undefined : `PING replied ${String(reply)}`;
  });
}
