import type { RedisLike } from '@redisotel/core-hooks';
import { createClient, createCluster, createSentinel } from 'redis';
import { createClient as createClientV5 } from 'redis-v5';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type FromNodeRedisOptions,
  fromNodeRedis,
  instrumentNodeRedis,
  type NodeRedisInstrumentation,
} from '../src/index.js';

describe('public types', () => {
  it('turns any node-redis client into a RedisLike', () => {
    expectTypeOf(fromNodeRedis(createClient())).toEqualTypeOf<RedisLike>();
    expectTypeOf(fromNodeRedis(createClientV5())).toEqualTypeOf<RedisLike>();
    expectTypeOf(fromNodeRedis(createCluster({ rootNodes: [] }))).toEqualTypeOf<RedisLike>();
    expectTypeOf(
      fromNodeRedis(createSentinel({ name: 'm', sentinelRootNodes: [] })),
    ).toEqualTypeOf<RedisLike>();
  });

  it('takes the telemetry options and masterName', () => {
    expectTypeOf<FromNodeRedisOptions>().toHaveProperty('masterName');
    expectTypeOf<FromNodeRedisOptions>().toHaveProperty('tracerProvider');
    expectTypeOf<FromNodeRedisOptions>().toHaveProperty('hooks');
  });

  it('returns a handle with disable()', () => {
    expectTypeOf(instrumentNodeRedis(createClient())).toEqualTypeOf<NodeRedisInstrumentation>();
    expectTypeOf<NodeRedisInstrumentation['disable']>().toEqualTypeOf<() => void>();
  });
});
