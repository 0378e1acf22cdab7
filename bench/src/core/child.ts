// What the core bench's child programs (variant.ts, paired.ts, paired-sdk.ts) share: the Redis they are
// handed, the key and value they send.

/** The Redis URL the parent handed over in BENCH_REDIS_URL. @throws {Error} when it is not set */
export function benchRedisUrl(): string {
  const url = process.env.BENCH_REDIS_URL;
  if (!url) throw new Error('BENCH_REDIS_URL is not set');
  return url;
}

/** A key of this process (`{bench}` keeps every key of a run in one cluster slot). */
export function benchKey(name: string): string {
  return `{bench}:${name}:${process.pid}`;
}

/** The value SET sends: 100 bytes. */
export const BENCH_VALUE = 'v'.repeat(100);
