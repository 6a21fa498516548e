import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  discoverIdentityPlugins, discoverPlugins, discoverSecretsPlugins, loadIdentityPlugin, PermissionError, SecretAccessPolicy, VerifiedClaims,
} from '../src';

const ROOT = resolve(__dirname, '../../..');

describe('discovery of identity plugins (the floe.identity entry-point group)', () => {
  test('finds the Keycloak plugin by name, and keeps the groups apart', () => {
    expect(discoverIdentityPlugins(ROOT)).toContainEqual({ name: 'keycloak', packageName: '@floe-secrets/identity-keycloak', exportName: 'KeycloakIdentityPlugin' });
    expect(discoverSecretsPlugins(ROOT).map((p) => p.name)).not.toContain('keycloak');
    expect(discoverPlugins('identity', ROOT).map((p) => p.name)).not.toContain('vault');
  });

  test('loads the built Keycloak plugin by name (npm test builds plugins/*/lib first)', () => {
    const plugin = loadIdentityPlugin('keycloak', { serverUrl: 'https://id.example.com', realms: ['sales'], audience: 'floe-secrets' }, undefined, ROOT);
    expect([plugin.name, plugin.floeApiVersion, plugin.requester]).toEqual(['keycloak', '1.0', 'floe-secrets']);
  });

  describe('third-party identity plugins', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'floe-identity-discovery-'));
      writeFileSync(join(dir, 'package.json'), '{"name":"host"}');
      mkdirSync(join(dir, 'node_modules', 'acme-idp'), { recursive: true });
      writeFileSync(join(dir, 'node_modules', 'acme-idp', 'package.json'),
        JSON.stringify({ name: 'acme-idp', main: 'index.js', floe: { identity: { acme: 'AcmeIdentity', broken: 'Missing' } } }));
      writeFileSync(join(dir, 'node_modules', 'acme-idp', 'index.js'),
        "exports.AcmeIdentity = class { constructor(config) { this.name = 'acme'; this.floeApiVersion = '1.0'; this.config = config; } };");
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test('load by name with their config', () => {
      const plugin = loadIdentityPlugin('acme', { issuer: 'https://id.acme' }, undefined, dir) as unknown as { name: string; config: unknown };
      expect([plugin.name, plugin.config]).toEqual(['acme', { issuer: 'https://id.acme' }]);
    });

    test('an unknown name, or a missing export, is a configuration error naming the fix', () => {
      expect(() => loadIdentityPlugin('okta', {}, undefined, dir)).toThrow(
        'no identity plugin named "okta" is installed (found: acme, broken); install the package that provides it, e.g. npm install @floe-secrets/identity-okta',
      );
      expect(() => loadIdentityPlugin('broken', {}, undefined, dir)).toThrow(
        'acme-idp declares plugin broken as Missing, but exports no such class; fix its package.json "floe.identity"',
      );
    });
  });
});

describe('SecretAccessPolicy', () => {
  const claims = (patch: Partial<VerifiedClaims> = {}, raw: { [claim: string]: unknown } = {}): VerifiedClaims => ({
    subject: 'u-1',
    issuer: 'https://id.example.com/realms/sales',
    realm: 'sales',
    audience: ['floe'],
    expiresAt: new Date(Date.now() + 60_000),
    roles: [],
    clientRoles: {},
    groups: [],
    scopes: [],
    raw,
    ...patch,
  });

  test('a claim may hold one string or a list; other values grant nothing', () => {
    const policy = SecretAccessPolicy.fromClaim('domain');
    expect(policy.domainsFor(claims({}, { domain: 'sales' }))).toEqual(['sales']);
    expect(policy.domainsFor(claims({}, { domain: ['b', 'a', 'a', 7, 'x'.repeat(59)] }))).toEqual(['a', 'b']);
    expect(policy.domainsFor(claims({}, { domain: { sales: true } }))).toEqual([]);
    expect(policy.description).toBe('claim domain');
  });

  test('a realm that is no domain name grants nothing', () => {
    const policy = SecretAccessPolicy.fromRealm();
    expect(policy.domainsFor(claims({ realm: 'Sales_EU' }))).toEqual([]);
    expect(() => policy.assertMayTouch(claims({ realm: 'Sales_EU' }), 'floe-sales')).toThrow(PermissionError);
  });

  test('groups: only direct children of the prefix; a custom prefix', () => {
    const policy = SecretAccessPolicy.fromGroups('/teams/');
    expect(policy.domainsFor(claims({ groups: ['/teams/sales', '/teams/sales/leads', '/floe/hr', '/teams/'] }))).toEqual(['sales']);
    expect(policy.mayTouch(claims({ groups: ['/teams/sales'] }), 'floe-sales')).toBe(true);
  });

  test('a token granting nothing says so', () => {
    expect(() => SecretAccessPolicy.fromGroups().assertMayTouch(claims(), 'floe-sales')).toThrow(
      'subject "u-1" of realm sales may not touch secrets in namespace floe-sales (domain sales): its token grants no domain (groups /floe/*); ' +
        'add the subject to group /floe/sales in the identity provider',
    );
  });

  test('fromManifest: the policy plugins.identity describes', () => {
    const base = { type: 'keycloak' as const, serverUrl: 'https://id.example.com', realms: ['sales'], audience: ['floe-cli'] };
    const token = claims({ groups: ['/floe/marketing', '/teams/finance'] }, { floe_domains: ['ops'], teams: 'hr' });
    expect(SecretAccessPolicy.fromManifest({ ...base, domainsFrom: 'realm' }).domainsFor(token)).toEqual(['sales']);
    expect(SecretAccessPolicy.fromManifest({ ...base, domainsFrom: 'claim' }).domainsFor(token)).toEqual(['ops']);
    expect(SecretAccessPolicy.fromManifest({ ...base, domainsFrom: 'claim', claim: 'teams' }).domainsFor(token)).toEqual(['hr']);
    expect(SecretAccessPolicy.fromManifest({ ...base, domainsFrom: 'groups' }).domainsFor(token)).toEqual(['marketing']);
    expect(SecretAccessPolicy.fromManifest({ ...base, domainsFrom: 'groups', groupPrefix: '/teams/' }).domainsFor(token)).toEqual(['finance']);
  });

  test('bad claim names and group prefixes are refused with the fix', () => {
    expect(() => SecretAccessPolicy.fromClaim('floe domains')).toThrow('claim "floe domains" is not a claim name (letters, digits, "_", ".", ":" and "-"); pass e.g. "floe_domains"');
    expect(() => SecretAccessPolicy.fromGroups('floe')).toThrow('group prefix "floe" must start and end with "/"; pass e.g. "/floe/"');
  });
});
