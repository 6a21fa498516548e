import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentServer } from '@floe-secrets/core';
import { App } from 'cdk8s';
import { ValidationContext } from 'cdk8s-cli/plugins';
import { parse, stringify } from 'yaml';
import { FloeSecretsValidation } from '../src';
import { CliRun, runCli } from './run-cli';
import { applySecret, createExampleSecrets, LeakWatch } from './validate-fixture';
import { buildExampleApp } from '../../../examples/app';
import { TestCluster } from '../../../test/integration/cluster';
import { CRD_FILES, installCrds } from '../../../test/integration/crds';
import { InfisicalTestServer } from '../../floe-secrets-infisical/test/infisical-test-server';
import { ClusterIdentities } from '../../floe-secrets-k8s/test/cluster-identities';

// floe-secrets validate through the built CLI, against a real kube-apiserver with the operators'
// real CRDs and the Infisical test server, on the synthesized example app.

const watch = new LeakWatch();

/** Runs `floe-secrets validate ...` as a subprocess of the built CLI, keeping its output for the leak check. */
async function validate(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return watch.record(await runCli(['validate', ...args], { cwd: dir, env: options.env ?? env }));
}

let cluster: TestCluster;
let server: InfisicalTestServer;
let dir: string;
let env: NodeJS.ProcessEnv;

function writeManifest(file: string, siteUrl: string): void {
  writeFileSync(join(dir, file), stringify({
    plugins: {
      secrets: {
        type: 'infisical',
        site_url: siteUrl,
        project_id: server.projectId,
        environment: 'prod',
        secrets_path: '/',
        auth: {
          method: 'universal-auth',
          credentials_secret: { name: 'infisical-universal-auth', namespace: 'floe-platform' },
          client_id: { env: 'INFISICAL_CLIENT_ID' },
          client_secret: { env: 'INFISICAL_CLIENT_SECRET' },
        },
      },
    },
    domains: [{ name: 'sales' }, { name: 'marketing' }],
  }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'floe-cli-validate-'));
  cluster = TestCluster.start();
  installCrds(cluster, CRD_FILES, { log: () => undefined });
  buildExampleApp(new App({ outdir: join(dir, 'dist') })).synth();
  createExampleSecrets(cluster, watch, { namespaces: true });

  const who = { clientId: 'validate', clientSecret: watch.random(), access: 'read-only' as const };
  // The example's InfisicalSecrets name the project by its slug, floe-analytics; validate looks it up.
  server = await InfisicalTestServer.start({ identities: [who], projectSlug: 'floe-analytics' });
  for (const [folder, keys] of [['/compute/snowflake', ['account', 'user', 'password']], ['/compute/hubspot', ['HUBSPOT_TOKEN']]] as const) {
    for (const key of keys) server.seed('prod', folder, key, watch.random());
  }
  writeManifest('manifest.yaml', server.url);
  env = {
    ...process.env,
    KUBECONFIG: join(cluster.dir, 'kubeconfig'),
    INFISICAL_CLIENT_ID: who.clientId,
    INFISICAL_CLIENT_SECRET: who.clientSecret,
    FLOE_SECRETS_AUDIT_DIR: join(dir, 'audit'),
  };
}, 240_000);

afterAll(async () => {
  cluster?.stop();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

// No value, ever, in anything the CLI printed (nor in its audit log).
afterEach(() => watch.expectNoLeak(join(dir, 'audit')));

describe('floe-secrets validate (built CLI, real kube-apiserver, Infisical test server)', () => {
  test('the example app, with its external Secrets, CRDs and Infisical keys in place: exit 0, one read per distinct Secret', async () => {
    const run = await validate(['-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json.problems).toEqual([]);
    expect(json.errors).toEqual([]);
    // google-sa, shop-api, ga4-sa from the cluster; snowflake-credentials, hubspot-api through Infisical.
    expect(json.checked.secrets).toBe(5);
    expect(json.checked.backendReads).toBe(json.checked.secrets);
    expect(json.checked.references).toBeGreaterThanOrEqual(json.checked.secrets);
    // The Vault parts of the example need a Vault backend (validate-vault.test.ts checks them).
    expect(json.notes).toEqual(expect.arrayContaining([
      expect.stringMatching(/^ExternalSecret floe-marketing\/marketing-adsapi-\w+: SecretStore floe-marketing\/vault reads vault; its remote keys were not checked: manifest.yaml configures the infisical backend, not vault$/),
      'Vault Agent paths were not checked against Vault: manifest.yaml configures the infisical backend, not vault',
    ]));

    const text = await validate([]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^summary: all good; \d+ reference\(s\), 5 secret\(s\) checked against a backend, 5 backend read\(s\)$/m);
  });

  test('as a cdk8s synth validation plugin: success on the clean example; a failure is a violation', async () => {
    // GIVEN cdk8s-cli's own ValidationContext over the synthesized files, as `cdk8s synth` builds it
    const manifests = readdirSync(join(dir, 'dist')).sort().map((f) => join(dir, 'dist', f));
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      // WHEN the plugin validates the clean example
      const clean = new ValidationContext(manifests, '@floe-secrets/cli', '0.0.0', {}, false);
      // The kubeconfig as a plugin property: the Kubernetes client reads the real process.env, not jest's copy.
      await new FloeSecretsValidation({ manifest: join(dir, 'manifest.yaml'), kubeconfig: env.KUBECONFIG }).validate(clean);

      // THEN the report passes; and a broken setup fails it with a violation that says why
      expect(clean.report.toJson().violations).toEqual([]);
      expect(clean.report.success).toBe(true);
      const broken = new ValidationContext(manifests, '@floe-secrets/cli', '0.0.0', {}, false);
      await new FloeSecretsValidation({ manifest: join(dir, 'no-such-manifest.yaml'), kubeconfig: env.KUBECONFIG }).validate(broken);
      expect(broken.report.success).toBe(false);
      const report = JSON.stringify(broken.report.toJson());
      expect(report).toContain('floe-secrets/could-not-check');
      expect(report).toContain('no-such-manifest.yaml');
      watch.record(report);
      watch.record(JSON.stringify(clean.report.toJson()));
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  }, 60_000);

  test('as a cdk8s synth validation plugin: `~/` in the manifest and kubeconfig properties is $HOME, as the README documents (issue 11)', async () => {
    // GIVEN a home directory holding the kubeconfig and the manifest, named from cdk8s.yaml as ~/...
    const home = mkdtempSync(join(tmpdir(), 'floe-home-'));
    mkdirSync(join(home, '.kube'));
    cpSync(env.KUBECONFIG!, join(home, '.kube', 'config'));
    cpSync(join(dir, 'manifest.yaml'), join(home, 'manifest.yaml'));
    const manifests = readdirSync(join(dir, 'dist')).sort().map((f) => join(dir, 'dist', f));
    const saved = { ...process.env };
    Object.assign(process.env, env, { HOME: home });
    try {
      // WHEN the plugin validates the clean example with `kubeconfig: ~/.kube/config`
      const context = new ValidationContext(manifests, '@floe-secrets/cli', '0.0.0', {}, false);
      await new FloeSecretsValidation({ manifest: '~/manifest.yaml', kubeconfig: '~/.kube/config' }).validate(context);
      watch.record(JSON.stringify(context.report.toJson()));

      // THEN it reads both from $HOME and passes (not "could not load the cluster configuration")
      expect(context.report.toJson().violations).toEqual([]);
      expect(context.report.success).toBe(true);
      // AND the kubeconfig alone as ~/..., with $KUBECONFIG pointing nowhere, is read from $HOME too
      process.env.KUBECONFIG = join(home, 'no-such-kubeconfig');
      const kubeconfigOnly = new ValidationContext(manifests, '@floe-secrets/cli', '0.0.0', {}, false);
      await new FloeSecretsValidation({ manifest: join(dir, 'manifest.yaml'), kubeconfig: '~/.kube/config' }).validate(kubeconfigOnly);
      watch.record(JSON.stringify(kubeconfigOnly.report.toJson()));
      expect(kubeconfigOnly.report.toJson().violations).toEqual([]);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);

  test('--context and the plugin\'s context property pick the kubeconfig context whose cluster is checked', async () => {
    // GIVEN the test cluster's kubeconfig with a second context, elsewhere, whose apiserver refuses connections
    const kubeconfig = parse(readFileSync(env.KUBECONFIG!, 'utf8')) as { 'current-context': string; 'clusters': object[]; 'contexts': Array<{ context: { user: string } }> };
    const current = kubeconfig['current-context'];
    kubeconfig.clusters.push({ name: 'refusing', cluster: { server: 'https://127.0.0.1:1' } });
    kubeconfig.contexts.push({ name: 'elsewhere', context: { cluster: 'refusing', user: kubeconfig.contexts[0].context.user } } as never);
    const file = join(dir, 'two-contexts.kubeconfig');
    writeFileSync(file, stringify(kubeconfig), { mode: 0o600 });

    // WHEN validate runs with each context, THEN it checks the cluster of that context
    expect((await validate(['--kubeconfig', file, '--context', current])).status).toBe(0);
    const elsewhere = await validate(['--kubeconfig', file, '--context', 'elsewhere']);
    expect(elsewhere).toMatchObject({ status: 2, stdout: '' });
    expect(elsewhere.stderr).toMatch(new RegExp(`^floe-secrets validate: could not check: the Kubernetes cluster of context elsewhere of ${file} did not answer \\(.*127\\.0\\.0\\.1:1`));
    const unknown = await validate(['--kubeconfig', file, '--context', 'nope']);
    expect(unknown).toMatchObject({ status: 2, stderr: `floe-secrets validate: SecretsConfigError: k8s: context "nope" is not in the kubeconfig "${file}"; its contexts are ${current}, elsewhere: pick one of them (kubectl config get-contexts)\n` });

    // AND the cdk8s validation plugin's context property does the same
    const manifests = readdirSync(join(dir, 'dist')).sort().map((f) => join(dir, 'dist', f));
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const passing = new ValidationContext(manifests, '@floe-secrets/cli', '0.0.0', {}, false);
      await new FloeSecretsValidation({ manifest: join(dir, 'manifest.yaml'), kubeconfig: file, context: current }).validate(passing);
      expect(passing.report.success).toBe(true);
      const refused = new ValidationContext(manifests, '@floe-secrets/cli', '0.0.0', {}, false);
      await new FloeSecretsValidation({ manifest: join(dir, 'manifest.yaml'), kubeconfig: file, context: 'elsewhere' }).validate(refused);
      expect(refused.report.success).toBe(false);
      expect(JSON.stringify(refused.report.toJson())).toContain('the Kubernetes cluster of context elsewhere of');
      watch.record(JSON.stringify(passing.report.toJson()) + JSON.stringify(refused.report.toJson()));
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  }, 90_000);

  test('a missing key and a missing external Secret: exit 1, naming workload, secret, key and fix', async () => {
    cluster.kubectlOk(['delete', 'secret', 'google-sa', '-n', 'floe-sales']);
    applySecret(cluster, watch, 'floe-marketing', 'ga4-sa', ['project']);
    try {
      const run = await validate([]);
      expect(run.status).toBe(1);
      expect(run.stdout).toContain([
        'floe-marketing/Job/campaign-sync',
        '  ✗ [secret] file secret ga4-sa key key.json',
        '      Secret floe-marketing/ga4-sa has no key key.json (it has project)',
        '      fix: add key key.json to Secret floe-marketing/ga4-sa (kubectl -n floe-marketing edit secret ga4-sa), or change the reference to an existing key',
      ].join('\n'));
      expect(run.stdout).toMatch(/floe-sales\/Job\/orders-load\n(.*\n)*? {2}✗ \[secret\] file secret google-sa\n {6}Secret floe-sales\/google-sa does not exist in the cluster/);
      expect(run.stdout).toContain('fix: create it: kubectl -n floe-sales create secret generic google-sa');
      const json = JSON.parse((await validate(['-o', 'json'])).stdout);
      // audience-export mounts all of ga4-sa (no items): it still exists, so that is no problem.
      expect(json.problems).toEqual([
        expect.objectContaining({ check: 'secret', workload: 'floe-marketing/Job/campaign-sync', reference: 'file secret ga4-sa key key.json' }),
        expect.objectContaining({ check: 'secret', workload: 'floe-sales/Job/orders-load', reference: 'file secret google-sa' }),
        expect.objectContaining({ check: 'secret', workload: 'floe-sales/StatefulSet/ledger', reference: 'file secret google-sa' }),
      ]);
    } finally {
      createExampleSecrets(cluster, watch);
    }
  });

  test('a wrong Infisical path: exit 1, the workloads that read it and the fix', async () => {
    const wrong = join(dir, 'wrong-path');
    cpSync(join(dir, 'dist'), wrong, { recursive: true });
    const file = join(wrong, 'sales.k8s.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('secretsPath: /compute/snowflake', 'secretsPath: /compute/snowflak'));
    const run = await validate(['wrong-path', '-o', 'json']);
    expect(run.status).toBe(1);
    const problems = JSON.parse(run.stdout).problems;
    expect(problems.map((p: { workload: string }) => p.workload).sort()).toEqual(['floe-sales/CronJob/nightly-dbt', 'floe-sales/Deployment/orders-api', 'floe-sales/Job/orders-load', 'floe-sales/StatefulSet/ledger']);
    expect(problems[0]).toMatchObject({
      check: 'infisical',
      message: expect.stringContaining('Infisical has no secrets at project floe-analytics, environment prod, path /compute/snowflak: the operator would sync floe-sales/snowflake-credentials with no keys'),
      fix: expect.stringMatching(/^fix secretsPath\/projectSlug\/envSlug of InfisicalSecret floe-sales\/sales-compute-snowflake-/),
    });
  });

  test('an InfisicalSecret naming a project Infisical does not know: exit 1, a problem (not a note) naming the project', async () => {
    const other = join(dir, 'unknown-project');
    cpSync(join(dir, 'dist'), other, { recursive: true });
    const file = join(other, 'sales.k8s.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/projectSlug: floe-analytics/g, 'projectSlug: floe-analytic'));
    const run = await validate(['unknown-project', '-o', 'json']);
    expect(run.status).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.problems.length).toBeGreaterThan(0);
    expect(report.problems[0]).toMatchObject({
      check: 'infisical',
      message: expect.stringMatching(/^InfisicalSecret floe-sales\/sales-compute-\S+ reads project floe-analytic, which Infisical does not know/),
      fix: expect.stringMatching(/^set projectSlug of InfisicalSecret floe-sales\/sales-compute-\S+ to floe-analytics \(re-synthesize from manifest.yaml\)$/),
    });
    expect(report.notes.join('\n')).not.toContain('assumed to be the same');
  });

  test('a key missing in Infisical: exit 1 naming the key', async () => {
    const other = join(dir, 'missing-key');
    cpSync(join(dir, 'dist'), other, { recursive: true });
    const file = join(other, 'sales.k8s.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/key: account\n/g, 'key: warehouse\n'));
    const run = await validate(['missing-key']);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('floe-sales/CronJob/nightly-dbt\n  ✗ [infisical] env secret snowflake-credentials key warehouse (InfisicalSecret floe-sales/sales-compute-snowflake-');
    expect(run.stdout).toContain('lacks keys the workload reads: no key warehouse');
  });

  test('InfisicalStaticSecrets (operator API v1beta1): clean exit 0; a wrong secretPath exit 1 naming the resource and its fields', async () => {
    // GIVEN the example synthesized for the v1beta1 operator API: InfisicalStaticSecrets with sources
    const example = readFileSync(join(__dirname, '../../../examples/manifest.yaml'), 'utf8');
    const v1beta1 = example.replace('site_url: https://app.infisical.com', `site_url: ${server.url}`)
      .replace('project_slug: floe-analytics', `project_id: ${server.projectId}`).replace('operator_api: v1alpha1', 'operator_api: v1beta1');
    expect(v1beta1).toContain('operator_api: v1beta1');
    writeFileSync(join(dir, 'manifest-v1beta1.yaml'), v1beta1);
    buildExampleApp(new App({ outdir: join(dir, 'dist-v1beta1') }), join(dir, 'manifest-v1beta1.yaml')).synth();
    const sales = join(dir, 'dist-v1beta1', 'sales.k8s.yaml');
    expect(readFileSync(sales, 'utf8')).toContain('kind: InfisicalStaticSecret');

    // WHEN validated as synthesized, THEN all good, with the same reads as v1alpha1
    const clean = await validate(['dist-v1beta1', '--manifest', 'manifest-v1beta1.yaml', '-o', 'json']);
    expect(clean.status).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ problems: [], errors: [], checked: { secrets: 5, backendReads: 5 } });

    // WHEN a source's secretPath is wrong, THEN each workload that reads the Secret is told what to fix
    writeFileSync(sales, readFileSync(sales, 'utf8').replace('secretPath: /compute/snowflake', 'secretPath: /compute/snow'));
    const wrong = await validate(['dist-v1beta1', '--manifest', 'manifest-v1beta1.yaml', '-o', 'json']);
    expect(wrong.status).toBe(1);
    const problems = JSON.parse(wrong.stdout).problems;
    expect(problems.map((p: { workload: string }) => p.workload).sort()).toEqual(['floe-sales/CronJob/nightly-dbt', 'floe-sales/Deployment/orders-api', 'floe-sales/Job/orders-load', 'floe-sales/StatefulSet/ledger']);
    expect(problems[0]).toMatchObject({
      check: 'infisical',
      reference: expect.stringMatching(/\(InfisicalStaticSecret floe-sales\/sales-compute-snowflake-\w+\)$/),
      message: expect.stringContaining(`Infisical has no secrets at project ${server.projectId}, environment prod, path /compute/snow: the operator would sync floe-sales/snowflake-credentials with no keys`),
      fix: expect.stringMatching(/^fix secretPath\/projectSlug\/environmentSlug of InfisicalStaticSecret floe-sales\/sales-compute-snowflake-\w+ \(its sources\), or create /),
    });
  });

  test('plain YAML: an ExternalSecret through an Infisical SecretStore is checked in its scope; other providers are noted', async () => {
    // GIVEN hand-written manifests (not ours): ESO with an Infisical store and an AWS store, and a Job reading both Secrets
    const input = (remoteKey: string) => stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'external-secrets.io/v1',
          kind: 'SecretStore',
          metadata: { name: 'infisical', namespace: 'floe-marketing' },
          spec: {
            provider: {
              infisical: {
                auth: { universalAuthCredentials: { clientId: { name: 'ua', key: 'clientId' }, clientSecret: { name: 'ua', key: 'clientSecret' } } },
                secretsScope: { projectSlug: 'floe-analytics', environmentSlug: 'prod', secretsPath: '/compute/hubspot' },
              },
            },
          },
        },
        {
          apiVersion: 'external-secrets.io/v1',
          kind: 'ExternalSecret',
          metadata: { name: 'hubspot-eso', namespace: 'floe-marketing' },
          spec: {
            secretStoreRef: { name: 'infisical', kind: 'SecretStore' },
            target: { name: 'hubspot-eso' },
            data: [{ secretKey: 'TOKEN', remoteRef: { key: remoteKey } }],
          },
        },
        {
          apiVersion: 'external-secrets.io/v1',
          kind: 'ExternalSecret',
          metadata: { name: 'aws-eso', namespace: 'floe-marketing' },
          spec: { secretStoreRef: { name: 'aws', kind: 'SecretStore' }, target: { name: 'aws-eso' }, dataFrom: [{ extract: { key: 'prod/app' } }] },
        },
        {
          apiVersion: 'external-secrets.io/v1',
          kind: 'SecretStore',
          metadata: { name: 'aws', namespace: 'floe-marketing' },
          spec: { provider: { aws: { service: 'SecretsManager', region: 'eu-west-1' } } },
        },
        {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: 'reader', namespace: 'floe-marketing' },
          spec: {
            template: {
              spec: {
                serviceAccountName: 'reader',
                restartPolicy: 'Never',
                containers: [{
                  name: 'main',
                  image: 'busybox',
                  env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'hubspot-eso', key: 'TOKEN' } } }],
                  envFrom: [{ secretRef: { name: 'aws-eso' } }],
                }],
              },
            },
          },
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'reader', namespace: 'floe-marketing' },
          rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['hubspot-eso', 'aws-eso'], verbs: ['get'] }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'reader', namespace: 'floe-marketing' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
          subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'floe-marketing' }],
        },
      ],
    });
    mkdirSync(join(dir, 'eso-infisical'), { recursive: true });
    writeFileSync(join(dir, 'eso-infisical', 'all.yaml'), input('HUBSPOT_TOKEN'));

    // WHEN validated, THEN the Infisical remote key is found (one listing), and the AWS store is noted as not checked
    const clean = await validate(['eso-infisical', '-o', 'json']);
    const json = JSON.parse(clean.stdout);
    expect(json.problems).toEqual([]);
    expect(clean.status).toBe(0);
    expect(json.checked).toMatchObject({ secrets: 1, backendReads: 1 });
    expect(json.notes).toContain('ExternalSecret floe-marketing/aws-eso: SecretStore floe-marketing/aws uses the aws provider; its remote keys are not checked in this version');

    // WHEN the remote key does not exist in the store's scope, THEN exit 1 naming store, key and Secret
    writeFileSync(join(dir, 'eso-infisical', 'all.yaml'), input('HUBSPOT_TOKN'));
    const wrong = await validate(['eso-infisical', '-o', 'json']);
    expect(wrong.status).toBe(1);
    expect(JSON.parse(wrong.stdout).problems).toEqual([{
      check: 'external-secrets',
      workload: 'floe-marketing/Job/reader',
      reference: 'remote key HUBSPOT_TOKN (ExternalSecret floe-marketing/hubspot-eso)',
      message: 'SecretStore floe-marketing/infisical has no secret HUBSPOT_TOKN: ESO would fail to sync Secret floe-marketing/hubspot-eso (SecretSyncedError)',
      fix: 'create HUBSPOT_TOKN in the backend, or fix the remote key of ExternalSecret floe-marketing/hubspot-eso',
    }]);
  });

  test('an over-broad Role added to the input: exit 1 with the RBAC finding', async () => {
    const extra = join(dir, 'extra');
    mkdirSync(extra, { recursive: true });
    writeFileSync(join(extra, 'rbac.yaml'), stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'read-all', namespace: 'floe-sales' },
          rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list'] }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'read-all', namespace: 'floe-sales' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-all' },
          subjects: [{ kind: 'ServiceAccount', name: 'orders-api', namespace: 'floe-sales' }],
        },
      ],
    }));
    const run = await validate(['dist', 'extra']);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain([
      'floe-sales/RoleBinding/read-all',
      '  ✗ [rbac] Role floe-sales/read-all get,list on all secrets in namespace floe-sales',
      '      over-broad secret access for floe-sales/orders-api: verb list; all secrets of the namespace',
    ].join('\n'));
  });

  test('an ExternalSecret through a ClusterSecretStore open to every namespace: exit 1 with the backend-scope problem', async () => {
    const extra = join(dir, 'open-store');
    mkdirSync(extra, { recursive: true });
    writeFileSync(join(extra, 'eso.yaml'), stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name: 'everyone' }, spec: { provider: { vault: { server: 'https://vault.example:8200' } } } },
        {
          apiVersion: 'external-secrets.io/v1',
          kind: 'ExternalSecret',
          metadata: { name: 'shared', namespace: 'floe-sales' },
          spec: { secretStoreRef: { name: 'everyone', kind: 'ClusterSecretStore' }, target: { name: 'shared' }, data: [{ secretKey: 'K', remoteRef: { key: 'sales/shared' } }] },
        },
      ],
    }));
    const run = await validate(['dist', 'open-store', '-o', 'json']);
    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout).problems).toContainEqual({
      check: 'backend-scope',
      workload: 'ClusterSecretStore everyone',
      reference: '[cluster-secret-store] used by ExternalSecret floe-sales/shared',
      message: 'over-broad backend access: ExternalSecret floe-sales/shared reads through ClusterSecretStore everyone; it has no spec.conditions: every namespace of the cluster may use it',
      fix: 'use a namespaced SecretStore per domain (VaultSecretStore), or limit the ClusterSecretStore with spec.conditions[].namespaces to the domain namespaces',
    });
  });

  test('a workload whose ServiceAccount may not get the Secret it reads: exit 1', async () => {
    const other = join(dir, 'no-role');
    cpSync(join(dir, 'dist'), other, { recursive: true });
    const file = join(other, 'sales.k8s.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/ {6}- google-sa\n/, ''));
    const run = await validate(['no-role', '-o', 'json']);
    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout).problems).toEqual([expect.objectContaining({
      check: 'rbac',
      workload: 'floe-sales/Job/orders-load',
      message: 'no Role bound to ServiceAccount floe-sales/orders-load grants get on Secret floe-sales/google-sa, which its pods read',
    })]);
  });

  test('an unreachable cluster or Infisical: exit 2 within the timeouts, saying which and why', async () => {
    const silent = await silentServer();
    try {
      const kubeconfig = join(dir, 'kubeconfig-silent');
      writeFileSync(kubeconfig, readFileSync(join(cluster.dir, 'kubeconfig'), 'utf8').replace(cluster.url, `https://${silent.address}`));
      const started = Date.now();
      const run = await validate(['--kubeconfig', 'kubeconfig-silent']);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('floe-secrets validate: could not check: the Kubernetes cluster of');
      expect(Date.now() - started).toBeLessThan(20_000);

      writeManifest('manifest-silent.yaml', `http://${silent.address}`);
      const infisical = await validate(['--manifest', 'manifest-silent.yaml']);
      expect(infisical.status).toBe(2);
      expect(infisical.stderr).toContain(`floe-secrets validate: could not check: infisical: the backend of manifest-silent.yaml (http://${silent.address}) did not answer`);
    } finally {
      await silent.close();
    }
  }, 90_000);

  test('an identity that may not read the Secrets: exit 2, saying which Secret and what to grant', async () => {
    const identities = new ClusterIdentities(cluster);
    identities.setUp('floe-validate-ids');
    const kubeconfig = await identities.kubeconfig('floe-validate-ids', 'nobody');
    const run = await validate(['--kubeconfig', kubeconfig]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('floe-secrets validate: could not check: cluster: could not read Secret floe-sales/shop-api: PermissionError: '
      + 'k8s: system:serviceaccount:floe-validate-ids:nobody may not get-multi secret "shop-api" in namespace floe-sales (HTTP 403)');
  });

  test('a backend other than infisical: the Infisical check is skipped with a note', async () => {
    writeFileSync(join(dir, 'manifest-k8s.yaml'), stringify({ plugins: { secrets: { type: 'k8s', namespace: 'floe-jobs' } }, domains: [{ name: 'sales' }] }));
    const run = await validate(['--manifest', 'manifest-k8s.yaml', '-o', 'json']);
    expect(run.status).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json.notes).toContain('Infisical-managed Secrets were not checked against Infisical: manifest-k8s.yaml configures the k8s backend, not infisical');
    expect(json.checked).toMatchObject({ secrets: 3, backendReads: 3 });
  });

  test('bad input: a broken manifest.yaml, invalid YAML, a non-Kubernetes document: exit 2, one clear line, never a value', async () => {
    const literal = watch.random();
    writeFileSync(join(dir, 'manifest-broken.yaml'), stringify({ plugins: { secrets: { type: 'vault', address: 'https://vault.example:8200', auth_method: 'token', token: literal } } }));
    const broken = await validate(['--manifest', 'manifest-broken.yaml']);
    expect(broken.status).toBe(2);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/^floe-secrets validate: .*manifest-broken\.yaml:\d+: plugins\.secrets\.token: /);
    expect(broken.stderr).not.toMatch(/\n\s+at /);

    mkdirSync(join(dir, 'bad-input'), { recursive: true });
    writeFileSync(join(dir, 'bad-input', 'broken.yaml'), `apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\nstringData:\n  k: [${literal}\n`);
    const yaml = await validate(['bad-input']);
    expect(yaml.status).toBe(2);
    expect(yaml.stderr).toMatch(/^floe-secrets validate: bad-input\/broken\.yaml: invalid YAML at line \d+/);
    writeFileSync(join(dir, 'bad-input', 'broken.yaml'), 'replicas: 3\n');
    const notK8s = await validate(['bad-input']);
    expect(notK8s.status).toBe(2);
    expect(notK8s.stderr).toBe('floe-secrets validate: bad-input/broken.yaml: document 1 (line 1) is not a Kubernetes object (no apiVersion, no kind, no metadata.name)\n');
  });

  test('a missing operator CRD: exit 1 with the install hint (runs last: deletes the CRD)', async () => {
    cluster.kubectlOk(['delete', 'crd', 'infisicalsecrets.secrets.infisical.com']);
    const run = await validate([]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('floe-sales/InfisicalSecret/sales-compute-snowflake-');
    expect(run.stdout).toContain('  ✗ [crd] secrets.infisical.com/v1alpha1 InfisicalSecret\n'
      + '      the Infisical operator is not installed (no secrets.infisical.com/v1alpha1 InfisicalSecret)\n'
      + '      fix: install it with helm: helm repo add infisical-helm-charts');
    expect(JSON.parse((await validate(['-o', 'json'])).stdout).problems.every((p: { check: string }) => p.check === 'crd')).toBe(true);
  });
});
