import {
  CreationPolicy,
  FloeDomain,
  InfisicalAuthentication,
  InfisicalOperatorApi,
  InfisicalSecretSource,
  InfisicalSecretSourceProps,
  SecretMountedJob,
  SecretReference,
} from '../src';
import { domains, find, Manifest, randomValue, synth } from './util';

const universal = InfisicalAuthentication.universalAuth({ name: 'infisical-universal-auth', namespace: 'floe-platform' });
const base: InfisicalSecretSourceProps = {
  projectSlug: 'floe-analytics',
  envSlug: 'prod',
  secretsPath: '/compute/snowflake',
  authentication: universal,
  secretName: 'snowflake-credentials',
  keys: ['user', 'password'],
};

function source(domain: FloeDomain, props: Partial<InfisicalSecretSourceProps> = {}) {
  return new InfisicalSecretSource(domain, 'Snowflake', { ...base, ...props });
}

function one(manifests: Manifest[], kind: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('InfisicalSecretSource (v1alpha1)', () => {
  test('synthesizes an InfisicalSecret exactly as its CRD defines it, with the seeds\' defaults', () => {
    // GIVEN / WHEN
    const { domains: [sales] } = domains('sales');
    const src = source(sales);

    // THEN
    const manifests = synth(sales);
    const cr = one(manifests, 'InfisicalSecret');
    expect(cr.apiVersion).toBe('secrets.infisical.com/v1alpha1');
    expect(cr.metadata.namespace).toBe('floe-sales');
    expect(cr.spec).toEqual({
      hostAPI: 'https://app.infisical.com/api',
      syncConfig: { resyncInterval: '60s' },
      authentication: {
        universalAuth: {
          credentialsRef: { secretName: 'infisical-universal-auth', secretNamespace: 'floe-platform' },
          secretsScope: { projectSlug: 'floe-analytics', envSlug: 'prod', secretsPath: '/compute/snowflake', recursive: false },
        },
      },
      managedKubeSecretReferences: [{ secretName: 'snowflake-credentials', secretNamespace: 'floe-sales', creationPolicy: 'Owner', secretType: 'Opaque' }],
    });
    expect(cr.spec.managedSecretReference).toBeUndefined();
    expect(cr.spec.resyncInterval).toBeUndefined();
    // The source annotations for reviewers (the operator copies them onto the Secret), and the Argo CD
    // sync wave of secret sources: after the namespace and RBAC, before the workloads that read it.
    expect(cr.metadata.annotations).toEqual({
      'floe.dev/source': 'sales/Snowflake',
      'floe.dev/source-kind': 'infisical',
      'floe.dev/refresh-interval': '60s',
      'argocd.argoproj.io/sync-wave': '-1',
    });
    expect(src.creationPolicy).toBe(CreationPolicy.OWNER);
    expect(src.secret.secretName).toBe('snowflake-credentials');
    expect(src.secret.keys).toEqual(['password', 'user']);
    expect(src.secret.managedBy).toBe('sales/Snowflake');
    expect(src.secret.source).toEqual({ kind: 'infisical', source: 'sales/Snowflake', refreshInterval: '60s', rotationPeriod: undefined, restartsWorkloads: true });
    expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
    expect(manifests).toMatchSnapshot();
  });

  test('self-hosted site, project id, recursive, Kubernetes auth, orphan policy, type and template', () => {
    const { domains: [sales] } = domains('sales');
    source(sales, {
      siteUrl: 'https://infisical.example.com',
      projectSlug: undefined,
      projectId: '6f1c2b9e',
      recursive: true,
      authentication: InfisicalAuthentication.kubernetesAuth('id-123', { name: 'infisical-reader', namespace: 'floe-platform' }),
      creationPolicy: CreationPolicy.ORPHAN,
      secretType: 'kubernetes.io/basic-auth',
      templateData: { username: '{{ .user.Value }}' },
      includeAllSecrets: true,
      resyncInterval: '5m',
    });
    const spec = one(synth(sales), 'InfisicalSecret').spec;
    expect(spec.hostAPI).toBe('https://infisical.example.com/api');
    expect(spec.syncConfig).toEqual({ resyncInterval: '5m' });
    expect(spec.authentication).toEqual({
      kubernetesAuth: {
        identityId: 'id-123',
        serviceAccountRef: { name: 'infisical-reader', namespace: 'floe-platform' },
        secretsScope: { projectId: '6f1c2b9e', envSlug: 'prod', secretsPath: '/compute/snowflake', recursive: true },
      },
    });
    expect(spec.managedKubeSecretReferences).toEqual([{
      secretName: 'snowflake-credentials',
      secretNamespace: 'floe-sales',
      creationPolicy: 'Orphan',
      secretType: 'kubernetes.io/basic-auth',
      template: { data: { username: '{{ .user.Value }}' }, includeAllSecrets: true },
    }]);
  });

  test('fans out into other domains: one owned resource per namespace, one IFloeSecret per copy', () => {
    // GIVEN
    const { domains: [sales, marketing, finance] } = domains('sales', 'marketing', 'finance');
    const src = source(sales, { alsoSyncTo: [marketing] });

    // WHEN each domain's job reads its own copy
    new SecretMountedJob(sales, 'A', { name: 'a', image: 'i', secretEnv: [SecretReference.fromSecret(src.secret, 'user')] });
    new SecretMountedJob(marketing, 'B', { name: 'b', image: 'i', secretEnv: [SecretReference.fromSecret(src.secretIn(marketing), 'user')] });

    // THEN
    const inMarketing = one(synth(marketing), 'InfisicalSecret');
    expect(inMarketing.metadata.namespace).toBe('floe-marketing');
    expect(inMarketing.spec.managedKubeSecretReferences).toEqual([expect.objectContaining({ secretNamespace: 'floe-marketing', creationPolicy: 'Owner' })]);
    expect(one(synth(sales), 'InfisicalSecret').spec.managedKubeSecretReferences).toEqual([expect.objectContaining({ secretNamespace: 'floe-sales' })]);
    expect(src.secretIn(marketing).domain).toBe(marketing);
    expect(find(synth(marketing), 'Role', 'b-secret-reader').rules[0].resourceNames).toEqual(['snowflake-credentials']);
    expect(() => src.secretIn(finance)).toThrow(/^sales\/Snowflake: does not sync into domain "finance" \(it syncs into sales, marketing\); add that domain to alsoSyncTo/);
    expect(() => new SecretMountedJob(marketing, 'C', { image: 'i', secretEnv: [SecretReference.fromSecret(src.secret, 'user')] })).toThrow(/belongs to domain "sales"/);
  });

  test('a declared rotation period is visible on the resource and the managed Secret', () => {
    const { domains: [sales] } = domains('sales');
    source(sales, { rotationPeriod: '24h' });
    expect(one(synth(sales), 'InfisicalSecret').metadata.annotations['floe.dev/rotation-period']).toBe('24h');
  });
});

describe('InfisicalSecretSource (v1beta1)', () => {
  test('synthesizes InfisicalConnection + InfisicalAuth + InfisicalStaticSecret', () => {
    const { domains: [sales, marketing] } = domains('sales', 'marketing');
    source(sales, { operatorApi: InfisicalOperatorApi.V1BETA1, siteUrl: 'https://infisical.example.com', alsoSyncTo: [marketing], templateData: { DSN: '{{ .user.Value }}' } });
    const manifests = synth(sales);
    const connection = one(manifests, 'InfisicalConnection');
    const auth = one(manifests, 'InfisicalAuth');
    const stat = one(manifests, 'InfisicalStaticSecret');
    expect(connection.apiVersion).toBe('secrets.infisical.com/v1beta1');
    expect(connection.spec).toEqual({ address: 'https://infisical.example.com' });
    expect(auth.spec).toEqual({
      infisicalConnectionRef: { name: connection.metadata.name, namespace: 'floe-sales' },
      method: 'universal',
      universal: {
        clientIdRef: { name: 'infisical-universal-auth', namespace: 'floe-platform', key: 'clientId' },
        clientSecretRef: { name: 'infisical-universal-auth', namespace: 'floe-platform', key: 'clientSecret' },
      },
    });
    expect(stat.spec).toEqual({
      infisicalAuthRef: { name: auth.metadata.name, namespace: 'floe-sales' },
      syncOptions: { refreshInterval: '60s' },
      sources: [{ projectSlug: 'floe-analytics', environmentSlug: 'prod', secretPath: '/compute/snowflake', recursive: false }],
      targets: [{
        kind: 'Secret',
        name: 'snowflake-credentials',
        namespace: 'floe-sales',
        creationPolicy: 'Owner',
        secretType: 'Opaque',
        metadata: {
          labels: { 'floe.dev/source-kind': 'infisical' },
          // The source annotations only: the sync wave belongs to the resource, not to the Secret.
          annotations: { 'floe.dev/source': 'sales/Snowflake', 'floe.dev/source-kind': 'infisical', 'floe.dev/refresh-interval': '60s' },
        },
        template: { engineVersion: 'v1', data: { DSN: '{{ .user.Value }}' } },
      }],
    });
    expect(manifests.filter((m) => m.kind === 'InfisicalSecret')).toEqual([]);
    // Argo CD creates what the operator logs in with before the resource that uses it.
    expect([connection, auth, stat].map((m) => m.metadata.annotations?.['argocd.argoproj.io/sync-wave'])).toEqual(['-2', '-2', '-1']);
    // The copy in marketing references the shared auth in floe-sales.
    const copy = one(synth(marketing), 'InfisicalStaticSecret');
    expect(copy.spec.infisicalAuthRef).toEqual({ name: auth.metadata.name, namespace: 'floe-sales' });
    expect(copy.spec.targets[0].namespace).toBe('floe-marketing');
    expect(synth(marketing).filter((m) => m.kind === 'InfisicalAuth')).toEqual([]);
    expect(manifests).toMatchSnapshot();
  });

  test('Kubernetes auth reads the identity id from a Secret', () => {
    const { domains: [sales] } = domains('sales');
    source(sales, {
      operatorApi: InfisicalOperatorApi.V1BETA1,
      authentication: InfisicalAuthentication.kubernetesAuth('id-1', { name: 'reader', namespace: 'floe-platform' }, { name: 'infisical-identity', namespace: 'floe-platform' }),
    });
    expect(one(synth(sales), 'InfisicalAuth').spec).toEqual(expect.objectContaining({
      method: 'kubernetes',
      kubernetes: {
        identityIdRef: { name: 'infisical-identity', namespace: 'floe-platform', key: 'identityId' },
        serviceAccountRef: { name: 'reader', namespace: 'floe-platform' },
      },
    }));
  });
});

describe('InfisicalSecretSource bad input', () => {
  test.each<[string, Partial<InfisicalSecretSourceProps>, RegExp]>([
    ['both project ids', { projectId: 'x' }, /^sales\/Snowflake: both projectSlug "floe-analytics" and projectId "x" are set; give exactly one of them/],
    ['no project', { projectSlug: undefined }, /neither projectSlug nor projectId is set; give exactly one/],
    ['resync under 5s', { resyncInterval: '4s' }, /resyncInterval "4s" is under 5s, the operator's minimum; use at least "5s"/],
    ['unparseable resync', { resyncInterval: '60' }, /resyncInterval "60" is not a duration; write it like "60s", "5m" or "1h30m"/],
    ['relative path', { secretsPath: 'compute/snowflake' }, /secretsPath "compute\/snowflake" does not start with "\/"; write it from the project root, e.g. "\/compute\/snowflake"/],
    ['site with /api', { siteUrl: 'https://app.infisical.com/api' }, /siteUrl "https:\/\/app.infisical.com\/api" is not a site URL/],
    ['bad secret name', { secretName: 'Snowflake' }, /secretName "Snowflake" is not a DNS-1123 subdomain/],
    ['no keys', { keys: [] }, /keys is empty/],
    ['bad key', { keys: ['a b'] }, /key "a b" may only hold/],
    ['empty env', { envSlug: ' ' }, /envSlug is empty/],
    ['rotation not a duration', { rotationPeriod: 'daily' }, /rotationPeriod "daily" is not a positive duration/],
    ['refresh slower than rotation', { rotationPeriod: '30s' }, /resyncInterval "60s" is not shorter than rotationPeriod "30s"/],
    ['v1alpha1-only option on v1beta1', { operatorApi: InfisicalOperatorApi.V1BETA1, includeAllSecrets: true }, /includeAllSecrets exists only for operatorApi v1alpha1/],
    ['v1beta1 kubernetes auth without the identity Secret', {
      operatorApi: InfisicalOperatorApi.V1BETA1,
      authentication: InfisicalAuthentication.kubernetesAuth('id-1', { name: 'reader', namespace: 'floe-platform' }),
    }, /kubernetes auth with operatorApi v1beta1 needs the Secret that holds the identity id/],
    ['bad credentials reference', { authentication: InfisicalAuthentication.universalAuth({ name: 'Creds', namespace: 'floe-platform' }) }, /authentication name "Creds" is not a DNS-1123 subdomain/],
  ])('%s', (_what, props, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => source(sales, props)).toThrow(message);
    expect(sales.node.tryFindChild('Snowflake')).toBeUndefined();
  });

  test.each<[string, Partial<InfisicalSecretSourceProps>, RegExp]>([
    ['plain http to another host', { siteUrl: 'http://infisical.example.com' },
      /^sales\/Snowflake: siteUrl "http:\/\/infisical.example.com" uses plain http to a host other than localhost; use https \(plain http is only allowed for localhost, 127.0.0.0\/8 and \[::1\]\)$/],
    ['plain http to a look-alike of localhost', { siteUrl: 'http://localhost.evil.example' }, /uses plain http to a host other than localhost/],
    ['plain http to 128.0.0.1', { siteUrl: 'http://128.0.0.1:8080' }, /uses plain http to a host other than localhost/],
    ['a query', { siteUrl: 'https://infisical.example.com?x=1' }, /^sales\/Snowflake: siteUrl \(not shown: it may hold a credential\) has a query or fragment; give the instance URL/],
    ['a fragment', { siteUrl: 'https://infisical.example.com#x' }, /siteUrl \(not shown: it may hold a credential\) has a query or fragment/],
    ['another scheme', { siteUrl: 'ftp://infisical.example.com' }, /siteUrl "ftp:\/\/infisical.example.com" is not an https URL/],
    ['not a URL', { siteUrl: 'infisical.example.com' }, /siteUrl "infisical.example.com" is not a URL/],
    ['a project slug with upper case', { projectSlug: 'Floe-Analytics' }, /^sales\/Snowflake: projectSlug "Floe-Analytics" is not a project slug \(lower-case letters, digits and "-"\); copy the slug/],
    ['a project slug with a slash', { projectSlug: 'floe/analytics' }, /projectSlug "floe\/analytics" is not a project slug/],
    ['an env slug with a space', { envSlug: 'prod eu' }, /^sales\/Snowflake: envSlug "prod eu" is not an environment slug \(lower-case letters, digits and "-"\); use the slug of the environment/],
    ['an env name instead of its slug', { envSlug: 'Production' }, /envSlug "Production" is not an environment slug/],
    ['a ".." folder', { secretsPath: '/compute/../admin' }, /^sales\/Snowflake: secretsPath "\/compute\/..\/admin" has an empty, "." or ".." folder; write the folder as a plain path/],
    ['a trailing ".."', { secretsPath: '/compute/..' }, /secretsPath "\/compute\/.." has an empty, "." or ".." folder/],
    ['an empty folder', { secretsPath: '/compute//snowflake' }, /secretsPath "\/compute\/\/snowflake" has an empty, "." or ".." folder/],
    ['a template key that is not a Secret key', { templateData: { 'db dsn': 'x' } }, /^sales\/Snowflake: templateData key "db dsn" may only hold letters, digits, "-", "_" and "."; name each template/],
    ['an unknown operator API', { operatorApi: 'v2' as InfisicalOperatorApi }, /^sales\/Snowflake: operatorApi "v2" is not one of v1alpha1, v1beta1; use InfisicalOperatorApi.V1ALPHA1/],
    ['an unknown creation policy', { creationPolicy: 'owner' as CreationPolicy }, /creationPolicy "owner" is not one of Owner, Orphan/],
  ])('refuses %s', (_what, props, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => source(sales, props)).toThrow(message);
    expect(sales.node.tryFindChild('Snowflake')).toBeUndefined();
  });

  test.each(['http://localhost:8080', 'http://127.0.0.1', 'http://127.10.0.2:8080', 'http://[::1]:8080', 'https://infisical.example.com/sub'])('accepts site %s', (siteUrl) => {
    const { domains: [sales] } = domains('sales');
    source(sales, { siteUrl });
    expect(one(synth(sales), 'InfisicalSecret').spec.hostAPI).toBe(`${siteUrl}/api`);
  });

  test.each([
    (user: string, pass: string) => `https://${user}:${pass}@infisical.example.com`,
    (user: string, pass: string) => `http://${user}:${pass}@localhost:8080`,
    (user: string, pass: string) => `https://${user}:${pass}@infisical.example.com/api`,
    (user: string, pass: string) => `https://${user}:${pass} x@infisical.example.com`,
    (_user: string, pass: string) => `https://${pass}@infisical.example.com`,
  ])('a site URL with a user name or password is refused without quoting it (%#)', (make) => {
    for (const operatorApi of [InfisicalOperatorApi.V1ALPHA1, InfisicalOperatorApi.V1BETA1]) {
      const user = randomValue();
      const pass = randomValue();
      const { domains: [sales] } = domains('sales');
      let error: Error | undefined;
      try {
        source(sales, { siteUrl: make(user, pass), operatorApi });
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(/^sales\/Snowflake: siteUrl \(not shown: it may hold a credential\) (holds a user name or password, which would be written into the synthesized YAML; remove them|is not a URL)/);
      for (const channel of [error?.message ?? '', error?.stack ?? '', String(error)]) {
        expect(channel).not.toContain(pass);
        expect(channel).not.toContain(user);
      }
      expect(sales.node.tryFindChild('Snowflake')).toBeUndefined();
    }
  });

  test.each<[string, unknown, RegExp]>([
    ['no props', undefined, /^sales\/Snowflake: props must be an object, got undefined/],
    ['no envSlug', { ...base, envSlug: undefined }, /^sales\/Snowflake: envSlug is missing \(expected a string\); give the environment slug/],
    ['keys as a string', { ...base, keys: 'password' }, /^sales\/Snowflake: keys must be a list, got a string/],
    ['no authentication', { ...base, authentication: undefined }, /^sales\/Snowflake: authentication is missing; create it with InfisicalAuthentication.universalAuth/],
    ['authentication as a string', { ...base, authentication: 'universal' }, /authentication is not an InfisicalAuthentication, got a string/],
    ['a domain name in alsoSyncTo', { ...base, alsoSyncTo: ['marketing'] }, /alsoSyncTo\[0\] is not a FloeDomain, got a string/],
  ])('untyped JavaScript input: %s is a clear error', (_what, props, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => new InfisicalSecretSource(sales, 'Snowflake', props as any)).toThrow(message);
  });

  test('a domain listed twice', () => {
    const { domains: [sales, marketing] } = domains('sales', 'marketing');
    expect(() => source(sales, { alsoSyncTo: [marketing, marketing] })).toThrow(/domain "marketing" is listed twice for the managed Secret/);
  });
});
