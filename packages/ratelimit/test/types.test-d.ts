import type { RedisLike } from '@redisotel/core-hooks';
import { describe, expectTypeOf, it } from 'vitest';
import {
  createRateLimiter,
  type RateLimitDecision,
  type RateLimiter,
  type RateLimitSource,
  rateLimitHeaders,
} from '../src/index.js';

declare const redis: RedisLike;

describe('public types', () => {
  it('createRateLimiter returns a RateLimiter whose methods resolve decisions', () => {
    const limiter = createRateLimiter(redis, { name: 'api', limit: 1, windowMs: 1000 });
    expectTypeOf(limiter).toEqualTypeOf<RateLimiter>();
    expectTypeOf(limiter.consume('k')).resolves.toEqualTypeOf<RateLimitDecision>();
    expectTypeOf(
      limiter.consume('k', { cost: 2, timeoutMs: 50 }),
    ).resolves.toEqualTypeOf<RateLimitDecision>();
    expectTypeOf(limiter.reset('k')).resolves.toBeVoid();
    expectTypeOf<RateLimitDecision['source']>().toEqualTypeOf<RateLimitSource>();
    expectTypeOf(rateLimitHeaders).returns.toEqualTypeOf<Record<string, string>>();
  });

  it('rejects unknown algorithms and options at compile time', () => {
    // @ts-expect-error: not an algorithm
    createRateLimiter(redis, { name: 'api', algorithm: 'leaky-bucket', limit: 1, windowMs: 1 });
    // @ts-expect-error: name is required
    createRateLimiter(redis, { limit: 1, windowMs: 1 });
    // @ts-expect-error: not a policy
    createRateLimiter(redis, { name: 'api', limit: 1, windowMs: 1, onRedisError: 'open' });
  });
});
