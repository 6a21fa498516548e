/**
 * `floe-secrets validate` on synthesized apps with 1,000 and 10,000 secret references to 50 and 500
 * distinct Secrets (issue 5): wall time of the built CLI and the backend reads it made. Against the
 * real kube-apiserver of the test suite. Run by `npm run bench` (jest, outside the test suite).
 *
 * Each case is set up once and the CLI run `BENCH_RUNS` times (default 3); the table gives every
 * sample and their median. Nothing is shared between the runs but the cluster's Secrets: each is a
 * new process with a new audit directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { stringify } from 'yaml';
import { runCli } from '../plugins/floe-secrets-cli/test/run-cli';
import { FloeDomain, FloeSecret, SecretMountedJob, SecretReference } from '../src';
import { TestCluster } from '../test/integration/cluster';

const REFS_PER_JOB = 10;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const rows: string[] = [];
let cluster: TestCluster;

beforeAll(() => {
  cluster = TestCluster.start();
}, 120_000);

afterAll(() => {
  cluster?.stop();
  process.stdout.write(['', '| references | distinct secrets | jobs | backend reads | validate wall ms (median) | samples ms | exit |',
    '|---:|---:|---:|---:|---:|---|---:|', ...rows, ''].join('\n'));
});

/** An app of `jobs` jobs, each reading REFS_PER_JOB of `secrets` Secrets (one key each) as env vars. */
function synthesize(outdir: string, domainName: string, jobs: number, secrets: number): Array<{ name: string; namespace: string }> {
  const app = new App({ outdir });
  const domain = new FloeDomain(app, domainName, { domain: domainName });
  const declared = Array.from({ length: secrets }, (_, i) => FloeSecret.fromSecretName(domain, `S${i}`, `secret-${i}`, { keys: ['value'] }));
  for (let j = 0; j < jobs; j++) {
    const refs = Array.from({ length: REFS_PER_JOB }, (_, r) => declared[(j * REFS_PER_JOB + r) % secrets]);
    new SecretMountedJob(domain, `J${j}`, {
      name: `job-${j}`,
      image: 'bench:1',
      secretEnv: [...new Set(refs)].map((s) => SecretReference.fromSecret(s, 'value')),
    });
  }
  app.synth();
  return declared.map((s) => ({ name: s.secretName, namespace: s.domain.namespace }));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

test.each([[100, 50], [1_000, 500]])('%i jobs x 10 references to %i secrets', async (jobs, secrets) => {
  const dir = mkdtempSync(join(tmpdir(), 'floe-validate-bench-'));
  try {
    // A domain per case: the test server has no namespace controller to finish deleting one.
    const domainName = `bench-${jobs}`;
    const created = synthesize(join(dir, 'dist'), domainName, jobs, secrets);
    cluster.kubectlOk(['create', 'namespace', `floe-${domainName}`]);
    cluster.kubectlOk(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: created.map((s) => ({ apiVersion: 'v1', kind: 'Secret', metadata: s, stringData: { value: 'x' } })),
    }));
    writeFileSync(join(dir, 'manifest.yaml'), stringify({ plugins: { secrets: { type: 'k8s' } }, domains: [{ name: domainName }] }));
    const samples: number[] = [];
    let report: any;
    for (let run = 0; run < RUNS; run++) {
      const env = { ...process.env, KUBECONFIG: join(cluster.dir, 'kubeconfig'), FLOE_SECRETS_AUDIT_DIR: join(dir, `audit-${run}`) };
      const started = Date.now();
      const result = await runCli(['validate', 'dist', '--manifest', 'manifest.yaml', '-o', 'json'], { cwd: dir, env });
      samples.push(Date.now() - started);
      expect(result.status).toBe(0);
      report = JSON.parse(result.stdout);
      // One read per distinct Secret, however many references: the same in every run.
      expect(report.checked).toEqual({ secrets, references: jobs * REFS_PER_JOB, backendReads: secrets });
    }
    rows.push(`| ${report.checked.references} | ${report.checked.secrets} | ${jobs} | ${report.checked.backendReads} | ${median(samples)} | ${samples.join(', ')} | 0 |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 600_000);
