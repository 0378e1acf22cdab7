export { type RateLimitFailureKind, RateLimitUnavailableError } from './errors.js';
export { type RateLimitHeadersOptions, rateLimitHeaders } from './headers.js';
export { createRateLimiter } from './rate-limiter.js';
export {
  ATTR_RATELIMIT_ALGORITHM,
  ATTR_RATELIMIT_ALLOWED,
  ATTR_RATELIMIT_COST,
  ATTR_RATELIMIT_KEY,
  ATTR_RATELIMIT_LIMIT,
  ATTR_RATELIMIT_NAME,
  ATTR_RATELIMIT_OUTCOME,
  ATTR_RATELIMIT_REASON,
  ATTR_RATELIMIT_REMAINING,
  ATTR_RATELIMIT_SOURCE,
  INSTRUMENTATION_SCOPE,
  METRIC_DECISION_DURATION,
  METRIC_DECISIONS,
  type RateLimitOutcome,
  SPAN_NAMES,
} from './telemetry.js';
export type {
  ConsumeOptions,
  RateLimitAlgorithm,
  RateLimitCallOptions,
  RateLimitDecision,
  RateLimitDenyReason,
  RateLimiter,
  RateLimiterOptions,
  RateLimitFailurePolicy,
  RateLimitLimitState,
  RateLimitRule,
  RateLimitSource,
} from './types.js';
export { VERSION } from './version.js';
