import { describe, expect, it } from 'vitest';
import { type RateLimitDecision, rateLimitHeaders } from '../src/index.js';

const allowed: RateLimitDecision = {
  allowed: true,
  limit: 100,
  windowMs: 60_000,
  remaining: 42,
  resetAfterMs: 30_500,
  retryAfterMs: 0,
  source: 'redis',
  reason: undefined,
  limits: [
    {
      name: 'api',
      limit: 100,
      windowMs: 60_000,
      allowed: true,
      remaining: 42,
      resetAfterMs: 30_500,
      retryAfterMs: 0,
    },
  ],
};

const deniedMulti: RateLimitDecision = {
  allowed: false,
  limit: 10,
  windowMs: 1000,
  remaining: 0,
  resetAfterMs: 900,
  retryAfterMs: 120,
  source: 'redis',
  reason: 'limit-exceeded',
  limits: [
    {
      name: 'burst',
      limit: 10,
      windowMs: 1000,
      allowed: false,
      remaining: 0,
      resetAfterMs: 900,
      retryAfterMs: 120,
    },
    {
      name: 'daily',
      limit: 1000,
      windowMs: 86_400_000,
      allowed: true,
      remaining: 640,
      resetAfterMs: 3_600_000,
      retryAfterMs: 0,
    },
  ],
};

describe('rateLimitHeaders', () => {
  it('emits the IETF draft fields and the legacy ones for an admitted request', () => {
    expect(rateLimitHeaders(allowed)).toEqual({
      'RateLimit-Policy': '"api";q=100;w=60',
      RateLimit: '"api";r=42;t=31',
      'X-RateLimit-Limit': '100',
      'X-RateLimit-Remaining': '42',
      'X-RateLimit-Reset': '31',
    });
  });

  it('lists every limit of a multi-limit decision and adds Retry-After on denials', () => {
    expect(rateLimitHeaders(deniedMulti, { legacy: false })).toEqual({
      'RateLimit-Policy': '"burst";q=10;w=1, "daily";q=1000;w=86400',
      RateLimit: '"burst";r=0;t=1, "daily";r=640;t=3600',
      'Retry-After': '1',
    });
  });

  it('can emit the legacy reset as a Unix time, a quota unit, and nothing but the legacy fields', () => {
    const headers = rateLimitHeaders(allowed, { standard: false, legacyReset: 'unix-seconds' });
    expect(Object.keys(headers)).toEqual(['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']);
    const reset = Number(headers['X-RateLimit-Reset']);
    const expected = Math.ceil(Date.now() / 1000) + 31;
    expect(Math.abs(reset - expected)).toBeLessThanOrEqual(1);
    expect(rateLimitHeaders(allowed, { legacy: false, quotaUnit: 'content-bytes' })['RateLimit-Policy']).toBe(
      '"api";q=100;qu="content-bytes";w=60',
    );
  });

  it('omits Retry-After when the request can never be admitted, or when asked to', () => {
    const never = {
      ...deniedMulti,
      retryAfterMs: Number.POSITIVE_INFINITY,
      reason: 'cost-exceeds-limit' as const,
    };
    expect(rateLimitHeaders(never)['Retry-After']).toBeUndefined();
    expect(rateLimitHeaders(deniedMulti, { retryAfter: false })['Retry-After']).toBeUndefined();
  });

  it('rounds sub-second windows up to one second', () => {
    const short = { ...allowed, limits: [{ ...allowed.limits[0]!, windowMs: 200, resetAfterMs: 0 }] };
    expect(rateLimitHeaders(short, { legacy: false })).toEqual({
      'RateLimit-Policy': '"api";q=100;w=1',
      RateLimit: '"api";r=42;t=0',
    });
  });
});
