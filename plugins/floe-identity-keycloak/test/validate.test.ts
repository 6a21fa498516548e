import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import {
  AuditEvent, AuditLogger, BadSignatureError, ConnectionError, DisallowedAlgorithmError, hmacToken, MalformedTokenError, tamperedToken,
  TokenError, TokenExpiredError, TokenNotYetValidError, UnknownKeyError, unsignedToken, WrongAudienceError, WrongIssuerError,
} from '@floe-secrets/core';
import { KeycloakIdentityPlugin, KeycloakPluginOptions } from '../src';
import { AUDIENCE, CLIENT_ID, OidcTestServer } from './oidc-test-server';
import { jose } from '../src/jose';

let idp: OidcTestServer;
const events: AuditEvent[] = [];
const secrets: string[] = [];
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  idp = await OidcTestServer.start(['sales', 'finance', 'hr']);
});
afterAll(async () => {
  await idp.close();
  // No token signature and no client secret ever reached the audit log.
  const audit = JSON.stringify(events);
  expect([...secrets, idp.clientSecret].filter((secret) => audit.includes(secret))).toEqual([]);
});

/** A plugin trusting realms sales and finance (not hr) of the test provider. */
const pluginFor = (config: object = {}, options: KeycloakPluginOptions = {}) => new KeycloakIdentityPlugin(
  { serverUrl: idp.url, realms: ['sales', 'finance'], audience: AUDIENCE, ...config },
  { audit: new AuditLogger([{ write: (e) => events.push(e) }]), ...options },
);
const remember = (token: string): string => {
  const signature = token.split('.')[2] || token;
  if (signature.length >= 16) secrets.push(signature);
  return token;
};
/** The error `validateToken` fails with; checks it never holds the token. */
async function refusal(plugin: KeycloakIdentityPlugin, token: string): Promise<TokenError> {
  remember(token);
  const error = await plugin.validateToken(token).then(() => undefined, (e: TokenError) => e);
  if (!error) throw new Error('expected the token to be refused');
  const signature = token.split('.')[2] || token;
  if (signature.length >= 16) expect(`${error.message}\n${error.stack}\n${inspect(error)}`).not.toContain(signature);
  expect(error.plugin).toBe('keycloak');
  return error;
}

describe('a valid token', () => {
  test('from the provider (client credentials, JWT access token) gives its verified claims', async () => {
    idp.setClaims('sales', { realm_access: { roles: ['reader', 'admin'] }, resource_access: { [CLIENT_ID]: { roles: ['rotate'] } }, groups: ['/floe/sales'], floe_domains: ['sales'] });
    const plugin = pluginFor();
    const claims = await plugin.validateToken(remember(await idp.accessToken('sales')));
    expect(claims).toMatchObject({
      subject: CLIENT_ID,
      issuer: idp.issuer('sales'),
      realm: 'sales',
      audience: [AUDIENCE],
      clientId: CLIENT_ID,
      roles: ['admin', 'reader'],
      clientRoles: { [CLIENT_ID]: ['rotate'] },
      groups: ['/floe/sales'],
      scopes: ['openid'],
    });
    expect(claims.expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(claims.raw.floe_domains).toEqual(['sales']);
    expect(Object.isFrozen(claims) && Object.isFrozen(claims.raw) && Object.isFrozen(claims.raw.floe_domains)).toBe(true);
    expect(events.at(-1)).toMatchObject({ action: 'validate-token', plugin: 'keycloak', subject: CLIENT_ID, realm: 'sales', outcome: 'success', requester: AUDIENCE });
  });

  test('of each trusted realm is verified with that realm\'s own keys (multi-tenancy)', async () => {
    const plugin = pluginFor();
    const sales = await plugin.validateToken(remember(await idp.accessToken('sales')));
    const finance = await plugin.validateToken(remember(await idp.accessToken('finance')));
    expect([sales.realm, finance.realm]).toEqual(['sales', 'finance']);
    // A finance-issued token signed with the sales key: the finance keys do not have it.
    const crossed = await idp.sign('finance', {}, { key: idp.signingKey('sales') });
    expect(await refusal(plugin, crossed)).toBeInstanceOf(UnknownKeyError);
  });

  test('with username, email, nbf just passed and exp within the clock tolerance is accepted', async () => {
    const plugin = pluginFor({ clockToleranceSeconds: 30 });
    const claims = await plugin.validateToken(remember(await idp.sign('sales', { nbf: now() + 10, exp: now() - 10, preferred_username: 'ana', email: 'ana@example.com' })));
    expect(claims).toMatchObject({ username: 'ana', email: 'ana@example.com', roles: [], groups: [] });
  });
});

describe('refused tokens: one typed error each, never the token in it', () => {
  test('expired: TokenExpiredError naming the time and the tolerance', async () => {
    const exp = now() - 120;
    const error = await refusal(pluginFor({ clockToleranceSeconds: 30 }), await idp.sign('sales', { exp, iat: exp - 300 }));
    expect(error).toBeInstanceOf(TokenExpiredError);
    expect(error.message).toBe(`keycloak: the token of realm sales expired at ${new Date(exp * 1000).toISOString()} (clock tolerance 30 s); get a new token`);
    expect(events.at(-1)).toMatchObject({ action: 'validate-token', outcome: 'failure', errorClass: 'TokenExpiredError' });
    expect(events.at(-1)).not.toHaveProperty('subject');
  });

  test('not yet valid: TokenNotYetValidError', async () => {
    const error = await refusal(pluginFor({ clockToleranceSeconds: 5 }), await idp.sign('sales', { nbf: now() + 120 }));
    expect(error).toBeInstanceOf(TokenNotYetValidError);
    expect(error.message).toMatch(/is not valid before .*clock tolerance 5 s\); check this host's clock$/);
  });

  test('wrong audience: WrongAudienceError naming both audiences', async () => {
    const error = await refusal(pluginFor(), await idp.sign('sales', { aud: ['account', 'other-service'] }));
    expect(error).toBeInstanceOf(WrongAudienceError);
    expect(error.message).toContain(`is for audience ["account","other-service"], not ${AUDIENCE}`);
    // Any one of several configured audiences suffices.
    await expect(pluginFor({ audience: ['x', 'other-service'] }).validateToken(remember(await idp.sign('sales', { aud: 'other-service' })))).resolves.toBeTruthy();
  });

  test('wrong issuer: an untrusted realm of the same server, or a foreign server, is refused without a request', async () => {
    const plugin = pluginFor();
    const before = idp.requests.length;
    const hr = await refusal(plugin, await idp.accessToken('hr'));
    expect(hr).toBeInstanceOf(WrongIssuerError);
    expect(hr.message).toContain(`the token names issuer "${idp.issuer('hr')}", which is not a trusted realm (${idp.issuer('sales')}, ${idp.issuer('finance')})`);
    const foreign = await refusal(plugin, await idp.sign('sales', { iss: 'https://evil.example/realms/sales' }));
    expect(foreign).toBeInstanceOf(WrongIssuerError);
    expect(await refusal(plugin, await idp.sign('sales', { iss: undefined }))).toBeInstanceOf(WrongIssuerError);
    // Only the token endpoint of hr was called (to get its token), never a key or discovery URL.
    expect(idp.requests.slice(before).map((r) => r.path)).toEqual(['/protocol/openid-connect/token']);
  });

  test('tampered payload: BadSignatureError', async () => {
    const plugin = pluginFor();
    const error = await refusal(plugin, tamperedToken(await idp.accessToken('sales')));
    expect(error).toBeInstanceOf(BadSignatureError);
    expect(error.message).toBe("keycloak: the token's signature does not verify with realm sales's key: it was altered or forged");
  });

  test('algorithm confusion: HS256 signed with the realm public key, alg none, and a configured-out RSA-PSS are refused', async () => {
    const plugin = pluginFor();
    const token = await idp.accessToken('sales');
    const confused = await refusal(plugin, hmacToken(token, idp.publicKeyPem('sales')));
    expect(confused).toBeInstanceOf(DisallowedAlgorithmError);
    expect(confused.message).toBe('keycloak: the token is signed with "HS256" (unsigned and HMAC tokens are always refused); accepted: RS256 (configure algorithms to match the realm\'s keys)');
    expect(await refusal(plugin, unsignedToken(token))).toBeInstanceOf(DisallowedAlgorithmError);
    const pss = await idp.sign('sales', {}, { alg: 'PS256' });
    expect(await refusal(plugin, pss)).toBeInstanceOf(DisallowedAlgorithmError);
    // Configured in, PS256 still needs a key published for PS256: the realm's key is for RS256 only.
    expect(await refusal(pluginFor({ algorithms: ['RS256', 'PS256'] }), pss)).toBeInstanceOf(UnknownKeyError);
  });

  test('malformed, missing exp or sub, and Keycloak ID or refresh tokens: MalformedTokenError', async () => {
    const plugin = pluginFor();
    for (const token of ['', 'abc', 'a.b.c', `${'x'.repeat(17_000)}`, await idp.sign('sales', { exp: undefined }), await idp.sign('sales', { sub: undefined })]) {
      expect(await refusal(plugin, token)).toBeInstanceOf(MalformedTokenError);
    }
    const id = await refusal(plugin, await idp.sign('sales', { typ: 'ID' }));
    expect(id.message).toBe('keycloak: the token of realm sales is a Keycloak "ID" token, not an access token; send the access token');
    await expect(plugin.validateToken(await idp.sign('sales', { typ: 'Bearer' }))).resolves.toBeTruthy();
    await expect(plugin.validateToken(42 as unknown as string)).rejects.toThrow('keycloak: the token is a number; pass the compact JWT text (at most 16384 characters)');
  });

  test('a long attacker-chosen kid or issuer is cut short in messages', async () => {
    const error = await refusal(pluginFor(), await idp.sign('sales', { iss: `https://x/${'a'.repeat(500)}` }));
    expect(error.message.length).toBeLessThan(400);
  });
});

describe('JWKS cache', () => {
  test('a warm validation makes no request; keys are fetched once per realm (discovery + JWKS), coalesced under load', async () => {
    const plugin = pluginFor();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => idp.sign('sales')));
    const before = idp.jwksFetches('sales');
    const mark = idp.requests.length;
    await Promise.all(tokens.map((t) => plugin.validateToken(t)));
    expect(idp.jwksFetches('sales') - before).toBe(1);
    expect(idp.requests.slice(mark).map((r) => r.path)).toEqual(['/.well-known/openid-configuration', '/protocol/openid-connect/certs']);
    const warm = idp.requests.length;
    await plugin.validateToken(tokens[0]);
    expect(idp.requests.length).toBe(warm);
  });

  test('an unknown kid after key rotation triggers one refresh, then the new key verifies', async () => {
    let clock = Date.now();
    const plugin = pluginFor({}, { now: () => new Date(clock) });
    const old = await idp.accessToken('finance');
    await plugin.validateToken(old);
    clock += 31_000; // past the refresh cooldown, within the TTL
    const before = idp.jwksFetches('finance');
    await idp.rotate('finance', { dropOld: true });
    const rotated = await idp.accessToken('finance');
    await expect(plugin.validateToken(rotated)).resolves.toMatchObject({ realm: 'finance' });
    expect(idp.jwksFetches('finance') - before).toBe(1);
    // The key Keycloak no longer publishes stops verifying once the keys were fetched again.
    await expect(plugin.validateToken(old)).rejects.toBeInstanceOf(UnknownKeyError);
  });

  test('a flood of unknown-kid tokens fetches the JWKS at most once per cooldown', async () => {
    let clock = Date.now();
    const plugin = pluginFor({ jwksRefreshCooldownSeconds: 30 }, { now: () => new Date(clock) });
    await plugin.validateToken(await idp.sign('sales'));
    clock += 31_000; // past the cooldown of that first fetch
    const before = idp.jwksFetches('sales');
    const forged = await jose.generateKeyPair('RS256', { extractable: true });
    const forgedJwk = { ...(await jose.exportJWK(forged.privateKey)), kid: `forged-${randomBytes(4).toString('hex')}` };
    const flood = await Promise.all(Array.from({ length: 200 }, () => idp.sign('sales', {}, { key: forgedJwk })));
    const errors = await Promise.all(flood.map((t) => plugin.validateToken(t).catch((e: Error) => e)));
    expect(errors.every((e) => e instanceof UnknownKeyError)).toBe(true);
    expect(idp.jwksFetches('sales') - before).toBe(1);
    expect((errors[0] as Error).message).toMatch(/^keycloak: realm sales has no key with kid "forged-[0-9a-f]+", even after fetching its keys again; the token was not signed by this realm$/);
    // Within the cooldown: refused at once, no fetch.
    const again = await plugin.validateToken(flood[1]).catch((e: Error) => e);
    expect((again as Error).message).toMatch(/; its keys are fetched again at most every 30 s: if the realm rotated its keys, retry in 30 s$/);
    expect(idp.jwksFetches('sales') - before).toBe(1);
    // After the cooldown, one more fetch.
    clock += 31_000;
    await expect(plugin.validateToken(flood[0])).rejects.toBeInstanceOf(UnknownKeyError);
    expect(idp.jwksFetches('sales') - before).toBe(2);
  });

  test('keys older than the TTL are refreshed in the background while the cached ones keep verifying', async () => {
    let clock = Date.now();
    const plugin = pluginFor({ jwksCacheTtlSeconds: 60 }, { now: () => new Date(clock) });
    const token = await idp.sign('sales', { exp: now() + 3_600 });
    await plugin.validateToken(token);
    const before = idp.jwksFetches('sales');
    clock += 61_000;
    await plugin.validateToken(token);
    await new Promise((done) => setTimeout(done, 200));
    expect(idp.jwksFetches('sales') - before).toBe(1);
  });
});

describe('a provider that stops answering', () => {
  test('health is unhealthy within 5 s, and tokens keep validating with the cached keys, even past the TTL', async () => {
    let clock = Date.now();
    const plugin = pluginFor({ requestTimeoutMs: 500, jwksCacheTtlSeconds: 60 }, { now: () => new Date(clock) });
    const token = await idp.sign('sales', { exp: now() + 3_600 });
    await plugin.validateToken(token);
    await expect(plugin.healthCheck()).resolves.toMatchObject({ state: 'healthy' });
    idp.hang = true;
    try {
      const started = Date.now();
      const status = await plugin.healthCheck();
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(status.state).toBe('unhealthy');
      expect(status.message).toMatch(/^ConnectionError: keycloak: the OIDC discovery document of realm (sales|finance) at .* timed out after 500 ms; check serverUrl and that Keycloak is up$/);
      const warm = Date.now();
      await expect(plugin.validateToken(token)).resolves.toMatchObject({ realm: 'sales' });
      expect(Date.now() - warm).toBeLessThan(100);
      clock += 120_000; // past the TTL: a background refresh hangs, validation does not wait for it
      const stale = Date.now();
      await expect(plugin.validateToken(token)).resolves.toMatchObject({ realm: 'sales' });
      expect(Date.now() - stale).toBeLessThan(100);
      // A plugin that never fetched keys cannot validate: ConnectionError, then no retry within the cooldown.
      const fresh = pluginFor({ requestTimeoutMs: 500 });
      const finance = await idp.sign('finance');
      await expect(fresh.validateToken(finance)).rejects.toBeInstanceOf(ConnectionError);
      await expect(fresh.validateToken(finance)).rejects.toThrow(/^keycloak: the keys of realm finance could not be fetched; the next try is in \d+ s/);
    } finally {
      idp.hang = false;
    }
  });
});
