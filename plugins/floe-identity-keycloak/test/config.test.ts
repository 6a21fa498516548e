import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { SecretsConfigError } from '@floe-secrets/core';
import { KeycloakIdentityPlugin } from '../src';

const base = { serverUrl: 'https://id.example.com', realms: ['sales'], audience: 'floe-secrets' };
const failure = (config: object): Error => {
  try {
    new KeycloakIdentityPlugin(config);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the configuration to be refused');
};

describe('configuration', () => {
  test('defaults: RS256, 30 s clock tolerance, 1 h JWKS TTL, 30 s refresh cooldown, 3 s requests, https only', () => {
    const plugin = new KeycloakIdentityPlugin({ ...base, serverUrl: 'https://id.example.com/auth/' });
    expect(plugin.config).toEqual({
      serverUrl: 'https://id.example.com/auth',
      realms: ['sales'],
      audience: ['floe-secrets'],
      algorithms: ['RS256'],
      clockToleranceSeconds: 30,
      jwksCacheTtlSeconds: 3_600,
      jwksRefreshCooldownSeconds: 30,
      requestTimeoutMs: 3_000,
      allowInsecureHttp: false,
    });
    expect(plugin.issuerOf('sales')).toBe('https://id.example.com/auth/realms/sales');
    expect(Object.isFrozen(plugin.config) && Object.isFrozen(plugin.config.realms) && Object.isFrozen(plugin.config.audience)).toBe(true);
    expect([plugin.name, plugin.version, plugin.floeApiVersion, plugin.requester]).toEqual(['keycloak', '0.1.0', '1.0', 'floe-secrets']);
  });

  test.each([
    ['HMAC', { algorithms: ['RS256', 'HS256'] }, 'algorithms.1: must be an asymmetric JWS algorithm (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA); HMAC (HS256, ...) and none are refused'],
    ['none', { algorithms: ['none'] }, 'algorithms.0: must be an asymmetric JWS algorithm'],
    ['no algorithm', { algorithms: [] }, 'algorithms: '],
    ['plain http to another host', { serverUrl: 'http://id.example.com' }, 'serverUrl: must be https (http only for 127.0.0.1, [::1] or localhost, or with allowInsecureHttp: true)'],
    ['a URL with a query', { serverUrl: 'https://id.example.com/?x=1' }, 'serverUrl: must be a plain base URL: no credentials, query or fragment'],
    ['no URL', { serverUrl: 'id.example.com' }, 'serverUrl: '],
    ['no realm', { realms: [] }, 'realms: '],
    ['a realm twice', { realms: ['sales', 'sales'] }, 'realms: lists a realm twice; list each once'],
    ['a realm with a slash', { realms: ['sales/../master'] }, 'realms.0: must be a realm name'],
    ['no audience', { audience: [] }, 'audience'],
    ['a clock tolerance over 5 minutes', { clockToleranceSeconds: 600 }, 'clockToleranceSeconds: '],
    ['a JWKS TTL under a minute', { jwksCacheTtlSeconds: 5 }, 'jwksCacheTtlSeconds: '],
    ['an unknown field', { jwksUrl: 'https://x' }, '(config): unknown field(s) jwksUrl; remove them'],
    ['a service account without a secret', { serviceAccount: { clientId: 'admin-cli' } }, 'serviceAccount.clientSecret: expected string; set it'],
  ])('%s is refused, naming the field and the fix', (_name, patch, message) => {
    const error = failure({ ...base, ...patch });
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect(error.message).toMatch(/^keycloak: invalid configuration:\n {2}/);
    expect(error.message).toContain(message);
  });

  test('http is allowed to loopback, and elsewhere only with allowInsecureHttp', () => {
    for (const serverUrl of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080']) {
      expect(new KeycloakIdentityPlugin({ ...base, serverUrl }).config.serverUrl).toBe(serverUrl);
    }
    expect(new KeycloakIdentityPlugin({ ...base, serverUrl: 'http://keycloak.keycloak.svc:8080', allowInsecureHttp: true }).config.allowInsecureHttp).toBe(true);
  });

  test('the client secret is masked everywhere and never quoted by an error', () => {
    const secret = `s-${randomBytes(16).toString('hex')}`;
    const plugin = new KeycloakIdentityPlugin({ ...base, serviceAccount: { clientId: 'floe-admin', clientSecret: secret, realm: 'master' } });
    expect(plugin.config.serviceAccount?.clientSecret.reveal()).toBe(secret);
    expect(`${inspect(plugin, { depth: 10 })}${JSON.stringify(plugin)}${JSON.stringify(plugin.config)}`).not.toContain(secret);
    const error = failure({ ...base, serviceAccount: { clientId: 'floe-admin', clientSecret: secret, extra: secret } });
    expect(error.message).toContain('serviceAccount: unknown field(s) extra');
    expect(`${error.message}${error.stack}`).not.toContain(secret);
  });
});
