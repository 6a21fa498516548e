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
    ['an absolute path', { path: '/secret/data/x' }, /^sales\/V: path "\/secret\/data\/x" starts with "\/"; write it like "compute\/snowflake": relative to the mount, without a leading or trailing "\/"$/],
    ['a path with ..', { path: 'a/../b' }, /^sales\/V: path "a\/..\/b" has an empty, ".", ".." or space-padded segment/],
    ['a path with a trailing slash', { path: 'compute/snowflake/' }, /^sales\/V: path "compute\/snowflake\/" ends with "\/"; write it like/],
    ['a path with //', { path: 'compute//snowflake' }, /^sales\/V: path "compute\/\/snowflake" has an empty, ".", ".." or space-padded segment/],
    ['an empty path', { path: '' }, /^sales\/V: path "" is empty/],
    ['a mount with a leading slash', { mount: '/secret' }, /^sales\/V: mount "\/secret" starts with "\/"; give the mount path as Vault lists it without slashes, e.g. "secret" or "kv\/teams"$/],
    ['a mount with a trailing slash', { mount: 'secret/' }, /^sales\/V: mount "secret\/" ends with "\/"/],
    ['a mount with //', { mount: 'kv//teams' }, /^sales\/V: mount "kv\/\/teams" has an empty/],
    ['a bad name', { name: 'Snow' }, /name "Snow" is not a DNS-1123 subdomain/],
    ['no keys', { keys: [] }, /keys is empty/],
    ['a bad key', { keys: ['a/b'] }, /key "a\/b" may only hold/],
  ])('rejects %s', (_what, props, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => new VaultSecretSource(sales, 'V', { ...base, ...props })).toThrow(message);
    expect(sales.node.tryFindChild('V')).toBeUndefined();
  });

  test('a nested mount is fine', () => {
    const { domains: [sales] } = domains('sales');
    expect(new VaultSecretSource(sales, 'V', { ...base, mount: 'kv/teams' }).vaultPath).toBe('kv/teams/data/compute/snowflake');
  });

  test('injecting into a workload of another domain is refused, naming both domains; nothing is annotated (REQ-139)', () => {
    // GIVEN a source of sales and a job of marketing
    const { domains: [sales, marketing] } = domains('sales', 'marketing');
    const vault = new VaultSecretSource(sales, 'Snowflake', base);
    const job = new SecretMountedJob(marketing, 'Load', { name: 'load', image: 'i', automountServiceAccountToken: true });

    // WHEN / THEN
    expect(() => vault.injectInto(job)).toThrow(
      /^marketing\/Load: the Vault source sales\/Snowflake belongs to domain "sales" \(namespace floe-sales\), but this workload is in domain "marketing" \(namespace floe-marketing\); a workload may only read secrets of its own domain; declare the VaultSecretSource in domain "marketing", with that domain's Vault role$/,
    );
    expect(find(synth(marketing), 'Job', 'load').spec.template.metadata.annotations).toBeUndefined();
  });

  test.each<[string, unknown, RegExp]>([
    ['no props', undefined, /^sales\/V: props must be an object, got undefined/],
    ['no role', { ...base, role: undefined }, /^sales\/V: role is missing \(expected a string\)/],
    ['keys as a string', { ...base, keys: 'password' }, /^sales\/V: keys must be a list, got a string/],
    ['a number as mount', { ...base, mount: 2 }, /^sales\/V: mount must be a string, got number 2/],
  ])('untyped JavaScript input: %s is a clear error', (_what, props, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => new VaultSecretSource(sales, 'V', props as any)).toThrow(message);
  });

  test('injectInto something that is not a workload is a clear error', () => {
    const { domains: [sales] } = domains('sales');
    const vault = new VaultSecretSource(sales, 'V', base);
    expect(() => vault.injectInto({} as any)).toThrow(/^sales\/V: injectInto expects a SecretMountedJob, SecretMountedDeployment, SecretMountedStatefulSet or SecretMountedDaemonSet, got an object/);
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

  test.each([['compute/snowflake/', /ends with "\/"/], ['/compute/snowflake', /starts with "\/"/], ['compute//snowflake', /has an empty/]])('refuses the path %j', (path, message) => {
    const { domains: [sales] } = domains('sales');
    const props = { secretStore: { name: 'vault', kind: SecretStoreKind.CLUSTER_SECRET_STORE }, path, keys: ['user'], secretName: 'snowflake-credentials' };
    expect(() => VaultSecretSource.viaExternalSecrets(sales, 'Snowflake', props)).toThrow(message);
    expect(sales.node.tryFindChild('Snowflake')).toBeUndefined();
  });
});
