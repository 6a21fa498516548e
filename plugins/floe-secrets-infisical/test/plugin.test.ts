import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { inspect } from 'node:util';
import {
  AuditEvent, AuditLogger, ConnectionError, discoverSecretsPlugins, loadSecretsPlugin, PermissionError, PluginOptions, RetryPolicy,
  SecretsConfigError, SecretsError,
} from '@floe-secrets/core';
import { DEFAULT_CACHE_TTL_MS, INFISICAL_CLOUD_URL, InfisicalSecretsPlugin, InfisicalSecretsPluginConfig, parseInfisicalConfig } from '../src';
import { InfisicalTestServer, TestIdentity } from './infisical-test-server';

const secret = (): string => `s-${randomBytes(18).toString('base64url')}`;
const identity = (access: TestIdentity['access']): TestIdentity => ({ clientId: `id-${access}-${randomBytes(3).toString('hex')}`, clientSecret: secret(), access });
const FAST: RetryPolicy = { attempts: 3, baseDelayMs: 5, maxDelayMs: 20, totalTimeoutMs: 5_000, attemptTimeoutMs: 2_500 };
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

const rw = identity('read-write');
const ro = identity('read-only');
const describeOnly = identity('describe');
const none = identity('none');
let server: InfisicalTestServer;

beforeAll(async () => {
  server = await InfisicalTestServer.start({ identities: [rw, ro, describeOnly, none] });
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.resetRequests();
  server.rateLimit(0);
  server.requireApproval = false;
  server.intercept = undefined;
});

function config(overrides: Partial<InfisicalSecretsPluginConfig> = {}, who: TestIdentity = rw): InfisicalSecretsPluginConfig {
  return { siteUrl: server.url, clientId: who.clientId, clientSecret: who.clientSecret, projectId: server.projectId, environment: 'dev', secretPath: '/compute', ...overrides };
}

function plugin(overrides: Partial<InfisicalSecretsPluginConfig> = {}, who: TestIdentity = rw, options: PluginOptions = { retry: FAST }) {
  return new InfisicalSecretsPlugin(config(overrides, who), options);
}

async function failure(promise: Promise<unknown>): Promise<SecretsError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof SecretsError)) throw new Error(`expected a SecretsError, got ${String(error)}`);
  return error;
}

const getRequests = (): number => server.count({ method: 'GET', path: '/api/v3/secrets/raw/' });
const logins = (): number => server.count({ path: '/api/v1/auth/universal-auth/login' });

describe('configuration', () => {
  const problems = (input: unknown): string => {
    try {
      parseInfisicalConfig(input);
    } catch (error) {
      expect(error).toBeInstanceOf(SecretsConfigError);
      return (error as Error).message;
    }
    throw new Error('expected the configuration to be refused');
  };

  test('defaults: Infisical Cloud, the root folder, a 30 s cache, references expanded', () => {
    const parsed = parseInfisicalConfig({ clientId: 'abc', clientSecret: secret(), projectId: 'p', environment: 'prod' });
    expect(parsed).toMatchObject({ siteUrl: INFISICAL_CLOUD_URL, secretPath: '/', cacheTtlMs: DEFAULT_CACHE_TTL_MS, expandSecretReferences: true });
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(parseInfisicalConfig({ ...config(), siteUrl: 'https://infisical.example.com/', secretPath: '/compute/snowflake/' }))
      .toMatchObject({ siteUrl: 'https://infisical.example.com', secretPath: '/compute/snowflake' });
  });

  test.each([
    ['an unknown field', { clientSecrte: 'x' }, /unknown field\(s\) clientSecrte/],
    ['a non-https site URL', { siteUrl: 'http://infisical.example.com' }, /siteUrl: uses plain http to a non-loopback host; use https/],
    ['a site URL with /api', { siteUrl: 'https://infisical.example.com/api' }, /siteUrl: ends in "\/api"/],
    ['a site URL that is no URL', { siteUrl: 'infisical.example.com' }, /siteUrl: is not a URL/],
    ['another scheme', { siteUrl: 'ftp://infisical.example.com' }, /siteUrl: must be an https URL/],
    ['a site URL with a query', { siteUrl: 'https://infisical.example.com/?x=1' }, /siteUrl: holds a query or fragment/],
    ['a relative secretPath', { secretPath: 'compute' }, /secretPath: must start with "\/"/],
    ['an empty path segment', { secretPath: '/compute//snowflake' }, /secretPath: has an empty segment/],
    ['a folder name Infisical refuses', { secretPath: '/compute/snow flake' }, /secretPath: has a folder name/],
    ['an environment that is no slug', { environment: 'prod env' }, /environment: must be an environment slug/],
    ['a negative cache TTL', { cacheTtlMs: -1 }, /cacheTtlMs:/],
    ['an empty client secret', { clientSecret: '' }, /clientSecret:/],
  ])('refuses %s', (_what, overrides, pattern) => {
    expect(problems({ ...config(), ...overrides })).toMatch(pattern);
  });

  test('lists every missing credential and field at once, by name', () => {
    const message = problems({ siteUrl: 'https://infisical.example.com', environment: 'dev' });
    for (const field of ['clientId', 'clientSecret']) expect(message).toContain(`${field}: expected string; set it`);
    expect(problems({ ...config(), projectId: undefined })).toContain('projectId: give exactly one of projectId and projectSlug');
    expect(problems({ ...config(), projectSlug: 'data-platform' })).toContain('projectId: give exactly one of projectId and projectSlug');
    expect(problems({ ...config(), projectId: undefined, projectSlug: 'Data Platform' })).toContain('projectSlug: must be a project slug');
  });

  test('accepts plain http to loopback addresses only', () => {
    for (const siteUrl of ['http://localhost:8080', 'http://127.0.0.1:8080', 'http://[::1]:8080', 'https://infisical.internal']) {
      expect(parseInfisicalConfig({ ...config(), siteUrl }).siteUrl).toBe(siteUrl);
    }
  });

  test('never echoes a credential, even in a URL', () => {
    const value = secret();
    const message = problems({ ...config(), clientSecret: value, siteUrl: `https://user:${value}@infisical.example.com`, bogus: value });
    expect(message).toMatch(/siteUrl: holds a user name or password/);
    expect(message).not.toContain(value);
    const constructed = (() => {
      try {
        return new InfisicalSecretsPlugin({ ...config(), clientSecret: value, extra: true });
      } catch (error) {
        return error as Error;
      }
    })();
    expect(constructed).toBeInstanceOf(SecretsConfigError);
    expect(`${(constructed as Error).message}${(constructed as Error).stack}`).not.toContain(value);
  });
});

describe('key mapping', () => {
  test('keys are <folder...>/<secretName> relative to secretPath', () => {
    expect(plugin().locate('snowflake/password')).toEqual({ folder: '/compute/snowflake', name: 'password' });
    expect(plugin().locate('password')).toEqual({ folder: '/compute', name: 'password' });
    expect(plugin({ secretPath: '/' }).locate('catalog/polaris/token')).toEqual({ folder: '/catalog/polaris', name: 'token' });
    expect(plugin({ secretPath: '/compute/snowflake' }).locate('password')).toEqual({ folder: '/compute/snowflake', name: 'password' });
  });

  test('setSecret writes the secret in its folder, creating the folder, with metadata as comment', async () => {
    const p = plugin();
    const value = secret();
    await p.setSecret('mapping/snowflake/password', value, { owner: 'data-team', rotated: '2026-01' });
    expect(server.value('dev', '/compute/mapping/snowflake', 'password')).toBe(value);
    expect(server.comment('dev', '/compute/mapping/snowflake', 'password')).toBe('owner=data-team, rotated=2026-01');
    expect(server.folders('dev')).toEqual(expect.arrayContaining(['/compute', '/compute/mapping', '/compute/mapping/snowflake']));
    expect(server.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /api/v1/auth/universal-auth/login 200',
      `GET /api/v1/workspace/${server.projectId} 200`, // the project and environment, looked up once
      'PATCH /api/v3/secrets/raw/password 404', // update first
      'POST /api/v3/secrets/raw/password 404', // then create: the folder is missing
      'POST /api/v1/folders 200', // so create it (and its parents)
      'POST /api/v3/secrets/raw/password 200',
    ]);
    await expect(p.getSecret('mapping/snowflake/password')).resolves.toBe(value);
  });

  test('listSecrets maps folders back to keys, recursively, and only under secretPath', async () => {
    server.seed('dev', '/compute/listing/a', 'one', secret());
    server.seed('dev', '/compute/listing/a/b', 'two', secret());
    server.seed('dev', '/compute/listing', 'three', secret());
    server.seed('dev', '/elsewhere/listing', 'four', secret());
    const p = plugin();
    await expect(p.listSecrets('listing/')).resolves.toEqual(['listing/a/b/two', 'listing/a/one', 'listing/three']);
    await expect(p.listSecrets('listing/a/')).resolves.toEqual(['listing/a/b/two', 'listing/a/one']);
    await expect(p.listSecrets('listing/th')).resolves.toEqual(['listing/three']);
    await expect(p.listSecrets('listing/missing/')).resolves.toEqual([]);
    expect(await p.listSecrets()).toEqual(expect.arrayContaining(['listing/three', 'listing/a/b/two']));
    expect((await plugin({ secretPath: '/' }).listSecrets('elsewhere/')).sort()).toEqual(['elsewhere/listing/four']);
    // Listing never asks for values.
    const lists = server.requests.filter((r) => r.path === '/api/v3/secrets/raw');
    expect(lists.length).toBeGreaterThan(0);
    // Values are never asked for; an empty recursive answer is confirmed by a plain list (see the permission test).
    for (const list of lists) expect(list.query).toMatch(/recursive=(true|false)&viewSecretValue=false/);
    expect(lists.filter((r) => r.query.includes('recursive=false')).map((r) => r.query)).toEqual([expect.stringContaining('secretPath=%2Fcompute%2Flisting%2Fmissing&')]);
  });

  test('keys Infisical cannot hold are refused before anything is sent', async () => {
    const p = plugin();
    await expect(p.getSecret('bad folder/x')).rejects.toBeInstanceOf(SecretsConfigError);
    await expect(p.setSecret('ok/bad name', 'v')).rejects.toBeInstanceOf(SecretsConfigError);
    await expect(p.getMultiKeySecret('bad.folder')).rejects.toBeInstanceOf(SecretsConfigError);
    await expect(p.listSecrets('bad folder/x')).resolves.toEqual([]);
    expect(server.requests).toEqual([]);
  });

  test('Infisical trims white space around values (a final newline stays)', async () => {
    const p = plugin();
    await p.setSecret('trim/padded', '  value  ');
    await p.setSecret('trim/pem', '-----BEGIN-----\nabc\n');
    await expect(p.getSecret('trim/padded')).resolves.toBe('value');
    await expect(p.getSecret('trim/pem')).resolves.toBe('-----BEGIN-----\nabc\n');
  });
});

describe('multi-key secrets', () => {
  test('getMultiKeySecret(name) is every secret of folder <secretPath>/<name>, and primes the cache', async () => {
    const user = secret();
    const password = secret();
    server.seed('dev', '/compute/warehouse', 'user', user);
    server.seed('dev', '/compute/warehouse', 'password', password);
    server.seed('dev', '/compute/warehouse/nested', 'other', secret());
    const p = plugin();
    await expect(p.getMultiKeySecret('warehouse')).resolves.toEqual({ user, password });
    await expect(p.getMultiKeySecret('no-such-folder')).resolves.toEqual({});
    server.resetRequests();
    await expect(p.getSecret('warehouse/password')).resolves.toBe(password);
    expect(server.requests).toEqual([]);
  });
});

describe('cache', () => {
  test('a second read makes no request; a miss is cached too', async () => {
    server.seed('dev', '/compute/cache', 'hit', 'first');
    const p = plugin();
    await expect(p.getSecret('cache/hit')).resolves.toBe('first');
    await expect(p.getSecret('cache/hit')).resolves.toBe('first');
    await expect(p.getSecret('cache/miss')).resolves.toBeUndefined();
    await expect(p.getSecret('cache/miss')).resolves.toBeUndefined();
    expect(getRequests()).toBe(2);
    expect(logins()).toBe(1);
  });

  test('a write through the plugin invalidates the key', async () => {
    const p = plugin();
    await p.setSecret('cache/written', 'one');
    await expect(p.getSecret('cache/written')).resolves.toBe('one');
    await p.setSecret('cache/written', 'two');
    await expect(p.getSecret('cache/written')).resolves.toBe('two');
    await expect(p.getSecret('cache/written')).resolves.toBe('two');
    expect(getRequests()).toBe(2);
  });

  test('entries expire after cacheTtlMs; invalidate() drops them at once; 0 turns the cache off', async () => {
    server.seed('dev', '/compute/cache', 'ttl', 'old');
    const p = plugin({ cacheTtlMs: 400 });
    await p.getSecret('cache/ttl');
    server.seed('dev', '/compute/cache', 'ttl', 'new'); // changed behind the plugin's back
    await expect(p.getSecret('cache/ttl')).resolves.toBe('old');
    await sleep(450);
    await expect(p.getSecret('cache/ttl')).resolves.toBe('new');
    expect(getRequests()).toBe(2);
    p.invalidate('cache/ttl');
    await p.getSecret('cache/ttl');
    p.invalidate();
    await p.getSecret('cache/ttl');
    expect(getRequests()).toBe(4);

    const uncached = plugin({ cacheTtlMs: 0 });
    await uncached.getSecret('cache/ttl');
    await uncached.getSecret('cache/ttl');
    expect(getRequests()).toBe(6);
  });

  test('a read that started before a write does not cache its stale answer', async () => {
    server.seed('dev', '/compute/cache', 'race', 'before');
    const p = plugin();
    let written: Promise<void> | undefined;
    // The GET reads "before", then the write completes, then the GET's answer arrives.
    server.intercept = ({ method, path }) => {
      if (method !== 'GET' || !path.endsWith('/race') || written !== undefined) return undefined;
      written = p.setSecret('cache/race', 'after');
      return written;
    };
    await expect(p.getSecret('cache/race')).resolves.toBe('before');
    server.intercept = undefined;
    expect(server.value('dev', '/compute/cache', 'race')).toBe('after');
    await expect(p.getSecret('cache/race')).resolves.toBe('after');
  });
});

describe('token renewal', () => {
  test('logs in again before the access token expires', async () => {
    const short = await InfisicalTestServer.start({ identities: [rw], accessTokenTtlSeconds: 2, projectId: 'short' });
    try {
      const p = new InfisicalSecretsPlugin({ ...config(), siteUrl: short.url, projectId: 'short', cacheTtlMs: 0 }, { retry: FAST });
      await p.getSecret('renew/x');
      await sleep(2_100);
      await p.getSecret('renew/x');
      expect(p.logins).toBe(2);
      expect(short.requests.filter((r) => r.status === 401 || r.status === 403)).toEqual([]);
    } finally {
      await short.close();
    }
  });

  test.each([
    ['expired by the server-side TTL (401)', () => server.expireTokens('ttl'), 401],
    ['expired as a JWT (403 TokenError)', () => server.expireTokens('jwt'), 403],
    ['revoked (401)', () => server.revokeTokens(), 401],
  ])('logs in again once when the token is %s', async (_what, end, status) => {
    server.seed('dev', '/compute/renew', 'y', 'value-y');
    const p = plugin({ cacheTtlMs: 0 });
    await p.getSecret('renew/y');
    end();
    await expect(p.getSecret('renew/y')).resolves.toBe('value-y');
    expect(p.logins).toBe(2);
    // login, project lookup, get; refused; clean login, get
    expect(server.requests.map((r) => r.status)).toEqual([200, 200, 200, status, 200, 200]);
  });

  test('concurrent calls share one login', async () => {
    const p = plugin();
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((k) => p.getSecret(`concurrent/${k}`)));
    expect(logins()).toBe(1);
  });

  test('bad credentials: a clear PermissionError, no retry, no credential in the message', async () => {
    const wrong = secret();
    const events: AuditEvent[] = [];
    const audit = new AuditLogger([{ write: (e) => events.push(e) }]);
    const p = new InfisicalSecretsPlugin(config({ clientSecret: wrong }), { retry: FAST, audit });
    const error = await failure(p.getSecret('any/key'));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toContain(`universal-auth login as client id "${rw.clientId}" was refused (HTTP 401); check clientSecret`);
    expect(`${error.message}${error.stack}`).not.toContain(wrong);
    expect(error.message).not.toContain('Invalid credentials'); // the server's words stay out
    expect(logins()).toBe(1);
    expect(events).toEqual([expect.objectContaining({ action: 'get', key: 'any/key', outcome: 'failure', errorClass: 'PermissionError', requester: rw.clientId })]);
    await expect(p.healthCheck()).resolves.toMatchObject({ state: 'unhealthy', message: expect.stringContaining('PermissionError') });
  });
});

describe('rate limits and transient failures', () => {
  test('retries HTTP 500 "Rate limit exceeded" with backoff and succeeds', async () => {
    server.seed('dev', '/compute/limited', 'x', 'value-x');
    const p = plugin({}, rw, { retry: { ...FAST, attempts: 4 } });
    await p.healthCheck();
    server.resetRequests();
    server.rateLimit(3);
    await expect(p.getSecret('limited/x')).resolves.toBe('value-x');
    expect(server.requests.map((r) => r.status)).toEqual([500, 500, 500, 200]);
  });

  test('gives up after the retry policy with a ConnectionError that says it was rate limited and quotes no response', async () => {
    const p = plugin({}, rw, { retry: { ...FAST, attempts: 3 } });
    await p.healthCheck();
    server.resetRequests();
    server.rateLimit(100);
    const error = await failure(p.getSecret('limited/y'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/failed: rate limited by Infisical \(HTTP 500, retry after 1 s\)/);
    expect(error.message).not.toContain('Rate limit exceeded'); // the server's words stay out
    expect(server.requests).toHaveLength(3);
  });

  test('HTTP 429 is retried after its Retry-After', async () => {
    server.seed('dev', '/compute/limited', 'z', 'value-z');
    const p = plugin({}, rw, { retry: { ...FAST, attempts: 2 } });
    await p.healthCheck();
    server.resetRequests();
    server.rateLimit(1, 429);
    const started = Date.now();
    await expect(p.getSecret('limited/z')).resolves.toBe('value-z');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(server.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  test('a refused connection is a ConnectionError', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const p = plugin({ siteUrl: `http://127.0.0.1:${port}` }, rw, { retry: { ...FAST, attempts: 1, attemptTimeoutMs: 300 } });
    const error = await failure(p.getSecret('any/key'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toMatch(/failed: connection refused by 127\.0\.0\.1:\d+/);
  });
});

describe('errors', () => {
  test('a read-only identity reads but may not write; the message names the identity, not the server text', async () => {
    server.seed('dev', '/compute/perm', 'r', 'readable');
    const p = plugin({}, ro);
    await expect(p.getSecret('perm/r')).resolves.toBe('readable');
    const error = await failure(p.setSecret('perm/r', secret()));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toContain(`machine identity ${ro.clientId} may not create and edit secrets`);
    expect(error.message).not.toContain('You are not allowed');
  });

  test('an identity without access gets PermissionError for every operation; health is unhealthy', async () => {
    const p = plugin({}, none);
    await expect(p.getSecret('perm/r')).rejects.toBeInstanceOf(PermissionError);
    await expect(p.listSecrets('perm/')).rejects.toBeInstanceOf(PermissionError);
    await expect(p.getMultiKeySecret('perm')).rejects.toBeInstanceOf(PermissionError);
    await expect(p.healthCheck()).resolves.toMatchObject({ state: 'unhealthy', message: expect.stringContaining('PermissionError') });
  });

  test('a value Infisical hides (describe without read value) is a PermissionError, never a placeholder', async () => {
    server.seed('dev', '/compute/hidden', 'h', secret());
    const p = plugin({}, describeOnly);
    await expect(p.listSecrets('hidden/')).resolves.toEqual(['hidden/h']);
    await expect(p.getSecret('hidden/h')).rejects.toBeInstanceOf(PermissionError);
    await expect(p.getMultiKeySecret('hidden')).rejects.toBeInstanceOf(PermissionError);
  });

  test('a wrong project or environment is a SecretsConfigError naming it, for every operation and health', async () => {
    const project = await failure(plugin({ projectId: 'no-such-project' }).getSecret('any/key'));
    expect(project).toBeInstanceOf(SecretsConfigError);
    expect(project.message).toContain('has no project id "no-such-project"; check the project\'s id in Project Settings');
    const p = plugin({ environment: 'staging' });
    for (const call of [p.getSecret('any/key'), p.listSecrets('any/'), p.setSecret('any/key', secret()), p.getMultiKeySecret('any')]) {
      const error = await failure(call);
      expect(error).toBeInstanceOf(SecretsConfigError);
      expect(error.message).toContain(`project id "${server.projectId}" has no environment "staging"; its environments are "dev", "prod"`);
    }
    await expect(p.healthCheck()).resolves.toMatchObject({ state: 'unhealthy', message: expect.stringContaining('has no environment "staging"') });
  });

  test('a site URL that is not an Infisical API is a SecretsConfigError', async () => {
    const error = await failure(plugin({ siteUrl: `${server.url}/not-infisical` }).getSecret('any/key'));
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect(error.message).toMatch(/answered HTTP 404 to the universal-auth login; check that siteUrl/);
  });

  test('a change-approval policy is a PermissionError saying a change request was opened', async () => {
    server.requireApproval = true;
    const error = await failure(plugin().setSecret('approval/x', secret()));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toMatch(/change request/);
  });

  test('a secret created by someone else between update and create is updated', async () => {
    const p = plugin();
    server.intercept = ({ method, path }) => {
      if (method === 'POST' && path.endsWith('/raced')) server.seed('dev', '/compute/race', 'raced', 'theirs');
    };
    await p.setSecret('race/raced', 'mine');
    expect(server.value('dev', '/compute/race', 'raced')).toBe('mine');
    expect(server.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 200', 'GET 200', 'PATCH 404', 'POST 400', 'PATCH 200']);
  });
});

describe('answers that are not Infisical\'s', () => {
  /** A server that answers the login like Infisical, and everything else as `answer` says. */
  async function odd(answer: (method: string, path: string) => [number, string]): Promise<{ url: string; close(): Promise<void> }> {
    const http = createHttpServer((req, res) => {
      const project = JSON.stringify({ workspace: { id: server.projectId, slug: 'p', environments: [{ slug: 'dev' }] } });
      const [status, body] = req.url?.endsWith('/universal-auth/login')
        ? [200, '{"accessToken":"opaque-token","expiresIn":60}']
        : req.url?.startsWith('/api/v1/workspace/') ? [200, project] : answer(req.method ?? '', req.url ?? '');
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
    return {
      url: `http://127.0.0.1:${(http.address() as { port: number }).port}`,
      close: async () => {
        http.closeAllConnections();
        await new Promise<void>((done) => http.close(() => done()));
      },
    };
  }

  test.each([
    ['200 without the expected fields', 200, '{}', ConnectionError, /answered, but not as the Infisical API does; check siteUrl/],
    ['HTTP 422 (body without a string message)', 422, '{"statusCode":422,"message":[{"path":["secretPath"]}]}', SecretsConfigError, /rejected by Infisical as invalid \(HTTP 422\)/],
    ['HTTP 400', 400, '{"statusCode":400,"message":"bad","error":"BadRequestError"}', SecretsConfigError, /rejected by Infisical as invalid \(HTTP 400\)/],
    ['an unexpected status', 418, '{"message":"teapot"}', ConnectionError, /got an unexpected answer \(HTTP 418\)/],
  ])('%s', async (_what, status, body, errorClass, pattern) => {
    const server2 = await odd(() => [status, body]);
    try {
      const p = new InfisicalSecretsPlugin(config({ siteUrl: server2.url }), { retry: FAST });
      for (const call of [p.getSecret('odd/x'), p.listSecrets('odd/'), p.getMultiKeySecret('odd')]) {
        const error = await failure(call);
        expect(error).toBeInstanceOf(errorClass);
        expect(error.message).toMatch(pattern);
        expect(error.message).not.toMatch(/teapot|BadRequestError/);
      }
    } finally {
      await server2.close();
    }
  });

  test('a login answered without a token is a ConnectionError', async () => {
    const http = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>welcome</html>'));
    await new Promise<void>((done) => http.listen(0, '127.0.0.1', done));
    try {
      const p = new InfisicalSecretsPlugin(config({ siteUrl: `http://127.0.0.1:${(http.address() as { port: number }).port}` }), { retry: FAST });
      const error = await failure(p.getSecret('odd/x'));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toMatch(/answered the universal-auth login, but not as the Infisical API does \(no access token\)/);
    } finally {
      http.closeAllConnections();
      await new Promise<void>((done) => http.close(() => done()));
    }
  });
});

describe('no secret in printed forms', () => {
  test('util.inspect and JSON of the plugin and its config never show the client secret, a token or a value', async () => {
    const who = identity('read-write');
    server.addIdentity(who);
    const p = plugin({}, who);
    const value = secret();
    await p.setSecret('printed/x', value);
    await p.getSecret('printed/x'); // now cached
    const printed = [
      inspect(p, { depth: 10, showHidden: true }), JSON.stringify(p), String(p),
      inspect(p.config, { depth: 10, showHidden: true }), JSON.stringify(p.config), `${p.config.clientSecret}`,
    ].join('\n');
    expect(printed).not.toContain(who.clientSecret);
    expect(printed).not.toContain(value);
    for (const token of server.issuedTokens) expect(printed).not.toContain(token);
    expect(printed).toContain(who.clientId);
    expect(JSON.parse(JSON.stringify(p))).toEqual({
      name: 'infisical',
      version: p.version,
      floeApiVersion: '1.0',
      requester: who.clientId,
      siteUrl: server.url,
      projectId: server.projectId,
      environment: 'dev',
      secretPath: '/compute',
      cacheTtlMs: DEFAULT_CACHE_TTL_MS,
    });
  });
});

describe('discovery', () => {
  test('loadSecretsPlugin("infisical", config) finds and builds it from plain config', async () => {
    expect(discoverSecretsPlugins()).toContainEqual({ name: 'infisical', packageName: '@floe-secrets/infisical', exportName: 'InfisicalSecretsPlugin' });
    const loaded = loadSecretsPlugin('infisical', config(), { retry: FAST });
    expect(loaded.name).toBe('infisical');
    expect(loaded.constructor.name).toBe('InfisicalSecretsPlugin');
    expect(loaded.requester).toBe(rw.clientId);
    await expect(loaded.healthCheck()).resolves.toMatchObject({ state: 'healthy' });
    expect(() => loadSecretsPlugin('infisical', { clientId: 'x' })).toThrow(SecretsConfigError);
  });
});
