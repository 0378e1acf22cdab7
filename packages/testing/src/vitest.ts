import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, expect, inject } from 'vitest';
import { PROVIDED_KEY, type ProvidedRedisDeployments } from './provided-context.js';
import { startRedis } from './start-redis.js';
import {
  type CaptureTelemetryOptions,
  captureTelemetry,
  type TelemetryCapture,
} from './telemetry-capture.js';
import type {
  ClusterDeployment,
  ClusterHandle,
  RedisDeploymentHandle,
  RedisTopologyName,
  SentinelDeployment,
  SentinelHandle,
  StandaloneDeployment,
  StandaloneHandle,
  StartClusterOptions,
  StartRedisOptions,
  StartSentinelOptions,
  StartStandaloneOptions,
} from './types.js';

export type { ProvidedRedisDeployments } from './provided-context.js';

/** The plain-data deployment of each topology. */
export interface DeploymentOf {
  standalone: StandaloneDeployment;
  cluster: ClusterDeployment;
  sentinel: SentinelDeployment;
}

/** What {@link useRedisDeployment} returns. */
export interface UsedRedisDeployment<T extends RedisTopologyName> {
  /** The deployment the global setup started (plain data: addresses, roles, version). */
  readonly deployment: DeploymentOf[T];
  /**
   * A key prefix unique to this call (call it once per test file): `{t1a2b3c4d}:` on a cluster (a hash
   * tag, so multi-key commands stay in one slot), `t1a2b3c4d:` elsewhere. Never `FLUSHDB` a shared
   * deployment: prefix your keys instead.
   */
  readonly keyPrefix: string;
  /** `keyPrefix + name`. */
  key(name: string): string;
}

const TOPOLOGIES: readonly RedisTopologyName[] = ['standalone', 'cluster', 'sentinel'];

function provided(): ProvidedRedisDeployments | undefined {
  try {
    // Cast: see the note in global-setup.ts about the CJS declaration build.
    return (inject as (key: string) => unknown)(PROVIDED_KEY) as ProvidedRedisDeployments | undefined;
  } catch {
    return undefined;
  }
}

/** Whether the global setup provides `topology` (use with `describe.skipIf` for optional topologies). */
export function hasRedisDeployment(topology: RedisTopologyName): boolean {
  return provided()?.[topology] !== undefined;
}

/** A fresh key prefix: hash-tagged on a cluster. */
export function uniqueKeyPrefix(topology: RedisTopologyName): string {
  const tag = `t${randomBytes(4).toString('hex')}`;
  return topology === 'cluster' ? `{${tag}}:` : `${tag}:`;
}

/**
 * The deployment the `@redisotel/testing/global-setup` started for `topology`, with a key prefix unique
 * to this call. Call it once per test file, at the top level or in `beforeAll`.
 * @example
 * ```ts
 * const { deployment, key } = useRedisDeployment('cluster');
 * const client = createCluster({ rootNodes: deployment.nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })) });
 * await client.set(key('counter'), '1');
 * ```
 * @throws {Error} when the global setup is not configured, or did not start `topology` (with the reason).
 */
export function useRedisDeployment<T extends RedisTopologyName>(topology: T): UsedRedisDeployment<T> {
  if (!TOPOLOGIES.includes(topology)) {
    throw new RangeError(
      `useRedisDeployment: topology must be one of ${TOPOLOGIES.join(', ')}, received ${JSON.stringify(topology)}`,
    );
  }
  const context = provided();
  if (!context) {
    throw new Error(
      "useRedisDeployment: no deployments provided. Add a global setup to the vitest project: test/global-setup.ts with `export { setup, teardown } from '@redisotel/testing/global-setup'` (or createGlobalSetup), and `globalSetup: ['./test/global-setup.ts']`.",
    );
  }
  const deployment = context[topology] as DeploymentOf[T] | undefined;
  if (!deployment) {
    const reason =
      context.missing[topology] ??
      `the global setup was not asked for it (it started: ${context.requested.join(', ') || 'nothing'})`;
    throw new Error(`useRedisDeployment: no ${topology} deployment: ${reason}`);
  }
  const keyPrefix = uniqueKeyPrefix(topology);
  return { deployment, keyPrefix, key: (name) => `${keyPrefix}${name}` };
}

/**
 * {@link captureTelemetry} wired into the current test file: reset before each test, shut down after all.
 * Call it at the top level of a test file (or of a `describe`).
 * @example
 * ```ts
 * const telemetry = useTelemetryCapture();
 * it('traces', async () => {
 *   // … run code with telemetry.tracerProvider …
 *   expect(telemetry.span('GET').kind).toBe(SpanKind.CLIENT);
 * });
 * ```
 */
export function useTelemetryCapture(options?: CaptureTelemetryOptions): TelemetryCapture {
  const capture = captureTelemetry(options);
  beforeEach(() => capture.reset());
  afterAll(() => capture.shutdown());
  return capture;
}

/**
 * Fail each test after which something in this process rejected without a handler, listing the reasons.
 * Call it at the top level of a test file: it listens for `unhandledRejection` from `beforeAll` to
 * `afterAll`. Code under test that must never leave a promise rejection unhandled (a client adapter, a
 * subscriber that reconnects) is held to that in every test. `reasons` is the list checked after each
 * test (empty it yourself in a test that provokes one on purpose).
 * @example
 * ```ts
 * trackUnhandledRejections();
 * it('survives a killed server', async () => { … }); // fails if anything rejected unhandled meanwhile
 * ```
 */
export function trackUnhandledRejections(): { readonly reasons: unknown[] } {
  const reasons: unknown[] = [];
  const onRejection = (reason: unknown) => {
    reasons.push(reason);
  };
  beforeAll(() => {
    process.on('unhandledRejection', onRejection);
  });
  afterEach(() => {
    expect(reasons, 'unhandled rejections').toEqual([]);
  });
  afterAll(() => {
    process.off('unhandledRejection', onRejection);
  });
  return { reasons };
}

/**
 * A deployment of the current test file (or `describe`) alone, for tests that kill, restart or fail over
 * servers, which a shared deployment must not be used for. It is started with `startRedis(options)` in a
 * `beforeAll` and stopped in an `afterAll`, both registered by this call. The returned object stands for
 * the handle: use it in tests and hooks (once the `beforeAll` ran), not at the top level of the file,
 * where reading it throws.
 * @example
 * ```ts
 * const server = useOwnRedis({ topology: 'standalone', sources: ['binary'] });
 * it('recovers after a restart', async () => {
 *   await server.kill(server.port);
 *   await server.restart(server.port);
 * });
 * ```
 */
export function useOwnRedis(options: StartStandaloneOptions): StandaloneHandle;
export function useOwnRedis(options: StartClusterOptions): ClusterHandle;
export function useOwnRedis(options: StartSentinelOptions): SentinelHandle;
export function useOwnRedis(options: StartRedisOptions): RedisDeploymentHandle;
export function useOwnRedis(options: StartRedisOptions): RedisDeploymentHandle {
  let handle: RedisDeploymentHandle | undefined;
  beforeAll(async () => {
    handle = await startRedis(options);
  });
  afterAll(async () => {
    await handle?.stop();
  });
  const started = (): RedisDeploymentHandle => {
    if (handle === undefined) {
      throw new Error(
        `useOwnRedis: the ${options.topology} deployment is not started yet; read it in tests and hooks, not at the top level of the file`,
      );
    }
    return handle;
  };
  return new Proxy({} as RedisDeploymentHandle, {
    get(_target, property) {
      const target = started();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    has: (_target, property) => property in started(),
  });
}
