import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App } from 'cdk8s';
import { CLI, CliRun, runCli } from './run-cli';
import { buildExampleApp } from '../../../examples/app';

// The habits of kubectl and gh, through the built binary: `~` in path options, --version, one
// -o/--output flag, a JSON error object on stdout when a command asked for JSON, --kubeconfig and
// --context, arguments never repeated, NO_COLOR, and cdk8s's construct-metadata.json.

let home: string;
let work: string;
let env: NodeJS.ProcessEnv;

/** A random value, as a pasted credential would be. */
const random = (): string => `Zq${randomBytes(15).toString('base64url').replace(/[-_]/g, 'x')}`;

/** A kubeconfig of two contexts whose apiservers refuse connections at once (port 1 of two loopback addresses). */
const REFUSED_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
  - { name: c, cluster: { server: "https://127.0.0.1:1" } }
  - { name: d, cluster: { server: "https://127.0.0.2:1" } }
users: [{ name: u, user: { token: not-a-real-token } }]
contexts:
  - { name: x, context: { cluster: c, user: u } }
  - { name: staging, context: { cluster: d, user: u } }
current-context: x
`;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'floe-home-'));
  work = mkdtempSync(join(tmpdir(), 'floe-work-'));
  writeFileSync(join(home, 'manifest.yaml'), 'plugins:\n  secrets: { type: k8s }\n');
  writeFileSync(join(home, 'kc'), REFUSED_KUBECONFIG);
  mkdirSync(join(work, 'dist'));
  writeFileSync(join(work, 'dist', 'app.yaml'), [
    'apiVersion: v1\nkind: Pod\nmetadata: { name: app, namespace: apps }',
    'spec:\n  containers:\n    - name: app\n      image: app\n      env:\n        - name: TOKEN\n          valueFrom: { secretKeyRef: { name: app-token, key: token } }\n',
  ].join('\n'));
  env = { ...process.env, HOME: home, KUBECONFIG: join(home, 'kc'), FLOE_SECRETS_AUDIT_DIR: join(home, 'audit') };
});

afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

/** No stack trace, no Node warning. */
function expectClean(run: CliRun): void {
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr).not.toMatch(/\(node:\d+\)|Warning/);
}

describe('~ in path options and arguments is $HOME (built CLI)', () => {
  test.each([
    ['--manifest ~/... and --kubeconfig=~/...', ['--manifest', '~/manifest.yaml', '--kubeconfig=~/kc']],
    ['--manifest=~/... and --kubeconfig ~/...', ['--manifest=~/manifest.yaml', '--kubeconfig', '~/kc']],
    ['-m ~/... and --kubeconfig ~/...', ['-m', '~/manifest.yaml', '--kubeconfig', '~/kc']],
  ])('validate %s: the manifest and kubeconfig are read from $HOME', async (_, args) => {
    const run = await runCli(['validate', 'dist', ...args], { cwd: work, env });
    // Both files were found: validate got as far as the cluster of ~/kc, which refuses connections.
    expect(run.stderr).toContain(`the Kubernetes cluster of ${join(home, 'kc')} did not answer`);
    expect(run.stderr).not.toContain('does not exist');
    expect(run.status).toBe(2);
  });

  test.each(['health', 'list', 'get app/key --reveal', 'set app/key', 'rotate app/key'])('%s --manifest ~/manifest.yaml: the manifest is read from $HOME', async (command) => {
    const run = await runCli([...command.split(' '), '--manifest', '~/manifest.yaml'], { cwd: work, env, input: 'a-value\n' });
    // The k8s backend of ~/manifest.yaml was contacted (and refused), not "~/manifest.yaml: does not exist".
    expect(run.stdout + run.stderr).toContain('connection refused by 127.0.0.1:1');
    expect(run.stderr).not.toContain('does not exist');
  });

  test('~ alone is $HOME; ~user and a ~ inside a path are left as they are', async () => {
    const run = await runCli(['health', '-m', '~'], { cwd: work, env });
    expect(run.stderr).toContain(home);
    const user = await runCli(['health', '-m', '~root/manifest.yaml'], { cwd: work, env });
    expect(user.stderr).toContain(join(work, '~root/manifest.yaml'));
  });

  test('scan --allowlist ~/... reads the allowlist from $HOME', async () => {
    writeFileSync(join(work, 'secret.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata: { name: s }\nstringData: { password: hunter2-not-real }\n');
    writeFileSync(join(home, 'allow'), 'secret.yaml\n');
    try {
      const run = await runCli(['scan', 'secret.yaml', '--allowlist', '~/allow'], { cwd: work, env });
      expect(run.stderr).not.toContain('cannot read allowlist');
      expect(run.stdout).toContain('1 allowlisted');
      expect(run.status).toBe(0);
    } finally {
      rmSync(join(work, 'secret.yaml'));
    }
  });

  test('access-map --svg ~/... writes the SVG into $HOME', async () => {
    const run = await runCli(['access-map', 'dist', '--svg', '~/map.svg'], { cwd: work, env });
    expect(run.status).toBe(0);
    expect(readFileSync(join(home, 'map.svg'), 'utf8')).toContain('<svg');
  });

  test('a quoted ~/... path argument (no shell expanded it) is read from $HOME', async () => {
    mkdirSync(join(home, 'out'), { recursive: true });
    writeFileSync(join(home, 'out', 'app.yaml'), readFileSync(join(work, 'dist', 'app.yaml')));
    const run = await runCli(['access-map', '~/out', '-o', 'json'], { cwd: work, env });
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout).files).toEqual([join(home, 'out', 'app.yaml')]);
  });
});

describe('floe-secrets --version (built CLI)', () => {
  test('--version and -V print the version of @floe-secrets/cli from its package.json, exit 0', async () => {
    const { version } = JSON.parse(readFileSync(resolve(__dirname, '../package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      expect(await runCli([flag], { cwd: work, env })).toMatchObject({ status: 0, stdout: `floe-secrets ${version}\n`, stderr: '' });
    }
    expect(await runCli(['--version', 'extra'], { cwd: work, env })).toMatchObject({ status: 2, stdout: '', stderr: 'floe-secrets: --version takes no arguments\n' });
    expect((await runCli(['--help'], { cwd: work, env })).stdout).toMatch(/-V, --version +print the version/);
  });
});

describe('-o/--output, the one output flag (built CLI)', () => {
  test.each([
    ['validate', ['validate', 'dist'], 'text, json'],
    ['access-map', ['access-map', 'dist'], 'table, mermaid, dot, json'],
    ['scan', ['scan', 'dist'], 'text, json'],
    ['list', ['list'], 'text, json'],
    ['health', ['health'], 'text, json'],
  ])('%s: an unknown format is an error naming the allowed ones, exit 2, before anything is read', async (_, args, allowed) => {
    const run = await runCli([...args, '-o', 'yaml'], { cwd: work, env });
    expect(run).toEqual(expect.objectContaining({
      status: 2, stdout: '', stderr: `floe-secrets ${args[0]}: -o/--output "yaml" is not a format of this command; use one of ${allowed}\n`,
    }));
    const help = await runCli([args[0], '--help'], { cwd: work, env });
    expect(help.stdout).toMatch(/-o, --output <format> +output format \(choices:/);
  });

  test('--json and --format are gone: unknown options, exit 2', async () => {
    for (const args of [['validate', 'dist', '--json'], ['access-map', 'dist', '--format', 'json']]) {
      const run = await runCli(args, { cwd: work, env });
      expect(run).toMatchObject({ status: 2, stdout: '', stderr: `floe-secrets ${args[0]}: unknown option ${args[2]}; run "floe-secrets ${args[0]} --help" for its options\n` });
    }
  });

  test('health -o json: the backend\'s answer as a JSON object', async () => {
    const run = await runCli(['health', '-o', 'json', '-m', '~/manifest.yaml'], { cwd: work, env });
    expect(run.status).toBe(2);
    const answer = JSON.parse(run.stdout) as { backend: string; state: string; message: string; durationMs: number };
    expect(answer).toEqual({ backend: 'k8s', state: 'unhealthy', message: expect.stringContaining('connection refused by 127.0.0.1:1'), durationMs: expect.any(Number) });
  });
});

describe('with -o json, a failure writes a JSON error object on stdout too (built CLI)', () => {
  test.each([
    ['validate', ['validate', 'dist', '-o', 'json', '--manifest', 'no-such-manifest.yaml']],
    ['validate, an unknown option after -o json', ['validate', '-o', 'json', '--nope']],
    ['validate, an option without its value (commander\'s own error)', ['validate', 'dist', '--output=json', '--manifest']],
    ['validate, an unreachable cluster', ['validate', 'dist', '-o', 'json', '-m', '~/manifest.yaml']],
    ['list', ['list', '-o', 'json', '--manifest', 'no-such-manifest.yaml']],
    ['list, too many arguments', ['list', '-o', 'json', 'a/', 'b/']],
    ['list, an unreachable backend', ['list', '-o', 'json', '-m', '~/manifest.yaml']],
    ['scan', ['scan', 'no/such/path', '-o', 'json']],
    ['access-map -o json', ['access-map', 'no-such-dir', '-o', 'json']],
    ['access-map --output=json', ['access-map', 'no-such-dir', '--output=json']],
  ])('%s', async (_, args) => {
    const run = await runCli(args, { cwd: work, env });
    expect(run.status).toBe(2);
    // stderr keeps its message; stdout is one JSON document carrying the same message and exit code
    const [line] = run.stderr.split('\n');
    expect(line).toMatch(new RegExp(`^floe-secrets ${args[0]}: `));
    const json = JSON.parse(run.stdout) as { error: { message: string; exitCode: number } };
    expect(json).toEqual({ error: { message: expect.any(String), exitCode: 2 } });
    expect(line).toBe(`floe-secrets ${args[0]}: ${json.error.message.split('\n')[0]}`);
    expectClean(run);
  });

  test('without JSON output, stdout stays empty on a failure', async () => {
    expect(await runCli(['validate', 'dist', '--manifest', 'no-such-manifest.yaml'], { cwd: work, env })).toMatchObject({ status: 2, stdout: '' });
    expect(await runCli(['access-map', 'no-such-dir', '-o', 'dot'], { cwd: work, env })).toMatchObject({ status: 2, stdout: '' });
    expect(await runCli(['list', 'a/', 'b/'], { cwd: work, env })).toMatchObject({ status: 2, stdout: '' });
  });
});

describe('--kubeconfig and --context, as kubectl\'s (built CLI)', () => {
  test.each(['health', 'list', 'get app/key --reveal', 'set app/key', 'rotate app/key'])('%s --context staging: the cluster of that context', async (command) => {
    const run = await runCli([...command.split(' '), '-m', '~/manifest.yaml', '--context', 'staging'], { cwd: work, env, input: 'a-value\n' });
    expect(run.stdout + run.stderr).toContain('connection refused by 127.0.0.2:1');
    expect(run.stdout + run.stderr).not.toContain('127.0.0.1:1');
    expect(run.status).toBe(2);
  });

  test('--kubeconfig=~/... overrides $KUBECONFIG', async () => {
    writeFileSync(join(home, 'other-kc'), REFUSED_KUBECONFIG.replace('current-context: x', 'current-context: staging'));
    const run = await runCli(['list', '-m', '~/manifest.yaml', '--kubeconfig=~/other-kc'], { cwd: work, env });
    expect(run.stderr).toContain('connection refused by 127.0.0.2:1');
  });

  test.each([
    ['health', ['health', '-m', '~/manifest.yaml']],
    ['validate', ['validate', 'dist', '-m', '~/manifest.yaml']],
  ])('%s --context <unknown>: an error naming it and the contexts there are, exit 2, nothing else', async (_, args) => {
    const run = await runCli([...args, '--context', 'prod'], { cwd: work, env });
    expect(run).toMatchObject({ status: 2, stdout: '' });
    expect(run.stderr).toMatch(new RegExp(`^floe-secrets ${args[0]}: SecretsConfigError: k8s: context "prod" is not in the kubeconfig \\(\\$KUBECONFIG, else ~/.kube/config\\); its contexts are x, staging: pick one of them`));
    expect(run.stderr).not.toContain('not-a-real-token');
    expectClean(run);
  });

  test('validate --context staging checks the cluster of that context, and says which', async () => {
    const run = await runCli(['validate', 'dist', '-m', '~/manifest.yaml', '--kubeconfig', '~/kc', '--context', 'staging'], { cwd: work, env });
    expect(run.stderr).toMatch(new RegExp(`^floe-secrets validate: could not check: the Kubernetes cluster of context staging of ${join(home, 'kc')} did not answer \\(.*127\\.0\\.0\\.2:1`));
    expect(run.status).toBe(2);
  });

  test('an empty --context or --kubeconfig is refused', async () => {
    expect(await runCli(['list', '--context='], { cwd: work, env })).toMatchObject({
      status: 2, stderr: 'floe-secrets list: --context is empty; give a context of the kubeconfig (kubectl config get-contexts)\n',
    });
    expect(await runCli(['validate', '--kubeconfig='], { cwd: work, env })).toMatchObject({ status: 2, stderr: expect.stringMatching(/^floe-secrets validate: --kubeconfig is empty; /) });
  });
});

describe('bad arguments: exit 2, the CLI\'s own words, never a value from the command line (built CLI)', () => {
  test('unknown options, too many arguments and unknown commands never repeat what could be a pasted secret', async () => {
    const values = [random(), random(), random(), random(), random()];
    const runs = await Promise.all([
      ['validate', 'dist', `--${values[0]}`],
      ['validate', 'dist', `--token=${values[1]}`],
      ['scan', `-${values[2]}`],
      ['health', values[3]],
      [values[4]],
    ].map((args) => runCli(args, { cwd: work, env })));
    for (const run of runs) {
      expect(run.status).toBe(2);
      for (const value of values) expect(run.stdout + run.stderr).not.toContain(value);
      expectClean(run);
    }
    expect(runs.map((run) => run.stderr)).toEqual([
      'floe-secrets validate: unknown option (not shown); run "floe-secrets validate --help" for its options\n',
      'floe-secrets validate: unknown option --token; run "floe-secrets validate --help" for its options\n',
      'floe-secrets scan: unknown option (not shown); run "floe-secrets scan --help" for its options\n',
      'floe-secrets health: health takes no arguments but got 1 (not shown); remove the extra one\n',
      expect.stringMatching(/^floe-secrets: unknown command \(not shown\); the commands are /),
    ]);
  });

  test('a value given as an argument to set is refused, not stored and not shown', async () => {
    const value = random();
    const run = await runCli(['set', 'app/key', value, '-m', '~/manifest.yaml'], { cwd: work, env, input: '' });
    expect(run).toMatchObject({ status: 2, stdout: '', stderr: 'floe-secrets set: set takes 1 argument (KEY) but got 2 (not shown); remove the extra one\n' });
  });

  test('a reader that goes away early (| head -1): exit without a stack trace', () => {
    const piped = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" scan --help | head -1`], { encoding: 'utf8' });
    expect(piped.stdout).toBe('Usage: floe-secrets scan [options] [paths...]\n');
    expect(piped.stderr).toBe('');
  });
});

describe('colour: NO_COLOR and FORCE_COLOR (built CLI on a terminal)', () => {
  const ESC = '\u001b';
  const plainEnv = (): NodeJS.ProcessEnv => {
    const { NO_COLOR: _n, FORCE_COLOR: _f, ...rest } = env;
    return { ...rest, TERM: 'xterm-256color' };
  };

  test('help on a terminal has bold headings; NO_COLOR=1 takes every escape sequence away; FORCE_COLOR=1 colours a pipe too', async () => {
    const terminal = await runCli(['validate', '--help'], { cwd: work, env: plainEnv(), tty: true });
    expect(terminal.stdout).toContain(`${ESC}[1mOptions:${ESC}[22m`);
    expect(terminal.stdout).toContain(`${ESC}[1mExamples:${ESC}[22m`);

    for (const args of [['validate', '--help'], ['--help'], ['help', 'access-map']]) {
      const noColor = await runCli(args, { cwd: work, env: { ...plainEnv(), NO_COLOR: '1' }, tty: true });
      expect(noColor.status).toBe(0);
      expect(noColor.stdout).toContain('Usage: floe-secrets');
      expect(noColor.stdout).not.toContain(ESC);
    }
    // NO_COLOR wins over FORCE_COLOR; an empty NO_COLOR does not count (no-color.org)
    expect((await runCli(['--help'], { cwd: work, env: { ...plainEnv(), NO_COLOR: '1', FORCE_COLOR: '1' }, tty: true })).stdout).not.toContain(ESC);
    expect((await runCli(['--help'], { cwd: work, env: { ...plainEnv(), NO_COLOR: '' }, tty: true })).stdout).toContain(ESC);

    const forced = await runCli(['--help'], { cwd: work, env: { ...plainEnv(), FORCE_COLOR: '1' } });
    expect(forced.stdout).toContain(`${ESC}[1mExit codes:${ESC}[22m`);
    expect((await runCli(['--help'], { cwd: work, env: plainEnv() })).stdout).not.toContain(ESC);
  });
});

describe('cdk8s\'s construct-metadata.json in the output folder (built CLI)', () => {
  let outdir: string;
  beforeAll(() => {
    // GIVEN the example app synthesized as `cdk8s synth` does with validations in cdk8s.yaml
    outdir = mkdtempSync(join(tmpdir(), 'floe-cli-metadata-'));
    buildExampleApp(new App({ outdir, recordConstructMetadata: true })).synth();
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  test('the folder holds it', () => {
    expect(readdirSync(outdir)).toContain('construct-metadata.json');
    expect(JSON.parse(readFileSync(join(outdir, 'construct-metadata.json'), 'utf8'))).toHaveProperty('resources');
  });

  test('access-map of the folder skips it and maps the manifests', async () => {
    const run = await runCli(['access-map', outdir, '-o', 'json'], { cwd: work, env });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const map = JSON.parse(run.stdout) as { files: string[] };
    expect(map.files.length).toBeGreaterThan(0);
    expect(map.files.some((file) => file.endsWith('construct-metadata.json'))).toBe(false);
  });

  test('validate of the folder skips it and gets as far as the cluster', async () => {
    const run = await runCli(['validate', outdir, '-m', '~/manifest.yaml'], { cwd: work, env });
    expect(run.stderr).toMatch(/^floe-secrets validate: could not check: the Kubernetes cluster of the default kubeconfig did not answer \(.*refused by 127\.0\.0\.1:1/);
    expect(run.stderr).not.toContain('construct-metadata.json');
  });

  test('named explicitly, it is read, and refused as not a Kubernetes object', async () => {
    const run = await runCli(['access-map', join(outdir, 'construct-metadata.json')], { cwd: work, env });
    expect(run).toMatchObject({ status: 2, stdout: '', stderr: expect.stringContaining('construct-metadata.json: document 1 (line 1) is not a Kubernetes object') });
  });
});
