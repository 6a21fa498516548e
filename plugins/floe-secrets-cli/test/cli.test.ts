import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App } from 'cdk8s';
import { runCli } from './run-cli';
import { buildExampleApp } from '../../../examples/app';

describe('floe-secrets (the built binary)', () => {
  test('without a command: usage on stderr, exit 2', async () => {
    const run = await runCli([]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^usage: floe-secrets <command> \[options\]/);
  });

  test('--help: usage on stdout, exit 0', async () => {
    const run = await runCli(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('exit codes: 0 all good, 1 problems found, 2 could not check');
  });

  test.each(['get', 'set', 'list', 'health', 'rotate', 'validate', 'scan', 'access-map'])('%s --help, -h and help <command>: its usage on stdout, exit 0, nothing else done', async (command) => {
    for (const args of [[command, '--help'], [command, '-h'], ['help', command]]) {
      const run = await runCli(args, { env: { ...process.env, FLOE_SECRETS_AUDIT_DIR: '/nonexistent/floe-audit' } });
      expect(run).toMatchObject({ status: 0, stderr: '' });
      expect(run.stdout).toMatch(new RegExp(`^usage: floe-secrets ${command}`));
    }
  });

  test('help with more than a command name is refused (issue 10, C: arguments a command does not take)', async () => {
    expect(await runCli(['help', 'get', 'extra'])).toMatchObject({
      status: 2, stdout: '', stderr: 'floe-secrets: help takes at most one argument, a command name; run "floe-secrets help" for the list of commands\n',
    });
    expect(await runCli(['help', 'frobnicate'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/^floe-secrets: unknown command "frobnicate"/) });
  });

  test('an unknown command: a clear message, exit 2, no stack trace', async () => {
    const run = await runCli(['frobnicate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^floe-secrets: unknown command "frobnicate"/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('floe-secrets access-map (the built binary)', () => {
  test('maps the synthesized example: who reads which secret, from which source', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'floe-cli-'));
    try {
      buildExampleApp(new App({ outdir })).synth();
      const run = await runCli(['access-map', outdir, '--format', 'json']);
      expect(run.status).toBe(0);
      const map = JSON.parse(run.stdout);
      expect(map.overBroad).toBe(false);
      expect(JSON.stringify(map)).toContain('snowflake-credentials');
      const missing = await runCli(['access-map', join(outdir, 'nope')]);
      expect(missing.status).toBe(2);
      expect(missing.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('floe-secrets scan (the built binary)', () => {
  test('the repository\'s own sources and examples hold no plaintext credential', async () => {
    const root = resolve(__dirname, '../../..');
    const run = await runCli(['scan', 'src', 'examples', 'plugins/floe-secrets-cli/src'], { cwd: root });
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.status).toBe(0);
  });
});
