import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { App } from 'cdk8s';
import { stringify } from 'yaml';
import { CliRun, runCli } from './run-cli';
import { FloeSecretsPlatform, SecretMountedJob, SecretReference, VaultSecretSource } from '../../../src';
import { TestCluster } from '../../../test/integration/cluster';
import { VaultTestServer } from '../../floe-secrets-vault/test/vault-test-server';

// `floe-secrets vault-policies` through the built CLI, on output synthesized with the library: two
// domains whose connection Secrets come through ExternalSecrets and a per-domain Vault SecretStore
// (role floe-<domain>, ServiceAccount external-secrets-vault), and a Vault Agent workload in each
// with a role of its own. Every policy and role written is loaded into the Vault test server over
// HTTP, as `vault policy write` and `vault write auth/kubernetes/role/...` do, and each
// ServiceAccount logs in with a real token of a real kube-apiserver (reviewed by it).

/** Every random value put in a fixture (Vault secrets, a Secret of the input): none may appear anywhere. */
const values: string[] = [];
const value = (): string => {
  const v = `v-${randomBytes(12).toString('hex')}`;
  values.push(v);
  return v;
};

let root: string;
let env: NodeJS.ProcessEnv;
let cluster: TestCluster;
let vault: VaultTestServer;
let vaultRoot: string;

const MANIFEST = {
  plugins: { secrets: { type: 'vault', address: 'https://vault.example:8200', auth_method: 'kubernetes', role: 'floe-agent', mount: 'secret', delivery: 'external-secrets' } },
  compute: {
    snowflake: { type: 'snowflake', connection_secret_ref: 'snowflake-credentials', keys: ['user', 'password'], domains: ['sales'] },
    hubspot: { type: 'hubspot', connection_secret_ref: 'hubspot-api', keys: ['HUBSPOT_TOKEN'], domains: ['marketing'] },
  },
  domains: [{ name: 'sales' }, { name: 'marketing' }],
};

/** The Vault paths the app reads (relative to the mount), and what they hold. */
const SECRETS: { [path: string]: string[] } = {
  'compute/snowflake': ['user', 'password'],
  'compute/hubspot': ['HUBSPOT_TOKEN'],
  'marketing/warehouse-export': ['user', 'password'],
  'sales/reporting': ['token'],
};

/**
 * Domains sales and marketing from the manifest: orders-load reads snowflake-credentials and
 * campaign-sync hubspot-api (ExternalSecrets through each domain's SecretStore vault); report
 * (sales, role floe-sales-report) and audience-export (marketing, role floe-marketing-export) get
 * files from the Vault Agent. With `shared`, audience-export also reads sales/reporting.
 */
function synth(name: string, options: { shared?: boolean } = {}): string {
  const outdir = join(root, name);
  const app = new App({ outdir });
  const platform = FloeSecretsPlatform.fromManifest(app, 'Platform', join(root, 'manifest.yaml'));
  const sales = platform.domain('sales');
  const marketing = platform.domain('marketing');
  const image = 'ghcr.io/acme/job:1.0.0';
  new SecretMountedJob(sales, 'OrdersLoad', { name: 'orders-load', image, secretEnv: [SecretReference.fromSecret(platform.connectionSecret('snowflake', sales), 'password')] });
  new SecretMountedJob(marketing, 'CampaignSync', { name: 'campaign-sync', image, secretEnvFrom: [platform.connectionSecret('hubspot', marketing)] });
  const report = new SecretMountedJob(sales, 'Report', { name: 'report', image, automountServiceAccountToken: true });
  new VaultSecretSource(sales, 'Reporting', { role: 'floe-sales-report', path: 'sales/reporting', keys: ['token'], name: 'reporting' }).injectInto(report);
  const exporter = new SecretMountedJob(marketing, 'AudienceExport', { name: 'audience-export', image, automountServiceAccountToken: true });
  new VaultSecretSource(marketing, 'WarehouseExport', { role: 'floe-marketing-export', path: 'marketing/warehouse-export', keys: ['user', 'password'], name: 'warehouse-export' })
    .injectInto(exporter);
  if (options.shared) {
    new VaultSecretSource(marketing, 'SalesReporting', { role: 'floe-marketing-export', path: 'sales/reporting', keys: ['token'], name: 'sales-reporting' }).injectInto(exporter);
  }
  app.synth();
  // A Secret with values in the input: the command must never repeat them.
  writeFileSync(join(outdir, 'platform-secret.yaml'), stringify({
    apiVersion: 'v1', kind: 'Secret', metadata: { name: 'platform-token', namespace: 'floe-sales' }, stringData: { token: value(), password: value() },
  }));
  return outdir;
}

async function cli(args: string[]): Promise<CliRun> {
  const run = await runCli(['vault-policies', ...args], { cwd: root, env });
  for (const v of values) {
    expect(run.stdout).not.toContain(v);
    expect(run.stderr).not.toContain(v);
  }
  expect(run.stderr).not.toMatch(/\n\s+at /);
  return run;
}

/** Every file of a folder, by relative path. */
function filesOf(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(at, entry.name));
      else files.set(relative(dir, join(at, entry.name)), readFileSync(join(at, entry.name), 'utf8'));
    }
  };
  walk(dir);
  return files;
}

interface Reply { status: number; body: any }

async function call(method: string, path: string, token: string | undefined, body?: object): Promise<Reply> {
  const response = await fetch(`${vault.address}/v1/${path}`, {
    method,
    headers: { ...(token ? { 'X-Vault-Token': token } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** Loads every policy and role of `out` over HTTP, as `vault policy write` and `vault write auth/kubernetes/role/...` do. */
async function load(out: string): Promise<void> {
  for (const [file, text] of filesOf(out)) {
    if (file.endsWith('.hcl')) {
      expect(await call('PUT', `sys/policies/acl/${file.slice(0, -'.hcl'.length)}`, vaultRoot, { policy: text })).toMatchObject({ status: 204 });
    } else if (file.endsWith('.role.json')) {
      expect((await call('POST', `auth/kubernetes/role/${file.slice(0, -'.role.json'.length)}`, vaultRoot, JSON.parse(text))).status).toBe(200);
    }
  }
}

const login = async (role: string, namespace: string, name: string): Promise<Reply> =>
  call('POST', 'auth/kubernetes/login', undefined, { role, jwt: await cluster.serviceAccountToken(namespace, name) });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'floe-cli-vault-policies-'));
  env = { ...process.env, FLOE_SECRETS_AUDIT_DIR: join(root, 'audit') };
  writeFileSync(join(root, 'manifest.yaml'), stringify(MANIFEST));
  synth('dist');
  cluster = TestCluster.start();
  for (const ns of ['floe-sales', 'floe-marketing', 'vault']) cluster.kubectlOk(['create', 'namespace', ns]);
  for (const [ns, name] of [
    ['floe-sales', 'external-secrets-vault'], ['floe-sales', 'report'], ['floe-sales', 'orders-load'], ['floe-sales', 'intruder'],
    ['floe-marketing', 'external-secrets-vault'], ['floe-marketing', 'audience-export'], ['vault', 'vault-auth'],
  ]) cluster.kubectlOk(['create', 'serviceaccount', name, '-n', ns]);
  cluster.kubectlOk(['create', 'clusterrolebinding', 'vault-auth-delegator', '--clusterrole=system:auth-delegator', '--serviceaccount=vault:vault-auth']);
  vault = await VaultTestServer.start();
  vaultRoot = vault.createToken({ policies: ['root'] }).token;
  for (const [path, fields] of Object.entries(SECRETS)) vault.put(path, Object.fromEntries(fields.map((f) => [f, value()])));
  expect(await call('POST', 'sys/auth/kubernetes', vaultRoot, { type: 'kubernetes' })).toMatchObject({ status: 204 });
  expect(await call('POST', 'auth/kubernetes/config', vaultRoot, {
    kubernetes_host: cluster.url,
    kubernetes_ca_cert: readFileSync(join(cluster.dir, 'certs', 'apiserver.crt'), 'utf8'),
    token_reviewer_jwt: await cluster.serviceAccountToken('vault', 'vault-auth'),
  })).toMatchObject({ status: 204 });
}, 240_000);

afterAll(async () => {
  cluster?.stop();
  await vault?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('floe-secrets vault-policies (built CLI, Vault test server, real kube-apiserver)', () => {
  test('one policy and role per Vault role: each ServiceAccount logs in and reads exactly its paths; others are refused', async () => {
    const run = await cli(['dist', '-o', 'vault']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const files = filesOf(join(root, 'vault'));
    expect([...files.keys()].sort()).toEqual([
      'README.md',
      'floe-marketing-export.hcl', 'floe-marketing-export.role.json',
      'floe-marketing.hcl', 'floe-marketing.role.json',
      'floe-sales-report.hcl', 'floe-sales-report.role.json',
      'floe-sales.hcl', 'floe-sales.role.json',
      'vault-policies.tf.json',
    ]);
    // The ExternalSecrets' store role floe-sales: read on exactly the snowflake path, bound to the store's ServiceAccount only.
    expect(files.get('floe-sales.hcl')).toMatch(/^path "secret\/data\/compute\/snowflake" \{\n {2}capabilities = \["read"\]\n\}$/m);
    expect(files.get('floe-sales.hcl')!.match(/^path /gm)).toHaveLength(1);
    expect(JSON.parse(files.get('floe-sales.role.json')!)).toEqual({
      bound_service_account_names: ['external-secrets-vault'],
      bound_service_account_namespaces: ['floe-sales'],
      token_policies: ['floe-sales'],
      token_ttl: '1h',
      token_max_ttl: '4h',
    });
    expect(run.stdout).toContain('wrote 4 Vault policies and roles to vault');
    expect(run.stdout).toContain('no flags');
    for (const text of files.values()) expect(text).not.toMatch(/"list"/);

    await load(join(root, 'vault'));
    const expected: Array<[role: string, namespace: string, name: string, paths: string[]]> = [
      ['floe-sales', 'floe-sales', 'external-secrets-vault', ['compute/snowflake']],
      ['floe-marketing', 'floe-marketing', 'external-secrets-vault', ['compute/hubspot']],
      ['floe-sales-report', 'floe-sales', 'report', ['sales/reporting']],
      ['floe-marketing-export', 'floe-marketing', 'audience-export', ['marketing/warehouse-export']],
    ];
    for (const [role, namespace, name, paths] of expected) {
      const answer = await login(role, namespace, name);
      expect(answer.status).toBe(200);
      expect(answer.body.auth.token_policies).toEqual(['default', role]);
      expect(answer.body.auth.lease_duration).toBe(3600);
      for (const path of Object.keys(SECRETS)) {
        const read = await call('GET', `secret/data/${path}`, answer.body.auth.client_token);
        expect([role, path, read.status]).toEqual([role, path, paths.includes(path) ? 200 : 403]);
      }
      expect((await call('GET', 'secret/metadata/?list=true', answer.body.auth.client_token)).status).toBe(403);
    }
    // Not bound: another ServiceAccount of the namespace, a workload's own ServiceAccount for the store's role, another domain's.
    await expect(login('floe-sales', 'floe-sales', 'intruder')).resolves.toMatchObject({ status: 403, body: { errors: ['service account name not authorized'] } });
    await expect(login('floe-sales', 'floe-sales', 'orders-load')).resolves.toMatchObject({ status: 403 });
    await expect(login('floe-sales', 'floe-marketing', 'external-secrets-vault')).resolves.toMatchObject({ status: 403, body: { errors: ['namespace not authorized'] } });
    await expect(login('floe-sales-report', 'floe-marketing', 'audience-export')).resolves.toMatchObject({ status: 403 });
  });

  test('plain YAML: a ClusterSecretStore with dataFrom.find gets list on the folder only; one agent role for two domains is flagged, and the flag is real', async () => {
    const agent = (namespace: string, name: string, path: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name }, annotations: { 'vault.hashicorp.com/agent-inject': 'true', 'vault.hashicorp.com/role': 'floe-agent', 'vault.hashicorp.com/agent-inject-secret-db': path } },
          spec: { serviceAccountName: name, containers: [{ name, image: 'app:1' }] },
        },
      },
    });
    mkdirSync(join(root, 'plain-vault'));
    writeFileSync(join(root, 'plain-vault', 'all.yaml'), [
      {
        apiVersion: 'external-secrets.io/v1',
        kind: 'ClusterSecretStore',
        metadata: { name: 'vault-shared' },
        spec: {
          provider: {
            vault: {
              server: 'https://vault.example:8200', path: 'secret', version: 'v2', auth: { kubernetes: { mountPath: 'kubernetes', role: 'eso-shared', serviceAccountRef: { name: 'external-secrets', namespace: 'eso' } } },
            },
          },
        },
      },
      {
        apiVersion: 'external-secrets.io/v1',
        kind: 'ExternalSecret',
        metadata: { name: 'sales-all', namespace: 'floe-sales' },
        spec: {
          secretStoreRef: { kind: 'ClusterSecretStore', name: 'vault-shared' }, target: { name: 'sales-all' }, dataFrom: [{ find: { path: 'sales', name: { regexp: '.*' } } }],
        },
      },
      agent('floe-sales', 'sales-api', 'secret/data/sales/db'),
      agent('floe-marketing', 'mkt-api', 'secret/data/marketing/db'),
    ].map((o) => stringify(o)).join('---\n'));
    const run = await cli(['plain-vault', '-o', 'plain-vault-out']);
    expect(run.status).toBe(0);
    const files = filesOf(join(root, 'plain-vault-out'));
    expect(files.get('eso-shared.hcl')).toContain('path "secret/metadata/sales/*" {\n  capabilities = ["list"]\n}');
    expect(files.get('eso-shared.hcl')).toContain('path "secret/data/sales/*" {\n  capabilities = ["read"]\n}');
    expect(JSON.parse(files.get('eso-shared.role.json')!)).toMatchObject({ bound_service_account_names: ['external-secrets'], bound_service_account_namespaces: ['eso'] });
    expect(run.stderr).toContain('warning: [shared-role] Vault role floe-agent is used by domains marketing, sales');
    expect(run.stderr).toContain('warning: [broad-binding] Vault role floe-agent binds 2 ServiceAccount names in 2 namespaces, which Vault matches in any combination: '
      + 'it also admits floe-marketing/sales-api, floe-sales/mkt-api');

    for (const [ns, name] of [['eso', 'external-secrets'], ['floe-sales', 'sales-api'], ['floe-marketing', 'mkt-api'], ['floe-sales', 'mkt-api']]) {
      if (cluster.kubectl(['get', 'namespace', ns]).status !== 0) cluster.kubectlOk(['create', 'namespace', ns]);
      cluster.kubectlOk(['create', 'serviceaccount', name, '-n', ns]);
    }
    vault.put('sales/db', { password: value() });
    vault.put('marketing/db', { password: value() });
    await load(join(root, 'plain-vault-out'));
    const eso = (await login('eso-shared', 'eso', 'external-secrets')).body.auth.client_token;
    expect((await call('GET', 'secret/metadata/sales/?list=true', eso)).status).toBe(200);
    expect((await call('GET', 'secret/data/sales/db', eso)).status).toBe(200);
    expect((await call('GET', 'secret/data/sales/reporting', eso)).status).toBe(200);
    expect((await call('GET', 'secret/data/marketing/db', eso)).status).toBe(403);
    expect((await call('GET', 'secret/metadata/?list=true', eso)).status).toBe(403);
    expect((await call('GET', 'secret/metadata/sales/db', eso)).status).toBe(403); // list, not read: no tags filter
    // What the broad-binding flag says: a ServiceAccount no workload uses (floe-sales/mkt-api) logs in, and reads marketing's path.
    const stray = await login('floe-agent', 'floe-sales', 'mkt-api');
    expect(stray.status).toBe(200);
    expect((await call('GET', 'secret/data/marketing/db', stray.body.auth.client_token)).status).toBe(200);
  });

  test('deterministic: two runs write byte-identical folders; a run replaces the folder it wrote before', async () => {
    expect((await cli(['dist', '-o', 'run-1'])).status).toBe(0);
    expect((await cli(['dist', '-o', 'run-2'])).status).toBe(0);
    expect(filesOf(join(root, 'run-2'))).toEqual(filesOf(join(root, 'run-1')));
    const first = filesOf(join(root, 'run-1'));
    expect((await cli(['dist', '-o', 'run-1'])).status).toBe(0);
    expect(filesOf(join(root, 'run-1'))).toEqual(first);
    expect(readdirSync(root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  test('a path read by two domains is flagged (stderr, summary, README); --fail-on-shared makes it exit 1', async () => {
    synth('shared', { shared: true });
    const run = await cli(['shared', '-o', 'shared-out']);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('floe-secrets vault-policies: warning: [shared-path] secret/data/sales/reporting is read by domains marketing, sales '
      + '(roles floe-marketing-export, floe-sales-report)');
    expect(run.stdout).toContain('flags: 1 shared-path');
    expect(readFileSync(join(root, 'shared-out', 'README.md'), 'utf8')).toContain('[shared-path] secret/data/sales/reporting is read by domains marketing, sales');
    const failing = await cli(['shared', '-o', 'shared-out', '--fail-on-shared']);
    expect(failing.status).toBe(1);
    expect(failing.stderr).toContain('1 path or role shared by domains (--fail-on-shared)');
  });

  test('an ExternalSecret whose store is not in the input: exit 1 naming the ExternalSecrets, the store and the fix; the rest is written', async () => {
    cpSync(join(root, 'dist'), join(root, 'no-store'), { recursive: true });
    const file = join(root, 'no-store', 'sales.k8s.yaml');
    const docs = readFileSync(file, 'utf8').split(/^---\n/m);
    const kept = docs.filter((d) => !/^kind: SecretStore$/m.test(d));
    expect(kept.length).toBe(docs.length - 1);
    writeFileSync(file, kept.join('---\n'));
    const run = await cli(['no-store', '-o', 'no-store-out']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/PROBLEM: SecretStore floe-sales\/vault: is read by ExternalSecret floe-sales\/\S+ but is not in the input: its Vault role, KV mount and ServiceAccount are unknown/);
    expect(run.stderr).toContain('fix: pass the file that defines the store as another path');
    expect([...filesOf(join(root, 'no-store-out')).keys()].filter((f) => f.endsWith('.hcl')).sort())
      .toEqual(['floe-marketing-export.hcl', 'floe-marketing.hcl', 'floe-sales-report.hcl']);
  });

  test.each([
    ['a missing DIST', ['nope', '-o', 'x'], /^floe-secrets vault-policies: cannot read nope: no such file or directory\n$/],
    ['no -o', ['dist'], /missing -o DIR: the directory to write the policies and roles to/],
    ['-o json typed by habit', ['dist', '-o', 'json'], /-o takes the directory to write here, not a format \("json" looks like one\); for a directory of that name write -o \.\/json/],
    ['an unwritable -o DIR (under a file)', ['dist', '-o', 'manifest.yaml/out'], /-o manifest\.yaml\/out: cannot use it: not a directory; give a directory you can write\n$/],
    ['an unwritable -o DIR (in /proc)', ['dist', '-o', '/proc/vault-out'], /-o \/proc\/vault-out: cannot create a folder in \/proc: .*; give a directory you can write\n$/],
    ['a bad --token-ttl', ['dist', '-o', 'x', '--token-ttl', 'soon'], /--token-ttl is not a duration; give e\.g\. 15m, 1h or 3600/],
    ['--token-ttl over --token-max-ttl', ['dist', '-o', 'x', '--token-ttl', '5h'], /--token-ttl 5h is longer than --token-max-ttl 4h/],
  ])('%s: exit 2, one line naming the argument and the fix, nothing written', async (_, args, message) => {
    const before = readdirSync(root).sort();
    const run = await cli(args);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(root).sort()).toEqual(before);
  });

  test('no Vault objects in the input: exit 2, nothing written', async () => {
    mkdirSync(join(root, 'plain'));
    writeFileSync(join(root, 'plain', 'pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: { name: app, namespace: apps }\nspec:\n  containers: [{ name: app, image: app }]\n');
    const run = await cli(['plain', '-o', 'plain-out']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('no Vault objects in plain (no pod template with Vault Agent annotations, no ExternalSecret through a Vault store): nothing to write');
    expect(existsSync(join(root, 'plain-out'))).toBe(false);
  });

  test('-o DIR holding files the command did not write: exit 2, the folder untouched', async () => {
    mkdirSync(join(root, 'mine'));
    writeFileSync(join(root, 'mine', 'notes.txt'), 'keep me\n');
    const run = await cli(['dist', '-o', 'mine']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('-o mine is not empty and has no README.md written by vault-policies, and the whole folder is replaced; give a new or empty directory');
    expect(readdirSync(join(root, 'mine'))).toEqual(['notes.txt']);
    // A folder it wrote, with a file of someone else's added: that file is named.
    expect((await cli(['dist', '-o', 'ours'])).status).toBe(0);
    writeFileSync(join(root, 'ours', 'notes.txt'), 'keep me\n');
    const again = await cli(['dist', '-o', 'ours']);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain('-o ours holds files vault-policies did not write (notes.txt), and the whole folder is replaced');
    expect(readFileSync(join(root, 'ours', 'notes.txt'), 'utf8')).toBe('keep me\n');
  });

  test('a manifest of another backend: exit 2 naming --manifest', async () => {
    writeFileSync(join(root, 'k8s-manifest.yaml'), 'plugins:\n  secrets: { type: k8s }\n');
    const run = await cli(['dist', '-o', 'x', '--manifest', 'k8s-manifest.yaml']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('k8s-manifest.yaml: plugins.secrets.type is k8s, not vault; vault-policies writes Vault policies: pass the manifest of a Vault platform with --manifest');
  });

  test('no value of the input or of Vault appears in any file written', () => {
    for (const dir of ['vault', 'run-1', 'shared-out', 'no-store-out']) {
      for (const text of filesOf(join(root, dir)).values()) for (const v of values) expect(text).not.toContain(v);
    }
  });
  test('dynamic database credentials: read on <mount>/creds/<role> for a Vault Agent role and for a VaultDynamicSecret generator\'s role, nothing on sys/leases; the README says what revoking needs', async () => {
    mkdirSync(join(root, 'dynamic'));
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'etl', namespace: 'floe-sales' },
      spec: {
        template: {
          metadata: {
            annotations: {
              'vault.hashicorp.com/agent-inject': 'true',
              'vault.hashicorp.com/agent-pre-populate-only': 'true',
              'vault.hashicorp.com/role': 'floe-sales-db',
              'vault.hashicorp.com/agent-inject-secret-db': 'database/creds/sales-readonly',
            },
          },
          spec: { serviceAccountName: 'etl', restartPolicy: 'Never', containers: [{ name: 'etl', image: 'etl:1' }] },
        },
      },
    };
    const generator = {
      apiVersion: 'generators.external-secrets.io/v1alpha1',
      kind: 'VaultDynamicSecret',
      metadata: { name: 'pg', namespace: 'floe-marketing' },
      spec: {
        path: '/database/creds/marketing-rw',
        method: 'GET',
        provider: { server: 'https://vault.example:8200', auth: { kubernetes: { mountPath: 'kubernetes', role: 'floe-marketing-db', serviceAccountRef: { name: 'db-generator' } } } },
      },
    };
    const externalSecret = (name: string, generatorName: string) => ({
      apiVersion: 'external-secrets.io/v1',
      kind: 'ExternalSecret',
      metadata: { name, namespace: 'floe-marketing' },
      spec: {
        refreshInterval: '1h',
        target: { name },
        dataFrom: [{ sourceRef: { generatorRef: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'VaultDynamicSecret', name: generatorName } } }],
      },
    });
    writeFileSync(join(root, 'dynamic', 'all.yaml'), [job, generator, externalSecret('pg-creds', 'pg')].map((o) => stringify(o)).join('---\n'));
    const run = await cli(['dynamic', '-o', 'dynamic-out']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const files = filesOf(join(root, 'dynamic-out'));
    expect(files.get('floe-sales-db.hcl')).toContain('path "database/creds/sales-readonly" {\n  capabilities = ["read"]\n}');
    expect(files.get('floe-marketing-db.hcl')).toContain('path "database/creds/marketing-rw" {\n  capabilities = ["read"]\n}');
    for (const [file, text] of files) if (file.endsWith('.hcl')) expect(text).not.toContain('sys/leases');
    expect(JSON.parse(files.get('floe-sales-db.role.json')!)).toMatchObject({ bound_service_account_names: ['etl'], bound_service_account_namespaces: ['floe-sales'] });
    expect(JSON.parse(files.get('floe-marketing-db.role.json')!)).toMatchObject({ bound_service_account_names: ['db-generator'], bound_service_account_namespaces: ['floe-marketing'] });
    const readme = files.get('README.md')!;
    expect(readme).toContain('## Dynamic credentials');
    expect(readme).toContain('`database/creds/marketing-rw`, `database/creds/sales-readonly` give credentials with a lease');
    expect(readme).toContain('`update` on `sys/leases/revoke`, which no role here gets');

    // Loaded into the Vault test server: each ServiceAccount may read its own role's creds path (the engine has no such
    // role, so Vault answers 400 "unknown role" after the ACL let it through) and not the other's (403).
    vault.enableDatabase('database');
    for (const [ns, name] of [['floe-sales', 'etl'], ['floe-marketing', 'db-generator']]) cluster.kubectlOk(['create', 'serviceaccount', name, '-n', ns]);
    await load(join(root, 'dynamic-out'));
    const etl = (await login('floe-sales-db', 'floe-sales', 'etl')).body.auth.client_token;
    const gen = (await login('floe-marketing-db', 'floe-marketing', 'db-generator')).body.auth.client_token;
    expect(await call('GET', 'database/creds/sales-readonly', etl)).toMatchObject({ status: 400, body: { errors: ['unknown role: sales-readonly'] } });
    expect((await call('GET', 'database/creds/marketing-rw', etl)).status).toBe(403);
    expect(await call('GET', 'database/creds/marketing-rw', gen)).toMatchObject({ status: 400, body: { errors: ['unknown role: marketing-rw'] } });
    expect((await call('GET', 'database/creds/sales-readonly', gen)).status).toBe(403);
    expect((await call('PUT', 'sys/leases/revoke', gen, { lease_id: 'database/creds/marketing-rw/x' })).status).toBe(403);

    // A generator that is not in the input is named, with the fix, and the command exits 1.
    writeFileSync(join(root, 'dynamic', 'more.yaml'), stringify(externalSecret('other-creds', 'missing-gen')));
    const missing = await cli(['dynamic', '-o', 'dynamic-out-2']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('VaultDynamicSecret floe-marketing/missing-gen: is the generator of ExternalSecret floe-marketing/other-creds but is not in the input');
  });
});
