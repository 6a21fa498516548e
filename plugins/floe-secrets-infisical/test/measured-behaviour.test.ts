/**
 * What real Infisical servers (backend of October 2024) were measured to do beyond their
 * documentation (issue 10, part B): each behaviour is first shown on the InfisicalTestServer with
 * plain HTTP ("the test server: ..."), then the plugin is shown to handle it.
 */
import { randomBytes } from 'node:crypto';
import { ConnectionError, PermissionError, RetryPolicy, SecretsConfigError, SecretsError } from '@floe-secrets/core';
import { InfisicalSecretsPlugin, InfisicalSecretsPluginConfig } from '../src';
import { InfisicalTestServer, TestIdentity } from './infisical-test-server';

const secret = (): string => `s-${randomBytes(18).toString('base64url')}`;
const identity = (access: TestIdentity['access']): TestIdentity => ({ clientId: `id-${access}-${randomBytes(3).toString('hex')}`, clientSecret: secret(), access });
const FAST: RetryPolicy = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, totalTimeoutMs: 5_000, attemptTimeoutMs: 2_500 };
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

async function failure(promise: Promise<unknown>): Promise<SecretsError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof SecretsError)) throw new Error(`expected a SecretsError, got ${String(error)}`);
  return error;
}

/** Plain HTTP against a test server, as a real client would send it. */
interface Answer {
  readonly status: number;
  readonly json: any;
  readonly retryAfter: string | null;
}

async function http(server: InfisicalTestServer, method: string, path: string, options: { token?: string; body?: object } = {}): Promise<Answer> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    redirect: 'error',
    headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    ...(options.body ? { body: JSON.stringify(options.body) } : {}),
  });
  return { status: response.status, json: await response.json(), retryAfter: response.headers.get('retry-after') };
}

async function login(server: InfisicalTestServer, who: TestIdentity, bearer?: string): Promise<{ status: number; json: any }> {
  return http(server, 'POST', '/api/v1/auth/universal-auth/login', { token: bearer, body: { clientId: who.clientId, clientSecret: who.clientSecret } });
}

function jwtPayload(token: string): { exp: number; iat: number } {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { exp: number; iat: number };
}

function config(server: InfisicalTestServer, who: TestIdentity, overrides: Partial<InfisicalSecretsPluginConfig> = {}): InfisicalSecretsPluginConfig {
  return { siteUrl: server.url, clientId: who.clientId, clientSecret: who.clientSecret, projectId: server.projectId, environment: 'dev', secretPath: '/', ...overrides };
}

describe('access tokens', () => {
  const rw = identity('read-write');
  let server: InfisicalTestServer;

  beforeAll(async () => {
    server = await InfisicalTestServer.start({ identities: [rw], accessTokenTtlSeconds: 2, accessTokenMaxTtlSeconds: 2_592_000 });
  });

  afterAll(async () => server.close());

  test('the test server: the JWT exp is the identity\'s max TTL, and the server alone enforces the token TTL (401 past it)', async () => {
    const { json } = await login(server, rw);
    expect(json.expiresIn).toBe(2);
    const claims = jwtPayload(json.accessToken);
    expect(claims.exp - claims.iat).toBe(2_592_000);
    const scope = `workspaceId=${server.projectId}&environment=dev&secretPath=/`;
    expect((await http(server, 'GET', `/api/v3/secrets/raw?${scope}`, { token: json.accessToken })).status).toBe(200);
    await sleep(2_100);
    expect((await http(server, 'GET', `/api/v3/secrets/raw?${scope}`, { token: json.accessToken })).status).toBe(401);
  });

  test('the test server: a login that still carries the previous bearer token is refused with 401', async () => {
    const { json } = await login(server, rw);
    expect((await login(server, rw, json.accessToken)).status).toBe(401);
    expect((await login(server, rw)).status).toBe(200);
  });

  test('with a token TTL of 2 s the plugin keeps working for 6 s: it renews at the TTL the login states, not the JWT exp', async () => {
    const value = secret();
    server.seed('dev', '/', 'ttl', value);
    const p = new InfisicalSecretsPlugin(config(server, rw, { cacheTtlMs: 0 }), { retry: FAST });
    server.resetRequests();
    for (let i = 0; i < 6; i++) {
      await expect(p.getSecret('ttl')).resolves.toBe(value);
      await sleep(1_000);
    }
    expect(p.logins).toBeGreaterThanOrEqual(3);
    expect(server.requests.filter((r) => r.status === 401 || r.status === 403)).toEqual([]);
    expect(server.requests.filter((r) => r.path.endsWith('/login')).every((r) => !r.bearer)).toBe(true);
  }, 20_000);

  test('after the server refuses its token, the plugin recovers with one clean login (no Authorization header), every time', async () => {
    const value = secret();
    server.seed('dev', '/', 'refused', value);
    const p = new InfisicalSecretsPlugin(config(server, rw, { cacheTtlMs: 0 }), { retry: FAST });
    await p.getSecret('refused');
    for (let round = 0; round < 3; round++) {
      server.revokeTokens();
      await expect(p.getSecret('refused')).resolves.toBe(value);
    }
    expect(p.logins).toBe(4);
    const logins = server.requests.filter((r) => r.path.endsWith('/login'));
    expect(logins.every((r) => !r.bearer && r.status === 200)).toBe(true);
  });
});

describe('the uses limit', () => {
  test('the test server: past the token\'s number-of-uses limit every request is 401; the plugin logs in again cleanly', async () => {
    const rw = identity('read-write');
    const server = await InfisicalTestServer.start({ identities: [rw], accessTokenNumUsesLimit: 3 });
    try {
      const { json } = await login(server, rw);
      const path = `/api/v3/secrets/raw?workspaceId=${server.projectId}&environment=dev&secretPath=/`;
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await http(server, 'GET', path, { token: json.accessToken })).status);
      expect(statuses).toEqual([200, 200, 200, 401]);

      const value = secret();
      server.seed('dev', '/', 'uses', value);
      const p = new InfisicalSecretsPlugin(config(server, rw, { cacheTtlMs: 0 }), { retry: FAST });
      for (let i = 0; i < 8; i++) await expect(p.getSecret('uses')).resolves.toBe(value);
      expect(p.logins).toBeGreaterThanOrEqual(3);
    } finally {
      await server.close();
    }
  });
});

describe('identities, projects and environments', () => {
  const rw = identity('read-write');
  const member = identity('member');
  let server: InfisicalTestServer;

  beforeAll(async () => {
    server = await InfisicalTestServer.start({ identities: [rw, member], environments: ['dev', 'prod'] });
  });

  afterAll(async () => server.close());

  test('the test server: an unknown client id is 404 "No identity with specified client ID was found"', async () => {
    const answer = await login(server, identity('read-write'));
    expect(answer.status).toBe(404);
    expect(answer.json.message).toBe('No identity with specified client ID was found');
  });

  test('an unknown client id is a SecretsConfigError naming the client id, not the site URL', async () => {
    const stranger = identity('read-write');
    const error = await failure(new InfisicalSecretsPlugin(config(server, stranger), { retry: FAST }).getSecret('x'));
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect(error.message).toBe(`infisical: Infisical at ${server.url} has no machine identity with client id "${stranger.clientId}" (HTTP 404); check clientId`);
    expect(error.message).not.toContain(stranger.clientSecret);
  });

  test('the test server: an unknown environment reads as a missing folder (404), lists plainly as [] and recursively as 500', async () => {
    const { json } = await login(server, rw);
    const token = json.accessToken as string;
    const scope = `workspaceId=${server.projectId}&environment=prdo&secretPath=/`;
    const read = await http(server, 'GET', `/api/v3/secrets/raw/password?${scope}`, { token });
    expect([read.status, read.json.message]).toEqual([404, 'Folder not found for the given environment slug & secret path']);
    const missingFolder = await http(server, 'GET', `/api/v3/secrets/raw/password?workspaceId=${server.projectId}&environment=dev&secretPath=/nowhere`, { token });
    expect([missingFolder.status, missingFolder.json.message]).toEqual([404, read.json.message]);
    expect(await http(server, 'GET', `/api/v3/secrets/raw?${scope}&recursive=false`, { token })).toMatchObject({ status: 200, json: { secrets: [] } });
    expect((await http(server, 'GET', `/api/v3/secrets/raw?${scope}&recursive=true`, { token })).status).toBe(500);
  });

  test('a mistyped environment: health is unhealthy and get, list and set fail naming the project and environment', async () => {
    const p = new InfisicalSecretsPlugin(config(server, rw, { environment: 'prdo' }), { retry: FAST });
    const health = await p.healthCheck();
    expect(health).toMatchObject({ state: 'unhealthy' });
    expect(health.message).toContain(`SecretsConfigError: infisical: project id "${server.projectId}" has no environment "prdo"; its environments are "dev", "prod"`);
    for (const call of [p.getSecret('password'), p.listSecrets(''), p.setSecret('password', secret())]) {
      const error = await failure(call);
      expect(error).toBeInstanceOf(SecretsConfigError);
      expect(error.message).toContain('has no environment "prdo"');
    }
  });

  test('the test server: an identity without read permission gets 403 to a plain list and [] to a recursive one', async () => {
    const { json } = await login(server, member);
    const scope = `workspaceId=${server.projectId}&environment=dev&secretPath=/`;
    expect((await http(server, 'GET', `/api/v3/secrets/raw?${scope}&recursive=false`, { token: json.accessToken })).status).toBe(403);
    expect(await http(server, 'GET', `/api/v3/secrets/raw?${scope}&recursive=true`, { token: json.accessToken })).toMatchObject({ status: 200, json: { secrets: [] } });
  });

  test('an identity without read permission: listSecrets is a PermissionError, not [], and health is unhealthy', async () => {
    server.seed('dev', '/', 'listed', secret());
    const p = new InfisicalSecretsPlugin(config(server, member), { retry: FAST });
    const error = await failure(p.listSecrets(''));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toContain(`machine identity ${member.clientId} may not read (describe) secrets`);
    await expect(p.healthCheck()).resolves.toMatchObject({ state: 'unhealthy', message: expect.stringContaining('PermissionError') });
  });

  test('a project slug is resolved to the project id once, and used for every call', async () => {
    const value = secret();
    server.seed('dev', '/', 'by-slug', value);
    server.resetRequests();
    const bySlug = { projectId: undefined, projectSlug: server.projectSlug, cacheTtlMs: 0 };
    const p = new InfisicalSecretsPlugin(config(server, rw, bySlug), { retry: FAST });
    await expect(p.getSecret('by-slug')).resolves.toBe(value);
    await p.setSecret('by-slug', secret());
    await p.listSecrets('');
    expect(server.count({ path: `/api/v2/workspace/${server.projectSlug}` })).toBe(1);
    expect(server.requests.filter((r) => r.path.startsWith('/api/v3/')).every((r) => r.query === '' || r.query.includes(`workspaceId=${server.projectId}`))).toBe(true);
    const unknown = await failure(new InfisicalSecretsPlugin(config(server, rw, { projectId: undefined, projectSlug: 'no-such-project' }), { retry: FAST }).getSecret('x'));
    expect(unknown).toBeInstanceOf(SecretsConfigError);
    expect(unknown.message).toContain('has no project slug "no-such-project"; check the project\'s slug in Project Settings');
  });
});

describe('rate limits', () => {
  test('the test server: past the limit per route and client it answers HTTP 500 with Retry-After until the window ends', async () => {
    const rw = identity('read-write');
    for (const [flavour, message] of [['old', 'Rate limit exceeded'], ['new', 'Something went wrong']] as const) {
      const server = await InfisicalTestServer.start({
        identities: [rw], rateLimitPerWindow: 40, rateLimitWindowMs: 60_000, rateLimitMessage: flavour,
      });
      try {
        const { json } = await login(server, rw);
        const path = `/api/v3/secrets/raw?workspaceId=${server.projectId}&environment=dev&secretPath=/`;
        for (let i = 0; i < 40; i++) expect((await http(server, 'GET', path, { token: json.accessToken })).status).toBe(200);
        const limited = await http(server, 'GET', path, { token: json.accessToken });
        expect([limited.status, limited.json.message]).toEqual([500, message]);
        expect(Number(limited.retryAfter)).toBeGreaterThan(50);
        // Another route is counted apart.
        expect((await http(server, 'GET', `/api/v1/workspace/${server.projectId}`, { token: json.accessToken })).status).toBe(200);
      } finally {
        await server.close();
      }
    }
  });

  test('the 41st read in a window waits for Retry-After within the call\'s budget and succeeds', async () => {
    const rw = identity('read-write');
    const server = await InfisicalTestServer.start({ identities: [rw], rateLimitPerWindow: 40, rateLimitWindowMs: 1_500 });
    try {
      const value = secret();
      server.seed('dev', '/', 'hot', value);
      const p = new InfisicalSecretsPlugin(config(server, rw, { cacheTtlMs: 0 }), { retry: { ...FAST, attempts: 4 } });
      for (let i = 0; i < 40; i++) await p.getSecret('hot');
      await expect(p.getSecret('hot')).resolves.toBe(value);
      expect(server.requests.filter((r) => r.status === 500)).toHaveLength(1);
    } finally {
      await server.close();
    }
  }, 20_000);

  test('when Retry-After does not fit the budget, the call fails at once saying it was rate limited', async () => {
    const rw = identity('read-write');
    const server = await InfisicalTestServer.start({ identities: [rw], rateLimitPerWindow: 2, rateLimitWindowMs: 60_000, rateLimitMessage: 'new' });
    try {
      const p = new InfisicalSecretsPlugin(config(server, rw, { cacheTtlMs: 0 }), { retry: FAST });
      await p.getSecret('x');
      await p.getSecret('x');
      const started = Date.now();
      const error = await failure(p.getSecret('x'));
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toMatch(/^infisical: get "x" failed: rate limited by Infisical \(HTTP 500, retry after \d+ s\), longer than this call may wait/);
    } finally {
      await server.close();
    }
  });
});

describe('references and imports', () => {
  test('the test server: ${KEY} references are expanded by the server, and a get does not look into secret imports', async () => {
    const rw = identity('read-write');
    const server = await InfisicalTestServer.start({ identities: [rw] });
    try {
      const host = `db-${randomBytes(4).toString('hex')}`;
      server.seed('dev', '/', 'HOST', host);
      server.seed('dev', '/', 'URL', 'postgres://${HOST}:5432');
      server.seed('prod', '/shared', 'TOKEN', secret());
      server.seedImport('dev', '/', 'prod', '/shared');
      const { json } = await login(server, rw);
      const scope = `workspaceId=${server.projectId}&environment=dev&secretPath=/`;
      expect((await http(server, 'GET', `/api/v3/secrets/raw/URL?${scope}`, { token: json.accessToken })).json.secret.secretValue).toBe(`postgres://${host}:5432`);
      expect((await http(server, 'GET', `/api/v3/secrets/raw/TOKEN?${scope}`, { token: json.accessToken })).status).toBe(404);
      const listed = await http(server, 'GET', `/api/v3/secrets/raw?${scope}&include_imports=true`, { token: json.accessToken });
      expect(listed.json.imports[0].secrets.map((s: { secretKey: string }) => s.secretKey)).toEqual(['TOKEN']);

      // The plugin, as documented: references expanded (unless turned off), imports not followed.
      const p = new InfisicalSecretsPlugin(config(server, rw), { retry: FAST });
      await expect(p.getSecret('URL')).resolves.toBe(`postgres://${host}:5432`);
      await expect(p.getSecret('TOKEN')).resolves.toBeUndefined();
      const raw = new InfisicalSecretsPlugin(config(server, rw, { expandSecretReferences: false }), { retry: FAST });
      await expect(raw.getSecret('URL')).resolves.toBe('postgres://${HOST}:5432');
    } finally {
      await server.close();
    }
  });
});
