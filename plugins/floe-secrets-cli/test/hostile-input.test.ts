import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliRun, runCli } from './run-cli';

// Hostile and mistaken input through the built binary (issue 10, A2 and C): YAML that would make
// the yaml library quote a credential, arguments a command does not take, an audit directory that
// is a file, inputs that never end. Every case: exit 2, one clear line, no value, nothing written.

let dir: string;
let env: NodeJS.ProcessEnv;

/** A random value, different characters each time, as a credential would be. */
const random = (): string => `v${randomBytes(15).toString('base64url').replace(/[-_]/g, 'x')}`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'floe-cli-hostile-'));
  env = { ...process.env, FLOE_SECRETS_AUDIT_DIR: join(dir, 'audit'), VAULT_TOKEN: random() };
  mkdirSync(join(dir, 'in'));
  writeFileSync(join(dir, 'in', 'config.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: floe-sales\ndata:\n  mode: batch\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI in `dir` with `env`, many runs at once. */
async function runAll(runs: ReadonlyArray<{ args: string[]; input?: string }>): Promise<CliRun[]> {
  const results: CliRun[] = [];
  for (let i = 0; i < runs.length; i += 8) {
    results.push(...await Promise.all(runs.slice(i, i + 8).map((run) => runCli(run.args, { cwd: dir, env, input: run.input }))));
  }
  return results;
}

/** Nothing of `values` in the run's output, no Node warning, no stack trace. */
function expectNothingShown(run: CliRun, values: readonly string[]): void {
  for (const value of values) {
    expect(run.stdout).not.toContain(value);
    expect(run.stderr).not.toContain(value);
  }
  expect(run.stderr).not.toMatch(/Warning|\(node:\d+\)/);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

/** YAML fragments that hold `v` in a value position, indented for a key at `indent` spaces. */
function fragments(indent: number): ReadonlyArray<[string, (v: string) => string]> {
  const more = ' '.repeat(indent + 2);
  const same = ' '.repeat(indent);
  return [
    ['an alias without an anchor', (v) => `*${v}`],
    ['an alias ending in ":"', (v) => `*${v}:`],
    ['a flow mapping', (v) => `{{ ${v} }}`],
    ['an unknown tag', (v) => `!${v} x`],
    ['an anchor used as a key through an alias', (v) => `&a ${v}\n${same}*a : x`],
    ['an unclosed multi-line double-quoted value', (v) => `"${v}\n${more}${v}`],
    ['a multi-line block value with bad indentation', (v) => `|\n${more}${v}\n${more}${v}\n${same.slice(1)}${v}: x`],
    ['a bad escape', (v) => `"${v}\\q"`],
    ['a value holding ": "', (v) => `${v}: ${v}`],
    ['an unclosed flow list', (v) => `[${v}, ${v}`],
  ];
}

/**
 * A failed run's stdout: empty, or with JSON output asked for (-o json), the JSON error
 * object holding stderr's message (issue 11).
 */
function expectFailureStdout(run: CliRun, args: readonly string[]): void {
  if (args.join(' ').includes('-o json')) {
    const message = run.stderr.replace(/^floe-secrets [\w-]+: /, '').replace(/\n$/, '');
    expect(JSON.parse(run.stdout)).toEqual({ error: { message, exitCode: 2 } });
  } else {
    expect(run.stdout).toBe('');
  }
}

describe('a manifest.yaml that would make the YAML library quote a credential (issue 10, A2)', () => {
  // Each case runs the two JSON commands, and one of the others in turn (every CLI run starts Node).
  const ALWAYS: ReadonlyArray<[string[], string?]> = [[['list', '-o', 'json']], [['validate', 'in', '-o', 'json']]];
  const IN_TURN: ReadonlyArray<[string[], string?]> = [
    [['health']], [['list']], [['get', 'a/b', '--reveal']], [['set', 'a/b'], 'new-value'], [['rotate', 'a/b']], [['validate', 'in']],
  ];

  test.each(fragments(6).map(([name, fragment], index) => [name, fragment, index] as const))('%s under client_secret: exit 2 naming the line, column and fix, never the value', async (_, fragment, turn) => {
    const COMMANDS = [...ALWAYS, IN_TURN[turn % IN_TURN.length]];
    const values: string[] = [];
    const runs = COMMANDS.map(([args, input], index) => {
      const value = random();
      values.push(value);
      const file = `manifest-${index}.yaml`;
      writeFileSync(join(dir, file), [
        'plugins:',
        '  secrets:',
        '    type: infisical',
        '    project_id: p-1',
        '    environment: prod',
        '    auth:',
        '      method: universal-auth',
        '      credentials_secret: { name: infisical-universal-auth, namespace: floe-platform }',
        '      client_id: { env: INFISICAL_CLIENT_ID }',
        `      client_secret: ${fragment(value)}`,
        '',
      ].join('\n'));
      return { args: [...args, '--manifest', file], input };
    });
    const results = await runAll(runs);
    results.forEach((run, index) => {
      const command = COMMANDS[index][0][0];
      expect(run.status).toBe(2);
      expectFailureStdout(run, COMMANDS[index][0]);
      const [first, ...more] = run.stderr.trimEnd().split('\n');
      expect(first).toMatch(new RegExp(`^floe-secrets ${command}: ManifestError: .*manifest-${index}\\.yaml:\\d+: is not valid YAML at column \\d+: [^;]+; .+$`));
      for (const line of more) expect(line).toMatch(new RegExp(`manifest-${index}\\.yaml:\\d+: is not valid YAML at column \\d+: [^;]+; .+$`));
      expectNothingShown(run, values);
    });
  }, 60_000);
});

describe('Kubernetes manifests that would make the YAML library quote a Secret value (issue 10, A2)', () => {
  // Each case runs both commands that parse the YAML with -o json and without, and one scan in turn.
  const COMMANDS: ReadonlyArray<string[]> = [
    ['access-map', 'secret'],
    ['access-map', 'secret', '-o', 'json'],
    ['validate', 'secret', '--manifest', 'k8s.yaml'],
    ['validate', 'secret', '--manifest', 'k8s.yaml', '-o', 'json'],
  ];
  const SCANS: ReadonlyArray<string[]> = [['scan', 'secret'], ['scan', 'secret', '-o', 'json']];

  beforeAll(() => writeFileSync(join(dir, 'k8s.yaml'), 'plugins:\n  secrets: { type: k8s }\n'));

  test.each(fragments(2).filter(([name]) => name !== 'an unknown tag').map(([name, fragment], index) => [name, fragment, index] as const))(
    '%s as a Secret\'s password: access-map and validate exit 2 with the file, line, column and fix; no command shows the value',
    async (_, fragment, turn) => {
      const value = random();
      mkdirSync(join(dir, 'secret'), { recursive: true });
      writeFileSync(join(dir, 'secret', 'secret.yaml'), `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${fragment(value)}\n`);
      const runs = await runAll([...COMMANDS, SCANS[turn % SCANS.length]].map((args) => ({ args })));
      for (const run of runs) expectNothingShown(run, [value]);
      runs.slice(0, 4).forEach((run, index) => {
        expect(run.status).toBe(2);
        expectFailureStdout(run, COMMANDS[index]);
        expect(run.stderr).toMatch(/^floe-secrets (access-map|validate): secret\/secret\.yaml: invalid YAML at line \d+, column \d+: [^;\n]+; [^\n]+\n$/);
      });
    }, 60_000);

  test('a doubtful document (unknown tag, unknown directive) is read, with a warning that names the place, not the text', async () => {
    const values = [random(), random()];
    mkdirSync(join(dir, 'tagged'), { recursive: true });
    writeFileSync(join(dir, 'tagged', 'secret.yaml'), `%${values[0]} x\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: !${values[1]} x\n`);
    const run = await runCli(['access-map', 'tagged', '-o', 'json'], { cwd: dir, env });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe([
      'floe-secrets access-map: warning: doubtful YAML, read anyway: tagged/secret.yaml: line 1, column 1: an unknown or malformed "%" directive; remove it (only %YAML and %TAG are known)',
      'floe-secrets access-map: warning: doubtful YAML, read anyway: tagged/secret.yaml: line 8, column 13: a tag ("!name" or "!!name") is unknown or does not fit its value; remove the tag',
      '',
    ].join('\n'));
    expectNothingShown(run, values);
  });
});

describe('arguments and files the CLI must refuse (issue 10, C)', () => {
  /** A server that counts the requests it gets: none may arrive for refused input. */
  let server: Server;
  let requests = 0;
  let address: string;
  beforeAll(async () => {
    server = createServer((_request, response) => {
      requests++;
      response.writeHead(500).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    address = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    writeFileSync(join(dir, 'vault.yaml'), `plugins:\n  secrets: { type: vault, address: "${address}", auth_method: token, token: { env: VAULT_TOKEN } }\n`);
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
  });
  beforeEach(() => {
    requests = 0;
    rmSync(join(dir, 'audit'), { recursive: true, force: true });
  });

  test('health with an extra argument: refused without repeating it, before anything is read or sent', async () => {
    const extra = random();
    const run = await runCli(['health', extra, '--manifest', 'vault.yaml'], { cwd: dir, env });
    expect(run).toMatchObject({
      status: 2,
      stdout: '',
      stderr: 'floe-secrets health: health takes no arguments but got 1 (not shown); remove the extra one\n',
    });
    expectNothingShown(run, [extra]);
    expect(requests).toBe(0);
    expect(existsSync(join(dir, 'audit'))).toBe(false);
  });

  test('every other command refuses positional arguments it does not take, without repeating them', async () => {
    const extra = [random(), random(), random(), random()];
    const [get, set, rotate, list] = await runAll([
      { args: ['get', 'a/b', extra[0], '--reveal', '--manifest', 'vault.yaml'] },
      { args: ['set', 'a/b', extra[1], '--manifest', 'vault.yaml'], input: random() },
      { args: ['rotate', 'a/b', extra[2], '--manifest', 'vault.yaml'] },
      { args: ['list', 'a/', extra[3], '--manifest', 'vault.yaml'] },
    ]);
    for (const run of [get, set, rotate, list]) expectNothingShown(run, extra);
    for (const [name, run] of Object.entries({ get, set, rotate })) {
      expect(run).toMatchObject({ status: 2, stdout: '', stderr: `floe-secrets ${name}: ${name} takes 1 argument (KEY) but got 2 (not shown); remove the extra one\n` });
    }
    expect(list).toMatchObject({ status: 2, stdout: '', stderr: 'floe-secrets list: list takes at most 1 argument (PREFIX) but got 2 (not shown); remove the extra one\n' });
    expect(requests).toBe(0);
  });

  test.each([
    ['a query string', (base: string, v: string) => `${base}?token=${v}`],
    ['a query string after a path', (base: string, v: string) => `${base}/v1?${v}`],
    ['a fragment', (base: string, v: string) => `${base}#${v}`],
    ['a user name and password', (base: string, v: string) => base.replace('://', `://floe:${v}@`)],
  ])('a Vault address with %s: refused naming the field, without the value, nothing sent', async (_, build) => {
    const value = random();
    writeFileSync(join(dir, 'bad-address.yaml'), `plugins:\n  secrets: { type: vault, address: "${build(address, value)}", auth_method: token, token: { env: VAULT_TOKEN } }\n`);
    const [health, list] = await runAll([{ args: ['health', '--manifest', 'bad-address.yaml'] }, { args: ['list', '--manifest', 'bad-address.yaml', '-o', 'json'] }]);
    for (const run of [health, list]) {
      expect(run.status).toBe(2);
      expectFailureStdout(run, run === list ? ['list', '-o', 'json'] : ['health']);
      expect(run.stderr).toMatch(/bad-address\.yaml:2: plugins\.secrets\.address: holds a (query string or fragment|user name or password) \(not shown\); remove/);
      expectNothingShown(run, [value]);
    }
    expect(requests).toBe(0);
  });

  test('an audit directory that is a file: says so and how to fix it, sends nothing, leaves the file alone', async () => {
    const file = join(dir, 'audit-file');
    const content = random();
    writeFileSync(file, content);
    const runs = await Promise.all([
      runCli(['health', '--manifest', 'vault.yaml'], { cwd: dir, env: { ...env, FLOE_SECRETS_AUDIT_DIR: file } }),
      runCli(['list', '--manifest', 'vault.yaml'], { cwd: dir, env: { ...env, FLOE_SECRETS_AUDIT_DIR: file } }),
      runCli(['validate', 'in', '--manifest', 'vault.yaml'], { cwd: dir, env: { ...env, FLOE_SECRETS_AUDIT_DIR: file } }),
    ]);
    for (const [index, run] of runs.entries()) {
      expect(run.status).toBe(2);
      expect(run.stderr).toBe(`floe-secrets ${['health', 'list', 'validate'][index]}: the audit directory ${JSON.stringify(file)} (FLOE_SECRETS_AUDIT_DIR) is a file, not a directory; `
        + 'set FLOE_SECRETS_AUDIT_DIR to a directory you can write (it is created if missing): every command is recorded there\n');
    }
    const below = await runCli(['health', '--manifest', 'vault.yaml'], { cwd: dir, env: { ...env, FLOE_SECRETS_AUDIT_DIR: join(file, 'audit') } });
    expect(below).toMatchObject({ status: 2, stderr: expect.stringMatching(/: the audit directory ".*" \(FLOE_SECRETS_AUDIT_DIR\) cannot be created: a part of its path is a file, not a directory; set /) });
    expect(readFileSync(file, 'utf8')).toBe(content);
    expect(requests).toBe(0);
  });

  test('--manifest /dev/zero: refused after at most 1 MiB, quickly', async () => {
    const started = Date.now();
    const run = await runCli(['health', '--manifest', '/dev/zero'], { cwd: dir, env });
    expect(run).toMatchObject({
      status: 2,
      stderr: 'floe-secrets health: ManifestError: /dev/zero: is larger than 1 MiB (a platform manifest is a few KiB: is this the right file?); pass the path of the platform manifest, e.g. "platform/manifest.yaml"\n',
    });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('a manifest file over 1 MiB is refused from its size', async () => {
    writeFileSync(join(dir, 'big-manifest.yaml'), `plugins:\n  secrets: { type: k8s }\n${'#'.repeat(1024 * 1024)}\n`);
    const run = await runCli(['list', '--manifest', 'big-manifest.yaml'], { cwd: dir, env });
    expect(run).toMatchObject({ status: 2, stderr: expect.stringMatching(/big-manifest\.yaml: is larger than 1 MiB /) });
  });

  test('input YAML that never ends, or over 32 MiB: refused with the file and the cap', async () => {
    mkdirSync(join(dir, 'huge'), { recursive: true });
    writeFileSync(join(dir, 'huge', 'all.yaml'), Buffer.alloc(32 * 1024 * 1024 + 1, '#'));
    const [zero, huge, validated] = await runAll([
      { args: ['access-map', '/dev/zero'] },
      { args: ['access-map', 'huge'] },
      { args: ['validate', 'huge', '--manifest', 'vault.yaml'] },
    ]);
    expect(zero).toMatchObject({ status: 2, stderr: 'floe-secrets access-map: cannot read /dev/zero: larger than 32 MiB; pass the directory or files of the synthesized manifests, not /dev/zero\n' });
    expect(huge).toMatchObject({ status: 2, stderr: 'floe-secrets access-map: cannot read huge/all.yaml: larger than 32 MiB; pass the directory or files of the synthesized manifests, not huge/all.yaml\n' });
    expect(validated).toMatchObject({ status: 2, stderr: expect.stringMatching(/^floe-secrets validate: cannot read huge\/all\.yaml: larger than 32 MiB; /) });
    expect(requests).toBe(0);
  }, 30_000);

  test('validate --kubeconfig <a FIFO>: refused without opening it (opening would wait for a writer)', async () => {
    const fifo = join(dir, 'kubeconfig.fifo');
    execFileSync('mkfifo', [fifo]);
    try {
      const run = await runCli(['validate', 'in', '--manifest', 'vault.yaml', '--kubeconfig', fifo], { cwd: dir, env });
      expect(run).toMatchObject({ status: 2, stderr: `floe-secrets validate: --kubeconfig ${fifo} is a FIFO, not a file; pass a kubeconfig file, e.g. ~/.kube/config\n` });
    } finally {
      rmSync(fifo, { force: true });
    }
  });

  test('validate --kubeconfig /dev/zero: refused after at most 4 MiB', async () => {
    const run = await runCli(['validate', 'in', '--manifest', 'vault.yaml', '--kubeconfig', '/dev/zero'], { cwd: dir, env });
    expect(run).toMatchObject({ status: 2, stderr: 'floe-secrets validate: --kubeconfig /dev/zero is larger than 4 MiB; pass a kubeconfig file, e.g. ~/.kube/config\n' });
    expect(requests).toBe(0);
  });

  test('set with more than 1 MiB on standard input: refused, nothing sent', async () => {
    const run = await runCli(['set', 'a/b', '--manifest', 'vault.yaml'], { cwd: dir, env, input: 'x'.repeat(1024 * 1024 + 1) });
    expect(run).toMatchObject({ status: 2, stderr: expect.stringMatching(/^floe-secrets set: standard input holds more than 1 MiB; /) });
    expect(requests).toBe(0);
  });

  test('scan --allowlist /dev/zero: refused after at most 1 MiB', async () => {
    const run = await runCli(['scan', 'in', '--allowlist', '/dev/zero'], { cwd: dir, env });
    expect(run).toMatchObject({ status: 2, stderr: 'floe-secrets scan: cannot read allowlist "/dev/zero": larger than 1 MiB; an allowlist holds one fingerprint or path a line\n' });
  });
});

describe('after a ConnectionError the CLI answers and ends (issue 10, clarity and resources)', () => {
  /** A backend that answers every request with HTTP 500, and records when each request came. */
  let server: Server;
  const requestTimes: number[] = [];
  let url: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      requestTimes.push(Date.now());
      request.resume();
      response.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Something went wrong"}');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  });

  const infisical = (): string => `plugins:\n  secrets:\n    type: infisical\n    site_url: "${url}"\n    project_id: p-1\n    environment: dev\n    auth:\n`
    + '      method: universal-auth\n      credentials_secret: { name: a, namespace: floe-platform }\n'
    + '      client_id: { env: INFISICAL_CLIENT_ID }\n      client_secret: { env: INFISICAL_CLIENT_SECRET }\n';
  const vault = (): string => `plugins:\n  secrets: { type: vault, address: "${url}", auth_method: token, token: { env: VAULT_TOKEN } }\n`;

  test.each([
    ['infisical', ['list', '-o', 'json'], infisical],
    ['infisical', ['get', 'a/b', '--reveal'], infisical],
    ['infisical', ['health'], infisical],
    ['vault', ['list'], vault],
    ['vault', ['health'], vault],
  ])('%s %j: exit 2 right after the answer, no request after it', async (backend, args, manifest) => {
    writeFileSync(join(dir, `${backend}-500.yaml`), manifest());
    requestTimes.length = 0;
    const run = await runCli([...args, '--manifest', `${backend}-500.yaml`], {
      cwd: dir, env: { ...env, INFISICAL_CLIENT_ID: 'cli', INFISICAL_CLIENT_SECRET: random() },
    });
    expect(run.status).toBe(2);
    expect(run.stdout + run.stderr).toMatch(/ConnectionError|unhealthy/);
    expect(run.lastOutputAt).toBeDefined();
    expect(run.exitedAt - run.lastOutputAt!).toBeLessThan(1_000);
    await new Promise((done) => setTimeout(done, 1_500));
    expect(requestTimes.filter((at) => at > run.exitedAt)).toEqual([]);
  }, 40_000);
});
