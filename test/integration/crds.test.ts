import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { TestCluster } from './cluster';
import {
  CRD_FILES,
  DroppedPart,
  droppedRulesApplyingTo,
  expectRejected,
  expectStoredMatchesSent,
  formatInstallReport,
  installCrdsWithReport,
  InstalledCrd,
  kubectl,
  lostFields,
} from './crds';

const NS = 'floe-sales';
const LABELS = { 'app.kubernetes.io/part-of': 'floe', 'floe.dev/domain': 'sales' };

/** The versions the operators' resources are written in. */
const EXPECTED: Record<string, { group: string; version: string; plural: string }> = {
  InfisicalSecret: { group: 'secrets.infisical.com', version: 'v1alpha1', plural: 'infisicalsecrets' },
  InfisicalConnection: { group: 'secrets.infisical.com', version: 'v1beta1', plural: 'infisicalconnections' },
  InfisicalAuth: { group: 'secrets.infisical.com', version: 'v1beta1', plural: 'infisicalauths' },
  InfisicalStaticSecret: { group: 'secrets.infisical.com', version: 'v1beta1', plural: 'infisicalstaticsecrets' },
  ExternalSecret: { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets' },
  SecretStore: { group: 'external-secrets.io', version: 'v1', plural: 'secretstores' },
};

/** One realistic object of each kind, as a platform team would write it. No field is empty: see the report. */
const SAMPLES: any[] = [
  {
    apiVersion: 'secrets.infisical.com/v1alpha1',
    kind: 'InfisicalSecret',
    metadata: { name: 'sales-warehouse', namespace: NS, labels: LABELS },
    spec: {
      hostAPI: 'https://app.infisical.com/api',
      syncConfig: { resyncInterval: '60s', instantUpdates: false },
      authentication: {
        universalAuth: {
          credentialsRef: { secretName: 'infisical-universal-auth', secretNamespace: NS },
          secretsScope: { projectSlug: 'floe-data-platform', envSlug: 'prod', secretsPath: '/sales/warehouse', recursive: true },
        },
      },
      managedKubeSecretReferences: [
        {
          secretName: 'sales-warehouse',
          secretNamespace: NS,
          creationPolicy: 'Owner',
          secretType: 'Opaque',
          template: {
            includeAllSecrets: true,
            data: { DATABASE_URL: 'postgresql://{{ .DB_USER.Value }}:{{ .DB_PASSWORD.Value }}@warehouse.floe-sales:5432/sales' },
            metadata: { labels: LABELS, annotations: { 'floe.dev/owner': 'sales-data-team' } },
          },
        },
      ],
      tls: { caRef: { secretName: 'infisical-ca', secretNamespace: NS, key: 'ca.crt' } },
    },
  },
  {
    apiVersion: 'secrets.infisical.com/v1beta1',
    kind: 'InfisicalConnection',
    metadata: { name: 'infisical', namespace: NS, labels: LABELS },
    spec: {
      address: 'https://app.infisical.com',
      tls: { caCertificate: { name: 'infisical-ca', namespace: NS, key: 'ca.crt' } },
    },
  },
  {
    apiVersion: 'secrets.infisical.com/v1beta1',
    kind: 'InfisicalAuth',
    metadata: { name: 'sales-universal', namespace: NS, labels: LABELS },
    spec: {
      method: 'universal',
      infisicalConnectionRef: { name: 'infisical', namespace: NS },
      universal: {
        clientIdRef: { name: 'infisical-universal-auth', namespace: NS, key: 'clientId' },
        clientSecretRef: { name: 'infisical-universal-auth', namespace: NS, key: 'clientSecret' },
      },
    },
  },
  {
    apiVersion: 'secrets.infisical.com/v1beta1',
    kind: 'InfisicalStaticSecret',
    metadata: { name: 'sales-dbt', namespace: NS, labels: LABELS },
    spec: {
      infisicalAuthRef: { name: 'sales-universal', namespace: NS },
      sources: [{ projectSlug: 'floe-data-platform', environmentSlug: 'prod', secretPath: '/sales/dbt', recursive: true, tagSlugs: ['dbt', 'warehouse'] }],
      syncOptions: { refreshInterval: '60s', instantUpdates: true },
      targets: [
        {
          kind: 'Secret',
          name: 'sales-dbt',
          namespace: NS,
          creationPolicy: 'Owner',
          secretType: 'Opaque',
          metadata: { labels: LABELS, annotations: { 'floe.dev/owner': 'sales-data-team' } },
          template: { engineVersion: 'v1', data: { 'profiles.yml': 'sales:\n  target: prod\n  user: "{{ .DBT_USER.Value }}"\n' } },
        },
      ],
    },
  },
  {
    apiVersion: 'external-secrets.io/v1',
    kind: 'SecretStore',
    metadata: { name: 'vault-backend', namespace: NS, labels: LABELS },
    spec: {
      provider: {
        vault: {
          server: 'https://vault.floe.internal:8200',
          path: 'secret',
          version: 'v2',
          namespace: 'floe',
          caProvider: { type: 'ConfigMap', name: 'vault-ca', key: 'ca.crt' },
          auth: {
            kubernetes: { mountPath: 'kubernetes', role: 'floe-sales', serviceAccountRef: { name: 'external-secrets-sales', audiences: ['vault'] } },
          },
        },
      },
      refreshInterval: 300,
      retrySettings: { maxRetries: 3, retryInterval: '10s' },
    },
  },
  {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { name: 'sales-warehouse', namespace: NS, labels: LABELS },
    spec: {
      refreshInterval: '1h',
      refreshPolicy: 'Periodic',
      secretStoreRef: { name: 'vault-backend', kind: 'SecretStore' },
      target: {
        name: 'sales-warehouse',
        creationPolicy: 'Owner',
        deletionPolicy: 'Retain',
        template: { type: 'Opaque', engineVersion: 'v2', mergePolicy: 'Replace', metadata: { labels: LABELS } },
      },
      data: [
        { secretKey: 'username', remoteRef: { key: 'floe/sales/warehouse', property: 'username' } },
        {
          secretKey: 'password',
          remoteRef: { key: 'floe/sales/warehouse', property: 'password', conversionStrategy: 'Default', decodingStrategy: 'None', metadataPolicy: 'None' },
        },
      ],
    },
  },
];

/** How many times `key` occurs in the schemas of the served versions of a CRD file, counted on the raw file. */
function servedOccurrences(file: string, key: string): number {
  const count = (node: unknown): number => {
    if (Array.isArray(node)) return node.reduce((n: number, child) => n + count(child), 0);
    if (node === null || typeof node !== 'object') return 0;
    return Object.entries(node).reduce((n, [k, child]) => n + (k === key ? 1 : 0) + count(child), 0);
  };
  const crd = parse(readFileSync(file, 'utf8'));
  return crd.spec.versions.filter((v: any) => v.served).reduce((n: number, v: any) => n + count(v.schema), 0);
}

function summary(part: DroppedPart): string {
  return `${part.version} ${part.what} ${part.objectPath ? `.${part.objectPath.join('.')}` : part.crdPath}`;
}

/**
 * The operators' real CRDs on a real kube-apiserver (1.20), made acceptable to it by a reported, minimal
 * transformation; then one realistic object of each kind must be stored with every field that was sent, and an
 * invalid one refused.
 */
describe('operator CRDs on a real kube-apiserver', () => {
  let cluster: TestCluster;
  let installed: InstalledCrd[];
  const byKind = (kind: string): InstalledCrd => {
    const crd = installed.find((c) => c.kind === kind);
    if (!crd) throw new Error(`no CRD for ${kind}`);
    return crd;
  };

  beforeAll(() => {
    cluster = TestCluster.start();
    const started = Date.now();
    installed = installCrdsWithReport(cluster, CRD_FILES);
    console.log(`${formatInstallReport(installed)}\ninstalled and Established in ${Date.now() - started} ms`);
    cluster.kubectlOk(['create', 'namespace', NS]);
  }, 240_000);

  afterAll(() => {
    cluster?.stop();
  });

  test('all six CRDs are Established and served at the versions the operators use', () => {
    expect(installed.map((c) => c.kind).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const crd of installed) {
      const want = EXPECTED[crd.kind];
      expect(crd.name).toBe(`${want.plural}.${want.group}`);
      expect(crd.servedVersions).toEqual([want.version]);
      const established = kubectl(cluster, ['get', 'crd', crd.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
      expect(established.stdout).toBe('True');
      // Discovery, as clients see it (kubectl: the API's 404 here is plain text, not JSON).
      const discovery = kubectl(cluster, ['get', '--raw', `/apis/${want.group}/${want.version}`]);
      expect(discovery.stderr).toBe('');
      expect(JSON.parse(discovery.stdout).resources).toContainEqual(expect.objectContaining({ name: want.plural, kind: crd.kind, namespaced: true }));
    }
    // The unserved external-secrets.io/v1beta1 is not served.
    const v1beta1 = kubectl(cluster, ['get', '--raw', '/apis/external-secrets.io/v1beta1']);
    expect(v1beta1.status).not.toBe(0);
    expect(v1beta1.stderr).toContain('NotFound');
  });

  test('only unserved versions and reviewed fields were dropped, each reported with its reason', () => {
    for (const kind of ['InfisicalSecret', 'InfisicalConnection', 'InfisicalAuth', 'InfisicalStaticSecret']) {
      expect(byKind(kind).dropped).toEqual([]);
    }
    for (const crd of installed) for (const part of crd.dropped) expect(part.reason.length).toBeGreaterThan(30);

    const externalSecret = byKind('ExternalSecret');
    expect(externalSecret.dropped.map(summary).sort()).toEqual([
      'v1 default .spec.dataFrom.*.rewrite.*.merge.into',
      'v1 default .status.binding.name',
      'v1 selectableFields spec.versions[v1].selectableFields',
      'v1beta1 version spec.versions[v1beta1]',
    ]);

    const secretStore = byKind('SecretStore');
    const cel = secretStore.dropped.filter((p) => p.what === 'x-kubernetes-validations');
    expect(secretStore.dropped.filter((p) => p.what !== 'x-kubernetes-validations').map(summary)).toEqual(['v1beta1 version spec.versions[v1beta1]']);
    // Every CEL rule of the served version was dropped and reported, none silently; none is on the vault provider.
    expect(cel).toHaveLength(servedOccurrences(secretStore.file, 'x-kubernetes-validations'));
    expect(cel.length).toBeGreaterThan(0);
    expect(cel.filter((p) => p.objectPath?.slice(0, 3).join('.') === 'spec.provider.vault')).toEqual([]);
  });

  test('kubectl finds every sample field in the schemas the server publishes (and an unknown field is caught)', async () => {
    // Client-side: kubectl validates against the server's /openapi/v2, published shortly after the CRD is
    // Established. The control (an unknown field) proves the schema is there and the check has teeth.
    for (const sample of SAMPLES) {
      const control = { ...sample, spec: { ...sample.spec, notAField: 'x' } };
      let caught = '';
      for (let i = 0; i < 30 && !caught.includes('unknown field "notAField"'); i++) {
        if (i > 0) await new Promise((done) => setTimeout(done, 1000));
        caught = kubectl(cluster, ['create', '--dry-run=client', '-f', '-'], JSON.stringify(control)).stderr;
      }
      expect(caught).toContain('unknown field "notAField"');
      const run = kubectl(cluster, ['create', '--dry-run=client', '-f', '-'], JSON.stringify(sample));
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
    }
  }, 120_000);

  test('the checks have teeth: a pruned field and a field under a dropped CEL rule are both reported', () => {
    const sent = { spec: { a: 1, list: [{ x: 'y', gone: true }] } };
    expect(lostFields(sent, { spec: { a: 1, list: [{ x: 'y' }], added: 2 } }).map((l) => [l.path.join('.'), l.how])).toEqual([['spec.list.0.gone', 'missing']]);
    const openBao = {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: 'bao', namespace: NS },
      spec: { provider: { openBao: { server: 'https://bao.floe.internal', auth: { tokenSecretRef: { name: 'bao-token', key: 'token' } } } } },
    };
    expect(droppedRulesApplyingTo(byKind('SecretStore'), openBao).map((p) => p.objectPath?.join('.')).sort()).toEqual([
      'spec.provider.openBao',
      'spec.provider.openBao.auth',
    ]);
  });

  test.each(SAMPLES.map((s) => [s.kind, s]))('the server stores every field of a realistic %s', (kind, sample) => {
    // GIVEN no rule the transformation dropped covers a field of this sample
    expect(droppedRulesApplyingTo(byKind(kind), sample)).toEqual([]);
    // THEN the server stores it with every field that was sent (structural pruning would drop unknown ones silently)
    const stored = expectStoredMatchesSent(cluster, sample);
    expect(stored.metadata.uid).toEqual(expect.any(String));
    expect(stored.apiVersion).toBe(sample.apiVersion);
  });

  test('the server refuses an InfisicalStaticSecret whose target creationPolicy is not in the CRD enum', () => {
    const sample = SAMPLES.find((s) => s.kind === 'InfisicalStaticSecret');
    const invalid = {
      ...sample,
      metadata: { ...sample.metadata, name: 'sales-invalid' },
      spec: { ...sample.spec, targets: [{ ...sample.spec.targets[0], creationPolicy: 'Sometimes' }] },
    };
    const message = expectRejected(cluster, invalid);
    // 1.20 names the field spec.targets.creationPolicy (its schema validator loses the index); newer ones spec.targets[0]…
    expect(message).toMatch(/spec\.targets(\[0\]|\.0)?\.creationPolicy: Unsupported value: "Sometimes": supported values: "Owner", "Orphan"/);
  });
});
