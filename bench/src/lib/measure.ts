// Shared measuring helpers for the bench programs: a closed-loop load at a fixed concurrency, latency
// percentiles, CPU time per operation, and a plain table printer. Every figure in a table comes from the
// same run, so ratios are side by side.
import { performance } from 'node:perf_hooks';

/** The result of one measured load. */
export interface LoadResult {
  /** Operations completed. */
  readonly operations: number;
  /** Operations per second (wall clock). */
  readonly opsPerSecond: number;
  /** Latency percentiles in milliseconds. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Process CPU time (user + system) per operation, in microseconds. */
  readonly cpuMicrosPerOp: number;
}

/**
 * Run `operation` `total` times with `concurrency` calls in flight (a closed loop: each worker starts its
 * next call when the previous one settled), after `warmup` unmeasured calls.
 */
export async function runLoad(
  operation: (i: number) => Promise<unknown>,
  {
    concurrency,
    total,
    warmup = Math.min(total, 5_000),
  }: { concurrency: number; total: number; warmup?: number },
): Promise<LoadResult> {
  await closedLoop(operation, concurrency, warmup, undefined);
  const latencies = new Float64Array(total);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await closedLoop(operation, concurrency, total, latencies);
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort();
  return {
    operations: total,
    opsPerSecond: (total / elapsedMs) * 1000,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cpuMicrosPerOp: (cpu.user + cpu.system) / total,
  };
}

async function closedLoop(
  operation: (i: number) => Promise<unknown>,
  concurrency: number,
  total: number,
  latencies: Float64Array | undefined,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await operation(i);
      if (latencies) latencies[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
}

/** The `q` quantile (0..1) of sorted values. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

/** The median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return percentile(sorted, 0.5);
}

/** Print rows as an aligned text table. */
export function printTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const line = (r: readonly (string | number)[]) =>
    r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]!) : String(c).padStart(widths[i]!))).join('  ');
  console.log(line(cells[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}
