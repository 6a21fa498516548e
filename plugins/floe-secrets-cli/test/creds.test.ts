import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CliRun, runCli } from './run-cli';
import { DatabaseFixture, startDatabaseFixture } from '../../floe-secrets-vault/test/database-fixture';

// floe-secrets creds | revoke through the built binary, against the Vault test server's database
// secrets engine and a real PostgreSQL: users appear and disappear in pg_roles.
let fx: DatabaseFixture;
let dir: string;
let env: NodeJS.ProcessEnv;
let token: string;
/** Every password handed out: none may appear where it should not. */
const passwords: string[] = [];

beforeAll(async () => {
  fx = await startDatabaseFixture();
  fx.vault.setPolicy('operator', { 'database/creds/readonly': ['read'], 'sys/leases/revoke': ['update'] });
  token = fx.vault.createToken({ policies: ['operator'] }).token;
  dir = mkdtempSync(join(tmpdir(), 'floe-cli-creds-'));
  env = { ...process.env, VAULT_TOKEN: token, FLOE_SECRETS_AUDIT_DIR: join(dir, 'audit') };
  writeFileSync(join(dir, 'manifest.yaml'), stringify({
    plugins: { secrets: { type: 'vault', address: fx.vault.address, auth_method: 'token', token: { env: 'VAULT_TOKEN' } } },
    domains: [{ name: 'sales' }],
  }));
}, 90_000);

afterAll(async () => {
  await fx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], options: { tty?: boolean } = {}): Promise<CliRun> {
  return runCli(args, { cwd: dir, env, ...options });
}

/** The lease and user of the last lease the server handed out (the test server's view, bypassing auth). */
function lastLease(): { id: string; username: string } {
  const leases = [...fx.vault.database.leases.values()];
  return leases[leases.length - 1];
}

describe('floe-secrets creds | revoke (Vault backend, real PostgreSQL)', () => {
  test('creds prints lease, TTL, expiry, renewable and username, never the password off a terminal; the user exists', async () => {
    const run = await cli(['creds', 'readonly', '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const shown = JSON.parse(run.stdout);
    expect(Object.keys(shown).sort()).toEqual(['expires_at', 'lease_duration', 'lease_id', 'renewable', 'username']);
    expect(shown).toMatchObject({ lease_duration: 3600, renewable: true });
    expect(shown.lease_id).toMatch(/^database\/creds\/readonly\/[A-Za-z0-9]{24}$/);
    expect(Date.parse(shown.expires_at) - Date.now()).toBeGreaterThan(3500_000);
    expect(lastLease()).toMatchObject({ id: shown.lease_id, username: shown.username });
    expect(await fx.postgres.roleExists(shown.username)).toBe(true);

    const text = await cli(['creds', 'readonly']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^lease_id {8}database\/creds\/readonly\/\S+\nlease_duration {2}1h0m0s \(3600 s\)\nexpires_at {6}\S+\nrenewable {7}true\nusername {8}v-token-readonly-\S+\npassword {8}\(not shown; --reveal on a terminal shows it\)\n$/);
  });

  test('--reveal to a pipe is refused (exit 2) before any user is created', async () => {
    const before = fx.vault.database.leases.size;
    const run = await cli(['creds', 'readonly', '--reveal']);
    expect(run).toMatchObject({ status: 2, stdout: '' });
    expect(run.stderr).toBe('floe-secrets creds: refusing to write a database password to a pipe or a file; run it on a terminal to see it, or leave --reveal out\n');
    expect(fx.vault.database.leases.size).toBe(before);
  });

  test('--reveal on a terminal shows the password, which logs in', async () => {
    const run = await cli(['creds', 'readonly', '--reveal'], { tty: true });
    expect(run.status).toBe(0);
    const password = /password {8}(\S+)/.exec(run.stdout)![1];
    const username = /username {8}(\S+)/.exec(run.stdout)![1];
    passwords.push(password);
    expect(await fx.postgres.canLogin(username, password)).toBe(true);
  });

  test('revoke drops the user; revoking it again is exit 1 (Vault holds no such lease)', async () => {
    const shown = JSON.parse((await cli(['creds', 'readonly', '-o', 'json'])).stdout);
    const run = await cli(['revoke', shown.lease_id]);
    expect(run).toMatchObject({ status: 0, stdout: '', stderr: `revoked ${shown.lease_id} in the vault backend\n` });
    expect(await fx.postgres.roleExists(shown.username)).toBe(false);
    const again = await cli(['revoke', shown.lease_id]);
    expect(again).toMatchObject({ status: 1, stdout: '' });
    expect(again.stderr).toBe(`${shown.lease_id}: Vault holds no such lease (it expired, was revoked, or its token was revoked); nothing to revoke\n`);
  });

  test('a token without sys/leases/revoke is told what to grant (exit 2); an unknown role names the role', async () => {
    const shown = JSON.parse((await cli(['creds', 'readonly', '-o', 'json'])).stdout);
    const reader = fx.vault.createToken({ policies: ['creds-only'] }).token;
    fx.vault.setPolicy('creds-only', { 'database/creds/readonly': ['read'] });
    const denied = await runCli(['revoke', shown.lease_id], { cwd: dir, env: { ...env, VAULT_TOKEN: reader } });
    expect(denied.status).toBe(2);
    expect(denied.stderr).toMatch(/"update" on sys\/leases\/revoke/);
    expect(await fx.postgres.roleExists(shown.username)).toBe(true);
    fx.vault.setPolicy('operator', { 'database/creds/*': ['read'], 'sys/leases/revoke': ['update'] });
    const unknown = await cli(['creds', 'nope']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('has no role "nope"');
  });

  test('both commands are in the audit log, with lease ids and never a password', async () => {
    const log = readdirSync(join(dir, 'audit')).map((f) => readFileSync(join(dir, 'audit', f), 'utf8')).join('');
    const events = log.trim().split('\n').map((line) => JSON.parse(line));
    expect(events.filter((e) => e.action === 'creds' && e.outcome === 'success').length).toBeGreaterThanOrEqual(4);
    expect(events).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'creds', key: 'database/creds/readonly', plugin: 'vault', outcome: 'success' }),
      expect.objectContaining({ action: 'revoke', plugin: 'vault', outcome: 'success' }),
      expect.objectContaining({ action: 'revoke', plugin: 'vault', outcome: 'failure', errorClass: 'PermissionError' }),
    ]));
    for (const password of passwords) expect(log).not.toContain(password);
    expect(log).not.toContain(token);
  });

  test('bad arguments: no ROLE, an unknown -o, a manifest of another backend (exit 2)', async () => {
    expect((await cli(['creds'])).status).toBe(2);
    expect(await cli(['creds', 'readonly', '-o', 'yaml'])).toMatchObject({ status: 2, stderr: expect.stringContaining('use one of text, json') });
    writeFileSync(join(dir, 'k8s.yaml'), stringify({ plugins: { secrets: { type: 'k8s', namespace: 'floe-jobs' } } }));
    const other = await cli(['revoke', 'database/creds/readonly/x', '-m', 'k8s.yaml']);
    expect(other.status).toBe(2);
    expect(other.stderr).toContain('revoke needs the vault backend');
  });
});
