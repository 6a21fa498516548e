import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { stringify } from 'yaml';
import { runCli } from './run-cli';
import { buildExampleApp } from '../../../examples/app';
import { analyzeAccess } from '../src/access-map/analyze';
import { BackendFinding } from '../src/access-map/model';
import { ManifestDocument } from '../src/manifests';

/** Backend access broader than the domains need: what access-map and validate flag behind the Secrets. */

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'floe-backend-scope-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const docs = (...objects: object[]): ManifestDocument[] => objects.map((object, index) => ({ file: 'app.yaml', index, object }) as ManifestDocument);
const findings = (...objects: object[]): BackendFinding[] => analyzeAccess(docs(...objects)).backendFindings;

const externalSecret = (namespace: string, store: { kind: string; name: string }, domain = namespace.replace(/^floe-/, '')) => ({
  apiVersion: 'external-secrets.io/v1',
  kind: 'ExternalSecret',
  metadata: { name: 'ads', namespace, labels: { 'floe.dev/domain': domain } },
  spec: { secretStoreRef: store, target: { name: 'ads' }, data: [{ secretKey: 'TOKEN', remoteRef: { key: `${domain}/ads`, property: 'token' } }] },
});
const clusterStore = (name: string, conditions?: object[]) => ({
  apiVersion: 'external-secrets.io/v1',
  kind: 'ClusterSecretStore',
  metadata: { name },
  spec: { provider: { vault: { server: 'https://vault.example:8200' } }, ...(conditions ? { conditions } : {}) },
});
const infisicalSecret = (namespace: string, auth: object, secretsPath: string, recursive = false, name = 'creds') => ({
  apiVersion: 'secrets.infisical.com/v1alpha1',
  kind: 'InfisicalSecret',
  metadata: { name, namespace, labels: { 'floe.dev/domain': namespace.replace(/^floe-/, '') } },
  spec: {
    authentication: { universalAuth: { ...auth, secretsScope: { projectSlug: 'floe', envSlug: 'prod', secretsPath, recursive } } },
    managedKubeSecretReferences: [{ secretName: name, secretNamespace: namespace }],
  },
});
const platformIdentity = { credentialsRef: { secretName: 'infisical-universal-auth', secretNamespace: 'floe-platform' } };
const ownIdentity = (namespace: string) => ({ credentialsRef: { secretName: 'infisical-universal-auth', secretNamespace: namespace } });

describe('cluster-secret-store', () => {
  test('a ClusterSecretStore that is not in the input is flagged, naming who reads through it and the fix', () => {
    expect(findings(externalSecret('floe-sales', { kind: 'ClusterSecretStore', name: 'vault' }))).toEqual([{
      flag: 'cluster-secret-store',
      resource: 'ClusterSecretStore vault',
      usedBy: ['ExternalSecret floe-sales/ads'],
      reason: 'ExternalSecret floe-sales/ads reads through ClusterSecretStore vault; it is not in the input, so nothing shows that its spec.conditions limit the namespaces that may use it',
      fix: 'use a namespaced SecretStore per domain (VaultSecretStore), or limit the ClusterSecretStore with spec.conditions[].namespaces to the domain namespaces and pass its manifest too',
    }]);
  });

  test('one without conditions, or with a condition that names no namespaces, is flagged; one limited to namespaces is not', () => {
    const uses = [externalSecret('floe-sales', { kind: 'ClusterSecretStore', name: 'vault' }), externalSecret('floe-marketing', { kind: 'ClusterSecretStore', name: 'vault' })];
    const open = findings(...uses, clusterStore('vault'));
    expect(open.map((f) => [f.flag, f.usedBy])).toEqual([['cluster-secret-store', ['ExternalSecret floe-marketing/ads', 'ExternalSecret floe-sales/ads']]]);
    expect(open[0].reason).toMatch(/it has no spec.conditions: every namespace of the cluster may use it$/);
    const half = findings(...uses, clusterStore('vault', [{ namespaces: ['floe-sales'] }, {}]));
    expect(half[0].reason).toMatch(/its spec.conditions\[1\] names no namespaces, namespaceRegexes or namespaceSelector/);
    expect(findings(...uses, clusterStore('vault', [{ namespaces: ['floe-sales', 'floe-marketing'] }]))).toEqual([]);
    expect(findings(...uses, clusterStore('vault', [{ namespaceSelector: { matchLabels: { 'floe.dev/domain': 'sales' } } }, { namespaceRegexes: ['^floe-'] }]))).toEqual([]);
  });

  test('a namespaced SecretStore is never flagged; a per-item sourceRef through a ClusterSecretStore is', () => {
    expect(findings(externalSecret('floe-sales', { kind: 'SecretStore', name: 'vault' }))).toEqual([]);
    const mixed = externalSecret('floe-sales', { kind: 'SecretStore', name: 'vault' });
    mixed.spec.data.push({ secretKey: 'OTHER', remoteRef: { key: 'shared/x', property: 'y' }, sourceRef: { storeRef: { kind: 'ClusterSecretStore', name: 'shared' } } } as any);
    expect(findings(mixed).map((f) => f.resource)).toEqual(['ClusterSecretStore shared']);
  });
});

describe('shared-infisical-identity', () => {
  test('one identity reading different folders for two domains is flagged, with each domain\'s folders', () => {
    const found = findings(
      infisicalSecret('floe-sales', platformIdentity, '/compute/snowflake'),
      infisicalSecret('floe-marketing', platformIdentity, '/compute/hubspot'),
    );
    expect(found).toEqual([{
      flag: 'shared-infisical-identity',
      resource: 'universal-auth credentials Secret floe-platform/infisical-universal-auth',
      usedBy: ['InfisicalSecret floe-marketing/creds', 'InfisicalSecret floe-sales/creds'],
      reason: 'one Infisical identity reads for 2 domains (marketing: floe/prod:/compute/hubspot; sales: floe/prod:/compute/snowflake): each domain\'s operator resources can read every other\'s folders',
      fix: 'give each domain its own machine identity: a credentials Secret (or ServiceAccount) in each domain namespace, e.g. credentials_secret without a namespace in manifest.yaml',
    }]);
  });

  test('an identity per domain is not flagged, nor copies of one folder into several domains (alsoSyncTo)', () => {
    expect(findings(
      infisicalSecret('floe-sales', ownIdentity('floe-sales'), '/compute/snowflake'),
      infisicalSecret('floe-marketing', ownIdentity('floe-marketing'), '/compute/hubspot'),
    )).toEqual([]);
    expect(findings(
      infisicalSecret('floe-sales', ownIdentity('floe-sales'), '/compute/snowflake'),
      infisicalSecret('floe-marketing', ownIdentity('floe-sales'), '/compute/snowflake'),
    )).toEqual([]);
  });

  test('v1beta1: InfisicalStaticSecrets of two domains through InfisicalAuths holding the same client id Secret', () => {
    const auth = (namespace: string) => ({
      apiVersion: 'secrets.infisical.com/v1beta1',
      kind: 'InfisicalAuth',
      metadata: { name: 'auth', namespace },
      spec: { method: 'universal', universal: { clientIdRef: { name: 'shared-identity', namespace: 'floe-platform', key: 'clientId' } } },
    });
    const staticSecret = (namespace: string, secretPath: string) => ({
      apiVersion: 'secrets.infisical.com/v1beta1',
      kind: 'InfisicalStaticSecret',
      metadata: { name: 'creds', namespace },
      spec: { infisicalAuthRef: { name: 'auth', namespace }, sources: [{ projectSlug: 'floe', environmentSlug: 'prod', secretPath }], targets: [{ kind: 'Secret', name: 'creds' }] },
    });
    const found = findings(auth('floe-sales'), auth('floe-marketing'), staticSecret('floe-sales', '/compute/a'), staticSecret('floe-marketing', '/compute/b'));
    expect(found.map((f) => [f.flag, f.resource])).toEqual([['shared-infisical-identity', 'universal-auth client id Secret floe-platform/shared-identity']]);
  });
});

describe('broad-infisical-scope', () => {
  test('recursive at "/" is flagged: every secret of the environment', () => {
    const found = findings(infisicalSecret('floe-sales', ownIdentity('floe-sales'), '/', true));
    expect(found).toEqual([expect.objectContaining({
      flag: 'broad-infisical-scope',
      resource: 'InfisicalSecret floe-sales/creds',
      reason: 'reads floe/prod:/ recursively: every secret of the environment',
    })]);
    expect(findings(infisicalSecret('floe-sales', ownIdentity('floe-sales'), '/', false))).toEqual([]);
    expect(findings(infisicalSecret('floe-sales', ownIdentity('floe-sales'), '/sales', true))).toEqual([]);
  });

  test('a folder named after another domain of the input is flagged; the domain\'s own is not', () => {
    const found = findings(
      infisicalSecret('floe-sales', ownIdentity('floe-sales'), '/sales/db'),
      infisicalSecret('floe-marketing', ownIdentity('floe-marketing'), '/sales/db', false, 'borrowed'),
    );
    expect(found.map((f) => [f.resource, f.reason])).toEqual([
      ['InfisicalSecret floe-marketing/borrowed', 'reads floe/prod:/sales/db for domain marketing, a folder of domain sales'],
    ]);
  });
});

describe('the built CLI', () => {
  /** The example app synthesized with its manifest, whose credentials_secret namespace is set or not. */
  function synthExample(name: string, sharedIdentity: boolean): string {
    const dir = join(root, name);
    mkdirSync(dir);
    const manifest = readFileSync(join(__dirname, '../../../examples/manifest.yaml'), 'utf8');
    const edited = sharedIdentity ? manifest.replace('        name: infisical-universal-auth\n', '        name: infisical-universal-auth\n        namespace: floe-platform\n') : manifest;
    expect(edited.includes('namespace: floe-platform\n') || !sharedIdentity).toBe(true);
    writeFileSync(join(dir, 'manifest.yaml'), edited);
    buildExampleApp(new App({ outdir: join(dir, 'dist') }), join(dir, 'manifest.yaml')).synth();
    return dir;
  }

  test('access-map: the example as shipped has no over-broad backend access; with one shared identity, exit 1 naming it', async () => {
    const shipped = await runCli(['access-map', 'dist'], { cwd: synthExample('shipped', false) });
    expect(shipped.stderr).toBe('');
    expect(shipped.status).toBe(0);
    expect(shipped.stdout).toContain('no over-broad backend access');

    const shared = await runCli(['access-map', 'dist'], { cwd: synthExample('shared', true) });
    expect(shared.status).toBe(1);
    expect(shared.stdout).toContain('OVER-BROAD BACKEND ACCESS (1)\n- [shared-infisical-identity] universal-auth credentials Secret floe-platform/infisical-universal-auth: '
      + 'one Infisical identity reads for 2 domains (marketing: floe-analytics/prod:/compute/hubspot; sales: floe-analytics/prod:/compute/snowflake)');
    expect(shared.stderr).toBe('floe-secrets access-map: 1 over-broad backend access(es)\n');

    const json = await runCli(['access-map', 'dist', '-o', 'json'], { cwd: join(root, 'shared') });
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ overBroad: true, findings: [], backendFindings: [{ flag: 'shared-infisical-identity' }] });
    expect(json.stderr).toMatch(/^floe-secrets access-map: OVER-BROAD: \[shared-infisical-identity\] universal-auth credentials Secret floe-platform\/infisical-universal-auth: one Infisical identity/);
  });

  test('random names and values in the input: values never reach any output', async () => {
    const dir = join(root, 'random');
    mkdirSync(dir);
    const value = randomBytes(24).toString('base64');
    const store = `store-${randomBytes(4).toString('hex')}`;
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'floe-sales' }, stringData: { token: value } };
    writeFileSync(join(dir, 'app.yaml'), [secret, externalSecret('floe-sales', { kind: 'ClusterSecretStore', name: store })].map((o) => stringify(o)).join('---\n'));
    for (const output of ['table', 'json', 'mermaid', 'dot']) {
      const run = await runCli(['access-map', 'app.yaml', '-o', output], { cwd: dir });
      expect(run.status).toBe(1);
      expect(`${run.stdout}${run.stderr}`).toContain(`ClusterSecretStore ${store}`);
      expect(`${run.stdout}${run.stderr}`).not.toContain(value);
    }
  });
});
