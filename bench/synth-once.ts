import { App } from 'cdk8s';
import { buildHandwrittenApp } from './handwritten-app';
import { BenchAppShape, buildLibraryApp } from './library-app';

/**
 * One benchmark sample, meant to run in a fresh process:
 *
 *   node bench/out/bench/synth-once.js <library|handwritten> <jobs>
 *   npx ts-node --project test/tsconfig.json bench/synth-once.ts <library|handwritten> <jobs>
 *
 * Builds the app (10 jobs per domain, so 1,000 jobs = 100 domains), synthesizes it in memory
 * with app.synthYaml() (nothing is written to disk) and prints one JSON line:
 * { variant, jobs, ms, constructMs, synthMs, rssPeakMiB, objects }.
 * `ms` is the wall time of building plus synthYaml; module loading is not counted.
 */

/** Jobs per domain in every benchmark app. */
export const JOBS_PER_DOMAIN = 10;

/** The variants the benchmark compares. */
export const VARIANTS = ['library', 'handwritten'] as const;
export type Variant = typeof VARIANTS[number];

/** The JSON line synth-once prints. */
export interface SynthSample {
  readonly variant: Variant;
  readonly jobs: number;
  readonly ms: number;
  readonly constructMs: number;
  readonly synthMs: number;
  readonly rssPeakMiB: number;
  readonly objects: number;
}

const BUILDERS: Record<Variant, (shape: BenchAppShape) => App> = {
  library: (shape) => buildLibraryApp(shape),
  handwritten: (shape) => buildHandwrittenApp(shape),
};

function main(argv: string[]): void {
  const [variant, jobsArg] = argv;
  if (!VARIANTS.includes(variant as Variant) || jobsArg === undefined) {
    throw new Error(`usage: synth-once <${VARIANTS.join('|')}> <jobs>`);
  }
  const jobs = Number(jobsArg);
  if (!Number.isInteger(jobs) || jobs <= 0 || jobs % JOBS_PER_DOMAIN !== 0) {
    throw new Error(`jobs must be a positive multiple of ${JOBS_PER_DOMAIN}, got ${JSON.stringify(jobsArg)}`);
  }
  const shape: BenchAppShape = { domains: jobs / JOBS_PER_DOMAIN, jobsPerDomain: JOBS_PER_DOMAIN };

  const start = process.hrtime.bigint();
  const app = BUILDERS[variant as Variant](shape);
  const built = process.hrtime.bigint();
  const yaml = app.synthYaml();
  const end = process.hrtime.bigint();

  const sample: SynthSample = {
    variant: variant as Variant,
    jobs,
    ms: round(Number(end - start) / 1e6),
    constructMs: round(Number(built - start) / 1e6),
    synthMs: round(Number(end - built) / 1e6),
    // maxRSS is in KiB.
    rssPeakMiB: round(process.resourceUsage().maxRSS / 1024),
    objects: yaml.split(/^---$/m).filter((doc) => doc.trim() !== '').length,
  };
  process.stdout.write(`${JSON.stringify(sample)}\n`);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
