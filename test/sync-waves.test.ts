import { ApiObject, Cron, Testing } from 'cdk8s';
import { buildExampleApp } from '../examples/app';
import {
  ExternalSecretSource, FloeDomain, InfisicalAuthentication, InfisicalOperatorApi, InfisicalSecretSource, SecretMountedDeployment, SecretMountedJob,
  SecretReference, SecretStoreKind, SYNC_WAVE_ANNOTATION, SyncWave, SyncWaves, VaultSecretSource,
} from '../src';
import { domains, Manifest, synth } from './util';

const universal = InfisicalAuthentication.universalAuth({ name: 'infisical-universal-auth', namespace: 'floe-platform' });

/** A domain holding every kind of object the library writes, plus a SecretStore, a Secret and a ConfigMap of the user's own. */
function everyKind(domain: FloeDomain): void {
  const alpha = new InfisicalSecretSource(domain, 'Alpha', { projectSlug: 'p', envSlug: 'prod', authentication: universal, secretName: 'alpha', keys: ['k'] });
  const beta = new InfisicalSecretSource(domain, 'Beta', {
    projectSlug: 'p', envSlug: 'prod', authentication: universal, secretName: 'beta', keys: ['k'], operatorApi: InfisicalOperatorApi.V1BETA1,
  });
  const eso = new ExternalSecretSource(domain, 'Eso', {
    secretStore: { name: 'team-store', kind: SecretStoreKind.SECRET_STORE }, secretName: 'eso', data: [{ secretKey: 'k', remoteKey: 'r' }],
  });
  const job = new SecretMountedJob(domain, 'Job', {
    name: 'job', image: 'i', automountServiceAccountToken: true, secretEnv: [SecretReference.fromSecret(alpha.secret, 'k')], secretEnvFrom: [eso.secret],
  });
  new VaultSecretSource(domain, 'Vault', { role: 'r', path: 'a/b', keys: ['k'], name: 'vault' }).injectInto(job);
  new SecretMountedJob(domain, 'Cron', { name: 'cron', image: 'i', schedule: Cron.schedule({ minute: '0', hour: '2' }), secretFiles: [{ secret: beta.secret }] });
  new SecretMountedDeployment(domain, 'Api', { name: 'api', image: 'i', secretEnvFrom: [eso.secret] });
  new ApiObject(domain, 'Store', { apiVersion: 'external-secrets.io/v1', kind: 'SecretStore', metadata: { name: 'team-store' }, spec: {} });
  new ApiObject(domain, 'ClusterStore', { apiVersion: 'external-secrets.io/v1', kind: 'ClusterSecretStore', metadata: { name: 'vault' }, spec: {} });
  new ApiObject(domain, 'Sealed', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'from-git' }, type: 'Opaque' });
  new ApiObject(domain, 'Config', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { a: 'b' } });
  new ApiObject(domain, 'Widget', { apiVersion: 'example.com/v1', kind: 'Secret', metadata: { name: 'not-core' } });
}

/** `<kind>/<name>` to the sync wave annotation, or `none`. */
function waves(manifests: Manifest[]): { [object: string]: string } {
  return Object.fromEntries(manifests.map((m) => [`${m.kind}/${m.metadata.name}`, m.metadata.annotations?.[SYNC_WAVE_ANNOTATION] ?? 'none']));
}

/** The manifests as they would be without the sync wave annotation. */
function withoutWaves(manifests: Manifest[]): Manifest[] {
  return manifests.map(({ metadata: { annotations, ...metadata }, ...rest }) => {
    const { [SYNC_WAVE_ANNOTATION]: _wave, ...others } = annotations ?? {};
    return { ...rest, metadata: Object.keys(others).length > 0 ? { ...metadata, annotations: others } : metadata } as Manifest;
  });
}

describe('SyncWaves', () => {
  test('the namespace, then RBAC and operator credentials, then the sources, then the workloads', () => {
    const { domains: [sales] } = domains('sales');
    everyKind(sales);
    const byKind: { [kind: string]: Set<string> } = {};
    for (const [object, wave] of Object.entries(waves(synth(sales)))) {
      const kind = object.startsWith('Secret/not-core') ? 'example.com Secret' : object.split('/')[0];
      (byKind[kind] ??= new Set()).add(wave);
    }
    expect(Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, [...v]]))).toEqual({
      'Namespace': ['-3'],
      'ServiceAccount': ['-2'],
      'Role': ['-2'],
      'RoleBinding': ['-2'],
      'Secret': ['-2'],
      'SecretStore': ['-2'],
      'ClusterSecretStore': ['-2'],
      'InfisicalConnection': ['-2'],
      'InfisicalAuth': ['-2'],
      'InfisicalSecret': ['-1'],
      'InfisicalStaticSecret': ['-1'],
      'ExternalSecret': ['-1'],
      'Job': ['none'],
      'CronJob': ['none'],
      'Deployment': ['none'],
      'ConfigMap': ['none'],
      'example.com Secret': ['none'],
    });
  });

  test('the waves are the enum values, in the order Argo CD must apply them', () => {
    expect([SyncWave.NAMESPACE, SyncWave.ACCESS, SyncWave.SOURCE, SyncWave.WORKLOAD]).toEqual([-3, -2, -1, 0]);
    expect(SyncWaves.waveOf('v1', 'Namespace')).toBe(SyncWave.NAMESPACE);
    expect(SyncWaves.waveOf('rbac.authorization.k8s.io/v1', 'RoleBinding')).toBe(SyncWave.ACCESS);
    expect(SyncWaves.waveOf('secrets.infisical.com/v1beta1', 'InfisicalStaticSecret')).toBe(SyncWave.SOURCE);
    expect(SyncWaves.waveOf('batch/v1', 'Job')).toBe(SyncWave.WORKLOAD);
    expect(SyncWaves.waveOf('example.com/v1', 'ExternalSecret')).toBe(SyncWave.WORKLOAD);
  });

  test('an object that already has a sync wave keeps it', () => {
    const { domains: [sales] } = domains('sales');
    const src = new ExternalSecretSource(sales, 'Eso', {
      secretStore: { name: 'vault', kind: SecretStoreKind.CLUSTER_SECRET_STORE }, secretName: 'eso', data: [{ secretKey: 'k', remoteKey: 'r' }],
    });
    src.resource.metadata.addAnnotation(SYNC_WAVE_ANNOTATION, '-7');
    expect(waves(synth(sales))['ExternalSecret/' + src.resource.name]).toBe('-7');
  });

  test('off for the whole app: no object carries a sync wave, and nothing else changes', () => {
    const on = domains('sales', 'marketing');
    const off = domains('sales', 'marketing');
    for (const d of [...on.domains, ...off.domains]) everyKind(d);
    SyncWaves.disable(off.app);
    for (const [index, domain] of off.domains.entries()) {
      const manifests = synth(domain);
      expect(Object.values(waves(manifests)).filter((w) => w !== 'none')).toEqual([]);
      expect(manifests).toEqual(withoutWaves(synth(on.domains[index])));
    }
    expect(SyncWaves.isEnabled(off.domains[0])).toBe(false);
    expect(SyncWaves.isEnabled(on.domains[0])).toBe(true);
  });

  test('off for one domain, after its constructs exist: the other domain keeps its waves', () => {
    const { domains: [sales, marketing] } = domains('sales', 'marketing');
    everyKind(sales);
    everyKind(marketing);
    SyncWaves.disable(sales);
    expect(Object.values(waves(synth(sales))).filter((w) => w !== 'none')).toEqual([]);
    expect(waves(synth(marketing))['Namespace/floe-marketing']).toBe('-3');
  });

  test('disable takes a construct', () => {
    expect(() => SyncWaves.disable('sales' as any)).toThrow(/^SyncWaves.disable: expects a construct, got a string; pass the App \(every domain\) or the FloeDomain/);
  });

  test('the example app carries them: every source before every workload', () => {
    const app = buildExampleApp(Testing.app());
    for (const chart of app.charts) {
      const manifests = synth(chart);
      const wave = (m: Manifest) => Number(m.metadata.annotations?.[SYNC_WAVE_ANNOTATION] ?? 0);
      const sources = manifests.filter((m) => ['InfisicalSecret', 'InfisicalStaticSecret', 'ExternalSecret'].includes(m.kind));
      const workloads = manifests.filter((m) => ['Job', 'CronJob', 'Deployment', 'StatefulSet', 'DaemonSet'].includes(m.kind));
      expect(sources.length).toBeGreaterThan(0);
      expect(workloads.length).toBeGreaterThan(0);
      expect(sources.map(wave)).toEqual(sources.map(() => SyncWave.SOURCE));
      expect(workloads.map(wave)).toEqual(workloads.map(() => SyncWave.WORKLOAD));
      for (const m of manifests.filter((x) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(x.kind))) expect(wave(m)).toBe(SyncWave.ACCESS);
      for (const m of manifests.filter((x) => x.kind === 'Namespace')) expect(wave(m)).toBe(SyncWave.NAMESPACE);
    }
  });
});
