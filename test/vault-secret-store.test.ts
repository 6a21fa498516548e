import { Testing } from 'cdk8s';
import { ExternalSecretSource, FloeDomain, SecretStoreKind, VaultSecretSource, VaultSecretStore, VaultSecretStoreProps } from '../src';
import { domains, find, synth } from './util';

const SERVER = 'https://vault.example:8200';

describe('VaultSecretStore', () => {
  test('a namespaced SecretStore of the domain, logging in with the role named after its namespace as a ServiceAccount of its own', () => {
    const { domains: [sales] } = domains('sales');
    const store = new VaultSecretStore(sales, 'Vault', { server: SERVER });

    const manifests = synth(sales);
    const resource = find(manifests, 'SecretStore', 'vault');
    expect(resource.apiVersion).toBe('external-secrets.io/v1');
    expect(resource.metadata.namespace).toBe('floe-sales');
    // The store is authentication: Argo CD creates it with the ServiceAccounts, before the ExternalSecrets.
    expect(resource.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '-2' });
    expect(resource.spec).toEqual({
      provider: {
        vault: {
          server: SERVER,
          path: 'secret',
          version: 'v2',
          auth: { kubernetes: { mountPath: 'kubernetes', role: 'floe-sales', serviceAccountRef: { name: 'external-secrets-vault' } } },
        },
      },
    });
    const sa = find(manifests, 'ServiceAccount', 'external-secrets-vault');
    expect(sa.metadata.namespace).toBe('floe-sales');
    expect(sa.automountServiceAccountToken).toBe(false);
    expect({ name: store.name, kind: store.kind, role: store.role, mount: store.mount }).toEqual({ name: 'vault', kind: SecretStoreKind.SECRET_STORE, role: 'floe-sales', mount: 'secret' });
  });

  test('every prop reaches the store; an environment is part of the default role', () => {
    const { domains: [sales] } = domains('sales');
    new VaultSecretStore(sales, 'Kv', {
      server: 'http://127.0.0.1:8200',
      mount: 'kv/teams',
      vaultNamespace: 'team-a',
      role: 'sales.eso',
      authMountPath: 'k8s-east',
      name: 'team-vault',
      serviceAccountName: 'sales-eso',
    });
    expect(find(synth(sales), 'SecretStore', 'team-vault').spec.provider.vault).toEqual({
      server: 'http://127.0.0.1:8200',
      path: 'kv/teams',
      version: 'v2',
      namespace: 'team-a',
      auth: { kubernetes: { mountPath: 'k8s-east', role: 'sales.eso', serviceAccountRef: { name: 'sales-eso' } } },
    });

    const dev = new FloeDomain(Testing.app(), 'marketing-dev', { domain: 'marketing', environment: 'dev' });
    expect(new VaultSecretStore(dev, 'Vault', { server: SERVER }).role).toBe('floe-marketing-dev');
  });

  test('ExternalSecretSource and viaExternalSecrets take the store itself as their secretStore', () => {
    const { domains: [sales] } = domains('sales');
    const store = new VaultSecretStore(sales, 'Vault', { server: SERVER });
    VaultSecretSource.viaExternalSecrets(sales, 'Snowflake', { secretStore: store, path: 'compute/snowflake', keys: ['user'], secretName: 'snowflake-credentials' });
    new ExternalSecretSource(sales, 'Hubspot', { secretStore: store, secretName: 'hubspot-api', data: [{ secretKey: 'TOKEN', remoteKey: 'sales/hubspot' }] });
    const refs = synth(sales).filter((m) => m.kind === 'ExternalSecret').map((m) => m.spec.secretStoreRef);
    expect(refs).toEqual([{ name: 'vault', kind: 'SecretStore' }, { name: 'vault', kind: 'SecretStore' }]);
  });

  test('a store of another domain is refused before anything is made: a SecretStore serves its own namespace only', () => {
    const { domains: [sales, marketing] } = domains('sales', 'marketing');
    const store = new VaultSecretStore(sales, 'Vault', { server: SERVER });
    expect(() => VaultSecretSource.viaExternalSecrets(marketing, 'Ads', { secretStore: store, path: 'marketing/ads', keys: ['token'], secretName: 'ads' })).toThrow(
      'marketing/Ads: secretStore "vault" is a SecretStore of domain "sales" (namespace floe-sales), but an ExternalSecret can only use a SecretStore of its own namespace, floe-marketing; create a VaultSecretStore in domain "marketing" and use that',
    );
    expect(marketing.node.tryFindChild('Ads')).toBeUndefined();
  });

  test('two stores of one name in a domain are refused, naming both', () => {
    const { domains: [sales] } = domains('sales');
    new VaultSecretStore(sales, 'Vault', { server: SERVER });
    expect(() => new VaultSecretStore(sales, 'Other', { server: SERVER, serviceAccountName: 'other' })).toThrow(
      /^sales\/Other: SecretStore name "vault" is already used in namespace floe-sales by sales\/Vault; give one of them another name$/,
    );
    expect(sales.node.tryFindChild('Other')).toBeUndefined();
    expect(synth(sales).filter((m) => m.kind === 'ServiceAccount').map((m) => m.metadata.name)).toEqual(['external-secrets-vault']);
  });

  test.each<[string, Partial<VaultSecretStoreProps>, RegExp]>([
    ['plain http to another host', { server: 'http://vault.example:8200' }, /^sales\/Vault: server "http:\/\/vault.example:8200" uses plain http to a host other than localhost; use https/],
    ['a password in the address', { server: 'https://root:hunter2@vault.example' }, /^sales\/Vault: server \(not shown: it may hold a credential\) holds a user name or password/],
    ['a query', { server: 'https://vault.example?token=abc' }, /^sales\/Vault: server \(not shown: it may hold a credential\) has a query or fragment/],
    ['not a URL', { server: 'vault' }, /^sales\/Vault: server "vault" is not a URL; give the Vault address/],
    ['a trailing slash', { server: 'https://vault.example/' }, /^sales\/Vault: server "https:\/\/vault.example\/" is not a service address/],
    ['a mount with slashes', { mount: '/secret/' }, /^sales\/Vault: mount "\/secret\/" starts with "\/"; give the mount path/],
    ['an auth path with "auth/"', { authMountPath: 'auth//kubernetes' }, /^sales\/Vault: authMountPath "auth\/\/kubernetes" has an empty/],
    ['a role with a space', { role: 'floe sales' }, /^sales\/Vault: role "floe sales" is not a Vault role name/],
    ['an upper-case name', { name: 'Vault' }, /^sales\/Vault: name "Vault" is not a DNS-1123 subdomain/],
    ['a number for the role', { role: 7 as unknown as string }, /^sales\/Vault: role must be a string/],
  ])('bad input: %s, and nothing is made', (_, override, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => new VaultSecretStore(sales, 'Vault', { server: SERVER, ...override })).toThrow(message);
    expect(sales.node.tryFindChild('Vault')).toBeUndefined();
  });

  test('no secret or password ever reaches the error', () => {
    const { domains: [sales] } = domains('sales');
    const password = Math.random().toString(36).slice(2);
    let message = '';
    try {
      new VaultSecretStore(sales, 'Vault', { server: `https://ops:${password}@vault.example` });
    } catch (error) {
      message = `${(error as Error).message}\n${(error as Error).stack}`;
    }
    expect(message).toMatch(/holds a user name or password/);
    expect(message).not.toContain(password);
  });
});
