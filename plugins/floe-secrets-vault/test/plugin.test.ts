import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { ConnectionError, PermissionError, PluginOptions, SecretsConfigError } from '@floe-secrets/core';
import { FaultServer } from '../../floe-secrets-core/test/fault-server';
import { DEFAULT_KUBERNETES_JWT_PATH, VaultSecretsPlugin } from '../src';
import { failure, fast, random } from './helpers';
import { VaultTestServer } from './vault-test-server';


let vault: VaultTestServer;
let dir: string;

beforeAll(async () => {
  vault = await VaultTestServer.start();
  vault.setPolicy('rw', { 'secret/data/*': ['create', 'read', 'update'], 'secret/metadata/*': ['list', 'read', 'create', 'update'] });
  vault.setPolicy('app-only', { 'secret/data/app/*': ['read'], 'secret/metadata/app/*': ['list'] });
  dir = mkdtempSync(join(tmpdir(), 'floe-vault-'));
});

afterAll(async () => {
  await vault.close();
  rmSync(dir, { recursive: true, force: true });
});

const tokenConfig = (policies: string[] = ['rw'], extra: object = {}) =>
  ({ address: vault.address, auth: { method: 'token', token: vault.createToken({ policies }).token }, ...extra });
const tokenPlugin = (policies: string[] = ['rw'], extra: object = {}, options: PluginOptions = fast) => new VaultSecretsPlugin(tokenConfig(policies, extra), options);
const since = (mark: number) => vault.requests.slice(mark);

describe('configuration', () => {
  const base = () => ({ address: 'http://127.0.0.1:8200', auth: { method: 'token', token: random() } });

  test('unknown fields are refused by name, never echoing a value', () => {
    const value = random();
    const error = (() => {
      try {
        return new VaultSecretsPlugin({ ...base(), tokne: value, auth: { method: 'token', token: random(), extra: value } });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect((error as Error).message).toContain('unknown field(s) tokne');
    expect((error as Error).message).toContain('auth: unknown field(s) extra');
    expect((error as Error).message).not.toContain(value);
  });

  test.each([
    ['token without token', (s: string) => ({ auth: { method: 'token' }, secret: s }), 'auth.token'],
    ['token empty', () => ({ auth: { method: 'token', token: '' } }), 'auth.token'],
    ['token of the wrong type', () => ({ auth: { method: 'token', token: 12345 } }), 'auth.token: expected string'],
    ['approle without secretId', (s: string) => ({ auth: { method: 'approle', roleId: s } }), 'auth.secretId'],
    ['approle without roleId', (s: string) => ({ auth: { method: 'approle', secretId: s } }), 'auth.roleId'],
    ['kubernetes without role', (s: string) => ({ auth: { method: 'kubernetes', jwtPath: `/tmp/${s}` }, x: 1 }), 'auth.role'],
    ['no auth', () => ({ auth: undefined }), 'auth'],
    ['an unknown method', (s: string) => ({ auth: { method: 'userpass', password: s } }), 'auth.method'],
    ['an address with credentials', (s: string) => ({ address: `http://user:${s}@vault.example:8200` }), 'address'],
    ['an address that is no URL', (s: string) => ({ address: s }), 'address'],
    ['a bad mount', () => ({ mount: '/secret/' }), 'mount'],
  ])('%s is refused, naming the field', (_name, patch, fieldName) => {
    const secret = random();
    const input = { ...base(), ...patch(secret) } as { [k: string]: unknown };
    delete input.secret;
    delete input.x;
    let error: unknown;
    try {
      new VaultSecretsPlugin(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect((error as Error).message).toContain(fieldName);
    expect(`${(error as Error).message}${(error as Error).stack}`).not.toContain(secret);
  });

  test('defaults: mount secret, auth mounts approle and kubernetes, the pod service account token path', () => {
    const k8s = new VaultSecretsPlugin({ address: 'http://127.0.0.1:1', auth: { method: 'kubernetes', role: 'floe' } });
    expect(k8s.config.mount).toBe('secret');
    expect(k8s.config.auth).toEqual({ method: 'kubernetes', role: 'floe', jwtPath: DEFAULT_KUBERNETES_JWT_PATH, mount: 'kubernetes' });
    expect(DEFAULT_KUBERNETES_JWT_PATH).toBe('/var/run/secrets/kubernetes.io/serviceaccount/token');
    const approle = new VaultSecretsPlugin({ address: 'http://127.0.0.1:1', auth: { method: 'approle', roleId: random(), secretId: random() } });
    expect(approle.config.auth).toMatchObject({ method: 'approle', mount: 'approle' });
    expect(Object.isFrozen(approle.config)).toBe(true);
  });

  test('an unreadable caCertFile is a SecretsConfigError naming the file; a readable one is used', () => {
    const missing = join(dir, 'missing-ca.pem');
    expect(() => new VaultSecretsPlugin({ ...base(), caCertFile: missing })).toThrow(SecretsConfigError);
    expect(() => new VaultSecretsPlugin({ ...base(), caCertFile: missing })).toThrow(/missing-ca\.pem \(ENOENT\)/);
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    expect(new VaultSecretsPlugin({ ...base(), caCertFile: ca }).config.caCertFile).toBe(ca);
  });

  test('environment variables (VAULT_TOKEN, VAULT_NAMESPACE) are never read', async () => {
    const saved = { ...process.env };
    process.env.VAULT_TOKEN = vault.createToken({ policies: ['root'] }).token;
    process.env.VAULT_NAMESPACE = 'elsewhere';
    try {
      const plugin = tokenPlugin(['app-only']);
      const mark = vault.requests.length;
      await expect(plugin.getSecret('other/x/y')).rejects.toBeInstanceOf(PermissionError);
      expect(since(mark).every((r) => r.namespace === '')).toBe(true);
    } finally {
      process.env = saved;
    }
  });
});

describe('keys and values', () => {
  test('a key names field <last segment> of the secret at the path before it; setting one field keeps the others', async () => {
    const plugin = tokenPlugin();
    vault.put('compute/snowflake', { user: 'floe' });
    await plugin.setSecret('compute/snowflake/password', 'p1');
    expect(vault.peek('compute/snowflake')).toEqual({ user: 'floe', password: 'p1' });
    await expect(plugin.getSecret('compute/snowflake/password')).resolves.toBe('p1');
    await expect(plugin.getSecret('compute/snowflake/missing-field')).resolves.toBeUndefined();
  });

  test('a key without a field is refused before anything is sent', async () => {
    const plugin = tokenPlugin();
    const mark = vault.requests.length;
    const error = await failure(plugin.getSecret('password'));
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect(error.message).toContain('<secret path>/<field>');
    expect(since(mark)).toEqual([]);
  });

  test('path segments are URL-encoded, so ?, #, % and spaces reach Vault as written', async () => {
    const plugin = tokenPlugin();
    const key = 'odd dir/with?query#frag%25/pass word';
    await plugin.setSecret(key, 'v');
    expect(vault.peek('odd dir/with?query#frag%25')).toEqual({ 'pass word': 'v' });
    await expect(plugin.getSecret(key)).resolves.toBe('v');
  });

  test('fields that are not strings read as text; null reads as missing', async () => {
    const plugin = tokenPlugin();
    vault.put('app/typed', { port: 5432, tls: true, opts: { a: 1 }, nothing: null });
    await expect(plugin.getSecret('app/typed/port')).resolves.toBe('5432');
    await expect(plugin.getSecret('app/typed/tls')).resolves.toBe('true');
    await expect(plugin.getSecret('app/typed/opts')).resolves.toBe('{"a":1}');
    await expect(plugin.getSecret('app/typed/nothing')).resolves.toBeUndefined();
  });

  test('metadata becomes the secret\'s custom_metadata, written only when it changes', async () => {
    const plugin = tokenPlugin();
    await plugin.setSecret('meta/db/password', random(), { owner: 'team-a' });
    await plugin.setSecret('meta/db/user', 'u', { tier: 'gold' });
    expect(vault.customMetadata('meta/db')).toEqual({ owner: 'team-a', tier: 'gold' });
    const mark = vault.requests.length;
    await plugin.setSecret('meta/db/user', 'u2', { owner: 'team-a' });
    expect(since(mark).filter((r) => r.path.startsWith('secret/metadata/'))).toEqual([]);
  });
});

describe('check-and-set', () => {
  test('a concurrent writer between read and write: the write is retried on a fresh read, losing nothing', async () => {
    const plugin = tokenPlugin();
    vault.put('cas/one', { a: '1' });
    let once = true;
    vault.beforeKvWrite = (_ns, _mount, path) => {
      if (path !== 'cas/one' || !once) return;
      once = false;
      vault.put('cas/one', { a: '1', b: 'concurrent' });
    };
    const mark = vault.requests.length;
    try {
      await plugin.setSecret('cas/one/c', 'mine');
    } finally {
      vault.beforeKvWrite = undefined;
    }
    expect(vault.peek('cas/one')).toEqual({ a: '1', b: 'concurrent', c: 'mine' });
    const writes = since(mark).filter((r) => r.method === 'POST' && r.path === 'secret/data/cas/one');
    expect(writes.map((w) => [w.status, (w.body as { options: { cas: number } }).options.cas])).toEqual([[400, 1], [200, 2]]);
  });

  test('two fields set at once on a new secret both survive', async () => {
    const plugin = tokenPlugin();
    await Promise.all([plugin.setSecret('cas/two/a', 'A'), plugin.setSecret('cas/two/b', 'B'), plugin.setSecret('cas/two/c', 'C')]);
    expect(vault.peek('cas/two')).toEqual({ a: 'A', b: 'B', c: 'C' });
  });

  test('a secret that keeps changing fails with a clear ConnectionError after casRetries', async () => {
    const plugin = tokenPlugin(['rw'], { casRetries: 1 });
    vault.put('cas/busy', { a: '1' });
    vault.beforeKvWrite = (_ns, _mount, path) => {
      if (path === 'cas/busy') vault.put('cas/busy', { a: random() });
    };
    const mark = vault.requests.length;
    try {
      const error = await failure(plugin.setSecret('cas/busy/b', 'x'));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toMatch(/lost 2 check-and-set race/);
    } finally {
      vault.beforeKvWrite = undefined;
    }
    expect(since(mark).filter((r) => r.method === 'POST')).toHaveLength(2);
  });

  test('a secret whose latest version was deleted is written with that version as cas', async () => {
    const plugin = tokenPlugin();
    vault.put('cas/deleted', { a: '1' });
    vault.softDelete('cas/deleted');
    await expect(plugin.getSecret('cas/deleted/a')).resolves.toBeUndefined();
    await plugin.setSecret('cas/deleted/b', 'new');
    expect(vault.peek('cas/deleted')).toEqual({ b: 'new' });
  });
});

describe('listSecrets', () => {
  beforeAll(() => {
    vault.put('tree', { root: '0' });
    vault.put('tree/a', { x: '1', y: '2' });
    vault.put('tree/sub/b', { z: '3' });
    vault.put('tree/sub/deeper/c', { w: '4' });
    vault.put('treehouse/d', { v: '5' });
  });

  test('walks folders recursively and returns <path>/<field> keys', async () => {
    const plugin = tokenPlugin();
    const mark = vault.requests.length;
    await expect(plugin.listSecrets('tree/')).resolves.toEqual(['tree/a/x', 'tree/a/y', 'tree/root', 'tree/sub/b/z', 'tree/sub/deeper/c/w']);
    const lists = since(mark).filter((r) => r.query === '?list=true');
    expect(lists.map((r) => r.path).sort()).toEqual(['secret/metadata/tree/', 'secret/metadata/tree/sub/', 'secret/metadata/tree/sub/deeper/']);
    expect(lists.every((r) => r.method === 'GET')).toBe(true);
  });

  test('a prefix may end inside a segment or a field name', async () => {
    const plugin = tokenPlugin();
    await expect(plugin.listSecrets('tree')).resolves.toEqual(['tree/a/x', 'tree/a/y', 'tree/root', 'tree/sub/b/z', 'tree/sub/deeper/c/w', 'treehouse/d/v']);
    await expect(plugin.listSecrets('tree/a/x')).resolves.toEqual(['tree/a/x']);
    await expect(plugin.listSecrets('tree/sub/de')).resolves.toEqual(['tree/sub/deeper/c/w']);
    await expect(plugin.listSecrets('tree/nothing-here/')).resolves.toEqual([]);
  });

  test('more than listLimit folders and secrets fails rather than returning part of the list', async () => {
    const error = await failure(tokenPlugin(['rw'], { listLimit: 3 }).listSecrets('tree/'));
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect(error.message).toContain('listLimit');
  });

  test('the folder\'s own secret is skipped when unreadable; a denied folder is a PermissionError', async () => {
    vault.setPolicy('tree-sub', { 'secret/metadata/tree/sub/*': ['list'], 'secret/data/tree/sub/*': ['read'] });
    const plugin = tokenPlugin(['tree-sub']);
    await expect(plugin.listSecrets('tree/sub/')).resolves.toEqual(['tree/sub/b/z', 'tree/sub/deeper/c/w']);
    await expect(plugin.listSecrets('tree/')).rejects.toBeInstanceOf(PermissionError);
  });
});

describe('getMultiKeySecret', () => {
  test('returns every field of a top-level secret; missing is {}', async () => {
    vault.put('snowflake', { user: 'floe', password: 'pw', port: 443 });
    const plugin = tokenPlugin();
    await expect(plugin.getMultiKeySecret('snowflake')).resolves.toEqual({ user: 'floe', password: 'pw', port: '443' });
    await expect(plugin.getMultiKeySecret('no-such-secret')).resolves.toEqual({});
  });

  test('reads a nested secret whole', async () => {
    vault.put('compute/snowflake', { user: 'floe' });
    await expect(tokenPlugin().getMultiKeySecret('compute/snowflake')).resolves.toEqual({ user: 'floe' });
    await expect(tokenPlugin().getMultiKeySecret('compute/../etc')).rejects.toBeInstanceOf(SecretsConfigError);
  });

  test('a denied read is a PermissionError', async () => {
    await expect(tokenPlugin(['app-only']).getMultiKeySecret('snowflake')).rejects.toBeInstanceOf(PermissionError);
  });
});

describe('concurrent writers (check-and-set with backoff and full jitter)', () => {
  test('10 concurrent setSecret calls on fields of one secret, from 10 clients, all succeed within the budget, no update lost', async () => {
    const { token } = vault.createToken({ policies: ['rw'] });
    const budget: PluginOptions = { retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 50, totalTimeoutMs: 5_000, attemptTimeoutMs: 5_000 } };
    const writers = Array.from({ length: 10 }, () => new VaultSecretsPlugin({ address: vault.address, auth: { method: 'token', token } }, budget));
    const fields = writers.map((_, i) => [`f${i}`, random()] as const);
    const started = Date.now();
    const results = await Promise.allSettled(writers.map((plugin, i) => plugin.setSecret(`race/ten/${fields[i][0]}`, fields[i][1])));
    const elapsed = Date.now() - started;
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    expect(vault.peek('race/ten')).toEqual(Object.fromEntries(fields));
    expect(elapsed).toBeLessThan(5_000);
  });

  test('10 concurrent setSecret calls through one plugin all succeed, no update lost', async () => {
    const plugin = tokenPlugin(['rw'], {}, { retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 50, totalTimeoutMs: 5_000, attemptTimeoutMs: 5_000 } });
    const fields = Array.from({ length: 10 }, (_, i) => [`f${i}`, random()] as const);
    await Promise.all(fields.map(([name, value]) => plugin.setSecret(`race/one/${name}`, value)));
    expect(vault.peek('race/one')).toEqual(Object.fromEntries(fields));
  });
});

describe('mounts', () => {
  test('a KV version 1 mount is refused with a SecretsConfigError before anything is written; health reports it', async () => {
    vault.addKvMount('kv1', '', { version: 1 });
    vault.setPolicy('kv1', { 'kv1/*': ['create', 'read', 'update', 'list'] });
    const plugin = tokenPlugin(['kv1'], { mount: 'kv1' });
    const value = random();
    const write = await failure(plugin.setSecret('app/db/password', value));
    expect(write).toBeInstanceOf(SecretsConfigError);
    expect(write.message).toContain('mount "kv1" is a KV version 1 engine');
    expect(vault.peekV1('kv1', 'data/app/db')).toBeUndefined();
    await expect(plugin.getSecret('app/db/password')).rejects.toBeInstanceOf(SecretsConfigError);
    await expect(plugin.listSecrets('app/')).rejects.toBeInstanceOf(SecretsConfigError);
    await expect(plugin.healthCheck()).resolves.toMatchObject({ state: 'unhealthy', message: expect.stringContaining('KV version 1') });
  });

  test('a mount that does not exist: "no access to mount X, or it does not exist", for get, set, list and health', async () => {
    const plugin = tokenPlugin(['rw'], { mount: 'no-such-mount' });
    for (const call of [plugin.getSecret('app/db/password'), plugin.setSecret('app/db/password', random()), plugin.listSecrets('app/')]) {
      const error = await failure(call);
      expect(error).toBeInstanceOf(PermissionError);
      expect(error.message).toContain('no access to mount "no-such-mount", or it does not exist');
    }
    await expect(plugin.healthCheck()).resolves.toMatchObject({ state: 'unhealthy', message: expect.stringContaining('or it does not exist') });
  });

  test('with a root token a mount that does not exist is a SecretsConfigError', async () => {
    const plugin = tokenPlugin(['root'], { mount: 'no-such-mount' });
    const error = await failure(plugin.getSecret('app/db/password'));
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect(error.message).toContain('mount "no-such-mount" does not exist');
  });

  test('the mount is asked once per plugin, and health checks it', async () => {
    const plugin = tokenPlugin();
    const mark = vault.requests.length;
    await plugin.getSecret('app/db/password');
    await plugin.getSecret('app/db/password');
    await expect(plugin.healthCheck()).resolves.toMatchObject({ state: 'healthy' });
    expect(since(mark).filter((r) => r.path.startsWith('sys/internal/ui/mounts/')).map((r) => r.path)).toEqual(['sys/internal/ui/mounts/secret']);
  });
});

describe('versions and Vault releases', () => {
  test('a destroyed latest version reads as missing, and setSecret still works', async () => {
    const plugin = tokenPlugin();
    vault.put('destroyed/db', { password: random() });
    vault.destroyLatest('destroyed/db');
    await expect(plugin.getSecret('destroyed/db/password')).resolves.toBeUndefined();
    await expect(plugin.getMultiKeySecret('destroyed/db')).resolves.toEqual({});
    const value = random();
    await plugin.setSecret('destroyed/db/password', value);
    await expect(plugin.getSecret('destroyed/db/password')).resolves.toBe(value);
  });

  test('Vault 1.8: setSecret stores the value and sends no custom_metadata, which Vault before 1.9 would drop', async () => {
    vault.version = '1.8.12';
    try {
      const plugin = tokenPlugin();
      const value = random();
      const mark = vault.requests.length;
      await plugin.setSecret('old/db/password', value, { owner: random() });
      await expect(plugin.getSecret('old/db/password')).resolves.toBe(value);
      expect(since(mark).filter((r) => r.path.startsWith('secret/metadata/'))).toEqual([]);
    } finally {
      vault.version = '1.15.0';
    }
  });
});

describe('redirects', () => {
  let elsewhere: FaultServer;
  beforeAll(async () => {
    elsewhere = await FaultServer.start();
  });
  afterAll(async () => {
    await elsewhere.close();
  });

  test.each([301, 307] as const)('a %i of a write to another origin carries neither the value nor the token there: ConnectionError naming the host, nothing written', async (status) => {
    const { token } = vault.createToken({ policies: ['rw'] });
    const plugin = new VaultSecretsPlugin({ address: vault.address, auth: { method: 'token', token } }, fast);
    const value = random();
    const hidden = random();
    vault.redirectNext(1, `${elsewhere.address}/${hidden}`, status, /^secret\/data\/redirected\/db$/, 'POST');
    const error = await failure(plugin.setSecret('redirected/db/password', value));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toContain(`to another host, ${new URL(elsewhere.address).host}`);
    expect(elsewhere.received).toEqual([]);
    expect(vault.peek('redirected/db')).toBeUndefined();
    const printed = `${error.message}${error.stack}${inspect(error, { depth: Infinity, showHidden: true })}`;
    for (const secret of [value, token, hidden]) expect(printed).not.toContain(secret);
  });

  test('a same-origin redirect (a standby pointing at the active node on the same address) is followed', async () => {
    const plugin = tokenPlugin();
    const value = random();
    vault.put('standby/db', { password: value });
    vault.redirectNext(1, vault.address, 307, /^secret\/data\/standby\/db$/);
    await expect(plugin.getSecret('standby/db/password')).resolves.toBe(value);
  });
});
