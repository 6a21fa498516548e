import { loadIdentityPlugin, SecretAccessPolicy } from '@floe-secrets/core';

/** Throws unless `token` is a valid access token whose groups grant the secrets of `namespace`. */
export async function mayTouch(token: string, namespace: string): Promise<void> {
  const identity = loadIdentityPlugin('keycloak', { serverUrl: 'https://id.example.com', realms: ['sales', 'finance'], audience: 'floe-cli' });
  const claims = await identity.validateToken(token); // a TokenError subclass when refused
  SecretAccessPolicy.fromGroups('/floe/').assertMayTouch(claims, namespace); // PermissionError naming subject, domain and fix
}
