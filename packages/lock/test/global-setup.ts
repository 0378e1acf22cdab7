import { type RedisDeploymentHandle, startRedis } from '@redisotel/testing';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    lockDeployments: {
      standalone?: import('@redisotel/testing').StandaloneDeployment;
      cluster?: import('@redisotel/testing').ClusterDeployment;
    };
  }
}

const handles: RedisDeploymentHandle[] = [];

export default async function setup(project: TestProject) {
  const standalone = await startRedis({ topology: 'standalone' });
  handles.push(standalone);
  const cluster = await startRedis({ topology: 'cluster' });
  handles.push(cluster);
  project.provide('lockDeployments', { standalone: standalone.deployment, cluster: cluster.deployment });
  return async () => {
    await Promise.all(handles.map((handle) => handle.stop()));
  };
}
