import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App } from 'cdk8s';
import { runCli } from './run-cli';
import { buildExampleApp } from '../../../examples/app';
import { runCli as runInProcess } from '../src/cli';
import { CliCommand } from '../src/command';
import { COMMANDS } from '../src/commands';
import { CliIO, ExitCode } from '../src/io';

const NAMES = ['validate', 'access-map', 'scan', 'get', 'set', 'list', 'health', 'rotate', 'completion'];

describe('floe-secrets (the built binary)', () => {
  test('without a command: usage on stderr, exit 2', async () => {
    const run = await runCli([]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^Usage: floe-secrets <command> \[options\]/);
    expect(run.stdout).toBe('');
  });

  test('--help, -h and help: the commands and the exit codes on stdout, exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const run = await runCli(args);
      expect(run).toMatchObject({ status: 0, stderr: '' });
      expect(run.stdout).toMatch(/^Usage: floe-secrets <command> \[options\]/);
      for (const command of NAMES) expect(run.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
      expect(run.stdout).toContain('Exit codes:\n  0  all good\n  1  problems found');
      expect(run.stdout).toContain('\n  2  could not check');
    }
  });

  test.each(NAMES)('%s --help, -h and help <command>: description, options and 2-3 examples on stdout, exit 0, nothing else done', async (command) => {
    const runs = await Promise.all([[command, '--help'], [command, '-h'], ['help', command]].map((args) =>
      runCli(args, { env: { ...process.env, FLOE_SECRETS_AUDIT_DIR: '/nonexistent/floe-audit' } })));
    for (const run of runs) {
      expect(run).toMatchObject({ status: 0, stderr: '', stdout: runs[0].stdout });
      expect(run.stdout).toMatch(new RegExp(`^Usage: floe-secrets ${command} \\[options\\]`));
      expect(run.stdout).toContain('\nOptions:\n');
      expect(run.stdout).toContain('  -h, --help ');
      const examples = run.stdout.slice(run.stdout.indexOf('\nExamples:\n'));
      expect(examples.match(/^ {2}# .+\n {2}.*floe-secrets \S+/gm)?.length).toBeGreaterThanOrEqual(2);
      expect(examples.match(/^ {2}# /gm)?.length).toBeLessThanOrEqual(3);
    }
  });

  test('help with more than a command name is refused (issue 10, C: arguments a command does not take)', async () => {
    expect(await runCli(['help', 'get', 'extra'])).toMatchObject({
      status: 2, stdout: '', stderr: 'floe-secrets help: help takes at most 1 argument (command) but got 2 (not shown); remove the extra one\n',
    });
    expect(await runCli(['help', 'frobnicate'])).toMatchObject({ status: 2, stdout: '', stderr: expect.stringMatching(/^floe-secrets help: unknown command "frobnicate"; the commands are validate, /) });
  });

  test('an unknown command: a clear message, exit 2, no stack trace; a word that is no command name is not repeated', async () => {
    const run = await runCli(['frobnicate']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^floe-secrets: unknown command "frobnicate"/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const pasted = `Zq${randomBytes(12).toString('base64url')}`;
    const secret = await runCli([pasted]);
    expect(secret).toMatchObject({ status: 2, stdout: '', stderr: expect.stringMatching(/^floe-secrets: unknown command \(not shown\); the commands are /) });
    expect(secret.stderr).not.toContain(pasted);
  });
});

describe('the examples of every command\'s help', () => {
  /** The floe-secrets arguments of a shell line: the words after "floe-secrets", up to a redirection, pipe or ")". */
  const argvOf = (line: string): string[] =>
    line.slice(line.indexOf('floe-secrets ') + 'floe-secrets '.length).split(/\s*\d?[<>|)]/)[0].trim().split(/\s+/);

  test.each(COMMANDS.map((command) => [command.name, command] as const))('%s: 2 or 3 examples, each one a command line its definition accepts', async (_, command) => {
    expect(command.examples.length).toBeGreaterThanOrEqual(2);
    expect(command.examples.length).toBeLessThanOrEqual(3);
    // The command's definition, with a run that only records what it was given.
    const given: string[][] = [];
    const recorder: CliCommand = { ...command, run: async (operands) => (given.push(operands), ExitCode.OK) };
    for (const [line] of command.examples) {
      let stderr = '';
      const io: CliIO = {
        stdout: { write: () => true },
        stderr: { write: (text: string) => (stderr += text) },
        stdoutIsTTY: false,
        stderrIsTTY: false,
        env: {},
        cwd: '/',
        readStdin: async () => '',
      };
      const argv = argvOf(line);
      expect(argv[0]).toBe(command.name);
      expect({ line, code: await runInProcess(argv, io, [recorder]), stderr }).toEqual({ line, code: ExitCode.OK, stderr: '' });
    }
    expect(given).toHaveLength(command.examples.length);
  });
});

describe('floe-secrets access-map (the built binary)', () => {
  test('maps the synthesized example: who reads which secret, from which source', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'floe-cli-'));
    try {
      buildExampleApp(new App({ outdir })).synth();
      const run = await runCli(['access-map', outdir, '-o', 'json']);
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
