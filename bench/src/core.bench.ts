// `pnpm bench -- core`: GET/SET throughput, p50/p99 and CPU per command at concurrency 1 and 64, for each
// client: bare; our RedisLike adapter with no SDK registered; the adapter with an SDK (AlwaysOn sampler,
// batch processor, discarding exporters, the duration histogram on); the diagnostics-channel
// instrumentation with the same SDK; and @opentelemetry/instrumentation-ioredis on ioredis. Each variant
// runs in its own process against the same Redis, rounds interleaved; the median round is reported.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRedis } from '@redisotel/testing';
import type { PairedResult } from './core/paired.js';
import type { PairedSdkResult } from './core/paired-sdk.js';
import { type LoadResult, median, printTable } from './lib/measure.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const total64 = Number(process.env.BENCH_OPS ?? 100_000);
const total1 = Math.round(total64 / 5);
const variants = [
  'node-redis:bare',
  'node-redis:bare-default-timeout',
  'node-redis:from',
  'node-redis:from-sdk',
  'node-redis:from-sdk-spans',
  'node-redis:instrument-sdk',
  'ioredis:bare',
  'ioredis:from',
  'ioredis:from-sdk',
  'ioredis:from-sdk-spans',
  'ioredis:instrument-sdk',
  'ioredis:contrib-sdk',
  'ioredis:floor-sdk',
];
const labels: Record<string, string> = {
  bare: 'bare client',
  'bare-default-timeout': 'bare client, default command timeout',
  from: 'fromX, no SDK',
  'from-sdk': 'fromX + SDK (spans + metric)',
  'from-sdk-spans': 'fromX + SDK (spans, metrics: false)',
  'instrument-sdk': 'instrumentX + SDK (spans + metric)',
  'contrib-sdk': '@opentelemetry/instrumentation-ioredis + SDK (spans)',
  'floor-sdk': 'floor: bare span + one histogram point, nothing else',
};
const variantScript = fileURLToPath(new URL('./core/variant.ts', import.meta.url));
const pairedScript = fileURLToPath(new URL('./core/paired.ts', import.meta.url));
const pairedSdkScript = fileURLToPath(new URL('./core/paired-sdk.ts', import.meta.url));
const pairedSlices = Number(process.env.BENCH_PAIRED_SLICES ?? 40);
const pairedSliceOps = 5_000;

function runVariant(url: string, variant: string, concurrency: number, op: string): LoadResult {
  const total = concurrency === 1 ? total1 : total64;
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', variantScript, variant, String(concurrency), op, String(total)],
    {
      env: { ...process.env, BENCH_REDIS_URL: url },
      encoding: 'utf8',
    },
  );
  if (child.status !== 0) throw new Error(`variant ${variant} failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as LoadResult;
}

function runPaired(url: string, library: string, op: string): PairedResult {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', pairedScript, library, op, String(pairedSlices), String(pairedSliceOps)],
    { env: { ...process.env, BENCH_REDIS_URL: url }, encoding: 'utf8' },
  );
  if (child.status !== 0) throw new Error(`paired ${library} ${op} failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as PairedResult;
}

function runPairedSdk(url: string, op: string): PairedSdkResult {
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', pairedSdkScript, op, String(Math.max(10, pairedSlices / 2)), '4000'],
    { env: { ...process.env, BENCH_REDIS_URL: url }, encoding: 'utf8' },
  );
  if (child.status !== 0) throw new Error(`paired SDK ${op} failed:\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as PairedSdkResult;
}

async function main(): Promise<void> {
  const redis = process.env.REDIS_URL ? undefined : await startRedis({ topology: 'standalone' });
  const url = process.env.REDIS_URL ?? redis!.url;
  console.log(
    `Redis ${redis?.redisVersion ?? '(external)'} at ${url}; ${rounds} rounds; ${total64} ops at c=64, ${total1} at c=1`,
  );
  const sdkTargets: string[][] = [];
  try {
    for (const op of ['GET', 'SET']) {
      for (const concurrency of [1, 64]) {
        const samples = new Map<string, LoadResult[]>(variants.map((v) => [v, []]));
        for (let round = 0; round < rounds; round++) {
          for (const variant of variants)
            samples.get(variant)!.push(runVariant(url, variant, concurrency, op));
        }
        const summary = new Map<string, LoadResult>();
        for (const [variant, results] of samples) {
          summary.set(variant, {
            operations: results[0]!.operations,
            opsPerSecond: median(results.map((r) => r.opsPerSecond)),
            p50Ms: median(results.map((r) => r.p50Ms)),
            p99Ms: median(results.map((r) => r.p99Ms)),
            cpuMicrosPerOp: median(results.map((r) => r.cpuMicrosPerOp)),
          });
        }
        console.log(`\n${op} at concurrency ${concurrency} (median of ${rounds} rounds)`);
        const rows = variants.map((variant) => {
          const [library, mode] = variant.split(':') as [string, string];
          const bare = summary.get(`${library}:bare`)!;
          const r = summary.get(variant)!;
          return [
            `${library}: ${labels[mode]}`,
            r.opsPerSecond,
            `${(r.opsPerSecond / bare.opsPerSecond).toFixed(3)} ×`,
            r.p50Ms,
            r.p99Ms,
            r.cpuMicrosPerOp,
            mode === 'bare' ? '—' : `${(r.cpuMicrosPerOp - bare.cpuMicrosPerOp).toFixed(2)}`,
          ];
        });
        printTable(['variant', 'ops/s', 'vs bare', 'p50 ms', 'p99 ms', 'CPU µs/op', 'extra CPU µs/op'], rows);
        if (concurrency === 64) {
          const extra = (variant: string) =>
            summary.get(variant)!.cpuMicrosPerOp - summary.get('ioredis:bare')!.cpuMicrosPerOp;
          sdkTargets.push([
            `${op}: fromIoredis + SDK (spans + metric) ≤ contrib (spans)`,
            `+${extra('ioredis:from-sdk').toFixed(2)} vs +${extra('ioredis:contrib-sdk').toFixed(2)} µs`,
            extra('ioredis:from-sdk') <= extra('ioredis:contrib-sdk') ? 'met' : 'MISSED',
          ]);
          sdkTargets.push([
            `${op}: (reference) floor, bare span + one point, vs contrib (spans)`,
            `+${extra('ioredis:floor-sdk').toFixed(2)} vs +${extra('ioredis:contrib-sdk').toFixed(2)} µs`,
            extra('ioredis:floor-sdk') <= extra('ioredis:contrib-sdk')
              ? 'below'
              : 'ABOVE: target unreachable',
          ]);
          sdkTargets.push([
            `${op}: fromIoredis + SDK (spans only) ≤ contrib (spans)`,
            `+${extra('ioredis:from-sdk-spans').toFixed(2)} vs +${extra('ioredis:contrib-sdk').toFixed(2)} µs`,
            extra('ioredis:from-sdk-spans') <= extra('ioredis:contrib-sdk') ? 'met' : 'MISSED',
          ]);
        }
      }
    }

    // No SDK: the adapter's own cost, paired in one process on one client (see core/paired.ts).
    console.log(
      `\nNo SDK registered, paired: bare and fromX alternate on the same client, ${pairedSlices} × 2 slices of ` +
        `${pairedSliceOps} ops at concurrency 64 per process; median of ${rounds} processes`,
    );
    const pairedRows: (string | number)[][] = [];
    const noSdkTargets: string[][] = [];
    for (const library of ['node-redis', 'ioredis']) {
      for (const op of ['GET', 'SET']) {
        const results = Array.from({ length: rounds }, () => runPaired(url, library, op));
        const extra = median(results.map((r) => r.fromCpuMicrosPerOp - r.bareCpuMicrosPerOp));
        const ratio = median(results.map((r) => r.fromOpsPerSecond / r.bareOpsPerSecond));
        pairedRows.push([
          `${library} ${op}`,
          median(results.map((r) => r.bareCpuMicrosPerOp)),
          median(results.map((r) => r.fromCpuMicrosPerOp)),
          `${extra >= 0 ? '+' : ''}${extra.toFixed(3)}`,
          `${ratio.toFixed(3)} ×`,
        ]);
        noSdkTargets.push([
          `${library} ${op}: no SDK ≤ 0.3 µs/op and ≥ 0.97 × bare`,
          `${extra >= 0 ? '+' : ''}${extra.toFixed(2)} µs, ${ratio.toFixed(3)} ×`,
          extra <= 0.3 && ratio >= 0.97 ? 'met' : 'MISSED',
        ]);
      }
    }
    printTable(
      ['client, command', 'bare CPU µs/op', 'fromX CPU µs/op', 'extra µs/op', 'ops vs bare'],
      pairedRows,
    );

    // With an SDK, paired: contrib is toggled on and off in one process, beside fromIoredis (see
    // core/paired-sdk.ts); the separate-process rows above drift by more than their differences.
    console.log(
      `\nioredis with the SDK, paired in one process (contrib toggled), slices of 4,000 ops at concurrency 64; ` +
        `extra CPU µs/op over bare, median of ${rounds} processes`,
    );
    const pairedSdkRows: (string | number)[][] = [];
    for (const op of ['GET', 'SET']) {
      const results = Array.from({ length: rounds }, () => runPairedSdk(url, op));
      const of = (variant: keyof PairedSdkResult) => median(results.map((r) => r[variant]));
      pairedSdkRows.push([op, of('contrib'), of('from'), of('spans'), of('floor')]);
      sdkTargets.push([
        `${op}, paired: fromIoredis + SDK (spans + metric) ≤ contrib (spans)`,
        `+${of('from').toFixed(2)} vs +${of('contrib').toFixed(2)} µs`,
        of('from') <= of('contrib') ? 'met' : 'MISSED',
      ]);
    }
    printTable(
      ['command', 'contrib (spans)', 'fromX (spans + metric)', 'fromX (spans)', 'floor (span + point)'],
      pairedSdkRows,
    );

    console.log('\nTargets (concurrency 64)');
    printTable(['target', 'measured', ''], [...noSdkTargets, ...sdkTargets]);
  } finally {
    await redis?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
