import { join } from 'node:path';
import type { RedisBinaries } from './binaries.js';
import { dataServerArgs, ManagedServer } from './server.js';
import { createDeploymentDirectory, SpawnedDeployment, timeoutOf, waitPing } from './spawned-deployment.js';
import type { StandaloneDeployment, StandaloneHandle, WaitHealthyOptions } from './types.js';

const HOST = '127.0.0.1';

class SpawnedStandalone extends SpawnedDeployment implements StandaloneHandle {
  readonly topology = 'standalone' as const;
  private readonly server: ManagedServer;

  constructor(binaries: RedisBinaries, directory: string, serverArgs: readonly string[]) {
    super(binaries, directory);
    const nodeDirectory = join(directory, 'node-0');
    this.server = new ManagedServer({
      name: 'redis-server',
      host: HOST,
      directory: nodeDirectory,
      file: binaries.server,
      role: 'master',
      args: (port) => dataServerArgs(port, HOST, nodeDirectory, binaries.major, serverArgs),
    });
    this.managed.push(this.server);
  }

  async start(deadline: number): Promise<void> {
    await this.server.start(deadline);
  }

  get host(): string {
    return this.server.host;
  }

  get port(): number {
    return this.server.port;
  }

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get deployment(): StandaloneDeployment {
    return {
      topology: 'standalone',
      source: this.source,
      redisVersion: this.redisVersion,
      url: this.url,
      host: this.host,
      port: this.port,
      nodes: [{ host: this.host, port: this.port, role: 'master' }],
    };
  }

  async waitHealthy(options?: WaitHealthyOptions): Promise<void> {
    await waitPing(this.server, Date.now() + timeoutOf(options));
  }
}

/** Start a standalone `redis-server`. @internal */
export async function startStandalone(
  binaries: RedisBinaries,
  serverArgs: readonly string[],
  deadline: number,
): Promise<StandaloneHandle> {
  const deployment = new SpawnedStandalone(binaries, createDeploymentDirectory('standalone'), serverArgs);
  try {
    await deployment.start(deadline);
    return deployment;
  } catch (error) {
    await deployment.stop();
    throw error;
  }
}
