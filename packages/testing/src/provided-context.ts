import type {} from 'vitest';
import type {
  ClusterDeployment,
  RedisTopologyName,
  SentinelDeployment,
  StandaloneDeployment,
} from './types.js';

/** What the global setup hands to tests (vitest `provide` / `inject`), as plain data. */
export interface ProvidedRedisDeployments {
  /** The topologies the project asked for, after `REDISOTEL_TEST_TOPOLOGIES` narrowed them. */
  readonly requested: readonly RedisTopologyName[];
  readonly standalone?: StandaloneDeployment;
  readonly cluster?: ClusterDeployment;
  readonly sentinel?: SentinelDeployment;
  /** Why a topology is missing: excluded by `REDISOTEL_TEST_TOPOLOGIES`, or no Redis (outside CI). */
  readonly missing: Partial<Record<RedisTopologyName, string>>;
}

/** The `provide` key the global setup uses. */
export const PROVIDED_KEY = 'redisotelDeployments';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Set by `@redisotel/testing/global-setup`. */
    redisotelDeployments: ProvidedRedisDeployments;
    /**
     * Which topologies `@redisotel/testing/global-setup` starts for this project, set in the project's
     * `test.provide`. Read by the named `setup` export. @default ['standalone']
     */
    redisotelTopologies: RedisTopologyName[];
  }
}
