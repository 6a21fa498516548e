import { Cron } from 'cdk8s';
import { FloeSecret, SecretMountedDeployment, SecretMountedJob, SecretStoreKind, VaultSecretSource, VaultSecretSourceProps } from '../src';
import { domains, find, synth } from './util';

const base: VaultSecretSourceProps = { role: 'floe-sales', path: 'compute/snowflake', keys: ['user', 'password'], name: 'snowflake' };

describe('VaultSecretSource (Agent Injector)', () => {
  test('a Job gets pre-populate-only, files at /run/secrets/<name>/<key>, owned by the container user', () => {
    // GIVEN
    const { domains: [sales] } = domains('sales');
    const vault = new VaultSecretSource(sales, 'Snowflake', base);
    const job = new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', automountServiceAccountToken: true });

    // WHEN
    vault.injectInto(job);

    // THEN
    const manifests = synth(sales);
    const annotations = find(manifests, 'Job', 'load').spec.template.metadata.annotations;
    expect(annotations).toEqual({
      'vault.hashicorp.com/agent-inject': 'true',
      'vault.hashicorp.com/role': 'floe-sales',
      'vault.hashicorp.com/agent-run-as-user': '10001',
      'vault.hashicorp.com/agent-run-as-group': '10001',
      'vault.hashicorp.com/agent-pre-populate-only': 'true',
      'vault.hashicorp.com/agent-inject-secret-snowflake-password': 'secret/data/compute/snowflake',
      'vault.hashicorp.com/agent-inject-template-snowflake-password': '{{- with secret "secret/data/compute/snowflake" -}}{{ index .Data.data "password" }}{{- end }}',
      'vault.hashicorp.com/agent-inject-file-snowflake-password': 'password',
      'vault.hashicorp.com/secret-volume-path-snowflake-password': '/run/secrets/snowflake',
      'vault.hashicorp.com/agent-inject-perms-snowflake-password': '0400',
      'vault.hashicorp.com/agent-inject-secret-snowflake-user': 'secret/data/compute/snowflake',
      'vault.hashicorp.com/agent-inject-template-snowflake-user': '{{- with secret "secret/data/compute/snowflake" -}}{{ index .Data.data "user" }}{{- end }}',
      'vault.hashicorp.com/agent-inject-file-snowflake-user': 'user',
      'vault.hashicorp.com/secret-volume-path-snowflake-user': '/run/secrets/snowflake',
      'vault.hashicorp.com/agent-inject-perms-snowflake-user': '0400',
    });
    // No Kubernetes Secret in between: no Role either.
    expect(manifests.filter((m) => m.kind === 'Role' || m.kind === 'Secret')).toEqual([]);
    expect(manifests).toMatchSnapshot();
  });

  test('a CronJob is pre-populate-only too; a Deployment keeps the sidecar', () => {
    const { domains: [sales] } = domains('sales');
    const vault = new VaultSecretSource(sales, 'Snowflake', { ...base, mount: 'kv', vaultNamespace: 'team-a', authPath: 'auth/k8s-prod' });
    vault.injectInto(new SecretMountedJob(sales, 'Cron', { name: 'cron', image: 'i', schedule: Cron.daily(), automountServiceAccountToken: true }));
    vault.injectInto(new SecretMountedDeployment(sales, 'Api', { name: 'api', image: 'i', automountServiceAccountToken: true, runAsUser: 2000 }));
    const manifests = synth(sales);
    const cron = find(manifests, 'CronJob', 'cron').spec.jobTemplate.spec.template.metadata.annotations;
    expect(cron['vault.hashicorp.com/agent-pre-populate-only']).toBe('true');
    expect(cron['vault.hashicorp.com/namespace']).toBe('team-a');
    expect(cron['vault.hashicorp.com/auth-path']).toBe('auth/k8s-prod');
    expect(cron['vault.hashicorp.com/agent-inject-secret-snowflake-user']).toBe('kv/data/compute/snowflake');
    const api = find(manifests, 'Deployment', 'api').spec.template.metadata.annotations;
    expect(api['vault.hashicorp.com/agent-pre-populate-only']).toBeUndefined();
    expect(api['vault.hashicorp.com/agent-run-as-user']).toBe('2000');
  });

  test('long field names still give valid annotation names', () => {
    const { domains: [sales] } = domains('sales');
    const key = 'a-very-long-field-name-that-goes-on.and.on';
    const vault = new VaultSecretSource(sales, 'V', { ...base, keys: [key] });
    vault.injectInto(new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', automountServiceAccountToken: true }));
    const names = Object.keys(find(synth(sales), 'Job', 'load').spec.template.metadata.annotations);
    for (const name of names) expect(name.split('/')[1].length).toBeLessThanOrEqual(63);
    expect(names.find((n) => n.includes('agent-inject-file-'))).toBeDefined();
  });

  test('the agent needs the pod\'s ServiceAccount token', () => {
    const { domains: [sales] } = domains('sales');
    const vault = new VaultSecretSource(sales, 'Snowflake', base);
    const job = new SecretMountedJob(sales, 'Load', { image: 'i' });
    expect(() => vault.injectInto(job)).toThrow(
      /^sales\/Load: the Vault Agent of sales\/Snowflake logs in with the pod's ServiceAccount token, but automountServiceAccountToken is false; set automountServiceAccountToken: true/,
    );
  });

  test('two Vault roles in one pod, or a Secret mounted over the agent\'s directory, are errors', () => {
    const { domains: [sales] } = domains('sales');
    const tls = FloeSecret.fromSecretName(sales, 'Tls', 'snowflake', { keys: ['ca.crt'] });
    const job = new SecretMountedJob(sales, 'Load', { image: 'i', automountServiceAccountToken: true });
    new VaultSecretSource(sales, 'A', base).injectInto(job);
    expect(() => new VaultSecretSource(sales, 'B', { ...base, role: 'other', name: 'other' }).injectInto(job)).toThrow(
      /pod annotation "vault.hashicorp.com\/role" is already set to "floe-sales"; set each annotation once/,
    );
    expect(() => job.mountSecret(tls)).toThrow(/mount path "\/run\/secrets\/snowflake" overlaps mount "\/run\/secrets\/snowflake"/);
  });

  test.each<[string, Partial<VaultSecretSourceProps>, RegExp]>([
    ['an empty role', { role: ' ' }, /^sales\/V: role is empty/],
    ['an absolute path', { path: '/secret/data/x' }, /path "\/secret\/data\/x" is not a KV path relative to the mount/],
    ['a path with ..', { path: 'a/../b' }, /is not a KV path/],
    ['a bad name', { name: 'Snow' }, /name "Snow" is not a DNS-1123 subdomain/],
    ['no keys', { keys: [] }, /keys is empty/],
    ['a bad key', { keys: ['a/b'] }, /key "a\/b" may only hold/],
  ])('rejects %s', (_what, props, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => new VaultSecretSource(sales, 'V', { ...base, ...props })).toThrow(message);
  });
});

describe('VaultSecretSource.viaExternalSecrets', () => {
  test('reads each field of the Vault secret through a Vault store into a Kubernetes Secret', () => {
    const { domains: [sales] } = domains('sales');
    const src = VaultSecretSource.viaExternalSecrets(sales, 'Snowflake', {
      secretStore: { name: 'vault', kind: SecretStoreKind.CLUSTER_SECRET_STORE },
      path: 'compute/snowflake',
      keys: ['user', 'password'],
      secretName: 'snowflake-credentials',
      refreshInterval: '5m',
    });
    const es = synth(sales).find((m) => m.kind === 'ExternalSecret')!;
    expect(es.spec.data).toEqual([
      { secretKey: 'user', remoteRef: { key: 'compute/snowflake', property: 'user' } },
      { secretKey: 'password', remoteRef: { key: 'compute/snowflake', property: 'password' } },
    ]);
    expect(es.spec.refreshInterval).toBe('5m');
    expect(src.secret.keys).toEqual(['password', 'user']);
  });
});
