import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from './run-cli';

/**
 * Internal requirement and contract ids (REQ-131..REQ-140, CR-001..CR-006, seed and epic numbers)
 * belong in test names and JSDoc tags; what the CLI prints names the rule in words.
 */
const INTERNAL_ID = /\bREQ-\d+|\bCR-\d+|\bseed \d{3}\b|\bEpic \d+/i;
const COMMANDS = ['get', 'set', 'list', 'health', 'rotate', 'creds', 'revoke', 'validate', 'scan', 'access-map', 'plan', 'vault-policies', 'completion'];

describe('floe-secrets (the built binary) prints no internal requirement ids', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'floe-cli-ids-'));
    env = { ...process.env, FLOE_SECRETS_AUDIT_DIR: join(dir, 'audit') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('usage and --help, of the CLI and of every command', async () => {
    const runs = await Promise.all([[], ['--help'], ...COMMANDS.map((command) => [command, '--help'])].map((args) => runCli(args, { env })));
    for (const run of runs) {
      expect(run.stdout + run.stderr).not.toBe('');
      expect(run.stdout).not.toMatch(INTERNAL_ID);
      expect(run.stderr).not.toMatch(INTERNAL_ID);
    }
  });

  test('the manifest\'s credential rules, as health and validate report them (REQ-135)', async () => {
    // GIVEN the example manifest with a password in a URL, a literal credential and a reference with an unknown field
    const example = readFileSync(resolve(__dirname, '../../../examples/manifest.yaml'), 'utf8');
    const broken = example
      .replace('site_url: https://app.infisical.com', 'site_url: https://floe:pw@app.infisical.com')
      .replace('client_id: { env: INFISICAL_CLIENT_ID }', 'client_id: literal-client-id')
      .replace('client_secret: { env: INFISICAL_CLIENT_SECRET }', 'client_secret: { value: literal }');
    expect(broken).not.toBe(example);
    const manifest = join(dir, 'manifest.yaml');
    writeFileSync(manifest, broken);
    const synthesized = join(dir, 'dist');
    mkdirSync(synthesized);

    // WHEN the commands that read the manifest run, THEN each names the rule in words, without an id
    for (const args of [['health', '--manifest', manifest], ['validate', synthesized, '--manifest', manifest]]) {
      const run = await runCli(args, { env });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('credentials are never written in the manifest');
      expect(run.stderr).toContain('the manifest only references credentials');
      expect(run.stderr).not.toMatch(INTERNAL_ID);
      expect(run.stdout).not.toMatch(INTERNAL_ID);
    }
  });
});
