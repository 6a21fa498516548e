import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  AuditEvent, AuditLogger, ConnectionError, PermissionError, SecretsConfigError, TokenRejectedError, WrongIssuerError,
} from '@floe-secrets/core';
import { AUDIENCE, CLIENT_ID, OidcTestServer, TestAccount } from './oidc-test-server';
import { KeycloakIdentityPlugin } from '../src';
import { jose } from '../src/jose';

const ana: TestAccount = { sub: `u-${randomBytes(6).toString('hex')}`, preferred_username: 'ana', email: 'ana@example.com', groups: ['/floe/sales', '/floe/hr'] };
let idp: OidcTestServer;
const events: AuditEvent[] = [];
const audit = new AuditLogger([{ write: (e) => events.push(e) }]);

beforeAll(async () => {
  idp = await OidcTestServer.start(['sales', 'finance'], [ana]);
});
afterAll(async () => {
  await idp.close();
  expect(JSON.stringify(events)).not.toContain(idp.clientSecret);
});

const pluginFor = (config: object = {}) => new KeycloakIdentityPlugin({ serverUrl: idp.url, realms: ['sales', 'finance'], audience: AUDIENCE, ...config }, { audit });

describe('getUserInfo', () => {
  test("asks the realm's user info endpoint with the token and returns its claims", async () => {
    const token = await idp.userAccessToken('sales', ana.sub);
    const info = await pluginFor().getUserInfo(token, { realm: 'sales' });
    expect(info).toEqual({
      subject: ana.sub,
      realm: 'sales',
      username: 'ana',
      email: 'ana@example.com',
      groups: ['/floe/hr', '/floe/sales'],
      raw: { sub: ana.sub, preferred_username: 'ana', email: 'ana@example.com', groups: ['/floe/sales', '/floe/hr'] },
    });
    expect(Object.isFrozen(info.raw)).toBe(true);
    expect(idp.requests.at(-1)).toMatchObject({ realm: 'sales', method: 'GET', path: '/protocol/openid-connect/userinfo' });
    expect(events.at(-1)).toMatchObject({ action: 'userinfo', subject: ana.sub, realm: 'sales', outcome: 'success' });
    expect(JSON.stringify(events)).not.toContain(token);
  });

  test('an opaque token goes to the only realm when there is one; with several, the realm must be named', async () => {
    const token = await idp.userAccessToken('finance', ana.sub);
    await expect(pluginFor({ realms: ['finance'] }).getUserInfo(token)).resolves.toMatchObject({ subject: ana.sub, realm: 'finance' });
    await expect(pluginFor().getUserInfo(token)).rejects.toThrow(
      'keycloak: the token names no issuer, so its realm is unknown; pass { realm } (one of sales, finance) to getUserInfo',
    );
    await expect(pluginFor().getUserInfo(token, { realm: 'hr' })).rejects.toThrow(SecretsConfigError);
  });

  test('a token the provider refuses (another realm\'s, revoked, or an access token not for user info) is TokenRejectedError', async () => {
    const plugin = pluginFor();
    const other = await idp.userAccessToken('finance', ana.sub);
    const error = await plugin.getUserInfo(other, { realm: 'sales' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(TokenRejectedError);
    expect((error as Error).message).toBe('keycloak: realm sales refused the token at its user info endpoint (HTTP 401): ' +
      'it expired, was revoked, or is no access token of this realm with scope openid; get a new token');
    expect(`${(error as Error).message}${inspect(error)}`).not.toContain(other);
    await expect(plugin.getUserInfo(await idp.accessToken('sales'))).rejects.toBeInstanceOf(TokenRejectedError);
  });

  test('a JWT is only ever sent to its own issuer\'s endpoint', async () => {
    const plugin = pluginFor();
    const mark = idp.requests.length;
    const foreign = await idp.sign('sales', { iss: 'https://evil.example/realms/sales' });
    await expect(plugin.getUserInfo(foreign)).rejects.toBeInstanceOf(WrongIssuerError);
    await expect(plugin.getUserInfo(await idp.sign('sales'), { realm: 'finance' })).rejects.toBeInstanceOf(WrongIssuerError);
    expect(idp.requests.length).toBe(mark);
  });
});

describe('service account (client credentials for the admin REST API)', () => {
  test('gets a masked token from the realm\'s token endpoint and reuses it until it nearly expires', async () => {
    const plugin = pluginFor({ serviceAccount: { clientId: CLIENT_ID, clientSecret: idp.clientSecret, realm: 'finance' } });
    const mark = idp.requests.length;
    const token = await plugin.getServiceAccountToken();
    expect(String(token)).toBe('**********');
    expect(jose.decodeJwt(token.reveal())).toMatchObject({ iss: idp.issuer('finance'), sub: CLIENT_ID });
    expect(await plugin.getServiceAccountToken()).toBe(token);
    expect(idp.requests.slice(mark).filter((r) => r.path === '/protocol/openid-connect/token')).toHaveLength(1);
    expect(plugin.requester).toBe(CLIENT_ID);
    expect(`${inspect(plugin, { depth: 10 })}${JSON.stringify(plugin)}`).not.toContain(idp.clientSecret);
  });

  test('a wrong secret is a PermissionError naming the client and the fix, never the secret', async () => {
    const wrong = `wrong-${randomBytes(12).toString('hex')}`;
    const plugin = pluginFor({ serviceAccount: { clientId: CLIENT_ID, clientSecret: wrong } });
    const error = await plugin.getServiceAccountToken().catch((e: Error) => e);
    expect(error).toBeInstanceOf(PermissionError);
    expect((error as Error).message).toBe(`keycloak: realm sales refused client ${CLIENT_ID} (HTTP 401 invalid_client); ` +
      'check serviceAccount.clientId and clientSecret, and that the client has "Service accounts roles" enabled');
    expect(`${(error as Error).message}${inspect(error)}`).not.toContain(wrong);
    // healthCheck proves the credentials too.
    const status = await plugin.healthCheck();
    expect(status).toMatchObject({ state: 'unhealthy', message: expect.stringMatching(/^PermissionError: keycloak: realm sales refused client/) });
    expect(status.message).not.toContain(wrong);
  });

  test('without a service account the call says what to configure', async () => {
    await expect(pluginFor().getServiceAccountToken()).rejects.toThrow(
      'keycloak: no serviceAccount is configured; add serviceAccount { clientId, clientSecret } to use the admin REST API',
    );
  });
});

describe('healthCheck', () => {
  test('is healthy when every realm serves discovery and keys and the service account is accepted', async () => {
    const plugin = pluginFor({ serviceAccount: { clientId: CLIENT_ID, clientSecret: idp.clientSecret } });
    const mark = idp.requests.length;
    await expect(plugin.healthCheck()).resolves.toMatchObject({ state: 'healthy' });
    const seen = idp.requests.slice(mark).map((r) => `${r.realm}${r.path}`).sort();
    expect(seen).toEqual([
      'finance/.well-known/openid-configuration', 'finance/protocol/openid-connect/certs',
      'sales/.well-known/openid-configuration', 'sales/protocol/openid-connect/certs', 'sales/protocol/openid-connect/token',
    ]);
    expect(events.at(-1)).toMatchObject({ action: 'health', outcome: 'success', requester: CLIENT_ID });
  });

  test('a realm that does not exist is unhealthy with a configuration error naming it', async () => {
    const status = await pluginFor({ realms: ['sales', 'nosuch'] }).healthCheck();
    expect(status).toMatchObject({ state: 'unhealthy' });
    expect(status.message).toBe(`SecretsConfigError: keycloak: the OIDC discovery document of realm nosuch at ${idp.issuer('nosuch')}/.well-known/openid-configuration ` +
      'answered HTTP 404; check serverUrl and that the realm exists');
  });

  test('a server whose discovery names another issuer is refused (serverUrl must be what Keycloak puts in tokens)', async () => {
    const viaLocalhost = pluginFor({ serverUrl: idp.url.replace('127.0.0.1', 'localhost') });
    const status = await viaLocalhost.healthCheck();
    expect(status.message).toMatch(/^SecretsConfigError: keycloak: realm (sales|finance) names its issuer "http:\/\/127\.0\.0\.1:\d+\/realms\/\w+", not http:\/\/localhost:/);
  });

  test('a closed port is unhealthy at once with a ConnectionError', async () => {
    const closed = await OidcTestServer.start([]);
    const url = closed.url;
    await closed.close();
    const plugin = pluginFor({ serverUrl: url });
    const status = await plugin.healthCheck();
    expect(status.state).toBe('unhealthy');
    expect(status.message).toMatch(/^ConnectionError: keycloak: .* failed \(connection refused, reset, or a redirect\); check serverUrl and that Keycloak is up$/);
    await expect(plugin.validateToken(await idp.sign('sales', { iss: `${url}/realms/sales` }))).rejects.toBeInstanceOf(ConnectionError);
  });
});
