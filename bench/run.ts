import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { SynthSample, Variant } from './synth-once';

/**
 * Benchmark driver:
 *
 *   npx ts-node --transpile-only --project test/tsconfig.json bench/run.ts
 *
 * Compiles src/ and bench/ once with tsc into bench/out/ (gitignored), so every sample runs plain
 * JavaScript in a fresh `node` process that has neither ts-node nor TypeScript loaded (they would
 * add seconds of start-up and ~100 MiB to the peak RSS). Then runs bench/synth-once for each size
 * and both variants, interleaved, BENCH_RUNS times, and prints a markdown table of medians.
 *
 * Environment:
 *   BENCH_RUNS       samples per variant and size (default 5)
 *   BENCH_JOBS       comma-separated job counts, multiples of 10 (default "100,1000,5000")
 *   BENCH_TIMEOUT_S  wall-clock limit of one child process in seconds (default 120)
 */

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'bench', 'out');
const VARIANT_ORDER: Variant[] = ['library', 'handwritten'];

/** The issue's targets. */
const MAX_RATIO = 1.25;
const MAX_RSS_MIB = 1024;

interface Cell {
  readonly samples: SynthSample[];
  timeouts: number;
  failures: string[];
}

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

function envJobs(): number[] {
  const raw = process.env.BENCH_JOBS;
  const sizes = (raw === undefined || raw === '' ? '100,1000,5000' : raw).split(',').map((s) => Number(s.trim()));
  for (const size of sizes) {
    if (!Number.isInteger(size) || size <= 0 || size % 10 !== 0) {
      throw new Error(`BENCH_JOBS must list positive multiples of 10, got ${JSON.stringify(raw)}`);
    }
  }
  return sizes;
}

/** Transpiles src/ and bench/ to bench/out/ (type-checking is left to test/tsconfig.json and eslint). */
function compile(): string {
  fs.rmSync(OUT_DIR, { recursive: true, force: true });
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const args = [
    tsc, '--outDir', OUT_DIR, '--rootDir', ROOT,
    '--module', 'commonjs', '--target', 'ES2020', '--esModuleInterop', '--skipLibCheck',
    '--noCheck', '--sourceMap', '--types', 'node',
    path.join(ROOT, 'bench', 'synth-once.ts'),
  ];
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`tsc failed:\n${result.stdout}${result.stderr}${result.error ?? ''}`);
  return path.join(OUT_DIR, 'bench', 'synth-once.js');
}

/** A short hash of every .ts file under src/: identifies the library code that was measured. */
function srcFingerprint(): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (entry.name.endsWith('.ts')) {
        hash.update(path.relative(ROOT, full)).update('\0').update(fs.readFileSync(full)).update('\0');
      }
    }
  };
  walk(path.join(ROOT, 'src'));
  return hash.digest('hex').slice(0, 12);
}

function runOnce(script: string, variant: Variant, jobs: number, timeoutMs: number, cell: Cell): string {
  const result = spawnSync(process.execPath, [script, variant, String(jobs)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 16 * 1024 * 1024,
  });
  const timedOut = (result.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  if (timedOut) {
    cell.timeouts++;
    return `timeout (> ${timeoutMs / 1000} s)`;
  }
  const line = result.stdout.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !line.startsWith('{')) {
    const why = `exit ${result.status ?? result.signal}: ${(result.stderr || String(result.error ?? '')).trim().split('\n')[0]}`;
    cell.failures.push(why);
    return why;
  }
  const sample = JSON.parse(line) as SynthSample;
  cell.samples.push(sample);
  return `${sample.ms} ms, ${sample.rssPeakMiB} MiB, ${sample.objects} objects`;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? 'n/a' : value.toFixed(digits);
}

function main(): void {
  const runs = envInt('BENCH_RUNS', 5);
  const sizes = envJobs();
  const timeoutMs = envInt('BENCH_TIMEOUT_S', 120) * 1000;

  const compileStart = Date.now();
  const fingerprint = srcFingerprint();
  const script = compile();
  process.stderr.write(`compiled src/ and bench/ to ${path.relative(ROOT, OUT_DIR)}/ in ${Date.now() - compileStart} ms\n`);

  const cells = new Map<string, Cell>();
  const cellOf = (variant: Variant, jobs: number): Cell => {
    const key = `${variant}/${jobs}`;
    let cell = cells.get(key);
    if (!cell) {
      cell = { samples: [], timeouts: 0, failures: [] };
      cells.set(key, cell);
    }
    return cell;
  };

  // Interleaved: run r of every size and variant before run r + 1, alternating which variant goes first.
  for (let run = 1; run <= runs; run++) {
    for (const jobs of sizes) {
      const order = run % 2 === 1 ? VARIANT_ORDER : [...VARIANT_ORDER].reverse();
      for (const variant of order) {
        const what = runOnce(script, variant, jobs, timeoutMs, cellOf(variant, jobs));
        process.stderr.write(`run ${run}/${runs} ${variant} ${jobs} jobs: ${what}\n`);
      }
    }
  }

  const lines: string[] = [
    `Runs per cell: ${runs}; child timeout ${timeoutMs / 1000} s; src fingerprint ${fingerprint}; node ${process.version}.`,
    'ms = construct + app.synthYaml() wall time (median); RSS = peak RSS of the child process (median).',
    '',
    '| jobs | objects | library ms | hand-written ms | ratio lib/hw | library ms/job | hand-written ms/job | library peak RSS MiB | hand-written peak RSS MiB |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const verdicts: string[] = [];
  for (const jobs of sizes) {
    const lib = cellOf('library', jobs);
    const hw = cellOf('handwritten', jobs);
    // `bound` is what a timed-out cell is known to exceed (undefined: nothing is known, e.g. RSS).
    const show = (cell: Cell, value: number | undefined, digits: number, bound?: number): string => {
      const notes = [cell.timeouts > 0 ? `${cell.timeouts} timeout` : '', cell.failures.length > 0 ? `${cell.failures.length} failed` : '']
        .filter((note) => note !== '');
      if (value === undefined && cell.timeouts > 0) return bound === undefined ? 'n/a (timeout)' : `> ${bound.toFixed(digits)} (timeout)`;
      return `${fixed(value, digits)}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
    };
    const libMs = median(lib.samples.map((s) => s.ms));
    const hwMs = median(hw.samples.map((s) => s.ms));
    const libRss = median(lib.samples.map((s) => s.rssPeakMiB));
    const hwRss = median(hw.samples.map((s) => s.rssPeakMiB));
    const objects = [...new Set([...lib.samples, ...hw.samples].map((s) => s.objects))].join(' / ') || 'n/a';
    let ratio: string;
    if (libMs !== undefined && hwMs !== undefined) {
      ratio = `${(libMs / hwMs).toFixed(2)}x`;
    } else if (libMs === undefined && lib.timeouts > 0 && hwMs !== undefined) {
      ratio = `> ${(timeoutMs / hwMs).toFixed(2)}x`;
    } else {
      ratio = 'n/a';
    }
    lines.push(
      `| ${jobs} | ${objects} | ${show(lib, libMs, 1, timeoutMs)} | ${show(hw, hwMs, 1, timeoutMs)} | ${ratio} | ` +
        `${show(lib, libMs === undefined ? undefined : libMs / jobs, 3, timeoutMs / jobs)} | ` +
        `${show(hw, hwMs === undefined ? undefined : hwMs / jobs, 3, timeoutMs / jobs)} | ` +
        `${show(lib, libRss, 0)} | ${show(hw, hwRss, 0)} |`,
    );
    if (jobs === 1000 || jobs === 5000) {
      const met = libMs !== undefined && hwMs !== undefined && libMs / hwMs <= MAX_RATIO;
      verdicts.push(`- library within ${MAX_RATIO}x of hand-written at ${jobs} jobs: ${met ? 'MET' : 'NOT MET'} (${ratio})`);
    }
    if (jobs === 5000) {
      const met = libRss !== undefined && libRss < MAX_RSS_MIB && lib.timeouts === 0;
      verdicts.push(`- library peak RSS under ${MAX_RSS_MIB} MiB at 5000 jobs: ${met ? 'MET' : libRss === undefined ? 'UNKNOWN (no completed run)' : 'NOT MET'} (${fixed(libRss, 0)} MiB)`);
    }
  }
  // Linearity: ms/job at the largest size against the smallest; a linear cost keeps it roughly flat.
  if (sizes.length >= 2) {
    const small = Math.min(...sizes);
    const large = Math.max(...sizes);
    for (const variant of VARIANT_ORDER) {
      // ms/job, and whether it is only a lower bound (every run timed out).
      const perJob = (jobs: number): { value: number; lowerBound: boolean } | undefined => {
        const cell = cellOf(variant, jobs);
        const ms = median(cell.samples.map((s) => s.ms));
        if (ms !== undefined) return { value: ms / jobs, lowerBound: false };
        return cell.timeouts > 0 ? { value: timeoutMs / jobs, lowerBound: true } : undefined;
      };
      const a = perJob(small);
      const b = perJob(large);
      const ratio = a === undefined || b === undefined || a.lowerBound ? undefined : b.value / a.value;
      const growth = ratio === undefined || (b!.lowerBound && ratio <= 1)
        ? 'n/a (missing data)'
        : `${b!.lowerBound ? '> ' : ''}${ratio.toFixed(1)}x`;
      verdicts.push(`- ${variant} ms/job grows ${growth} from ${small} to ${large} jobs (about 1x means linear)`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n\n${verdicts.join('\n')}\n`);
}

main();
