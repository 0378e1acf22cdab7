import type { TestProject } from 'vitest/node';
import { PROVIDED_KEY, type ProvidedRedisDeployments } from './provided-context.js';
import { startRedis } from './start-redis.js';
import type {
  RedisDeploymentHandle,
  RedisTopologyName,
  StartClusterOptions,
  StartSentinelOptions,
} from './types.js';

export type { ProvidedRedisDeployments } from './provided-context.js';

const TOPOLOGIES: readonly RedisTopologyName[] = ['standalone', 'cluster', 'sentinel'];

/** Options of {@link createGlobalSetup}. */
export interface GlobalSetupOptions {
  /** The topologies to start once for the project. @default ['standalone'] */
  readonly topologies?: readonly RedisTopologyName[];
  /** Give up starting each deployment after this many milliseconds. @default 60000 */
  readonly startTimeoutMs?: number;
  /** Cluster settings (`nodeTimeoutMs`). */
  readonly cluster?: Pick<StartClusterOptions, 'nodeTimeoutMs'>;
  /** Sentinel settings (`masterName`, `downAfterMs`, `failoverTimeoutMs`). */
  readonly sentinel?: Pick<StartSentinelOptions, 'masterName' | 'downAfterMs' | 'failoverTimeoutMs'>;
  /** The environment to read (`CI`, `REDISOTEL_TEST_TOPOLOGIES`, `REDIS_URL`…). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** What a vitest global setup function receives: the part of `TestProject` used here. */
export type ProvidingProject = Pick<TestProject, 'provide'> &
  Partial<Pick<TestProject, 'getProvidedContext'>>;

function validateTopologies(value: unknown, what: string): RedisTopologyName[] {
  if (!Array.isArray(value)) {
    throw new TypeError(`${what} must be an array of topologies, received ${JSON.stringify(value)}`);
  }
  for (const topology of value) {
    if (!TOPOLOGIES.includes(topology)) {
      throw new RangeError(
        `${what} entries must be ${TOPOLOGIES.join(', ')}, received ${JSON.stringify(topology)}`,
      );
    }
  }
  return [...new Set(value as RedisTopologyName[])];
}

/** `CI` set to anything but empty, `false` or `0`. @internal */
export function isCi(env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/** `REDISOTEL_TEST_TOPOLOGIES=standalone,cluster` narrows what a project asked for. */
function narrow(
  requested: readonly RedisTopologyName[],
  env: Readonly<Record<string, string | undefined>>,
): { start: RedisTopologyName[]; excluded: RedisTopologyName[] } {
  const raw = env.REDISOTEL_TEST_TOPOLOGIES;
  if (raw === undefined || raw.trim() === '') return { start: [...requested], excluded: [] };
  const allowed = validateTopologies(
    raw
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ''),
    'REDISOTEL_TEST_TOPOLOGIES',
  );
  return {
    start: requested.filter((topology) => allowed.includes(topology)),
    excluded: requested.filter((topology) => !allowed.includes(topology)),
  };
}

/**
 * Make a vitest global setup that starts each requested topology once per test project, hands their
 * plain-data descriptions to the tests (`provide`; read them with `useRedisDeployment` from
 * `@redisotel/testing/vitest`) and stops them after the run.
 *
 * Under `CI=true` a deployment that cannot be had fails the run. Elsewhere the setup warns and tests
 * that ask for it fail with the reason, unless they guard with `hasRedisDeployment()`.
 * @example
 * ```ts
 * // test/global-setup.ts
 * import { createGlobalSetup } from '@redisotel/testing/global-setup';
 * export default createGlobalSetup({ topologies: ['standalone', 'cluster'] });
 * ```
 */
export function createGlobalSetup(
  options: GlobalSetupOptions = {},
): (project: ProvidingProject) => Promise<() => Promise<void>> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`createGlobalSetup: options must be an object, received ${JSON.stringify(options)}`);
  }
  const topologies = validateTopologies(
    options.topologies ?? ['standalone'],
    'createGlobalSetup: options.topologies',
  );
  return async (project) => {
    const env = options.env ?? process.env;
    const { start, excluded } = narrow(topologies, env);
    const missing: Partial<Record<RedisTopologyName, string>> = {};
    for (const topology of excluded) {
      missing[topology] = `REDISOTEL_TEST_TOPOLOGIES=${env.REDISOTEL_TEST_TOPOLOGIES} excludes ${topology}`;
    }
    const startOne = (topology: RedisTopologyName): Promise<RedisDeploymentHandle> => {
      const common = { startTimeoutMs: options.startTimeoutMs, env };
      switch (topology) {
        case 'standalone':
          return startRedis({ topology, ...common });
        case 'cluster':
          return startRedis({ topology, ...common, ...options.cluster });
        case 'sentinel':
          return startRedis({ topology, ...common, ...options.sentinel });
      }
    };
    const settled = await Promise.allSettled(start.map(startOne));
    const handles: RedisDeploymentHandle[] = [];
    const failures: string[] = [];
    const provided: {
      -readonly [K in keyof ProvidedRedisDeployments]: ProvidedRedisDeployments[K];
    } = { requested: start, missing };
    settled.forEach((result, index) => {
      const topology = start[index] as RedisTopologyName;
      if (result.status === 'fulfilled') {
        handles.push(result.value);
        const deployment = result.value.deployment;
        if (deployment.topology === 'standalone') provided.standalone = deployment;
        else if (deployment.topology === 'cluster') provided.cluster = deployment;
        else provided.sentinel = deployment;
      } else {
        const message = (result.reason as Error)?.message ?? String(result.reason);
        failures.push(`${topology}: ${message}`);
        missing[topology] = message;
      }
    });
    const teardown = async () => {
      await Promise.allSettled(handles.map((handle) => handle.stop()));
    };
    if (failures.length > 0 && isCi(env)) {
      await teardown();
      throw new Error(`@redisotel/testing global setup failed (CI):\n${failures.join('\n')}`);
    }
    if (failures.length > 0) {
      console.warn(
        `[@redisotel/testing] started without ${failures.length === 1 ? 'one topology' : 'some topologies'}; tests that need them fail (CI=true makes this fail the run):\n${failures.join('\n')}`,
      );
    }
    // Typed through the ProvidedContext augmentation for users; cast here because the CJS declaration
    // build resolves `vitest` to its CJS stub, which the augmentation cannot reach.
    (project.provide as (key: string, value: unknown) => void)(PROVIDED_KEY, provided);
    return teardown;
  };
}

let started: (() => Promise<void>) | undefined;

/**
 * The ready-made global setup: starts the topologies listed in the project's
 * `test.provide.redisotelTopologies` (default `['standalone']`), narrowed by `REDISOTEL_TEST_TOPOLOGIES`.
 * @example
 * ```ts
 * // test/global-setup.ts
 * export { setup, teardown } from '@redisotel/testing/global-setup';
 * ```
 */
export async function setup(project: ProvidingProject): Promise<void> {
  const context = project.getProvidedContext?.() as { redisotelTopologies?: unknown } | undefined;
  const configured = context?.redisotelTopologies as RedisTopologyName[] | undefined;
  const run = createGlobalSetup({ topologies: configured ?? ['standalone'] });
  started = await run(project);
}

/** Stops what {@link setup} started. */
export async function teardown(): Promise<void> {
  const stop = started;
  started = undefined;
  await stop?.();
}
