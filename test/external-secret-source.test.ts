import { CreationPolicy, ExternalSecretSource, ExternalSecretSourceProps, SecretMountedDeployment, SecretStoreKind } from '../src';
import { domains, find, Manifest, synth } from './util';

const base: ExternalSecretSourceProps = {
  secretStore: { name: 'vault', kind: SecretStoreKind.CLUSTER_SECRET_STORE },
  secretName: 'hubspot-api',
  data: [{ secretKey: 'HUBSPOT_TOKEN', remoteKey: 'marketing/hubspot', property: 'token' }],
};

function externalSecret(manifests: Manifest[]): Manifest {
  const found = manifests.filter((m) => m.kind === 'ExternalSecret');
  expect(found).toHaveLength(1);
  return found[0];
}

describe('ExternalSecretSource', () => {
  test('synthesizes an external-secrets.io/v1 ExternalSecret with an owned target', () => {
    // GIVEN / WHEN
    const { domains: [marketing] } = domains('marketing');
    const src = new ExternalSecretSource(marketing, 'Hubspot', base);

    // THEN
    const manifests = synth(marketing);
    const es = externalSecret(manifests);
    expect(es.apiVersion).toBe('external-secrets.io/v1');
    expect(es.metadata.namespace).toBe('floe-marketing');
    const annotations = {
      'floe.dev/source': 'marketing/Hubspot',
      'floe.dev/source-kind': 'external-secrets',
      'floe.dev/refresh-interval': '1h',
    };
    // The Argo CD sync wave is on the ExternalSecret only, not in the template of the Secret it writes.
    expect(es.metadata.annotations).toEqual({ ...annotations, 'argocd.argoproj.io/sync-wave': '-1' });
    expect(es.spec).toEqual({
      secretStoreRef: { name: 'vault', kind: 'ClusterSecretStore' },
      refreshInterval: '1h',
      target: {
        name: 'hubspot-api',
        creationPolicy: 'Owner',
        template: { engineVersion: 'v2', mergePolicy: 'Merge', metadata: { labels: { 'floe.dev/source-kind': 'external-secrets' }, annotations } },
      },
      data: [{ secretKey: 'HUBSPOT_TOKEN', remoteRef: { key: 'marketing/hubspot', property: 'token' } }],
    });
    expect(src.secret.keys).toEqual(['HUBSPOT_TOKEN']);
    expect(src.secret.source?.restartsWorkloads).toBe(false);
    expect(manifests).toMatchSnapshot();
  });

  test('a namespaced store, refresh interval, orphan policy and rotation', () => {
    const { domains: [marketing] } = domains('marketing');
    new ExternalSecretSource(marketing, 'Hubspot', {
      ...base,
      secretStore: { name: 'team-store', kind: SecretStoreKind.SECRET_STORE },
      refreshInterval: '15m',
      rotationPeriod: '24h',
      creationPolicy: CreationPolicy.ORPHAN,
      data: [{ secretKey: 'config.json', remoteKey: 'marketing/config' }],
    });
    const es = externalSecret(synth(marketing));
    expect(es.spec.secretStoreRef).toEqual({ name: 'team-store', kind: 'SecretStore' });
    expect(es.spec.refreshInterval).toBe('15m');
    expect(es.spec.target.creationPolicy).toBe('Orphan');
    expect(es.spec.data).toEqual([{ secretKey: 'config.json', remoteRef: { key: 'marketing/config' } }]);
    expect(es.metadata.annotations['floe.dev/rotation-period']).toBe('24h');
  });

  test('ESO does not restart workloads, so a Deployment reading its Secret gets no reload annotation', () => {
    const { domains: [marketing] } = domains('marketing');
    const src = new ExternalSecretSource(marketing, 'Hubspot', base);
    const api = new SecretMountedDeployment(marketing, 'Api', { name: 'api', image: 'i', secretEnvFrom: [src.secret] });
    expect(api.autoReload).toBe(false);
    expect(find(synth(marketing), 'Deployment', 'api').metadata.annotations?.['secrets.infisical.com/auto-reload']).toBeUndefined();
  });

  test.each<[string, Partial<ExternalSecretSourceProps>, RegExp]>([
    ['a duplicate key', { data: [base.data[0], base.data[0]] }, /^marketing\/Hubspot: secretKey "HUBSPOT_TOKEN" appears twice in data; give each key of the managed Secret one origin/],
    ['an empty remote key', { data: [{ secretKey: 'K', remoteKey: ' ' }] }, /remoteKey of "K" is empty/],
    ['no data', { data: [] }, /keys is empty/],
    ['a bad store name', { secretStore: { name: 'Vault', kind: SecretStoreKind.SECRET_STORE } }, /secretStore name "Vault" is not a DNS-1123 subdomain/],
    ['a refresh under 1s', { refreshInterval: '500ms' }, /refreshInterval "500ms" is under 1s, the operator's minimum/],
    ['an unknown store kind', { secretStore: { name: 'vault', kind: 'SecretStores' as SecretStoreKind } },
      /^marketing\/Hubspot: secretStore kind "SecretStores" is not one of SecretStore, ClusterSecretStore; use SecretStoreKind.SECRET_STORE or SecretStoreKind.CLUSTER_SECRET_STORE$/],
    ['a store kind in the wrong case', { secretStore: { name: 'vault', kind: 'clustersecretstore' as SecretStoreKind } }, /secretStore kind "clustersecretstore" is not one of/],
    ['no store kind', { secretStore: { name: 'vault' } as any }, /^marketing\/Hubspot: secretStore kind is missing; reference the store as/],
    ['an unknown creation policy', { creationPolicy: 'Merge' as CreationPolicy }, /creationPolicy "Merge" is not one of Owner, Orphan/],
    ['a default refresh not shorter than the rotation', { rotationPeriod: '30m' }, /refreshInterval "3600s" is not shorter than rotationPeriod "30m"/],
  ])('rejects %s', (_what, props, message) => {
    const { domains: [marketing] } = domains('marketing');
    expect(() => new ExternalSecretSource(marketing, 'Hubspot', { ...base, ...props })).toThrow(message);
    expect(marketing.node.tryFindChild('Hubspot')).toBeUndefined();
  });

  test.each<[string, unknown, RegExp]>([
    ['no props', undefined, /^marketing\/Hubspot: props must be an object, got undefined/],
    ['no store', { ...base, secretStore: undefined }, /^marketing\/Hubspot: secretStore must be an object, got undefined|secretStore is missing/],
    ['a store name as the store', { ...base, secretStore: 'vault' }, /secretStore must be an object, got a string/],
    ['data as an object', { ...base, data: { secretKey: 'K', remoteKey: 'r' } }, /^marketing\/Hubspot: data must be a list, got an object/],
    ['an entry without remoteKey', { ...base, data: [{ secretKey: 'K' }] }, /^marketing\/Hubspot: data\[0\].remoteKey is missing \(expected a string\)/],
  ])('untyped JavaScript input: %s is a clear error', (_what, props, message) => {
    const { domains: [marketing] } = domains('marketing');
    expect(() => new ExternalSecretSource(marketing, 'Hubspot', props as any)).toThrow(message);
  });
});
