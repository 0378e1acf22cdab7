import { existsSync } from 'node:fs';
import { RemoteStandalone } from './external.js';
import { parseInfo } from './info.js';
import { respCommand } from './resp.js';
import type { RedisTopologyName, StandaloneHandle } from './types.js';
import { waitUntil } from './wait.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The Redis image the container path runs. */
export const REDIS_IMAGE = 'redis:7.4-alpine';

/** Whether a Docker engine looks reachable for the testcontainers path: `DOCKER_HOST` is set or `/var/run/docker.sock` exists. */
export function dockerAvailable(
  env: Env,
  socketExists: (path: string) => boolean = existsSync,
): { available: true } | { available: false; reason: string } {
  if (env.DOCKER_HOST) return { available: true };
  if (socketExists('/var/run/docker.sock')) return { available: true };
  return {
    available: false,
    reason: 'no Docker engine (DOCKER_HOST is not set and /var/run/docker.sock does not exist)',
  };
}

/** The part of the testcontainers API the harness uses (it is an optional peer: no types at build time). */
interface StartedContainer {
  getHost(): string;
  getMappedPort(port: number): number;
  stop(): Promise<unknown>;
}
interface GenericContainerLike {
  withExposedPorts(...ports: number[]): GenericContainerLike;
  withCommand(command: string[]): GenericContainerLike;
  start(): Promise<StartedContainer>;
}
interface TestcontainersModule {
  GenericContainer: new (image: string) => GenericContainerLike;
}

/** @internal */
export type TestcontainersLoader = () => Promise<unknown>;

/** A variable, not a literal: the bundler must not try to resolve or bundle the optional peer. */
const TESTCONTAINERS = 'testcontainers';
const loadTestcontainers: TestcontainersLoader = () => import(TESTCONTAINERS);

/**
 * Start a standalone Redis in a container with testcontainers (the thin path: cluster and sentinel need
 * the binary). Returns the reason when it cannot.
 * @internal
 */
export async function startContainer(
  topology: RedisTopologyName,
  serverArgs: readonly string[],
  deadline: number,
  load: TestcontainersLoader = loadTestcontainers,
): Promise<StandaloneHandle | { reason: string }> {
  if (topology !== 'standalone') {
    return {
      reason: `the testcontainers path starts standalone servers only; a ${topology} needs the redis-server binary or an external deployment`,
    };
  }
  let module: TestcontainersModule;
  try {
    module = (await load()) as TestcontainersModule;
  } catch (error) {
    return {
      reason: `Docker is reachable but the optional peer dependency testcontainers cannot be loaded (npm install -D testcontainers): ${(error as Error).message}`,
    };
  }
  if (typeof module?.GenericContainer !== 'function') {
    return { reason: 'the installed testcontainers has no GenericContainer export' };
  }
  const container = await new module.GenericContainer(REDIS_IMAGE)
    .withExposedPorts(6379)
    .withCommand(['redis-server', '--save', '', '--appendonly', 'no', ...serverArgs])
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(6379);
  try {
    let version = 'unknown';
    await waitUntil(`container ${REDIS_IMAGE} answering`, deadline, async () => {
      version = parseInfo(await respCommand(host, port, ['INFO', 'server'], 1000)).redis_version ?? 'unknown';
      return undefined;
    });
    return new RemoteStandalone('container', `redis://${host}:${port}`, host, port, version, {}, async () => {
      await container.stop();
    });
  } catch (error) {
    await container.stop().catch(() => {});
    throw error;
  }
}
