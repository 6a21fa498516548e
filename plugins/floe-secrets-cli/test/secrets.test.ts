import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentServer } from '@floe-secrets/core';
import { stringify } from 'yaml';
import { runCli } from './run-cli';
import { InfisicalTestServer } from '../../floe-secrets-infisical/test/infisical-test-server';
import { VaultTestServer } from '../../floe-secrets-vault/test/vault-test-server';

// get | set | list | health | rotate through the built binary, against the local Vault and
// Infisical test servers, configured only by manifest.yaml and environment variables.
let vault: VaultTestServer;
let dir: string;
let env: NodeJS.ProcessEnv;
const random = (): string => `v-${randomBytes(18).toString('base64url')}`;

function writeManifest(secrets: object, file = 'manifest.yaml'): void {
  writeFileSync(join(dir, file), stringify({ plugins: { secrets }, domains: [{ name: 'sales' }] }));
}

beforeAll(async () => {
  vault = await VaultTestServer.start();
  vault.setPolicy('rw', { 'secret/data/*': ['create', 'read', 'update'], 'secret/metadata/*': ['list', 'read', 'create', 'update'] });
  dir = mkdtempSync(join(tmpdir(), 'floe-cli-secrets-'));
  env = { ...process.env, VAULT_TOKEN: vault.createToken({ policies: ['rw'] }).token, FLOE_SECRETS_AUDIT_DIR: join(dir, 'audit') };
  writeManifest({ type: 'vault', address: vault.address, auth_method: 'token', token: { env: 'VAULT_TOKEN' } });
});

afterAll(async () => {
  await vault?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('floe-secrets get | set | list | rotate | health (Vault backend)', () => {
  test('set reads the value from stdin and never prints it; get prints it only with --reveal off a terminal', async () => {
    const value = random();
    const set = await runCli(['set', 'compute/snowflake/password'], { cwd: dir, env, input: `${value}\n` });
    expect(set.status).toBe(0);
    expect(set.stderr).toBe(`set compute/snowflake/password in the vault backend (${value.length} characters, not shown)\n`);

    const piped = await runCli(['get', 'compute/snowflake/password'], { cwd: dir, env });
    expect(piped.status).toBe(2);
    expect(piped.stderr).toBe('floe-secrets get: refusing to write a secret value to a pipe or a file; pass --reveal to do it on purpose\n');
    expect(piped.stdout).toBe('');

    const revealed = await runCli(['get', 'compute/snowflake/password', '--reveal'], { cwd: dir, env });
    expect(revealed).toMatchObject({ status: 0, stdout: `${value}\n` });
    for (const run of [set, piped]) expect(run.stdout + run.stderr).not.toContain(value);
  });

  test('list prints key names; a missing key is exit 1', async () => {
    await runCli(['set', 'compute/bigquery/key'], { cwd: dir, env, input: random() });
    const listed = await runCli(['list', 'compute/', '-o', 'json'], { cwd: dir, env });
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual(expect.arrayContaining(['compute/bigquery/key']));
    expect(await runCli(['get', 'compute/nothing/here', '--reveal'], { cwd: dir, env })).toMatchObject({
      status: 1,
      stderr: 'compute/nothing/here: not found in the vault backend\n',
    });
  });

  test('rotate sets a new random value of the asked length and alphabet, never shown', async () => {
    const before = random();
    await runCli(['set', 'app/token'], { cwd: dir, env, input: before });
    const rotated = await runCli(['rotate', 'app/token', '--length', '40', '--alphabet', 'abcdef0123456789'], { cwd: dir, env });
    expect(rotated).toMatchObject({ status: 0, stdout: '' });
    expect(rotated.stderr).toBe('rotated app/token in the vault backend: a new random value of 40 characters (not shown)\n');
    const after = (await runCli(['get', 'app/token', '--reveal'], { cwd: dir, env })).stdout.trim();
    expect(after).toMatch(/^[a-f0-9]{40}$/);
    expect(after).not.toBe(before);
    expect(await runCli(['rotate', 'app/token', '--length', '8'], { cwd: dir, env })).toMatchObject({ status: 2 });
  });

  test('every command is in the audit log, with no value', async () => {
    const value = random();
    await runCli(['set', 'audit/check'], { cwd: dir, env, input: value });
    await runCli(['get', 'audit/check', '--reveal'], { cwd: dir, env });
    const log = readdirSync(join(dir, 'audit')).map((f) => readFileSync(join(dir, 'audit', f), 'utf8')).join('');
    const events = log.trim().split('\n').map((line) => JSON.parse(line));
    expect(events).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'set', key: 'audit/check', outcome: 'success', plugin: 'vault' }),
      expect.objectContaining({ action: 'get', key: 'audit/check', outcome: 'success', plugin: 'vault' }),
    ]));
    expect(log).not.toContain(value);
  });

  test('health: exit 0 when the backend answers, 2 within 5 s when it does not', async () => {
    expect(await runCli(['health'], { cwd: dir, env })).toMatchObject({ status: 0, stdout: expect.stringMatching(/^vault: healthy/) });
    const silent = await silentServer();
    try {
      writeManifest({ type: 'vault', address: `http://${silent.address}`, auth_method: 'token', token: { env: 'VAULT_TOKEN' } }, 'silent.yaml');
      const started = Date.now();
      const run = await runCli(['health', '--manifest', 'silent.yaml'], { cwd: dir, env });
      expect(Date.now() - started).toBeLessThan(8_000);
      expect(run.status).toBe(2);
      expect(run.stdout).toMatch(/^vault: unhealthy/);
    } finally {
      await silent.close();
    }
  }, 15_000);

  test('bad input: a clear message and exit 2, never a stack trace', async () => {
    const runs = [
      await runCli(['get'], { cwd: dir, env }),
      await runCli(['get', 'a/b', '--nope'], { cwd: dir, env }),
      await runCli(['set', 'a/b'], { cwd: dir, env, input: '' }),
      await runCli(['get', 'a/b', '--reveal', '--manifest', 'missing.yaml'], { cwd: dir, env }),
      await runCli(['get', 'a/b', '--reveal'], { cwd: dir, env: { ...env, VAULT_TOKEN: '' } }),
    ];
    for (const run of runs) {
      expect(run.status).toBe(2);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    expect(runs[0].stderr).toBe('floe-secrets get: missing KEY: get takes 1 argument (KEY); run "floe-secrets get --help" for examples\n');
    expect(runs[1].stderr).toBe('floe-secrets get: unknown option --nope; run "floe-secrets get --help" for its options\n');
    expect(runs[2].stderr).toMatch(/no value on standard input/);
    expect(runs[3].stderr).toMatch(/missing.yaml/);
    expect(runs[4].stderr).toMatch(/refers to the environment variable VAULT_TOKEN, which is not set; export it first/);
  });
});

describe('floe-secrets with the Infisical backend', () => {
  test('set and get through Universal Auth from environment references', async () => {
    const who = { clientId: 'cli', clientSecret: random(), access: 'read-write' as const };
    const server = await InfisicalTestServer.start({ identities: [who] });
    try {
      writeManifest({
        type: 'infisical',
        site_url: server.url,
        project_id: server.projectId,
        environment: 'dev',
        auth: {
          method: 'universal-auth',
          credentials_secret: { name: 'infisical-universal-auth', namespace: 'floe-platform' },
          client_id: { env: 'INFISICAL_CLIENT_ID' },
          client_secret: { env: 'INFISICAL_CLIENT_SECRET' },
        },
      }, 'infisical.yaml');
      const infisicalEnv = { ...env, INFISICAL_CLIENT_ID: who.clientId, INFISICAL_CLIENT_SECRET: who.clientSecret };
      const value = random();
      expect((await runCli(['set', 'snowflake/password', '-m', 'infisical.yaml'], { cwd: dir, env: infisicalEnv, input: value })).status).toBe(0);
      const got = await runCli(['get', 'snowflake/password', '-m', 'infisical.yaml', '--reveal'], { cwd: dir, env: infisicalEnv });
      expect(got).toMatchObject({ status: 0, stdout: `${value}\n` });
      expect(got.stderr).not.toContain(who.clientSecret);
    } finally {
      await server.close();
    }
  }, 30_000);

  test('project_slug works for every command: the slug is resolved once; a mistyped environment makes health exit 1 naming it', async () => {
    const who = { clientId: 'cli-slug', clientSecret: random(), access: 'read-write' as const };
    const server = await InfisicalTestServer.start({ identities: [who], projectSlug: 'floe-analytics', environments: ['dev', 'prod'] });
    try {
      const manifest = (environment: string): object => ({
        type: 'infisical',
        site_url: server.url,
        project_slug: 'floe-analytics',
        environment,
        auth: {
          method: 'universal-auth',
          credentials_secret: { name: 'infisical-universal-auth', namespace: 'floe-platform' },
          client_id: { env: 'INFISICAL_CLIENT_ID' },
          client_secret: { env: 'INFISICAL_CLIENT_SECRET' },
        },
      });
      writeManifest(manifest('prod'), 'by-slug.yaml');
      writeManifest(manifest('prd'), 'by-slug-typo.yaml');
      const infisicalEnv = { ...env, INFISICAL_CLIENT_ID: who.clientId, INFISICAL_CLIENT_SECRET: who.clientSecret };
      const value = random();
      expect((await runCli(['set', 'db/password', '-m', 'by-slug.yaml'], { cwd: dir, env: infisicalEnv, input: value })).status).toBe(0);
      expect(server.value('prod', '/db', 'password')).toBe(value);
      expect(await runCli(['list', 'db/', '-m', 'by-slug.yaml'], { cwd: dir, env: infisicalEnv })).toMatchObject({ status: 0, stdout: 'db/password\n' });
      expect((await runCli(['health', '-m', 'by-slug.yaml'], { cwd: dir, env: infisicalEnv })).status).toBe(0);

      const typo = await runCli(['health', '-m', 'by-slug-typo.yaml'], { cwd: dir, env: infisicalEnv });
      expect(typo.status).not.toBe(0);
      expect(`${typo.stdout}${typo.stderr}`).toContain('project slug "floe-analytics" has no environment "prd"; its environments are "dev", "prod"');
      const list = await runCli(['list', 'db/', '-m', 'by-slug-typo.yaml'], { cwd: dir, env: infisicalEnv });
      expect(list.status).not.toBe(0);
      expect(list.stderr).toContain('has no environment "prd"');
    } finally {
      await server.close();
    }
  }, 60_000);
});
