import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import {
  AuditEvent,
  AuditLogger,
  ConnectionError,
  discoverSecretsPlugins,
  loadSecretsPlugin,
  PermissionError,
  SecretsConfigError,
} from '@floe-secrets/core';
import { FaultServer } from '../../floe-secrets-core/test/fault-server';
import { VaultSecretsPlugin } from '../src';
import { failure, fast, random } from './helpers';
import { VaultTestServer } from './vault-test-server';

/* Auth methods, token expiry and re-login, namespaces, transient errors, health, printing, discovery. */

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

let vault: VaultTestServer;
let dir: string;

beforeAll(async () => {
  vault = await VaultTestServer.start();
  vault.setPolicy('rw', { 'secret/data/*': ['create', 'read', 'update'], 'secret/metadata/*': ['list', 'read', 'create', 'update'] });
  vault.setPolicy('app-only', { 'secret/data/app/*': ['read', 'create', 'update'] });
  vault.put('app/db', { password: 'pw' });
  dir = mkdtempSync(join(tmpdir(), 'floe-vault-auth-'));
});

afterAll(async () => {
  await vault.close();
  rmSync(dir, { recursive: true, force: true });
});

const since = (mark: number) => vault.requests.slice(mark);
const appRole = (policies: string[], options: { ttlSeconds?: number; mount?: string; namespace?: string } = {}) => {
  const role = { name: `role-${randomBytes(3).toString('hex')}`, roleId: random(), secretId: random(), policies, ...options };
  vault.addAppRole(role);
  return role;
};
const appRolePlugin = (role: ReturnType<typeof appRole>, extra: object = {}) => new VaultSecretsPlugin({
  address: vault.address,
  namespace: role.namespace,
  auth: { method: 'approle', roleId: role.roleId, secretId: role.secretId, ...(role.mount ? { mount: role.mount } : {}) },
  ...extra,
}, fast);

describe('token auth', () => {
  test('the requester is token/<accessor>, learnt by one lookup-self; the mount is checked once; the token is sent as X-Vault-Token only', async () => {
    const { token, accessor } = vault.createToken({ policies: ['rw'] });
    const plugin = new VaultSecretsPlugin({ address: vault.address, auth: { method: 'token', token } }, fast);
    expect(plugin.requester).not.toContain(token);
    const mark = vault.requests.length;
    await plugin.getSecret('app/db/password');
    await plugin.getSecret('app/db/password');
    expect(plugin.requester).toBe(`token/${accessor}`);
    expect(since(mark).map((r) => r.path)).toEqual(['auth/token/lookup-self', 'sys/internal/ui/mounts/secret', 'secret/data/app/db', 'secret/data/app/db']);
    expect(since(mark).every((r) => r.hasToken)).toBe(true);
  });

  test('an expired token is a PermissionError (a token cannot log in again)', async () => {
    const { token } = vault.createToken({ policies: ['rw'], ttlSeconds: 1 });
    const plugin = new VaultSecretsPlugin({ address: vault.address, auth: { method: 'token', token } }, fast);
    await expect(plugin.getSecret('app/db/password')).resolves.toBe('pw');
    await sleep(1_100);
    const error = await failure(plugin.getSecret('app/db/password'));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toContain('expired');
  });
});

describe('AppRole auth', () => {
  test('logs in once at auth/approle/login without a token; the requester is approle/<role name>', async () => {
    const role = appRole(['rw']);
    const plugin = appRolePlugin(role);
    expect(plugin.requester).toBe('approle/(not logged in yet)');
    const mark = vault.requests.length;
    await Promise.all(Array.from({ length: 5 }, () => plugin.getSecret('app/db/password')));
    await plugin.setSecret('app/db/user', 'u');
    expect(plugin.logins).toBe(1);
    const login = since(mark).filter((r) => r.path === 'auth/approle/login');
    expect(login).toHaveLength(1);
    expect(login[0].hasToken).toBe(false);
    expect(login[0].body).toEqual({ role_id: role.roleId, secret_id: role.secretId });
    expect(plugin.requester).toBe(`approle/${role.name}`);
  });

  test('a wrong secret id is a PermissionError that names neither id', async () => {
    const role = appRole(['rw']);
    const plugin = appRolePlugin({ ...role, secretId: random() });
    const error = await failure(plugin.getSecret('app/db/password'));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toContain('AppRole login at auth/approle was refused (HTTP 400)');
    expect(`${error.message}${error.stack}`).not.toContain(role.roleId);
  });

  test('a custom auth mount is used; a wrong one is a SecretsConfigError', async () => {
    const role = appRole(['rw'], { mount: 'ci-approle' });
    await expect(appRolePlugin(role).getSecret('app/db/password')).resolves.toBe('pw');
    const error = await failure(appRolePlugin({ ...role, mount: 'nowhere' }).getSecret('app/db/password'));
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect(error.message).toContain('auth/nowhere/login');
  });

  test('an expiring token is renewed by a new login before it runs out, without a failed call', async () => {
    const role = appRole(['rw'], { ttlSeconds: 1 });
    const plugin = appRolePlugin(role);
    await expect(plugin.getSecret('app/db/password')).resolves.toBe('pw');
    await sleep(1_000);
    const mark = vault.requests.length;
    await expect(plugin.getSecret('app/db/password')).resolves.toBe('pw');
    expect(plugin.logins).toBe(2);
    expect(since(mark).map((r) => [r.path, r.status])).toEqual([['auth/approle/login', 200], ['secret/data/app/db', 200]]);
  });

  test('a token revoked behind the plugin\'s back: 403, lookup-self says dead, one new login, the call succeeds', async () => {
    const role = appRole(['rw']);
    const plugin = appRolePlugin(role);
    await plugin.getSecret('app/db/password');
    expect(vault.revoke({ role: role.name })).toBe(1);
    const mark = vault.requests.length;
    await expect(plugin.getSecret('app/db/password')).resolves.toBe('pw');
    expect(plugin.logins).toBe(2);
    expect(since(mark).map((r) => [r.path, r.status])).toEqual([
      ['secret/data/app/db', 403], ['auth/token/lookup-self', 403], ['auth/approle/login', 200], ['secret/data/app/db', 200],
    ]);
  });

  test('a real denial: 403, lookup-self says alive, PermissionError without a new login', async () => {
    const role = appRole(['app-only']);
    const plugin = appRolePlugin(role);
    await plugin.getSecret('app/db/password');
    const mark = vault.requests.length;
    const error = await failure(plugin.getSecret('other/db/password'));
    expect(error).toBeInstanceOf(PermissionError);
    expect(error.message).toContain(`grant approle/${role.name} "read" on secret/data/other/db`);
    expect(plugin.logins).toBe(1);
    expect(since(mark).map((r) => [r.path, r.status])).toEqual([['secret/data/other/db', 403], ['auth/token/lookup-self', 200]]);
  });
});

describe('Kubernetes auth', () => {
  const k8sPlugin = (role: string, jwtPath: string, extra: object = {}) =>
    new VaultSecretsPlugin({ address: vault.address, auth: { method: 'kubernetes', role, jwtPath, ...extra } }, fast);

  test('logs in with the role and the service account JWT read from the file at each login', async () => {
    const jwtPath = join(dir, 'token');
    const first = random();
    const second = random();
    vault.addKubernetesRole({ name: 'floe-etl', jwt: first, policies: ['rw'] });
    vault.addKubernetesRole({ name: 'floe-etl', jwt: second, policies: ['rw'] });
    writeFileSync(jwtPath, `${first}\n`);
    const plugin = k8sPlugin('floe-etl', jwtPath);
    expect(plugin.requester).toBe('kubernetes/floe-etl');
    const mark = vault.requests.length;
    await expect(plugin.getSecret('app/db/password')).resolves.toBe('pw');
    expect(since(mark)[0]).toMatchObject({ path: 'auth/kubernetes/login', body: { role: 'floe-etl', jwt: first }, hasToken: false });
    // The projected token rotated, and the Vault token was revoked: the next login reads the new JWT.
    writeFileSync(jwtPath, second);
    vault.revoke({ role: 'floe-etl' });
    await expect(plugin.getSecret('app/db/password')).resolves.toBe('pw');
    expect(vault.requests.filter((r) => r.path === 'auth/kubernetes/login').pop()?.body).toEqual({ role: 'floe-etl', jwt: second });
    expect(plugin.logins).toBe(2);
  });

  test('a JWT the role does not accept is a PermissionError; a missing or empty file a SecretsConfigError naming the path', async () => {
    const jwt = random();
    vault.addKubernetesRole({ name: 'floe-k8s-other', jwt: random(), policies: ['rw'], mount: 'k8s-east' });
    const jwtPath = join(dir, 'wrong-token');
    writeFileSync(jwtPath, jwt);
    const denied = await failure(k8sPlugin('floe-k8s-other', jwtPath, { mount: 'k8s-east' }).getSecret('app/db/password'));
    expect(denied).toBeInstanceOf(PermissionError);
    expect(denied.message).toContain('Kubernetes login at auth/k8s-east was refused (HTTP 403)');
    expect(denied.message).not.toContain(jwt);
    const missing = await failure(k8sPlugin('floe-k8s-other', join(dir, 'absent'), { mount: 'k8s-east' }).getSecret('app/db/password'));
    expect(missing).toBeInstanceOf(SecretsConfigError);
    expect(missing.message).toContain(`${join(dir, 'absent')} (ENOENT)`);
    writeFileSync(join(dir, 'empty'), '\n');
    await expect(k8sPlugin('floe-k8s-other', join(dir, 'empty'), { mount: 'k8s-east' }).getSecret('app/db/password')).rejects.toThrow(/is empty/);
  });
});

describe('namespaces', () => {
  test('X-Vault-Namespace goes with every call but sys/health; namespaces hold separate secrets', async () => {
    vault.addKvMount('secret', 'team-b');
    vault.put('app/db', { password: 'team-b-pw' }, { namespace: 'team-b' });
    const role = appRole(['rw'], { namespace: 'team-b' });
    const plugin = appRolePlugin(role);
    const mark = vault.requests.length;
    await expect(plugin.getSecret('app/db/password')).resolves.toBe('team-b-pw');
    await plugin.setSecret('app/db/user', 'b');
    await expect(plugin.healthCheck()).resolves.toMatchObject({ state: 'healthy' });
    const seen = since(mark);
    expect(seen.filter((r) => r.path !== 'sys/health').every((r) => r.namespace === 'team-b')).toBe(true);
    expect(seen.find((r) => r.path === 'sys/health')).toMatchObject({ namespace: '', hasToken: false });
    expect(vault.peek('app/db', { namespace: 'team-b' })).toEqual({ password: 'team-b-pw', user: 'b' });
    expect(vault.peek('app/db')).toMatchObject({ password: 'pw' });
    expect(vault.peek('app/db')?.user).not.toBe('b');
  });

  test('a token of another namespace is a PermissionError', async () => {
    const { token } = vault.createToken({ policies: ['rw'] });
    const plugin = new VaultSecretsPlugin({ address: vault.address, namespace: 'team-b', auth: { method: 'token', token } }, fast);
    await expect(plugin.getSecret('app/db/password')).rejects.toBeInstanceOf(PermissionError);
  });
});

describe('transient failures and health', () => {
  const plugin = () => new VaultSecretsPlugin({ address: vault.address, auth: { method: 'token', token: vault.createToken({ policies: ['rw'] }).token } }, fast);

  test.each([503, 429, 500, 412])('HTTP %i is retried', async (status) => {
    const p = plugin();
    await p.getSecret('app/db/password');
    vault.failNext(1, status, /^secret\/data\/app\/db$/);
    await expect(p.getSecret('app/db/password')).resolves.toBe('pw');
  });

  test('a backend that keeps failing is a ConnectionError whose message carries no body', async () => {
    const p = plugin();
    vault.failNext(3, 503, /^secret\/data\/app\/db$/);
    const error = await failure(p.getSecret('app/db/password'));
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).not.toContain('injected');
  });

  test('other 4xx answers and a missing KV mount are SecretsConfigErrors', async () => {
    const p = plugin();
    vault.failNext(1, 400, /^secret\/data\/app\/db$/);
    await expect(p.setSecret('app/db/password', 'pw')).rejects.toBeInstanceOf(SecretsConfigError);
    const other = new VaultSecretsPlugin({ address: vault.address, mount: 'nokv', auth: { method: 'token', token: vault.createToken({ policies: ['root'] }).token } }, fast);
    await expect(other.getSecret('app/db/password')).rejects.toThrow(/the mount "nokv" does not exist/);
  });

  test('health: healthy; unhealthy when sealed or when the token is refused', async () => {
    const p = plugin();
    await expect(p.healthCheck()).resolves.toMatchObject({ state: 'healthy' });
    vault.sealed = true;
    try {
      await expect(p.healthCheck()).resolves.toMatchObject({ state: 'unhealthy', message: expect.stringContaining('is sealed') });
    } finally {
      vault.sealed = false;
    }
    const refused = new VaultSecretsPlugin({ address: vault.address, auth: { method: 'token', token: random() } });
    await expect(refused.healthCheck()).resolves.toMatchObject({ state: 'unhealthy', message: expect.stringMatching(/^PermissionError/) });
  });
});

describe('printing and audit', () => {
  test('util.inspect, JSON and errors never show a token, role id, secret id or login token', async () => {
    const role = appRole(['app-only']);
    const { token } = vault.createToken({ policies: ['rw'] });
    const events: AuditEvent[] = [];
    const options = { ...fast, audit: new AuditLogger([{ write: (e) => events.push(e) }]) };
    const plugins = [
      new VaultSecretsPlugin({ address: vault.address, auth: { method: 'approle', roleId: role.roleId, secretId: role.secretId } }, options),
      new VaultSecretsPlugin({ address: vault.address, auth: { method: 'token', token } }, options),
    ];
    const errors: unknown[] = [];
    for (const plugin of plugins) {
      await plugin.getSecret('app/db/password');
      errors.push(await failure(plugin.getSecret('denied/db/password')).catch((e: unknown) => e));
    }
    const printed = [
      ...plugins.flatMap((p) => [inspect(p, { depth: 20, showHidden: true }), JSON.stringify(p), inspect(p.config, { depth: 20 }), `${String(p.config.auth)}`]),
      ...errors.map((e) => `${(e as Error).message} ${(e as Error).stack} ${inspect(e)}`),
      JSON.stringify(events),
    ].join('\n');
    expect(printed).toContain('**********');
    for (const secret of [role.roleId, role.secretId, token, ...vault.issued]) expect(printed).not.toContain(secret);
    expect(events.map((e) => e.requester)).toEqual(expect.arrayContaining([`approle/${role.name}`, expect.stringMatching(/^token\//)]));
  });
});

describe('discovery', () => {
  test('loadSecretsPlugin("vault", config) finds and builds the plugin from plain config', async () => {
    expect(discoverSecretsPlugins()).toEqual(expect.arrayContaining([{ name: 'vault', packageName: '@floe-secrets/vault', exportName: 'VaultSecretsPlugin' }]));
    const plugin = loadSecretsPlugin('vault', { address: vault.address, auth: { method: 'token', token: vault.createToken({ policies: ['rw'] }).token } });
    expect(plugin.name).toBe('vault');
    expect(plugin.constructor.name).toBe('VaultSecretsPlugin');
    await expect(plugin.getSecret('app/db/password')).resolves.toBe('pw');
    expect(() => loadSecretsPlugin('vault', { address: vault.address })).toThrow(SecretsConfigError);
  });
});

describe('redirects of a login', () => {
  test.each([301, 307] as const)('a %i of the AppRole login to another origin carries neither id there: ConnectionError naming the host', async (status) => {
    const elsewhere = await FaultServer.start();
    try {
      const role = appRole(['rw']);
      const hidden = random();
      vault.redirectNext(1, `${elsewhere.address}/${hidden}`, status, /^auth\/approle\/login$/);
      const error = await failure(appRolePlugin(role).getSecret('app/db/password'));
      expect(error).toBeInstanceOf(ConnectionError);
      expect(error.message).toContain(`to another host, ${new URL(elsewhere.address).host}`);
      expect(elsewhere.received).toEqual([]);
      const printed = `${error.message}${error.stack}${inspect(error, { depth: Infinity, showHidden: true })}`;
      for (const secret of [role.roleId, role.secretId, hidden]) expect(printed).not.toContain(secret);
    } finally {
      await elsewhere.close();
    }
  });
});
