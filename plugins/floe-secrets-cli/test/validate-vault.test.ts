import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentServer } from '@floe-secrets/core';
import { App } from 'cdk8s';
import { stringify } from 'yaml';
import { CliRun, runCli } from './run-cli';
import { createExampleSecrets, LeakWatch } from './validate-fixture';
import { buildExampleApp } from '../../../examples/app';
import { TestCluster } from '../../../test/integration/cluster';
import { CRD_FILES, installCrds } from '../../../test/integration/crds';
import { VaultTestServer } from '../../floe-secrets-vault/test/vault-test-server';

// floe-secrets validate through the built CLI with a Vault backend: the example app synthesized
// for Vault (connection Secrets through the External Secrets Operator, a Vault Agent injection),
// against a real kube-apiserver with the real CRDs and the Vault test server.

const watch = new LeakWatch();

let cluster: TestCluster;
let vault: VaultTestServer;
let dir: string;
let env: NodeJS.ProcessEnv;

async function validate(args: string[], options: { tty?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return watch.record(await runCli(['validate', ...args], { cwd: dir, env: { ...env, ...options.env }, tty: options.tty }));
}

/** Writes the Vault secret at `path` with random values for `fields`. */
function seed(path: string, fields: string[]): void {
  vault.put(path, Object.fromEntries(fields.map((f) => [f, watch.random()])));
}

function seedAll(): void {
  seed('compute/snowflake', ['account', 'user', 'password']);
  seed('compute/hubspot', ['HUBSPOT_TOKEN']);
  seed('marketing/ads', ['ADS_TOKEN']);
  seed('marketing/warehouse-export', ['user', 'password']);
}

/** A copy of the synthesized example with one edit in `file`. */
function variant(name: string, file: string, edit: (yaml: string) => string): string {
  cpSync(join(dir, 'dist'), join(dir, name), { recursive: true });
  const path = join(dir, name, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before); // the edit must hit
  writeFileSync(path, after);
  return name;
}

function writeManifest(file: string, address: string): void {
  writeFileSync(join(dir, file), stringify({
    plugins: {
      secrets: {
        type: 'vault',
        address,
        auth_method: 'token',
        token: { env: 'VAULT_TOKEN' },
        mount: 'secret',
        delivery: 'external-secrets',
        // A namespaced store the platform team creates in each domain namespace (not in the input).
        secret_store: { name: 'vault', kind: 'SecretStore' },
      },
    },
    compute: {
      snowflake: { type: 'snowflake', connection_secret_ref: 'snowflake-credentials', keys: ['account', 'user', 'password'], domains: ['sales'] },
      hubspot: { type: 'hubspot', connection_secret_ref: 'hubspot-api', keys: ['HUBSPOT_TOKEN'], domains: ['marketing'] },
    },
    domains: [{ name: 'sales' }, { name: 'marketing' }],
  }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'floe-cli-validate-vault-'));
  cluster = TestCluster.start();
  installCrds(cluster, CRD_FILES, { log: () => undefined });
  vault = await VaultTestServer.start();
  vault.setPolicy('read', { 'secret/data/*': ['read'] });
  const token = vault.createToken({ policies: ['read'] }).token;
  watch.remember(token);
  seedAll();
  writeManifest('manifest.yaml', vault.address);
  buildExampleApp(new App({ outdir: join(dir, 'dist') }), join(dir, 'manifest.yaml')).synth();
  createExampleSecrets(cluster, watch, { namespaces: true });
  env = { ...process.env, KUBECONFIG: join(cluster.dir, 'kubeconfig'), VAULT_TOKEN: token, FLOE_SECRETS_AUDIT_DIR: join(dir, 'audit') };
}, 240_000);

afterAll(async () => {
  cluster?.stop();
  await vault?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => watch.expectNoLeak(join(dir, 'audit')));

describe('floe-secrets validate with a Vault backend (built CLI, real kube-apiserver, Vault test server)', () => {
  test('the example for Vault, everything in place: exit 0; one Vault read per distinct path however many references', async () => {
    const before = vault.requests.length;
    const run = await validate(['-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json.problems).toEqual([]);
    expect(json.errors).toEqual([]);
    // 3 Secrets made with kubectl, 3 written by ESO (snowflake-credentials, hubspot-api, ads-api), 1 Vault Agent path.
    expect(json.checked.secrets).toBe(7);
    expect(json.checked.backendReads).toBe(7);
    const reads = vault.requests.slice(before).filter((r) => r.method === 'GET' && r.path.startsWith('secret/data/')).map((r) => r.path).sort();
    expect(reads).toEqual(['secret/data/compute/hubspot', 'secret/data/compute/snowflake', 'secret/data/marketing/ads', 'secret/data/marketing/warehouse-export']);
    expect(json.notes.filter((n: string) => /vault|external/i.test(n))).toEqual([
      'floe-marketing/CronJob/nightly-dbt-pg: the Vault Agent asks database/creds/marketing-dbt for dynamic credentials when the pod starts; not checked before deploy',
    ]);
  });

  test('a Vault Agent template field missing in Vault: exit 1, naming the path, field, files and fix', async () => {
    seed('marketing/warehouse-export', ['user']);
    try {
      const run = await validate([]);
      expect(run.status).toBe(1);
      expect(run.stdout).toContain([
        'floe-marketing/CronJob/audience-export',
        '  ✗ [vault] vault-agent secret/data/marketing/warehouse-export field password (files /run/secrets/warehouse-export/password, /run/secrets/warehouse-export/user)',
        '      Vault secret secret/data/marketing/warehouse-export has no field password (it has user)',
        '      fix: add it: floe-secrets set marketing/warehouse-export/password < value-file, or read an existing field in the agent template',
      ].join('\n'));
    } finally {
      seedAll();
    }
  });

  test('a Vault Agent path without the KV v2 data/ segment, and one with no secret: exit 1', async () => {
    const noData = variant('vault-no-data', 'marketing.k8s.yaml', (y) => y.replace(/secret\/data\/marketing\/warehouse-export/g, 'secret/marketing/warehouse-export'));
    const run = await validate([noData, '-o', 'json']);
    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout).problems).toEqual([expect.objectContaining({
      check: 'vault',
      workload: 'floe-marketing/CronJob/audience-export',
      message: 'the Vault Agent reads secret/marketing/warehouse-export, but secret is a KV version 2 mount: its secrets are read at secret/data/<path>, so the agent would get nothing',
      fix: 'write the path as secret/data/marketing/warehouse-export in vault.hashicorp.com/agent-inject-secret-* and in the template',
    })]);

    const missing = variant('vault-missing', 'marketing.k8s.yaml', (y) => y.replace(/secret\/data\/marketing\/warehouse-export/g, 'secret/data/marketing/warehouse-exprt'));
    const gone = JSON.parse((await validate([missing, '-o', 'json'])).stdout).problems;
    expect(gone).toEqual([expect.objectContaining({
      check: 'vault',
      message: 'Vault has no secret at secret/data/marketing/warehouse-exprt: the agent would not render /run/secrets/warehouse-export/password, /run/secrets/warehouse-export/user and the pod would not start',
    })]);
  });

  test('a Vault Agent path with a trailing slash is a problem, not "could not check" (Vault answers it with 500)', async () => {
    const slash = variant('vault-trailing-slash', 'marketing.k8s.yaml', (y) => y.replace(/secret\/data\/marketing\/warehouse-export/g, 'secret/data/marketing/warehouse-export/'));
    const run = await validate([slash, '-o', 'json']);
    expect(run.status).toBe(1);
    const json = JSON.parse(run.stdout);
    expect(json.errors).toEqual([]);
    expect(json.problems).toEqual([expect.objectContaining({
      check: 'vault',
      workload: 'floe-marketing/CronJob/audience-export',
      message: expect.stringContaining('the Vault Agent reads secret/data/marketing/warehouse-export/, which is not a secret path'),
      fix: 'write the path as secret/data/marketing/warehouse-export in vault.hashicorp.com/agent-inject-secret-* and in the template',
    })]);
  });

  test('ExternalSecrets: a missing property, a missing remote secret, and a key the ExternalSecret does not write: exit 1', async () => {
    seed('compute/hubspot', ['HUBSPOT_KEY']);
    try {
      const property = JSON.parse((await validate(['-o', 'json'])).stdout).problems;
      expect(property).toEqual([expect.objectContaining({
        check: 'external-secrets',
        workload: 'floe-marketing/Job/campaign-sync',
        reference: expect.stringMatching(/^remote key compute\/hubspot property HUBSPOT_TOKEN \(ExternalSecret floe-marketing\/marketing-compute-hubspot-\w+\)$/),
        message: 'SecretStore floe-marketing/vault: secret compute/hubspot has no property HUBSPOT_TOKEN (it has HUBSPOT_KEY)',
      })]);
    } finally {
      seedAll();
    }

    const remote = variant('eso-remote', 'marketing.k8s.yaml', (y) => y.replace('key: marketing/ads', 'key: marketing/adz'));
    const missing = await validate([remote]);
    expect(missing.status).toBe(1);
    expect(missing.stdout).toMatch(/ {2}✗ \[external-secrets\] remote key marketing\/adz property ADS_TOKEN \(ExternalSecret floe-marketing\/marketing-adsapi-\w+\)\n {6}SecretStore floe-marketing\/vault has no secret marketing\/adz: ESO would fail to sync Secret floe-marketing\/ads-api \(SecretSyncedError\)/);

    // The Deployment, Job and CronJob read key password, which the ExternalSecret no longer writes.
    const key = variant('eso-key', 'sales.k8s.yaml', (y) => y.replace('secretKey: password', 'secretKey: passwd'));
    const problems = JSON.parse((await validate([key, '-o', 'json'])).stdout).problems;
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      expect(p).toMatchObject({
        check: 'external-secrets',
        message: expect.stringMatching(/^ExternalSecret floe-sales\/sales-compute-snowflake-\w+ does not write key password into Secret floe-sales\/snowflake-credentials \(it writes account, passwd, user\)$/),
      });
    }
  });

  test('Vault unreachable: exit 2, saying which backend and why', async () => {
    const silent = await silentServer();
    try {
      writeManifest('manifest-silent.yaml', `http://${silent.address}`);
      const run = await validate(['--manifest', 'manifest-silent.yaml']);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`floe-secrets validate: could not check: vault: the backend of manifest-silent.yaml (http://${silent.address}) did not answer`);
    } finally {
      await silent.close();
    }
  }, 60_000);

  test('on a terminal, progress is drawn on stderr and erased before the report, whose verdict is green unless NO_COLOR; never in a pipe', async () => {
    const run = await validate([], { tty: true, env: { NO_COLOR: undefined, TERM: 'xterm' } });
    expect(run.status).toBe(0);
    // Each phase redrawn in place, then the line erased; the report follows on a clean line.
    expect(run.stdout).toMatch(/\r\u001b\[2Kfloe-secrets validate: checking Secrets in the cluster \d+\/3/);
    expect(run.stdout).toContain('\r\u001b[2Kfloe-secrets validate: checking Vault secrets of Vault Agent injections 1/1');
    // Erased, then the report: its notes (the dynamic credentials path) and the green verdict.
    expect(run.stdout).toMatch(/\r\u001b\[2K(\r\n)?notes:\r?\n[^\u001b]*summary: \u001b\[32mall good\u001b\[39m; /);
    // NO_COLOR: no colour (the progress line, which is no colour, is still drawn and erased)
    const plain = await validate([], { tty: true, env: { NO_COLOR: '1', TERM: 'xterm' } });
    expect(plain.stdout).toMatch(/\r\u001b\[2K(\r\n)?notes:\r?\n[^\u001b]*summary: all good; /);
    expect(plain.stdout).not.toMatch(/\u001b\[\d*m/);
    const piped = await validate([]);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).not.toContain('\u001b');
  });
});
