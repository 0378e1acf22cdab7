import type { RateLimitDecision } from './types.js';

/** Options of {@link rateLimitHeaders}. */
export interface RateLimitHeadersOptions {
  /**
   * Emit the IETF `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers-10/11:
   * `"name";q=100;w=60` and `"name";r=42;t=30`), one item per limit. @default true
   */
  readonly standard?: boolean;
  /** Emit `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`. @default true */
  readonly legacy?: boolean;
  /**
   * What `X-RateLimit-Reset` holds: seconds from now (`'delay-seconds'`, needs no clock agreement) or
   * a Unix time in seconds (`'unix-seconds'`, as GitHub's API; computed with `Date.now()`).
   * @default 'delay-seconds'
   */
  readonly legacyReset?: 'delay-seconds' | 'unix-seconds';
  /** Emit `Retry-After` (seconds) on denied decisions that can be retried. @default true */
  readonly retryAfter?: boolean;
  /** The `qu` parameter of `RateLimit-Policy`, when the quota is not counted in requests. @default 'requests' (omitted) */
  readonly quotaUnit?: 'requests' | 'content-bytes' | 'concurrent-requests';
}

/** Seconds for a header: whole seconds, rounded up, never negative. */
function seconds(ms: number): number {
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}

/** A structured-field string (RFC 9651): quoted, with `\` and `"` escaped. */
function sfString(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Turn a decision into HTTP response header fields, framework-agnostic: set them with Express's
 * `res.set(headers)`, Fastify's `reply.headers(headers)`, Hono's `c.header(name, value)` or
 * `new Headers(Object.entries(headers))`. Field names are in their canonical case.
 * @example
 * ```ts
 * const decision = await limiter.consume(ip);
 * res.set(rateLimitHeaders(decision));
 * if (!decision.allowed) return res.status(429).end();
 * ```
 */
export function rateLimitHeaders(
  decision: RateLimitDecision,
  options: RateLimitHeadersOptions = {},
): Record<string, string> {
  const { standard = true, legacy = true, legacyReset = 'delay-seconds', retryAfter = true } = options;
  const headers: Record<string, string> = {};
  if (standard) {
    const unit =
      options.quotaUnit !== undefined && options.quotaUnit !== 'requests' ? `;qu="${options.quotaUnit}"` : '';
    headers['RateLimit-Policy'] = decision.limits
      .map(
        (limit) =>
          `${sfString(limit.name)};q=${limit.limit}${unit};w=${Math.max(1, seconds(limit.windowMs))}`,
      )
      .join(', ');
    headers.RateLimit = decision.limits
      .map((limit) => `${sfString(limit.name)};r=${limit.remaining};t=${seconds(limit.resetAfterMs)}`)
      .join(', ');
  }
  if (legacy) {
    headers['X-RateLimit-Limit'] = String(decision.limit);
    headers['X-RateLimit-Remaining'] = String(decision.remaining);
    const reset = seconds(decision.resetAfterMs);
    headers['X-RateLimit-Reset'] =
      legacyReset === 'unix-seconds' ? String(Math.ceil(Date.now() / 1000) + reset) : String(reset);
  }
  if (retryAfter && !decision.allowed && Number.isFinite(decision.retryAfterMs)) {
    headers['Retry-After'] = String(Math.max(1, seconds(decision.retryAfterMs)));
  }
  return headers;
}
