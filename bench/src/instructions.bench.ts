// `pnpm bench -- instructions`: what each way of instrumenting ioredis costs per command, counted in
// machine instructions under valgrind (callgrind), not timed. On a shared VM, CPU time per command drifts
// by more than the differences between instrumentations, and at concurrency 64 ioredis is bound by its
// write syscalls, whose kernel time grows whenever the process slows down (Redis idles and must be woken
// more often): time-based "extra CPU" figures amplify every instrumentation's cost by the same feedback.
// Instruction counts of user space hold only the work the code does. They are not exact either: garbage
// collection and how many replies each socket read brings differ between runs, so one round of a variant
// can differ from the next by up to about 15 %; take the median of several rounds (BENCH_ROUNDS).
//
// Each variant of core/variant.ts (bundled first, so no TypeScript loader runs under valgrind) runs twice
// in its own process under callgrind, with N1 and N2 commands after the same warm-up;
// (I(N2) − I(N1)) / (N2 − N1) is the per-command count, start-up and warm-up cancelled out. V8 runs
// single-threaded (`--single-threaded`) so that compilation and GC happen on the counted thread. GET at
// concurrency 64; median of BENCH_ROUNDS (default 2).
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startRedis } from '@redisotel/testing';
import { build } from 'esbuild';
import { median, printTable } from './lib/measure.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const N1 = 5_000;
const N2 = 45_000;
const PARALLEL = 2;
const variantSource = fileURLToPath(new URL('./core/variant.ts', import.meta.url));
/** The bundle, inside the bench package so that its packages resolve from bench/node_modules. */
const variantScript = fileURLToPath(new URL('../dist/variant.mjs', import.meta.url));

const variants: Record<string, string> = {
  'ioredis:bare': 'bare client, no SDK',
  'ioredis:from': 'fromIoredis, no SDK',
  'ioredis:bare-sdk': 'bare client, SDK registered',
  'ioredis:contrib-sdk': '@opentelemetry/instrumentation-ioredis (spans)',
  'ioredis:from-sdk-spans': 'fromIoredis (spans, metrics: false)',
  'ioredis:from-sdk': 'fromIoredis (spans + metric)',
  'ioredis:instrument-sdk': 'instrumentIoredis (spans + metric)',
  'ioredis:span-sdk': 'SDK floor: a bare span, nothing else',
  'ioredis:floor-sdk': 'SDK floor: a bare span + one histogram point',
};

/** Instructions counted by callgrind for one variant process running `total` commands. */
function countInstructions(url: string, variant: string, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'valgrind',
      [
        '--tool=callgrind',
        '--smc-check=all-non-file', // V8 writes and rewrites its machine code
        '--callgrind-out-file=/dev/null',
        process.execPath,
        '--single-threaded',
        variantScript,
        variant,
        '64',
        'GET',
        String(total),
      ],
      { env: { ...process.env, BENCH_REDIS_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (code) => {
      const match = /Collected\s*:\s*(\d+)/.exec(stderr);
      if (code !== 0 || match === null) {
        reject(
          new Error(`${variant} × ${total} under valgrind failed (exit ${code}):\n${stderr.slice(-2000)}`),
        );
      } else {
        resolve(Number(match[1]));
      }
    });
  });
}

/** Run `jobs` with at most `limit` in flight; results in order. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.log('valgrind is not installed: the instruction counts are skipped (apt-get install valgrind).');
    return;
  }
  await build({
    entryPoints: [variantSource],
    outfile: variantScript,
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    logLevel: 'error',
  });
  const redis = process.env.REDIS_URL ? undefined : await startRedis({ topology: 'standalone' });
  const url = process.env.REDIS_URL ?? redis!.url;
  console.log(
    `Redis ${redis?.redisVersion ?? '(external)'} at ${url}; GET at concurrency 64; instructions per command ` +
      `= (I(${N2}) − I(${N1})) / ${N2 - N1} under callgrind; median of ${rounds} round(s)`,
  );
  try {
    const names = Object.keys(variants);
    const jobs = names.flatMap((variant) =>
      Array.from({ length: rounds }, () => [
        () => countInstructions(url, variant, N1),
        () => countInstructions(url, variant, N2),
      ]).flat(),
    );
    const counts = await pool(jobs, PARALLEL);
    const perCommand = new Map<string, number>();
    const spread = new Map<string, string>();
    names.forEach((variant, v) => {
      const samples: number[] = [];
      for (let round = 0; round < rounds; round++) {
        const base = (v * rounds + round) * 2;
        samples.push((counts[base + 1]! - counts[base]!) / (N2 - N1));
      }
      perCommand.set(variant, median(samples));
      spread.set(variant, `${Math.round(Math.min(...samples))}–${Math.round(Math.max(...samples))}`);
    });
    const of = (variant: string) => perCommand.get(`ioredis:${variant}`)!;
    const contribExtra = of('contrib-sdk') - of('bare-sdk');
    const rows = names.map((variant) => {
      const withSdk = variant.includes('-sdk');
      const count = perCommand.get(variant)!;
      const extra = count - (withSdk ? of('bare-sdk') : of('bare'));
      const isBase = variant === 'ioredis:bare' || variant === 'ioredis:bare-sdk';
      return [
        variants[variant]!,
        Math.round(count),
        spread.get(variant)!,
        isBase ? '—' : `${extra >= 0 ? '+' : ''}${Math.round(extra)}`,
        isBase || !withSdk ? '—' : `${(extra / contribExtra).toFixed(2)} ×`,
      ];
    });
    printTable(
      [
        'variant (ioredis 6, GET)',
        'instructions/command',
        'rounds: min–max',
        'extra over bare',
        'extra vs contrib',
      ],
      rows,
    );
    const extra = (mode: string) => of(mode) - of('bare-sdk');
    const noSdk = of('from') - of('bare');
    console.log('\nShares of the SDK floor and of our path (instructions per command)');
    printTable(
      ['part', 'instructions'],
      [
        ['the SDK: a bare span', Math.round(extra('span-sdk'))],
        ['the SDK: one histogram point (floor − span)', Math.round(extra('floor-sdk') - extra('span-sdk'))],
        [
          'fromIoredis: the duration metric (spans + metric − spans)',
          Math.round(extra('from-sdk') - extra('from-sdk-spans')),
        ],
        // Within the spread between rounds; the paired timing in `pnpm bench -- core` judges the no-SDK target.
        ['fromIoredis, no SDK: over bare', Math.round(noSdk)],
      ],
    );
    console.log('\nTargets, in instructions');
    printTable(
      ['target', 'measured', ''],
      [
        [
          'fromIoredis spans ≤ contrib spans',
          `+${Math.round(extra('from-sdk-spans'))} vs +${Math.round(contribExtra)}`,
          extra('from-sdk-spans') <= contribExtra ? 'met' : 'MISSED',
        ],
        [
          'fromIoredis spans + metric ≤ contrib spans',
          `+${Math.round(extra('from-sdk'))} vs +${Math.round(contribExtra)}`,
          extra('from-sdk') <= contribExtra ? 'met' : 'MISSED',
        ],
        [
          '(reference) SDK floor, bare span + point ≤ contrib spans',
          `+${Math.round(extra('floor-sdk'))} vs +${Math.round(contribExtra)}`,
          extra('floor-sdk') <= contribExtra ? 'below' : 'ABOVE: no spans + metric can meet the target',
        ],
      ],
    );
  } finally {
    await redis?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
