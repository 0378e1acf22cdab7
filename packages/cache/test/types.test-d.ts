import type { RedisLike } from '@redisotel/core-hooks';
import { describe, expectTypeOf, it } from 'vitest';
import { type Cache, type CacheEntry, createCache, type LoaderContext } from '../src/index.js';

expectTypeOf<LoaderContext<number>['staleValue']>().toEqualTypeOf<number | undefined>();

declare const redis: RedisLike;

describe('public types', () => {
  it('infers values from the loader and from the type argument', () => {
    const cache: Cache = createCache(redis, { ttlMs: 1000 });
    expectTypeOf(cache.getOrLoad('k', () => 1)).resolves.toEqualTypeOf<number>();
    expectTypeOf(cache.getOrLoad('k', async () => ({ id: 'a' }))).resolves.toEqualTypeOf<{ id: string }>();
    expectTypeOf(cache.get<{ id: string }>('k')).resolves.toEqualTypeOf<{ id: string } | undefined>();
    expectTypeOf(cache.getMany<number>(['a'])).resolves.toEqualTypeOf<(number | undefined)[]>();
    expectTypeOf(cache.set('k', 1)).resolves.toBeBoolean();
    expectTypeOf(cache.delete('a', 'b')).resolves.toBeNumber();
    expectTypeOf<CacheEntry<number>>().toHaveProperty('value').toEqualTypeOf<number>();
    cache.getOrLoad('k', (context) => {
      expectTypeOf(context.key).toBeString();
      expectTypeOf(context.signal).toEqualTypeOf<AbortSignal>();
      return 'x';
    });
  });

  it('requires ttlMs', () => {
    // @ts-expect-error ttlMs is required
    createCache(redis, {});
  });
});
