import { findBinaries } from './binaries.js';
import { startCluster } from './cluster.js';
import { dockerAvailable, startContainer } from './container.js';
import { RedisUnavailableError } from './errors.js';
import { externalDeployment } from './external.js';
import { startSentinel } from './sentinel.js';
import { DEFAULT_TIMEOUT_MS } from './spawned-deployment.js';
import { startStandalone } from './standalone.js';
import type {
  ClusterHandle,
  RedisDeploymentHandle,
  RedisDeploymentSource,
  RedisTopologyName,
  SentinelHandle,
  StandaloneHandle,
  StartClusterOptions,
  StartRedisOptions,
  StartSentinelOptions,
  StartStandaloneOptions,
} from './types.js';

const TOPOLOGIES: readonly RedisTopologyName[] = ['standalone', 'cluster', 'sentinel'];
const SOURCES: readonly RedisDeploymentSource[] = ['external', 'binary', 'container'];

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function positive(options: object, name: string, fallback: number): number {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`startRedis: options.${name} must be a number, received ${describeValue(value)}`);
  }
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`startRedis: options.${name} must be a positive finite number, received ${value}`);
  }
  return value;
}

/** Validate {@link startRedis} options; throws TypeError / RangeError naming the option and value. @internal */
export function validateStartOptions(options: StartRedisOptions): {
  topology: RedisTopologyName;
  sources: readonly RedisDeploymentSource[];
  timeoutMs: number;
  serverArgs: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
} {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`startRedis: options must be an object, received ${describeValue(options)}`);
  }
  const received: unknown = options.topology;
  if (typeof received !== 'string') {
    throw new TypeError(`startRedis: options.topology must be a string, received ${describeValue(received)}`);
  }
  const topology: string = options.topology;
  if (!(TOPOLOGIES as readonly string[]).includes(topology)) {
    throw new RangeError(
      `startRedis: options.topology must be one of ${TOPOLOGIES.join(', ')}, received ${describeValue(topology)}`,
    );
  }
  const sources = options.sources ?? SOURCES;
  if (!Array.isArray(sources) || sources.length === 0) {
    throw new TypeError(
      `startRedis: options.sources must be a non-empty array, received ${describeValue(sources)}`,
    );
  }
  for (const source of sources) {
    if (!SOURCES.includes(source)) {
      throw new RangeError(
        `startRedis: options.sources entries must be ${SOURCES.join(', ')}, received ${describeValue(source)}`,
      );
    }
  }
  const serverArgs = options.serverArgs ?? [];
  if (!Array.isArray(serverArgs) || serverArgs.some((arg) => typeof arg !== 'string')) {
    throw new TypeError(
      `startRedis: options.serverArgs must be an array of strings, received ${describeValue(serverArgs)}`,
    );
  }
  const env = options.env ?? process.env;
  if (typeof env !== 'object' || env === null) {
    throw new TypeError(`startRedis: options.env must be an object, received ${describeValue(env)}`);
  }
  const timeoutMs = positive(options, 'startTimeoutMs', DEFAULT_TIMEOUT_MS);
  if (options.topology === 'cluster') positive(options, 'nodeTimeoutMs', 3000);
  if (options.topology === 'sentinel') {
    positive(options, 'downAfterMs', 3000);
    positive(options, 'failoverTimeoutMs', 10_000);
    const name = options.masterName;
    if (name !== undefined && (typeof name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(name))) {
      throw new TypeError(
        `startRedis: options.masterName must be a name of letters, digits, '.', '_' or '-', received ${describeValue(name)}`,
      );
    }
  }
  return { topology: options.topology, sources, timeoutMs, serverArgs, env };
}

/** The three ways out, in the words of every "no Redis" error. */
export const HOW_TO_GET_REDIS = [
  'Fix it one of three ways:',
  '  1. point at a running deployment: REDIS_URL=redis://host:port (standalone), REDIS_CLUSTER_NODES=host:port,host:port (cluster), REDIS_SENTINEL_NODES=host:port,… with REDIS_SENTINEL_MASTER=<name> (sentinel);',
  '  2. install Redis 6.2+ so that redis-server is on PATH (apt-get install redis-server, brew install redis), or set REDIS_SERVER_BIN to its path (REDIS_SENTINEL_BIN for redis-sentinel, optional);',
  '  3. run Docker (DOCKER_HOST or /var/run/docker.sock) and install the optional peer dependency testcontainers (npm install -D testcontainers).',
].join('\n');

/**
 * Start (or connect to) a Redis deployment for tests: a standalone server, a cluster of 3 masters and 3
 * replicas covering every slot, or a sentinel group (master, replica, 3 sentinels). Sources are tried
 * in order: an external deployment named by env variables (`REDIS_URL`, `REDIS_CLUSTER_NODES`,
 * `REDIS_SENTINEL_NODES` + `REDIS_SENTINEL_MASTER`), then `redis-server` from `REDIS_SERVER_BIN` or
 * `PATH` on free ports in a `redisotel-*` temporary directory, then testcontainers when Docker runs.
 * It resolves once the deployment is healthy. Always call `stop()` (or `await using`).
 * @example
 * ```ts
 * const redis = await startRedis({ topology: 'cluster' });
 * try {
 *   const client = createCluster({ rootNodes: redis.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })) });
 *   // …
 * } finally {
 *   await redis.stop();
 * }
 * ```
 * @throws {RedisUnavailableError} when no source can provide the deployment (the message says how to fix it).
 * @throws {RedisDeploymentError} when a server fails to start or the deployment is not healthy in time.
 */
export function startRedis(options: StartStandaloneOptions): Promise<StandaloneHandle>;
export function startRedis(options: StartClusterOptions): Promise<ClusterHandle>;
export function startRedis(options: StartSentinelOptions): Promise<SentinelHandle>;
export function startRedis(options: StartRedisOptions): Promise<RedisDeploymentHandle>;
export async function startRedis(options: StartRedisOptions): Promise<RedisDeploymentHandle> {
  const { topology, sources, timeoutMs, serverArgs, env } = validateStartOptions(options);
  const deadline = Date.now() + timeoutMs;
  const reasons: string[] = [];
  for (const source of sources) {
    if (source === 'external') {
      const external = await externalDeployment(topology, env, deadline);
      if (external) return external;
      reasons.push(`external: ${externalVariables(topology)} not set`);
    } else if (source === 'binary') {
      const binaries = findBinaries(env);
      if ('reason' in binaries) {
        reasons.push(`binary: ${binaries.reason}`);
        continue;
      }
      switch (options.topology) {
        case 'standalone':
          return startStandalone(binaries, serverArgs, deadline);
        case 'cluster':
          return startCluster(binaries, serverArgs, options.nodeTimeoutMs ?? 3000, deadline);
        case 'sentinel':
          return startSentinel(
            binaries,
            serverArgs,
            {
              masterName: options.masterName ?? 'mymaster',
              downAfterMs: options.downAfterMs ?? 3000,
              failoverTimeoutMs: options.failoverTimeoutMs ?? 10_000,
            },
            deadline,
          );
      }
    } else {
      const docker = dockerAvailable(env);
      if (!docker.available) {
        reasons.push(`container: ${docker.reason}`);
        continue;
      }
      const started = await startContainer(topology, serverArgs, deadline);
      if ('reason' in started) {
        reasons.push(`container: ${started.reason}`);
        continue;
      }
      return started;
    }
  }
  throw new RedisUnavailableError(
    `@redisotel/testing could not get a Redis ${topology} deployment. Tried:\n${reasons.map((reason) => `  - ${reason}`).join('\n')}\n${HOW_TO_GET_REDIS}`,
    reasons,
  );
}

function externalVariables(topology: RedisTopologyName): string {
  switch (topology) {
    case 'standalone':
      return 'REDIS_URL is';
    case 'cluster':
      return 'REDIS_CLUSTER_NODES is';
    case 'sentinel':
      return 'REDIS_SENTINEL_NODES and REDIS_SENTINEL_MASTER are';
  }
}
