import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { random } from './helpers';
import { VaultTestServer } from './vault-test-server';
import { TestCluster } from '../../../test/integration/cluster';

/*
 * What the local VaultTestServer does where a real Vault was measured to do it (issue 10 B), through
 * plain HTTP: the plugin's tests rely on these behaviours, so each is pinned here by name.
 */

let vault: VaultTestServer;
let root: string;
let reader: string;

beforeAll(async () => {
  vault = await VaultTestServer.start();
  vault.addKvMount('kv1', '', { version: 1 });
  vault.setPolicy('app', { 'secret/data/app/*': ['read', 'create', 'update'], 'kv1/*': ['read', 'create', 'update'] });
  root = vault.createToken({ policies: ['root'] }).token;
  reader = vault.createToken({ policies: ['app'] }).token;
});

afterAll(async () => {
  await vault.close();
});

interface Reply { status: number; body: { [name: string]: unknown } | undefined; location: string | null }

async function call(method: string, path: string, token: string | undefined, body?: object): Promise<Reply> {
  const response = await fetch(`${vault.address}/v1/${path}`, {
    method,
    redirect: 'manual',
    headers: { ...(token ? { 'X-Vault-Token': token } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) as { [name: string]: unknown }, location: response.headers.get('location') };
}

test('sys/internal/ui/mounts tells a token with access the mount type and KV version', async () => {
  await expect(call('GET', 'sys/internal/ui/mounts/secret', reader)).resolves.toMatchObject({ status: 200, body: { data: { type: 'kv', path: 'secret/', options: { version: '2' } } } });
  await expect(call('GET', 'sys/internal/ui/mounts/kv1', reader)).resolves.toMatchObject({ status: 200, body: { data: { type: 'kv', options: { version: '1' } } } });
});

test('sys/internal/ui/mounts answers 403 to a token without access under the mount, and for a mount that does not exist even to root', async () => {
  const nobody = vault.createToken({ policies: [] }).token;
  const denied = await call('GET', 'sys/internal/ui/mounts/secret', nobody);
  expect(denied.status).toBe(403);
  expect(denied.body?.errors).toEqual([expect.stringContaining('preflight capability check returned 403')]);
  await expect(call('GET', 'sys/internal/ui/mounts/nowhere', root)).resolves.toMatchObject({ status: 403 });
});

test('a KV version 1 mount stores a KV v2 client write to <mount>/data/... as a raw v1 secret and answers 204', async () => {
  const value = random();
  const write = await call('POST', 'kv1/data/app/db', reader, { options: { cas: 0 }, data: { password: value } });
  expect(write.status).toBe(204);
  expect(vault.peekV1('kv1', 'data/app/db')).toEqual({ options: { cas: 0 }, data: { password: value } });
  await expect(call('GET', 'kv1/data/app/db', reader)).resolves.toMatchObject({ status: 200, body: { data: { data: { password: value } } } });
});

test('a data path ending in "/": GET answers 500 "could not find version data", POST 400 "cannot write to a path ending in \'/\'"', async () => {
  vault.put('app/slash', { a: random() });
  await expect(call('GET', 'secret/data/app/slash/', root)).resolves.toMatchObject({ status: 500, body: { errors: ['could not find version data'] } });
  await expect(call('POST', 'secret/data/app/slash/', root, { data: { a: random() } })).resolves.toMatchObject({ status: 400, body: { errors: ["cannot write to a path ending in '/'"] } });
});

test('a mount that does not exist answers 403 to any non-root token, and 404 "no handler for route" to root', async () => {
  const everything = vault.createToken({ policies: ['app'] }).token;
  vault.setPolicy('nokv', { 'nokv/*': ['read'] });
  const granted = vault.createToken({ policies: ['nokv'] }).token;
  await expect(call('GET', 'nokv/data/app/db', everything)).resolves.toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
  await expect(call('GET', 'nokv/data/app/db', granted)).resolves.toMatchObject({ status: 403 });
  const asRoot = await call('GET', 'nokv/data/app/db', root);
  expect(asRoot.status).toBe(404);
  expect(asRoot.body?.errors).toEqual([expect.stringContaining('no handler for route')]);
});

test('Vault 1.8 answers 204 to custom_metadata and drops it; no answer carries custom_metadata', async () => {
  vault.version = '1.8.12';
  try {
    vault.put('app/old', { a: random() });
    await expect(call('POST', 'secret/metadata/app/old', root, { custom_metadata: { owner: random() } })).resolves.toMatchObject({ status: 204 });
    expect(vault.customMetadata('app/old')).toEqual({});
    const read = await call('GET', 'secret/data/app/old', root);
    expect(read.body?.data).toHaveProperty('metadata.version', 1);
    expect(read.body?.data).not.toHaveProperty('metadata.custom_metadata');
    await expect(call('GET', 'sys/health', undefined)).resolves.toMatchObject({ body: { version: '1.8.12' } });
  } finally {
    vault.version = '1.15.0';
  }
  await call('POST', 'secret/metadata/app/old', root, { custom_metadata: { owner: 'x' } });
  expect(vault.customMetadata('app/old')).toEqual({ owner: 'x' });
});

test('a destroyed latest version: data 404 with its metadata, destroyed: true', async () => {
  vault.put('app/gone', { a: random() });
  await expect(call('POST', 'secret/destroy/app/gone', root, { versions: [1] })).resolves.toMatchObject({ status: 204 });
  const read = await call('GET', 'secret/data/app/gone', root);
  expect(read).toMatchObject({ status: 404, body: { data: { data: null, metadata: { version: 1, destroyed: true } } } });
  await expect(call('GET', 'secret/metadata/app/gone', root)).resolves.toMatchObject({ body: { data: { versions: { 1: { destroyed: true } } } } });
});

test('a standby redirect answers 307 with the active node address, the path and the query', async () => {
  vault.redirectNext(1, 'http://127.0.0.2:8200', 307, /^secret\/metadata\//);
  const answer = await call('GET', 'secret/metadata/app/?list=true', root);
  expect(answer.status).toBe(307);
  expect(answer.location).toBe('http://127.0.0.2:8200/v1/secret/metadata/app/?list=true');
});

test('concurrent check-and-set writers of one version: one wins, the others get 400 "check-and-set parameter did not match"', async () => {
  vault.put('app/race', { a: random() });
  const writes = await Promise.all(Array.from({ length: 5 }, () => call('POST', 'secret/data/app/race', root, { options: { cas: 1 }, data: { a: random() } })));
  expect(writes.map((w) => w.status).sort()).toEqual([200, 400, 400, 400, 400]);
  expect(writes.find((w) => w.status === 400)?.body?.errors).toEqual(['check-and-set parameter did not match the current version']);
});

describe('ACL policies written over HTTP, as `vault policy write` does', () => {
  const write = (name: string, policy: string): Promise<Reply> => call('PUT', `sys/policies/acl/${name}`, root, { policy });

  test('a policy in HCL grants read on its exact path only; list and other paths are 403', async () => {
    vault.put('acl/exact', { a: random() });
    vault.put('acl/other', { a: random() });
    const policy = '# a comment\npath "secret/data/acl/exact" {\n  capabilities = ["read"]\n}\n';
    await expect(write('acl-exact', policy)).resolves.toMatchObject({ status: 204 });
    await expect(call('GET', 'sys/policies/acl/acl-exact', root)).resolves.toMatchObject({ status: 200, body: { data: { name: 'acl-exact', policy } } });
    const token = vault.createToken({ policies: ['acl-exact'] }).token;
    await expect(call('GET', 'secret/data/acl/exact', token)).resolves.toMatchObject({ status: 200 });
    await expect(call('GET', 'secret/data/acl/other', token)).resolves.toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
    await expect(call('GET', 'secret/metadata/acl/?list=true', token)).resolves.toMatchObject({ status: 403 });
    await expect(call('POST', 'secret/data/acl/exact', token, { data: { a: random() } })).resolves.toMatchObject({ status: 403 });
  });

  test('a trailing * is a prefix glob and a + segment matches one segment, as Vault documents', async () => {
    for (const path of ['globs/a/db', 'globs/a/b/db', 'globs/team-x/db', 'globs/team-x/cache', 'globsy']) vault.put(path, { a: random() });
    await write('acl-globs', [
      'path "secret/data/globs/a/*" { capabilities = ["read"] }',
      'path "secret/data/globs/+/db" { capabilities = ["read"] }',
      'path "secret/metadata/globs/*" { capabilities = ["list"] }',
    ].join('\n'));
    const token = vault.createToken({ policies: ['acl-globs'] }).token;
    const status = async (path: string) => (await call('GET', path, token)).status;
    expect(await status('secret/data/globs/a/db')).toBe(200);
    expect(await status('secret/data/globs/a/b/db')).toBe(200); // * spans segments
    expect(await status('secret/data/globs/team-x/db')).toBe(200); // + is one segment
    expect(await status('secret/data/globs/team-x/cache')).toBe(403);
    expect(await status('secret/data/globsy')).toBe(403);
    expect(await status('secret/metadata/globs/?list=true')).toBe(200);
    expect(await status('secret/metadata/globs/a/db')).toBe(403); // list, not read
  });

  test('priority: an exact path beats any glob; of two globs the one whose first wildcard comes later wins; deny wins on one path', async () => {
    vault.put('prio/a/b', { a: random() });
    vault.put('prio/a/c', { a: random() });
    await write('acl-prio-1', 'path "secret/data/prio/*" { capabilities = ["read"] }\npath "secret/data/prio/a/b" { capabilities = ["list"] }');
    await write('acl-prio-2', 'path "secret/data/+/a/c" { capabilities = ["read"] }\npath "secret/data/prio/a/*" { capabilities = ["deny"] }');
    const token = vault.createToken({ policies: ['acl-prio-1', 'acl-prio-2'] }).token;
    // exact secret/data/prio/a/b grants list only: read refused although secret/data/prio/* grants it
    await expect(call('GET', 'secret/data/prio/a/b', token)).resolves.toMatchObject({ status: 403 });
    // secret/data/prio/a/* (first wildcard later than in secret/data/+/a/c) decides: deny
    await expect(call('GET', 'secret/data/prio/a/c', token)).resolves.toMatchObject({ status: 403 });
    await write('acl-prio-3', 'path "secret/data/prio/a/b" { capabilities = ["read"] }');
    const both = vault.createToken({ policies: ['acl-prio-1', 'acl-prio-3'] }).token;
    // the same exact path in two policies: capabilities add up
    await expect(call('GET', 'secret/data/prio/a/b', both)).resolves.toMatchObject({ status: 200 });
  });

  test.each([
    ['a syntax error', 'path "secret/data/x" {\n  capabilities = ["read"\n', /^failed to parse policy: At (\d+:\d+|EOF): /],
    ['an unknown capability', 'path "secret/data/x" { capabilities = ["read", "own"] }', /^failed to parse policy: path "secret\/data\/x": invalid capability "own"$/],
    ['an unknown top-level key', 'paths "secret/data/x" { capabilities = ["read"] }', /^failed to parse policy: invalid key "paths" on line 1$/],
    ['an unknown key in a path', 'path "secret/data/x" {\n  capability = ["read"]\n}', /^failed to parse policy: path "secret\/data\/x": invalid key "capability" on line 1$/],
    ['+* in a path', 'path "secret/data/+*" { capabilities = ["read"] }', /^failed to parse policy: path "secret\/data\/\+\*": invalid use of wildcards/],
    ['an empty policy', '', /^'policy' parameter not supplied or empty$/],
  ])('%s: 400 with Vault\'s message, and the policy is not stored', async (_, policy, message) => {
    const answer = await write('acl-bad', policy);
    expect(answer.status).toBe(400);
    expect(answer.body?.errors).toEqual([expect.stringMatching(message)]);
    await expect(call('GET', 'sys/policies/acl/acl-bad', root)).resolves.toMatchObject({ status: 404 });
  });

  test('a token without a policy that grants sys/policies/acl cannot write one', async () => {
    const token = vault.createToken({ policies: ['app'] }).token;
    await expect(call('PUT', 'sys/policies/acl/mine', token, { policy: 'path "secret/*" { capabilities = ["read"] }' })).resolves.toMatchObject({ status: 403 });
  });
});

test('an idle connection stays open past Node\'s 5 s default, as Vault keeps it 5 minutes (http_idle_timeout)', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const get = () => new Promise<{ status?: number; reused: boolean }>((done, fail) => {
    const req = request(`${vault.address}/v1/sys/health`, { agent }, (res) => {
      res.resume();
      res.on('end', () => done({ status: res.statusCode, reused: req.reusedSocket }));
    });
    req.on('error', fail);
    req.end();
  });
  try {
    expect(await get()).toMatchObject({ reused: false });
    await new Promise((done) => setTimeout(done, 5_500));
    expect(await get()).toMatchObject({ reused: true });
  } finally {
    agent.destroy();
  }
}, 15_000);

describe('Kubernetes auth as real Vault does it: roles over HTTP, logins reviewed by the real kube-apiserver', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = TestCluster.start();
    for (const ns of ['team-a', 'team-b', 'vault']) cluster.kubectlOk(['create', 'namespace', ns]);
    for (const [ns, name] of [['team-a', 'app'], ['team-a', 'other'], ['team-b', 'app'], ['vault', 'vault-auth']]) cluster.kubectlOk(['create', 'serviceaccount', name, '-n', ns]);
    cluster.kubectlOk(['create', 'clusterrolebinding', 'vault-auth-delegator', '--clusterrole=system:auth-delegator', '--serviceaccount=vault:vault-auth']);
    await expect(call('POST', 'sys/auth/k8s', root, { type: 'kubernetes' })).resolves.toMatchObject({ status: 204 });
    await expect(call('POST', 'auth/k8s/config', root, {
      kubernetes_host: cluster.url,
      kubernetes_ca_cert: readFileSync(join(cluster.dir, 'certs', 'apiserver.crt'), 'utf8'),
      token_reviewer_jwt: await cluster.serviceAccountToken('vault', 'vault-auth'),
    })).resolves.toMatchObject({ status: 204 });
    vault.put('team-a/db', { password: random() });
    await call('PUT', 'sys/policies/acl/team-a', root, { policy: 'path "secret/data/team-a/db" { capabilities = ["read"] }' });
    const role = await call('POST', 'auth/k8s/role/team-a', root, {
      bound_service_account_names: ['app'], bound_service_account_namespaces: ['team-a'], token_policies: ['team-a'], token_ttl: '1h', token_max_ttl: '4h',
    });
    expect(role).toMatchObject({ status: 200, body: { warnings: [expect.stringContaining('does not specify an audience')] } });
  }, 180_000);

  afterAll(() => cluster?.stop());

  const login = (role: string, jwt: string) => call('POST', 'auth/k8s/login', undefined, { role, jwt });

  test('the bound ServiceAccount logs in with its real token: a token with the role\'s policy, its TTL and the reviewed ServiceAccount', async () => {
    const answer = await login('team-a', await cluster.serviceAccountToken('team-a', 'app'));
    expect(answer.status).toBe(200);
    const auth = answer.body?.auth as { client_token: string; token_policies: string[]; lease_duration: number; metadata: { [k: string]: string } };
    expect(auth.token_policies).toEqual(['default', 'team-a']);
    expect(auth.lease_duration).toBe(3600);
    expect(auth.metadata).toMatchObject({ role: 'team-a', service_account_name: 'app', service_account_namespace: 'team-a', service_account_uid: expect.any(String) });
    await expect(call('GET', 'secret/data/team-a/db', auth.client_token)).resolves.toMatchObject({ status: 200 });
  });

  test('another ServiceAccount name, or the same name in another namespace: 403 with Vault\'s messages', async () => {
    await expect(login('team-a', await cluster.serviceAccountToken('team-a', 'other'))).resolves.toMatchObject({ status: 403, body: { errors: ['service account name not authorized'] } });
    await expect(login('team-a', await cluster.serviceAccountToken('team-b', 'app'))).resolves.toMatchObject({ status: 403, body: { errors: ['namespace not authorized'] } });
  });

  test('a forged token whose claims name the bound ServiceAccount is refused by the TokenReview: 403 permission denied', async () => {
    const real = await cluster.serviceAccountToken('team-a', 'app');
    const [header, payload] = real.split('.');
    const forged = `${header}.${payload}.${Buffer.from(random()).toString('base64url')}`;
    await expect(login('team-a', forged)).resolves.toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
    await expect(login('team-a', 'not-a-jwt')).resolves.toMatchObject({ status: 403 });
  });

  test('an unknown role is 400 "invalid role name"; a login without jwt 400 "missing jwt"', async () => {
    await expect(login('nobody', await cluster.serviceAccountToken('team-a', 'app'))).resolves.toMatchObject({ status: 400, body: { errors: ['invalid role name "nobody"'] } });
    await expect(call('POST', 'auth/k8s/login', undefined, { role: 'team-a' })).resolves.toMatchObject({ status: 400, body: { errors: ['missing jwt'] } });
  });

  test.each([
    ['no names', { bound_service_account_namespaces: ['a'] }, '"bound_service_account_names" can not be empty'],
    ['no namespaces', { bound_service_account_names: ['a'] }, '"bound_service_account_namespaces" can not be empty if "bound_service_account_namespace_selector" is not set'],
    ['"*" with names', { bound_service_account_names: ['*', 'a'], bound_service_account_namespaces: ['a'] }, 'can not mix "*" with values'],
    ['ttl over max ttl', { bound_service_account_names: ['a'], bound_service_account_namespaces: ['a'], token_ttl: '2h', token_max_ttl: '1h' }, 'token ttl should not be greater than token max ttl'],
  ])('a role with %s: 400 with Vault\'s message', async (_, body, message) => {
    await expect(call('POST', 'auth/k8s/role/bad', root, body)).resolves.toMatchObject({ status: 400, body: { errors: [message] } });
    await expect(call('GET', 'auth/k8s/role/bad', root)).resolves.toMatchObject({ status: 404 });
  });
});
