import { PermissionError, SecretAccessPolicy } from '@floe-secrets/core';
import { AUDIENCE, OidcTestServer } from './oidc-test-server';
import { KeycloakIdentityPlugin } from '../src';

/*
 * The link between identity and secrets, end to end: a token the provider issued, validated by the
 * plugin, decides which floe-<domain> namespaces its subject may touch.
 */

let idp: OidcTestServer;
let plugin: KeycloakIdentityPlugin;
beforeAll(async () => {
  idp = await OidcTestServer.start(['sales', 'finance']);
  plugin = new KeycloakIdentityPlugin({ serverUrl: idp.url, realms: ['sales', 'finance'], audience: AUDIENCE });
});
afterAll(async () => idp.close());

test('realm per domain: a token of realm sales may touch floe-sales only', async () => {
  const claims = await plugin.validateToken(await idp.accessToken('sales'));
  const policy = SecretAccessPolicy.fromRealm();
  expect(policy.namespacesFor(claims)).toEqual(['floe-sales']);
  expect(() => policy.assertMayTouch(claims, 'floe-sales')).not.toThrow();
  expect(() => policy.assertMayTouch(claims, 'floe-finance')).toThrow(new PermissionError(
    'subject "floe-cli" of realm sales may not touch secrets in namespace floe-finance (domain finance): its token grants domains sales (realm); ' +
      'sign in to realm finance instead',
    'secret-access',
  ));
});

test('a floe_domains claim (Keycloak user attribute mapper) grants the domains it lists', async () => {
  idp.setClaims('finance', { floe_domains: ['finance', 'risk', 'Not A Domain'] });
  const claims = await plugin.validateToken(await idp.accessToken('finance'));
  const policy = SecretAccessPolicy.fromClaim();
  expect(policy.domainsFor(claims)).toEqual(['finance', 'risk']);
  expect(policy.mayTouch(claims, 'floe-risk')).toBe(true);
  expect(() => policy.assertMayTouch(claims, 'floe-hr')).toThrow(
    'subject "floe-cli" of realm finance may not touch secrets in namespace floe-hr (domain hr): its token grants domains finance, risk (claim floe_domains); ' +
      "add hr to the subject's claim floe_domains in the identity provider (e.g. a Keycloak user attribute mapper)",
  );
});

test('groups under /floe/ (Keycloak group membership mapper) grant their domains', async () => {
  idp.setClaims('sales', { groups: ['/floe/sales', '/floe/sales/admins', '/other/hr'], preferred_username: 'ana' });
  const claims = await plugin.validateToken(await idp.accessToken('sales'));
  const policy = SecretAccessPolicy.fromGroups();
  expect(policy.namespacesFor(claims)).toEqual(['floe-sales']);
  expect(() => policy.assertMayTouch(claims, 'kube-system')).toThrow(
    'subject "floe-cli" (ana) of realm sales may not touch secrets in namespace "kube-system": it is not a floe domain namespace (floe-<domain>); ' +
      'its token grants domains sales (groups /floe/*)',
  );
});
