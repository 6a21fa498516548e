import { random } from './helpers';
import { VaultTestServer } from './vault-test-server';

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
