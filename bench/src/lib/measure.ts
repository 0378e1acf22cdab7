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

/** Run `operation` `total` times with `concurrency` calls in flight, recording latencies when given an array. */
export async function closedLoop(
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

/** Per-slice ratios of paired measurements: the median and the interquartile range. */
export interface PairedRatio {
  readonly median: number;
  readonly q1: number;
  readonly q3: number;
}

/**
 * Throughput ratios measured in pairs: the operations run in alternating short slices in this one process
 * (order reversed every other slice), and each slice's ratio to `base` is taken against the same
 * slice's `base`, so the drift of a shared machine (which moves whole runs by ±10–20 % here) falls out of
 * the ratio. Returns, per operation, the median and quartiles of its per-slice ratios to `base`.
 */
export async function pairedRatios(
  operations: Readonly<Record<string, (i: number) => Promise<unknown>>>,
  base: string,
  { concurrency, slices, sliceOps }: { concurrency: number; slices: number; sliceOps: number },
): Promise<Map<string, PairedRatio>> {
  const names = Object.keys(operations);
  if (!names.includes(base)) throw new Error(`pairedRatios: no operation named ${base}`);
  for (const name of names)
    await closedLoop(operations[name]!, concurrency, Math.min(sliceOps, 2_000), undefined);
  const ratios = new Map<string, number[]>(names.map((name) => [name, []]));
  for (let slice = 0; slice < slices; slice++) {
    const order = slice % 2 === 0 ? names : [...names].reverse();
    const rates = new Map<string, number>();
    for (const name of order) {
      const started = performance.now();
      await closedLoop(operations[name]!, concurrency, sliceOps, undefined);
      rates.set(name, sliceOps / (performance.now() - started));
    }
    for (const name of names) ratios.get(name)!.push(rates.get(name)! / rates.get(base)!);
  }
  const summary = new Map<string, PairedRatio>();
  for (const [name, list] of ratios) {
    const sorted = [...list].sort((a, b) => a - b);
    summary.set(name, {
      median: percentile(sorted, 0.5),
      q1: percentile(sorted, 0.25),
      q3: percentile(sorted, 0.75),
    });
  }
  return summary;
}

/** `0.97× (0.93–1.01)`: a paired ratio with its interquartile range. */
export function formatRatio(ratio: PairedRatio): string {
  return `${ratio.median.toFixed(2)}× (${ratio.q1.toFixed(2)}–${ratio.q3.toFixed(2)})`;
}
