import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, runCli } from './run-cli';

// `floe-secrets completion bash|zsh`, loaded into the real shells. zsh is installed by the test task
// (scripts/test-tools.sh); without it these fail, they never skip.

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  // GIVEN floe-secrets on PATH, as npm links it, and a folder with files to complete
  dir = mkdtempSync(join(tmpdir(), 'floe-cli-completion-'));
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'floe-secrets'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(dir, 'bin', 'floe-secrets'), 0o755);
  mkdirSync(join(dir, 'work', 'dist'), { recursive: true });
  writeFileSync(join(dir, 'work', 'manifest.yaml'), 'plugins:\n  secrets: { type: k8s }\n');
  env = { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` };
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a script in `shell` in the work folder; fails on anything on stderr. */
function shell(name: 'bash' | 'zsh', script: string): string {
  const run = spawnSync(name, ['-c', script], { cwd: join(dir, 'work'), env, encoding: 'utf8', timeout: 30_000 });
  if (run.error) throw run.error;
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  return run.stdout;
}

describe('floe-secrets completion bash', () => {
  /** What the completion function offers for a command line (its last word is the one being completed). */
  const complete = (...words: string[]): string[] => {
    const assign = words.map((word) => `'${word}'`).join(' ');
    const out = shell('bash', `source <(floe-secrets completion bash)
COMP_WORDS=(${assign}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _floe_secrets
printf '%s\\n' "\${COMPREPLY[@]}"`);
    return out.split('\n').filter((line) => line !== '');
  };

  test('loads, and registers its function for floe-secrets', () => {
    expect(shell('bash', 'source <(floe-secrets completion bash); complete -p floe-secrets')).toBe('complete -o filenames -F _floe_secrets floe-secrets\n');
  });

  test('completes commands: val -> validate', () => {
    expect(complete('floe-secrets', 'val')).toEqual(['validate']);
    expect(complete('floe-secrets', 'help', 'acc')).toEqual(['access-map']);
    expect(complete('floe-secrets', '')).toEqual(expect.arrayContaining(['validate', 'access-map', 'vault-policies', 'scan', 'get', 'set', 'list', 'health', 'rotate', 'creds', 'revoke', 'completion', 'help', '--version']));
  });

  test('completes each command\'s options: validate --ou -> --output', () => {
    expect(complete('floe-secrets', 'validate', '--ou')).toEqual(['--output']);
    expect(complete('floe-secrets', 'validate', '--k')).toEqual(['--kubeconfig']);
    expect(complete('floe-secrets', 'get', '--r')).toEqual(['--reveal']);
    expect(complete('floe-secrets', 'rotate', '--')).toEqual(expect.arrayContaining(['--length', '--alphabet', '--context', '--manifest']));
  });

  test('completes the output formats of -o, also after --output=', () => {
    expect(complete('floe-secrets', 'validate', '-o', '')).toEqual(['text', 'json']);
    expect(complete('floe-secrets', 'access-map', '--output', '')).toEqual(['table', 'mermaid', 'dot', 'json']);
    // bash splits "--output=me" into "--output", "=", "me"
    expect(complete('floe-secrets', 'access-map', '--output', '=', 'me')).toEqual(['mermaid']);
    expect(complete('floe-secrets', 'scan', '--output', '=')).toEqual(['text', 'json']);
  });

  test('completes file names for path options and path arguments, and nothing for a KEY', () => {
    expect(complete('floe-secrets', 'validate', '--manifest', 'man')).toEqual(['manifest.yaml']);
    expect(complete('floe-secrets', 'health', '-m', 'man')).toEqual(['manifest.yaml']);
    expect(complete('floe-secrets', 'access-map', 'di')).toEqual(['dist']);
    expect(complete('floe-secrets', 'get', 'man')).toEqual([]);
    expect(complete('floe-secrets', 'completion', '')).toEqual(['bash', 'zsh']);
  });
});

describe('floe-secrets completion zsh', () => {
  test('loads after compinit without an error, and registers _floe_secrets for floe-secrets', () => {
    const out = shell('zsh', 'autoload -U compinit; compinit -u; source <(floe-secrets completion zsh); print -r -- "$_comps[floe-secrets]"; whence -w _floe_secrets');
    expect(out).toBe('_floe_secrets\n_floe_secrets: function\n');
  });

  test('names every command, the formats of -o and file completion for path options', async () => {
    const run = await runCli(['completion', 'zsh'], { env });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^#compdef floe-secrets\n/);
    for (const command of ['validate', 'access-map', 'vault-policies', 'scan', 'get', 'set', 'list', 'health', 'rotate', 'creds', 'revoke', 'completion', 'help']) {
      expect(run.stdout).toMatch(new RegExp(`^ {4}'${command}:`, 'm'));
    }
    expect(run.stdout).toContain("'(-o --output)'{-o+,--output=}'[output format]:output:(table mermaid dot json)'");
    expect(run.stdout).toContain("'(-m --manifest)'{-m+,--manifest=}'[the platform manifest]:manifest:_files'");
  });
});

describe('floe-secrets completion: bad arguments', () => {
  test('an unknown shell, or none: exit 2 with the shells there are', async () => {
    expect(await runCli(['completion', 'fish'], { env })).toMatchObject({ status: 2, stdout: '', stderr: 'floe-secrets completion: no completion script for "fish"; use one of bash, zsh\n' });
    expect(await runCli(['completion'], { env })).toMatchObject({ status: 2, stdout: '', stderr: expect.stringMatching(/^floe-secrets completion: missing shell: completion takes 1 argument \(shell\)/) });
  });
});
