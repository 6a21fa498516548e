import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from './run-cli';

// Issue 11, item 6 (CLI habits), through the built binary: `~` in path options, --version, and a
// JSON error object on stdout when a command asked for JSON output fails.

let home: string;
let work: string;
let env: NodeJS.ProcessEnv;

/** A kubeconfig whose apiserver refuses connections at once (port 1 of the loopback). */
const REFUSED_KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]
users: [{ name: u, user: { token: not-a-real-token } }]
contexts: [{ name: x, context: { cluster: c, user: u } }]
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

describe('~ in path options is $HOME (built CLI)', () => {
  test.each([
    ['--manifest ~/... and --kubeconfig=~/...', ['--manifest', '~/manifest.yaml', '--kubeconfig=~/kc']],
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
});

describe('floe-secrets --version (built CLI)', () => {
  test('prints the version of @floe-secrets/cli from its package.json, exit 0', async () => {
    const { version } = JSON.parse(readFileSync(resolve(__dirname, '../package.json'), 'utf8')) as { version: string };
    expect(await runCli(['--version'], { cwd: work, env })).toMatchObject({ status: 0, stdout: `floe-secrets ${version}\n`, stderr: '' });
    expect(await runCli(['--version', 'extra'], { cwd: work, env })).toMatchObject({ status: 2, stdout: '' });
    expect((await runCli(['--help'], { cwd: work, env })).stdout).toContain('floe-secrets --version');
  });
});

describe('with JSON output, a failure writes a JSON error object on stdout too (built CLI)', () => {
  test.each([
    ['validate --json', ['validate', 'dist', '--json', '--manifest', 'no-such-manifest.yaml']],
    ['validate --json, a bad option', ['validate', '--json', '--nope']],
    ['validate --json, an unreachable cluster', ['validate', 'dist', '--json', '-m', '~/manifest.yaml']],
    ['list --json', ['list', '--json', '--manifest', 'no-such-manifest.yaml']],
    ['list --json, an unreachable backend', ['list', '--json', '-m', '~/manifest.yaml']],
    ['scan --json', ['scan', 'no/such/path', '--json']],
    ['access-map --format json', ['access-map', 'no-such-dir', '--format', 'json']],
    ['access-map -f=json', ['access-map', 'no-such-dir', '-f=json']],
  ])('%s', async (_, args) => {
    const run = await runCli(args, { cwd: work, env });
    expect(run.status).toBe(2);
    // stderr keeps its message; stdout is one JSON document carrying the same message and exit code
    const [line] = run.stderr.split('\n');
    expect(line).toMatch(new RegExp(`^floe-secrets ${args[0]}: `));
    const json = JSON.parse(run.stdout) as { error: { message: string; exitCode: number } };
    expect(json).toEqual({ error: { message: expect.any(String), exitCode: 2 } });
    expect(line).toBe(`floe-secrets ${args[0]}: ${json.error.message.split('\n')[0]}`);
  });

  test('without JSON output, stdout stays empty on a failure', async () => {
    expect(await runCli(['validate', 'dist', '--manifest', 'no-such-manifest.yaml'], { cwd: work, env })).toMatchObject({ status: 2, stdout: '' });
    expect(await runCli(['access-map', 'no-such-dir', '--format', 'dot'], { cwd: work, env })).toMatchObject({ status: 2, stdout: '' });
  });
});
