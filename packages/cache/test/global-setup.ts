// Interim global setup: starts the standalone and cluster deployments this suite runs on.
// To be replaced by `@redisotel/testing/global-setup` once it lands (only support.ts reads `inject`).
import { type RedisDeploymentHandle, startRedis } from '@redisotel/testing';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    cacheDeployments: {
      standalone?: import('@redisotel/testing').StandaloneDeployment;
      cluster?: import('@redisotel/testing').ClusterDeployment;
    };
  }
}

const handles: RedisDeploymentHandle[] = [];

export default async function setup(project: TestProject) {
  const [standalone, cluster] = await Promise.all([
    startRedis({ topology: 'standalone' }),
    startRedis({ topology: 'cluster' }),
  ]);
  handles.push(standalone, cluster);
  project.provide('cacheDeployments', { standalone: standalone.deployment, cluster: cluster.deployment });
  return async () => {
    await Promise.all(handles.map((handle) => handle.stop()));
  };
}
