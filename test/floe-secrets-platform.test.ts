import { App, Testing } from 'cdk8s';
import { FloeSecretsPlatform, parsePlatformManifest, SecretMountedJob, VaultSecretSource } from '../src';
import { Manifest } from './util';

const COMPUTE = `
compute:
  snowflake:
    type: snowflake
    connection_secret_ref: snowflake-credentials
    keys: [user, password]
    domains: [sales]
domains:
  - name: sales
  - name: marketing
`;

function platform(backend: string, compute = COMPUTE): { app: App; platform: FloeSecretsPlatform } {
  const app = Testing.app();
  return { app, platform: new FloeSecretsPlatform(app, 'Platform', { manifest: parsePlatformManifest(`plugins:\n  secrets:\n${backend}${compute}`) }) };
}

function manifests(p: FloeSecretsPlatform, domain: string): Manifest[] {
  return Testing.synth(p.domain(domain)) as Manifest[];
}

const INFISICAL = `    type: infisical
    project_slug: floe-analytics
    environment: prod
    secrets_path: /teams
    auth:
      method: universal-auth
      credentials_secret: { name: infisical-universal-auth, namespace: floe-platform }
`;

describe('FloeSecretsPlatform', () => {
  test('k8s: the connection is a Secret the platform team creates with kubectl', () => {
    const { platform: p } = platform('    type: k8s\n');
    const sales = p.domain('sales');
    const secret = p.connectionSecret('snowflake', sales);
    expect(secret.secretName).toBe('snowflake-credentials');
    expect(secret.managedBy).toBe('external');
    expect(secret.keys).toEqual(['password', 'user']);
    expect(manifests(p, 'sales').map((m) => m.kind)).toEqual(['Namespace']);
  });

  test('infisical: an InfisicalSecretSource per domain reading <secrets_path>/compute/<target>', () => {
    const { platform: p } = platform(INFISICAL);
    const secret = p.connectionSecret('snowflake', p.domain('sales'));
    expect(secret.source?.kind).toBe('infisical');
    const cr = manifests(p, 'sales').find((m) => m.kind === 'InfisicalSecret')!;
    expect(cr.spec.authentication.universalAuth.secretsScope).toEqual({ projectSlug: 'floe-analytics', envSlug: 'prod', secretsPath: '/teams/compute/snowflake', recursive: false });
    expect(cr.spec.managedKubeSecretReferences[0].secretName).toBe('snowflake-credentials');
    expect(manifests(p, 'marketing').find((m) => m.kind === 'InfisicalSecret')).toBeUndefined();
  });

  test('infisical v1beta1 follows operator_api', () => {
    const { platform: p } = platform(`${INFISICAL}    operator_api: v1beta1\n`);
    expect(manifests(p, 'sales').map((m) => m.kind)).toEqual(expect.arrayContaining(['InfisicalConnection', 'InfisicalAuth', 'InfisicalStaticSecret']));
  });

  test('vault with external-secrets delivery: an ExternalSecret through the store', () => {
    const { platform: p } = platform(`    type: vault
    address: https://vault.example:8200
    auth_method: kubernetes
    role: floe
    delivery: external-secrets
    secret_store: { name: vault, kind: ClusterSecretStore }
`);
    const es = manifests(p, 'sales').find((m) => m.kind === 'ExternalSecret')!;
    expect(es.spec.secretStoreRef).toEqual({ name: 'vault', kind: 'ClusterSecretStore' });
    expect(es.spec.data).toEqual([
      { secretKey: 'user', remoteRef: { key: 'compute/snowflake', property: 'user' } },
      { secretKey: 'password', remoteRef: { key: 'compute/snowflake', property: 'password' } },
    ]);
  });

  test('infisical without a credentials namespace: each domain logs in with its own Secret (one identity per domain)', () => {
    const compute = COMPUTE.replace('domains: [sales]', 'domains: [sales, marketing]');
    const { platform: p } = platform(INFISICAL.replace('credentials_secret: { name: infisical-universal-auth, namespace: floe-platform }', 'credentials_secret: { name: infisical-universal-auth }'), compute);
    for (const domain of ['sales', 'marketing']) {
      const cr = manifests(p, domain).find((m) => m.kind === 'InfisicalSecret')!;
      expect(cr.spec.authentication.universalAuth.credentialsRef).toEqual({ secretName: 'infisical-universal-auth', secretNamespace: `floe-${domain}` });
      expect(cr.spec.authentication.universalAuth.secretsScope.secretsPath).toBe('/teams/compute/snowflake');
    }
  });

  test('infisical kubernetes auth without a ServiceAccount namespace: the ServiceAccount of each domain', () => {
    const { platform: p } = platform(INFISICAL.replace(
      'method: universal-auth\n      credentials_secret: { name: infisical-universal-auth, namespace: floe-platform }',
      'method: kubernetes\n      identity_id: 6f1c2b5e-0d7a-4e1c-9a51-2b9d3f1e8c40\n      service_account: { name: infisical-reader }',
    ));
    const cr = manifests(p, 'sales').find((m) => m.kind === 'InfisicalSecret')!;
    expect(cr.spec.authentication.kubernetesAuth.serviceAccountRef).toEqual({ name: 'infisical-reader', namespace: 'floe-sales' });
    expect(cr.spec.authentication.kubernetesAuth.identityId).toBe('6f1c2b5e-0d7a-4e1c-9a51-2b9d3f1e8c40');
  });

  test('infisical kubernetes auth with domain_identity_ids: each listed domain logs in as its own identity', () => {
    const compute = COMPUTE.replace('domains: [sales]', 'domains: [sales, marketing]');
    const { platform: p } = platform(INFISICAL.replace(
      'method: universal-auth\n      credentials_secret: { name: infisical-universal-auth, namespace: floe-platform }',
      'method: kubernetes\n      identity_id: 6f1c2b5e-0d7a-4e1c-9a51-2b9d3f1e8c40\n      domain_identity_ids: { sales: 0a9d3c1e-5b7f-4e2a-8c6d-1f3b5d7e9a20 }\n      service_account: { name: infisical-reader }',
    ), compute);
    const identity = (domain: string) => manifests(p, domain).find((m) => m.kind === 'InfisicalSecret')!.spec.authentication.kubernetesAuth.identityId;
    expect([identity('sales'), identity('marketing')]).toEqual(['0a9d3c1e-5b7f-4e2a-8c6d-1f3b5d7e9a20', '6f1c2b5e-0d7a-4e1c-9a51-2b9d3f1e8c40']);
  });

  test('vault with external-secrets and no secret_store: a SecretStore of each domain\'s own, made once for all its targets', () => {
    const compute = `${COMPUTE.replace('domains: [sales]', 'domains: [sales, marketing]').replace('\ndomains:', `
  postgres:
    type: postgres
    connection_secret_ref: postgres-credentials
    keys: [dsn]
    domains: [sales]
domains:`)}`;
    const { platform: p } = platform(`    type: vault
    address: https://vault.example:8200
    auth_method: kubernetes
    role: floe
    mount: kv
    vault_namespace: team-a
    delivery: external-secrets
`, compute);
    for (const domain of ['sales', 'marketing']) {
      const objects = manifests(p, domain);
      const stores = objects.filter((m) => m.kind === 'SecretStore');
      expect(stores).toHaveLength(1);
      expect(stores[0].metadata.namespace).toBe(`floe-${domain}`);
      expect(stores[0].spec.provider.vault).toEqual({
        server: 'https://vault.example:8200',
        path: 'kv',
        version: 'v2',
        namespace: 'team-a',
        auth: { kubernetes: { mountPath: 'kubernetes', role: `floe-${domain}`, serviceAccountRef: { name: 'external-secrets-vault' } } },
      });
      expect(objects.find((m) => m.kind === 'ServiceAccount' && m.metadata.name === 'external-secrets-vault')).toBeDefined();
      for (const es of objects.filter((m) => m.kind === 'ExternalSecret')) expect(es.spec.secretStoreRef).toEqual({ name: 'vault', kind: 'SecretStore' });
    }
    expect(manifests(p, 'sales').filter((m) => m.kind === 'ExternalSecret')).toHaveLength(2);
    // The same store for the domain's own ExternalSecretSources: no second SecretStore.
    const store = p.vaultSecretStore(p.domain('sales'));
    expect(store.node.path).toBe('sales/VaultSecretStore');
    VaultSecretSource.viaExternalSecrets(p.domain('sales'), 'Ads', { secretStore: store, path: 'sales/ads', keys: ['token'], secretName: 'ads' });
    expect(manifests(p, 'sales').filter((m) => m.kind === 'SecretStore')).toHaveLength(1);
  });

  test('vaultSecretStore is refused, with the reason, when the platform makes no store per domain', () => {
    const { platform: infisical } = platform(INFISICAL);
    expect(() => infisical.vaultSecretStore(infisical.domain('sales'))).toThrow(
      'Platform: the manifest picks the infisical backend, so the platform makes no Vault SecretStore per domain; create a VaultSecretStore in the domain yourself, or use Vault with delivery: external-secrets and no secret_store in manifest.yaml',
    );
    const { platform: shared } = platform(`    type: vault
    address: https://vault.example:8200
    auth_method: kubernetes
    role: floe
    delivery: external-secrets
    secret_store: { name: vault, kind: ClusterSecretStore }
`);
    expect(() => shared.vaultSecretStore(shared.domain('sales'))).toThrow(/the manifest picks the platform team's ClusterSecretStore "vault", so the platform makes no Vault SecretStore per domain/);
  });

  test('vault with agent-injector: mountConnection writes files, connectionSecret explains why there is no Secret', () => {
    const { platform: p } = platform(`    type: vault
    address: https://vault.example:8200
    auth_method: kubernetes
    role: floe
    mount: kv
`);
    const sales = p.domain('sales');
    const job = new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', automountServiceAccountToken: true });
    p.mountConnection(job, 'snowflake');
    const annotations = manifests(p, 'sales').find((m) => m.kind === 'Job')!.spec.template.metadata.annotations;
    expect(annotations['vault.hashicorp.com/role']).toBe('floe');
    expect(annotations['vault.hashicorp.com/agent-inject-secret-snowflake-credentials-user']).toBe('kv/data/compute/snowflake');
    expect(annotations['vault.hashicorp.com/secret-volume-path-snowflake-credentials-user']).toBe('/run/secrets/snowflake-credentials');
    expect(() => p.connectionSecret('snowflake', sales)).toThrow(
      /^Platform: compute target "snowflake" is delivered by the Vault Agent, which writes files and creates no Kubernetes Secret; use mountConnection/,
    );
  });

  test('mountConnection mounts the Secret for Secret-backed targets', () => {
    const { platform: p } = platform('    type: k8s\n');
    const job = new SecretMountedJob(p.domain('sales'), 'Load', { name: 'load', image: 'i' });
    p.mountConnection(job, 'snowflake');
    expect(job.secretNames).toEqual(['snowflake-credentials']);
  });

  test('the example manifest builds', () => {
    const app = Testing.app();
    const p = FloeSecretsPlatform.fromManifest(app, 'Platform', `${__dirname}/../examples/manifest.yaml`);
    expect(p.connectionSecret('hubspot', p.domain('marketing')).secretName).toBe('hubspot-api');
  });

  test('an environment: one app holds the dev and prod platforms, each domain in floe-<domain>-<environment>', () => {
    const app = Testing.app();
    const manifest = parsePlatformManifest(`plugins:\n  secrets:\n${INFISICAL}${COMPUTE}`);
    const dev = new FloeSecretsPlatform(app, 'Dev', { manifest, environment: 'dev' });
    const prod = FloeSecretsPlatform.fromManifest(app, 'Prod', `${__dirname}/../examples/manifest.yaml`, { environment: 'prod' });
    expect([dev.domain('sales').namespace, dev.domain('marketing').namespace, prod.domain('sales').namespace]).toEqual(['floe-sales-dev', 'floe-marketing-dev', 'floe-sales-prod']);
    expect(dev.domain('sales').node.id).toBe('sales-dev');
    const secret = dev.connectionSecret('snowflake', dev.domain('sales'));
    const objects = manifests(dev, 'sales');
    expect(objects.find((m) => m.kind === 'Namespace')!.metadata.name).toBe('floe-sales-dev');
    expect(objects.find((m) => m.kind === 'InfisicalSecret')!.spec.managedKubeSecretReferences[0]).toEqual(expect.objectContaining({ secretName: secret.secretName, secretNamespace: 'floe-sales-dev' }));
  });

  test('a refused environment is reported before any construct is made', () => {
    const app = Testing.app();
    const manifest = parsePlatformManifest(`plugins:\n  secrets:\n    type: k8s\n${COMPUTE}`);
    expect(() => new FloeSecretsPlatform(app, 'Platform', { manifest, environment: 'Dev' })).toThrow(
      /^sales-Dev: environment "Dev" is not a DNS-1123 label .*; use a short lower-case name such as "dev" or "prod"$/,
    );
    expect(() => FloeSecretsPlatform.fromManifest(app, 'Platform', `${__dirname}/../examples/manifest.yaml`, { environment: 7 as any })).toThrow(
      'Platform: environment must be a string, got number 7; give the environment as a string, e.g. { environment: "dev" }',
    );
    expect(app.node.children).toEqual([]);
  });

  describe('errors name the manifest path and the fix', () => {
    test('an undeclared domain', () => {
      const { platform: p } = platform('    type: k8s\n');
      expect(() => p.domain('finance')).toThrow('Platform: domain "finance" is not declared in the manifest (domains: sales, marketing); add it under domains: in manifest.yaml');
    });

    test('an unknown compute target', () => {
      const { platform: p } = platform('    type: k8s\n');
      expect(() => p.connectionSecret('bigquery', p.domain('sales'))).toThrow(/compute target "bigquery" is not in the manifest \(compute: snowflake\); add it under compute:/);
    });

    test('a target not declared for the domain', () => {
      const { platform: p } = platform('    type: k8s\n');
      expect(() => p.connectionSecret('snowflake', p.domain('marketing'))).toThrow(
        'Platform: compute target "snowflake" is not declared for domain "marketing" (compute.snowflake.domains: [sales]); add marketing to compute.snowflake.domains in manifest.yaml',
      );
    });

    test('a Secret-backed target without keys', () => {
      expect(() => platform('    type: k8s\n', 'compute:\n  snowflake: { type: snowflake, connection_secret_ref: sf, domains: [sales] }\ndomains: [{ name: sales }]\n')).toThrow(
        /compute.snowflake.keys is not set; list the keys of "sf" in manifest.yaml/,
      );
    });

    test('the Vault Agent with another auth method', () => {
      expect(() => platform(`    type: vault
    address: https://vault.example:8200
    auth_method: token
    token: { env: VAULT_TOKEN }
`)).toThrow(/the Vault Agent logs in with Kubernetes auth, but plugins.secrets.auth_method is "token"; set auth_method: kubernetes, or delivery: external-secrets/);
    });
  });
});
