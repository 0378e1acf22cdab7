import type { RedisLike } from '@redisotel/core-hooks';
import Redis, { Cluster } from 'ioredis';
import RedisV5, { Cluster as ClusterV5 } from 'ioredis-v5';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type FromIoredisOptions,
  fromIoredis,
  type InstrumentIoredisOptions,
  type IoredisInstrumentation,
  instrumentIoredis,
} from '../src/index.js';

describe('public types', () => {
  it('turns any ioredis 5 or 6 client into a RedisLike', () => {
    expectTypeOf(fromIoredis(new Redis())).toEqualTypeOf<RedisLike>();
    expectTypeOf(fromIoredis(new RedisV5())).toEqualTypeOf<RedisLike>();
    expectTypeOf(fromIoredis(new Cluster([]))).toEqualTypeOf<RedisLike>();
    expectTypeOf(fromIoredis(new ClusterV5([]))).toEqualTypeOf<RedisLike>();
    expectTypeOf(fromIoredis(new Redis({ sentinels: [], name: 'm' }))).toEqualTypeOf<RedisLike>();
  });

  it('takes the telemetry options and hooks', () => {
    expectTypeOf<FromIoredisOptions>().toHaveProperty('tracerProvider');
    expectTypeOf<FromIoredisOptions>().toHaveProperty('hooks');
    expectTypeOf<InstrumentIoredisOptions>().toHaveProperty('groupPipelines');
    expectTypeOf<InstrumentIoredisOptions>().toHaveProperty('meterProvider');
  });

  it('returns a handle with disable()', () => {
    expectTypeOf(instrumentIoredis(new Redis())).toEqualTypeOf<IoredisInstrumentation>();
    expectTypeOf(instrumentIoredis(new ClusterV5([]))).toEqualTypeOf<IoredisInstrumentation>();
    expectTypeOf<IoredisInstrumentation['disable']>().toEqualTypeOf<() => void>();
  });
});
