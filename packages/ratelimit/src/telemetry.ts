/**
 * Span names, attribute keys and metric names of `@redisotel/ratelimit`. Metric attributes are the
 * limiter name, algorithm, outcome and source only: never keys.
 */

/** The instrumentation scope (tracer and meter name). */
export const INSTRUMENTATION_SCOPE = '@redisotel/ratelimit';

/** Span names, one per limiter operation. */
export const SPAN_NAMES = {
  consume: 'ratelimit consume',
  peek: 'ratelimit peek',
  penalty: 'ratelimit penalty',
  reward: 'ratelimit reward',
  block: 'ratelimit block',
  reset: 'ratelimit reset',
} as const;

/** The limiter's `name` option (spans and metrics). */
export const ATTR_RATELIMIT_NAME = 'ratelimit.name';
/** The algorithm (spans and metrics). */
export const ATTR_RATELIMIT_ALGORITHM = 'ratelimit.algorithm';
/** `allowed`, `denied`, `fail-open`, `fail-closed` or `local` (metrics; spans of consume). */
export const ATTR_RATELIMIT_OUTCOME = 'ratelimit.outcome';
/** Where the decision came from: `redis`, `cache`, `local`, `fail-open`, `fail-closed` (spans and metrics). */
export const ATTR_RATELIMIT_SOURCE = 'ratelimit.source';
/** The cost asked for, or the points of a penalty / reward (spans). */
export const ATTR_RATELIMIT_COST = 'ratelimit.cost';
/** Whether the request was admitted (spans). */
export const ATTR_RATELIMIT_ALLOWED = 'ratelimit.allowed';
/** Units left on the binding limit (spans). */
export const ATTR_RATELIMIT_REMAINING = 'ratelimit.remaining';
/** The binding limit (spans). */
export const ATTR_RATELIMIT_LIMIT = 'ratelimit.limit';
/** The binding limit's window in milliseconds (spans). */
export const ATTR_RATELIMIT_WINDOW_MS = 'ratelimit.window_ms';
/** How many limits the limiter checks (spans). */
export const ATTR_RATELIMIT_LIMITS = 'ratelimit.limits';
/** Milliseconds to wait before retrying, on denials (spans). */
export const ATTR_RATELIMIT_RETRY_AFTER_MS = 'ratelimit.retry_after_ms';
/** Milliseconds until the quota is full again (spans). */
export const ATTR_RATELIMIT_RESET_AFTER_MS = 'ratelimit.reset_after_ms';
/** Why a request was denied (spans). */
export const ATTR_RATELIMIT_REASON = 'ratelimit.reason';
/** The limiter key: only with `recordKey: true`, spans only. */
export const ATTR_RATELIMIT_KEY = 'ratelimit.key';
/** Stable semconv `error.type`: the failure kind when Redis failed. */
export const ATTR_ERROR_TYPE = 'error.type';

/** Counter of decisions (`consume` calls), by name, algorithm, outcome and source. */
export const METRIC_DECISIONS = 'ratelimit.decisions';
/** Histogram of decision durations in seconds, by name, algorithm, outcome and source. */
export const METRIC_DECISION_DURATION = 'ratelimit.decision.duration';
/** Bucket advice of {@link METRIC_DECISION_DURATION} (seconds). */
export const DURATION_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** The values of {@link ATTR_RATELIMIT_OUTCOME}. */
export type RateLimitOutcome = 'allowed' | 'denied' | 'fail-open' | 'fail-closed' | 'local';
