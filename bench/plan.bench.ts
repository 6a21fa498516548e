/**
 * `floe-secrets plan BASE HEAD` on two synthesized outputs of 5,000 jobs each (issue 14: under
 * 3 s): wall time of the built CLI as a subprocess (process start, reading both outputs, the
 * access model of each, the diff, the output), markdown and `-o json`, median of RUNS runs. Also,
 * in this process, how long reading one output takes with the yaml library and with the plain
 * YAML reader `plan` uses. Run by `npm run bench` (jest, outside the test suite); alone:
 * `npx jest --ci --coverage=false --testMatch '<rootDir>/bench/plan.bench.ts'`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { buildLibraryApp } from './library-app';
import { readManifests } from '../plugins/floe-secrets-cli/src/manifests';
import { runCli } from '../plugins/floe-secrets-cli/test/run-cli';
import { FloeDomain, IFloeSecret, SecretMountedJob, SecretReference } from '../src';

const DOMAINS = 500;
const JOBS_PER_DOMAIN = 10;
const RUNS = 5;
const rows: string[] = [];
let dir: string;
let base: string;
let head: string;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'floe-plan-bench-'));
  // BASE: 500 domains of 10 SecretMountedJobs, each reading three Secrets (env, envFrom, file) with
  // its own ServiceAccount, Role and RoleBinding: 20,500 objects.
  base = join(dir, 'base');
  buildLibraryApp({ domains: DOMAINS, jobsPerDomain: JOBS_PER_DOMAIN }, new App({ outdir: base })).synth();
  // HEAD: the same, plus a job in domain d0 that reads db-creds, and list added to the Role of
  // job-10 (domain d1): what a pull request changes.
  head = join(dir, 'head');
  const app = buildLibraryApp({ domains: DOMAINS, jobsPerDomain: JOBS_PER_DOMAIN }, new App({ outdir: head }));
  const d0 = app.node.findChild('d0') as FloeDomain;
  new SecretMountedJob(d0, 'Extra', {
    name: 'job-extra',
    image: 'ghcr.io/acme/loader:1.4.2',
    secretEnv: [SecretReference.fromSecret(d0.node.findChild('Db') as unknown as IFloeSecret, 'user')],
  });
  app.synth();
  const file = join(head, 'd1.k8s.yaml');
  const text = readFileSync(file, 'utf8');
  const role = text.indexOf('name: job-10-secret-reader');
  const verbs = text.indexOf('      - get\n', role);
  writeFileSync(file, `${text.slice(0, verbs)}      - get\n      - list\n${text.slice(verbs + '      - get\n'.length)}`);
}, 600_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(['', '| measurement | jobs per side | objects per side | runs | median ms | all runs ms |', '|---|---:|---:|---:|---:|---|', ...rows, ''].join('\n'));
});

test.each([['markdown', []], ['json', ['-o', 'json']]])('plan BASE HEAD (%s), built CLI', async (format, args) => {
  const times: number[] = [];
  let objects = 0;
  for (let run = 0; run < RUNS; run++) {
    const started = process.hrtime.bigint();
    const result = await runCli(['plan', base, head, '--fail-on-broaden', ...args], { env: process.env });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    // the changes are found: the new job's access and Secret reads, and the broadened Role
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('floe-secrets plan: 3 changes broaden a grant (--fail-on-broaden)\n');
    if (format === 'json') {
      const plan = JSON.parse(result.stdout);
      objects = plan.base.objects;
      expect(plan.changes.filter((c: { broadens: boolean }) => c.broadens)).toHaveLength(3);
      expect(plan.changes.filter((c: { subject: string }) => c.subject === 'ServiceAccount floe-d0/job-extra')).toHaveLength(2);
    } else {
      expect(result.stdout).toMatch(/^### Secret access plan: \d+ changes, 3 broaden a grant\n/);
    }
  }
  rows.push(`| plan BASE HEAD${format === 'json' ? ' -o json' : ''} (built CLI, wall) | ${DOMAINS * JOBS_PER_DOMAIN} | ${objects || '20500'} | ${RUNS} | ${median(times).toFixed(0)} | ${times.map((t) => t.toFixed(0)).join(', ')} |`);
}, 600_000);

test('reading one output: the yaml library vs the plain YAML reader (in process)', () => {
  const time = (fast: boolean): { ms: number; objects: number } => {
    const started = process.hrtime.bigint();
    const { documents } = readManifests([base], dir, { fast });
    return { ms: Number(process.hrtime.bigint() - started) / 1e6, objects: documents.length };
  };
  time(true); // warm-up: module loading and JIT
  const plain = [time(true), time(true), time(true)];
  const library = [time(false)];
  expect(plain[0].objects).toBe(library[0].objects);
  rows.push(`| read one output, plain YAML reader (in process) | ${DOMAINS * JOBS_PER_DOMAIN} | ${plain[0].objects} | 3 | ${median(plain.map((p) => p.ms)).toFixed(0)} | ${plain.map((p) => p.ms.toFixed(0)).join(', ')} |`);
  rows.push(`| read one output, yaml library (in process) | ${DOMAINS * JOBS_PER_DOMAIN} | ${library[0].objects} | 1 | ${library[0].ms.toFixed(0)} | ${library[0].ms.toFixed(0)} |`);
}, 600_000);
