import { describe, expectTypeOf, inject, it } from 'vitest';
import type { ProvidedRedisDeployments } from '../src/global-setup.js';
import {
  type ClusterHandle,
  connectResp,
  type RedisDeployment,
  type RespReply,
  type SentinelHandle,
  type StandaloneHandle,
  startRedis,
} from '../src/index.js';
import { type DeploymentOf, useRedisDeployment } from '../src/vitest.js';

describe('types', () => {
  it('startRedis narrows the handle by topology', () => {
    expectTypeOf(startRedis({ topology: 'standalone' })).resolves.toEqualTypeOf<StandaloneHandle>();
    expectTypeOf(
      startRedis({ topology: 'cluster', nodeTimeoutMs: 2000 }),
    ).resolves.toEqualTypeOf<ClusterHandle>();
    expectTypeOf(
      startRedis({ topology: 'sentinel', masterName: 'm' }),
    ).resolves.toEqualTypeOf<SentinelHandle>();
    // @ts-expect-error nodeTimeoutMs is a cluster option
    void startRedis({ topology: 'standalone', nodeTimeoutMs: 2000 });
  });

  it('types what the global setup provides (ProvidedContext augmentation)', () => {
    expectTypeOf(inject('redisotelDeployments')).toEqualTypeOf<ProvidedRedisDeployments>();
    expectTypeOf(useRedisDeployment('cluster').deployment).toEqualTypeOf<DeploymentOf['cluster']>();
    expectTypeOf(useRedisDeployment('sentinel').deployment.masterName).toEqualTypeOf<string>();
    expectTypeOf<ProvidedRedisDeployments['standalone']>().toEqualTypeOf<
      Extract<RedisDeployment, { topology: 'standalone' }> | undefined
    >();
  });

  it('connectResp replies are RESP2 shapes', async () => {
    const connection = await connectResp({ port: 1 });
    expectTypeOf(connection.command(['GET', 'k'])).resolves.toEqualTypeOf<RespReply>();
  });
});
