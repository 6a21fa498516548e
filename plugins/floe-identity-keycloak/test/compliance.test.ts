import { describeIdentityPluginCompliance, IdentityPluginOptions } from '@floe-secrets/core';
import { AUDIENCE, OidcTestServer } from './oidc-test-server';
import { KeycloakIdentityPlugin } from '../src';

/* The core's identity compliance suite, unchanged, against oidc-provider serving realm sales on loopback. */

let started: Promise<OidcTestServer> | undefined;
const server = async (): Promise<OidcTestServer> => (started ??= OidcTestServer.start(['sales']));
afterAll(async () => {
  if (started) await (await started).close();
});

describeIdentityPluginCompliance({
  name: 'keycloak (local oidc-provider, realm sales)',
  plugin: async (options: IdentityPluginOptions) => new KeycloakIdentityPlugin({ serverUrl: (await server()).url, realms: ['sales'], audience: AUDIENCE }, options),
  validToken: async () => (await server()).accessToken('sales'),
  expiredToken: async () => {
    const now = Math.floor(Date.now() / 1000);
    return (await server()).sign('sales', { iat: now - 900, exp: now - 600 });
  },
  unreachablePlugin: async (address: string, options: IdentityPluginOptions) =>
    new KeycloakIdentityPlugin({ serverUrl: `http://${address}`, realms: ['sales'], audience: AUDIENCE }, options),
});
