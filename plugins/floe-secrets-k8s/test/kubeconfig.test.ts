import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { randomSecret } from '@floe-secrets/core';

/**
 * Kubeconfig files that are not files (/dev/zero, a FIFO, a directory) or far too large. Reading
 * one must end with a SecretsConfigError naming the path and the cap, quickly. Each case runs the
 * plugin in a child process with a deadline: reading /dev/zero without a cap, or opening a FIFO no
 * one writes to, never returns, and would otherwise stop the test run instead of failing a test.
 */

const ROOT = resolve(__dirname, '../../..');
const PLUGIN = resolve(__dirname, '../src');
const DEADLINE_MS = 20_000;
const MIB = 1024 * 1024;

interface Outcome {
  readonly error?: string;
  readonly message?: string;
  readonly server?: string;
}

/** Constructs a K8sSecretsPlugin with `config` in a child process whose environment is `env` only. */
function construct(config: object, env: { readonly [name: string]: string }): Outcome {
  const script = `
    const { SecretsConfigError } = require('@floe-secrets/core');
    const { K8sSecretsPlugin } = require(${JSON.stringify(PLUGIN)});
    let outcome;
    try {
      outcome = { server: new K8sSecretsPlugin(${JSON.stringify(config)}).server };
    } catch (error) {
      outcome = { error: error instanceof SecretsConfigError ? 'SecretsConfigError' : error.name, message: error.message };
    }
    process.stdout.write(JSON.stringify(outcome));
  `;
  const run = spawnSync(process.execPath, ['--require', 'ts-node/register/transpile-only', '--eval', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: DEADLINE_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 1024 * 1024,
  });
  if (run.error || run.signal) throw new Error(`the plugin did not finish within ${DEADLINE_MS} ms (${run.error?.message ?? run.signal}): it hangs on the kubeconfig`);
  if (run.status !== 0) throw new Error(`the child failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as Outcome;
}

let dir: string;
let home: string;
let good: string;
const token = randomSecret();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'floe-k8s-kubeconfig-'));
  home = join(dir, 'home');
  mkdirSync(home);
  good = join(dir, 'good');
  writeFileSync(good, kubeconfig('x', 'https://127.0.0.1:6443'), { mode: 0o600 });
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fifo(): string {
  const path = join(dir, 'fifo');
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo failed: ${made.stderr}`);
  return path;
}

function larger(): string {
  const path = join(dir, 'large');
  const fd = openSync(path, 'w');
  ftruncateSync(fd, 4 * MIB + 1); // sparse: a size over the cap, nothing written
  closeSync(fd);
  return path;
}

/** A kubeconfig whose one context, `name`, is a cluster at `server` with a bearer token. */
function kubeconfig(name: string, server: string): string {
  return JSON.stringify({
    'apiVersion': 'v1',
    'kind': 'Config',
    'clusters': [{ name: `${name}-cluster`, cluster: { server } }],
    'users': [{ name: `${name}-user`, user: { token } }],
    'contexts': [{ name, context: { cluster: `${name}-cluster`, user: `${name}-user` } }],
    'current-context': name,
  });
}

const TOO_LARGE = (path: string): string =>
  `k8s: kubeconfig ${JSON.stringify(path)} is larger than 4 MiB; set kubeconfig (or $KUBECONFIG) to a kubeconfig file`;

describe.each([
  ['the kubeconfig setting', (path: string) => ({ config: { kubeconfig: path }, env: { HOME: home } })],
  ['$KUBECONFIG', (path: string) => ({ config: {}, env: { HOME: home, KUBECONFIG: path } })],
  ['the second file of $KUBECONFIG', (path: string) => ({ config: {}, env: { HOME: home, KUBECONFIG: `${good}${delimiter}${path}` } })],
])('a kubeconfig named by %s', (_how, given) => {
  test('/dev/zero is refused at 4 MiB, naming the path and the cap', () => {
    const { config, env } = given('/dev/zero');
    expect(construct(config, env)).toEqual({ error: 'SecretsConfigError', message: TOO_LARGE('/dev/zero') });
  }, DEADLINE_MS + 10_000);

  test('a file over 4 MiB is refused (from its size)', () => {
    const path = larger();
    const { config, env } = given(path);
    expect(construct(config, env)).toEqual({ error: 'SecretsConfigError', message: TOO_LARGE(path) });
  }, DEADLINE_MS + 10_000);

  test('a FIFO no one writes to is refused without waiting for a writer', () => {
    const path = fifo();
    const { config, env } = given(path);
    expect(construct(config, env)).toEqual({
      error: 'SecretsConfigError',
      message: `k8s: kubeconfig ${JSON.stringify(path)} is a FIFO, not a file; set kubeconfig (or $KUBECONFIG) to a kubeconfig file`,
    });
  }, DEADLINE_MS + 10_000);

  test('a directory is refused as one', () => {
    const { config, env } = given(dir);
    expect(construct(config, env)).toEqual({
      error: 'SecretsConfigError',
      message: `k8s: kubeconfig ${JSON.stringify(dir)} is a directory; set kubeconfig (or $KUBECONFIG) to a kubeconfig file`,
    });
  }, DEADLINE_MS + 10_000);
});

test('~/.kube/config linked to /dev/zero is refused at 4 MiB', () => {
  mkdirSync(join(home, '.kube'));
  symlinkSync('/dev/zero', join(home, '.kube', 'config'));
  expect(construct({}, { HOME: home })).toEqual({ error: 'SecretsConfigError', message: TOO_LARGE(join(home, '.kube', 'config')) });
}, DEADLINE_MS + 10_000);

test('a kubeconfig of exactly 4 MiB is read', () => {
  writeFileSync(good, kubeconfig('x', 'https://127.0.0.1:6443').padEnd(4 * MIB, ' '));
  expect(construct({ kubeconfig: good }, { HOME: home })).toEqual({ server: 'https://127.0.0.1:6443' });
}, DEADLINE_MS + 10_000);

test('$KUBECONFIG files are merged as the client\'s loadFromDefault merged them: a later current-context wins', () => {
  const second = join(dir, 'second');
  writeFileSync(second, kubeconfig('y', 'https://127.0.0.2:6443'));
  expect(construct({}, { HOME: home, KUBECONFIG: `${good}${delimiter}${second}` })).toEqual({ server: 'https://127.0.0.2:6443' });
  expect(construct({ context: 'x' }, { HOME: home, KUBECONFIG: `${good}${delimiter}${second}` })).toEqual({ server: 'https://127.0.0.1:6443' });
}, 2 * DEADLINE_MS + 10_000);

test('a context the kubeconfig does not have: an error naming it and listing the contexts it has, never a credential', () => {
  const second = join(dir, 'second');
  writeFileSync(second, kubeconfig('y', 'https://127.0.0.2:6443'));
  const outcome = construct({ context: 'staging' }, { HOME: home, KUBECONFIG: `${good}${delimiter}${second}` });
  expect(outcome).toEqual({
    error: 'SecretsConfigError',
    message: 'k8s: context "staging" is not in the kubeconfig ($KUBECONFIG, else ~/.kube/config); its contexts are x, y: pick one of them (kubectl config get-contexts)',
  });
  expect(construct({ kubeconfig: good, context: 'y' }, { HOME: home })).toEqual({
    error: 'SecretsConfigError',
    message: `k8s: context "y" is not in the kubeconfig ${JSON.stringify(good)}; its contexts are x: pick one of them (kubectl config get-contexts)`,
  });
  expect(JSON.stringify(outcome)).not.toContain(token);
}, 2 * DEADLINE_MS + 10_000);

test('a missing kubeconfig is still the configuration error it was', () => {
  expect(construct({ kubeconfig: join(dir, 'missing') }, { HOME: home })).toEqual({ error: 'SecretsConfigError', message: 'k8s: could not load the cluster configuration (Error); check the kubeconfig path and context' });
}, DEADLINE_MS + 10_000);
