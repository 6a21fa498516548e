import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../src/cli';
import {
  isPlaceholderToken,
  isReferenceOrPlaceholder,
  looksLikeName,
  parseAllowlist,
  redact,
  scan,
  ScanFinding,
  scanText,
  shannonEntropy,
} from '../src/commands/scan';
import { CliIO, ExitCode } from '../src/io';

// Every credential in this file is generated at test time from crypto.randomBytes and assembled from
// pieces, so that this file itself holds nothing a scanner would (rightly) flag.

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const BASE62 = UPPER + LOWER + DIGITS;
const HEX = '0123456789abcdef';

/** Every random secret generated; none may ever appear in stdout or stderr. */
const SECRETS: string[] = [];

function randomChars(length: number, alphabet: string): string {
  let out = '';
  for (const byte of randomBytes(length)) out += alphabet[byte % alphabet.length];
  return out;
}

/** A random string with every character class of its alphabet, that no rule mistakes for a placeholder or a name. */
function secret(length: number, alphabet = BASE62): string {
  for (;;) {
    const value = randomChars(length, alphabet);
    const classes = [UPPER, LOWER, DIGITS].filter((cls) => alphabet.includes(cls[0]));
    if (!classes.every((cls) => [...value].some((ch) => cls.includes(ch)))) continue;
    if (isPlaceholderToken(value) || isReferenceOrPlaceholder(value) || looksLikeName(value) || shannonEntropy(value) < 3.5) continue;
    SECRETS.push(value);
    return value;
  }
}

/** Random digits (a part of a token; too plain to pass the checks of secret()). */
function digits(length: number): string {
  const value = randomChars(length, DIGITS);
  SECRETS.push(value);
  return value;
}

/** Fails when any 8 consecutive characters of a generated secret appear in the output. */
function expectNoLeak(output: string): void {
  for (const value of SECRETS) {
    for (let i = 0; i + 8 <= value.length; i++) {
      const window = value.slice(i, i + 8);
      if (output.includes(window)) throw new Error(`output leaks part of a generated secret (${window.length} chars at offset ${i})`);
    }
  }
}

interface Run {
  readonly code: ExitCode;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(args: string[], cwd: string): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
    stdoutIsTTY: false,
    stderrIsTTY: false,
    readStdin: async () => '',
    env: {},
    cwd,
  };
  const code = await runCli(['scan', ...args], io, [scan]);
  const result = { code, stdout: out.join(''), stderr: err.join('') };
  expectNoLeak(result.stdout + result.stderr);
  expect(result.stderr).not.toMatch(/\n\s+at /); // never a stack trace
  return result;
}

async function runJson(args: string[], cwd: string): Promise<{ code: ExitCode; findings: ScanFinding[]; stderr: string }> {
  const result = await run([...args, '-o', 'json'], cwd);
  return { code: result.code, findings: JSON.parse(result.stdout) as ScanFinding[], stderr: result.stderr };
}

const dirs: string[] = [];
function tempDir(files: { [name: string]: string | Buffer } = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'floe-scan-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function lineOf(text: string, needle: string): number {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`fixture has no ${JSON.stringify(needle)}`);
  return text.slice(0, index).split('\n').length;
}

// --- token fixtures, assembled at run time ---------------------------------------------------

const PEM_DASHES = '-----';
function pem(label: string, body: string): string {
  return `${PEM_DASHES}BEGIN ${label}${PEM_DASHES}\n${body.replace(/(.{64})/g, '$1\n')}\n${PEM_DASHES}END ${label}${PEM_DASHES}\n`;
}
function base64url(json: object): string {
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

interface TokenCase {
  readonly rule: string;
  readonly positive: () => string;
  readonly negatives: readonly (() => string)[];
}

const TOKEN_CASES: readonly TokenCase[] = [
  {
    rule: 'aws-access-key-id',
    positive: () => 'AKIA' + secret(16, UPPER + DIGITS),
    negatives: [
      () => 'AKIA' + 'IOSFODNN7' + 'EXAMPLE', // the documentation example
      () => 'AKIA' + randomChars(12, UPPER + DIGITS), // too short
    ],
  },
  {
    rule: 'github-token',
    positive: () => 'ghp' + '_' + secret(36),
    negatives: [() => 'ghp' + '_' + 'x'.repeat(36), () => 'ghp' + '_' + randomChars(20, BASE62)],
  },
  {
    rule: 'github-token',
    positive: () => 'github' + '_pat_' + secret(22) + '_' + secret(59),
    negatives: [() => 'github' + '_pat_' + 'short'],
  },
  {
    rule: 'slack-token',
    positive: () => 'xox' + 'b-' + digits(12) + '-' + digits(13) + '-' + secret(24),
    negatives: [() => 'xox' + 'b-' + 'short'],
  },
  {
    rule: 'stripe-live-key',
    positive: () => 'sk' + '_live_' + secret(24),
    negatives: [() => 'sk' + '_test_' + randomChars(24, BASE62)],
  },
  {
    rule: 'google-api-key',
    positive: () => 'AI' + 'za' + secret(35),
    negatives: [() => 'AI' + 'za' + randomChars(20, BASE62)],
  },
  {
    rule: 'private-key',
    positive: () => pem('RSA ' + 'PRIVATE KEY', secret(300, BASE62 + '+/')),
    negatives: [
      () => pem('PUBLIC' + ' KEY', randomChars(300, BASE62 + '+/')),
      () => `the file starts with ${PEM_DASHES}BEGIN OPENSSH ${'PRIVATE KEY'}${PEM_DASHES} and ends with the END line`,
    ],
  },
  {
    rule: 'jwt',
    positive: () => {
      const sub = secret(24);
      return `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({ sub, exp: 4102444800 })}.${secret(43, BASE62 + '-_')}`;
    },
    negatives: [() => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: 'nobody-at-all' })}`],
  },
  {
    rule: 'infisical-token',
    positive: () => 'st' + '.' + secret(24, HEX) + '.' + secret(32, HEX) + '.' + secret(32, HEX),
    negatives: [() => 'st' + '.' + 'abc.def'],
  },
  {
    rule: 'vault-token',
    positive: () => 'hv' + 's.' + secret(90, BASE62 + '_-'),
    negatives: [() => 'hv' + 's.' + randomChars(10, BASE62)],
  },
  {
    rule: 'vault-token',
    positive: () => 's' + '.' + secret(24),
    negatives: [() => 'const n = s' + '.someVeryLongPropertyName + 1;'],
  },
];

describe('known token formats', () => {
  test.each(TOKEN_CASES.map((c) => [c.rule, c] as const))('%s: positive and negatives', async (rule, c) => {
    const token = c.positive();
    const text = ['# config', `value = ${JSON.stringify(token)}`, ''].join('\n');
    const dir = tempDir({ 'positive.txt': text, 'negative.txt': c.negatives.map((make) => make()).join('\n') + '\n' });

    const positive = await runJson(['positive.txt'], dir);
    expect(positive.code).toBe(ExitCode.PROBLEMS);
    expect(positive.findings.map((f) => [f.rule, f.line])).toEqual([[rule, 2]]);
    expect(positive.findings[0].redacted).toMatch(/…\(\d+ chars\)$/);
    expect(positive.findings[0].redacted.length).toBeLessThanOrEqual(4 + '…(999 chars)'.length);

    const negative = await run(['negative.txt'], dir);
    expect(negative.stdout).toContain('no plaintext credentials found in 1 file');
    expect(negative.code).toBe(ExitCode.OK);
  });

  test('the redacted form is the prefix, an ellipsis and the length', async () => {
    const key = 'AKIA' + secret(16, UPPER + DIGITS);
    const dir = tempDir({ '.env': `AWS_ACCESS_KEY_ID=${key}\n` });
    const { findings } = await runJson([], dir);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ path: '.env', line: 1, rule: 'aws-access-key-id', redacted: 'AKIA…(20 chars)' });
    expect(redact(secret(30))).toBe('…(30 chars)');
    expect(redact('abc', 4)).toBe('…(3 chars)'); // short values show no characters at all
  });
});

describe('Kubernetes Secrets in YAML', () => {
  const password = secret(32);
  const userB64 = Buffer.from(secret(12)).toString('base64');
  const passwordB64 = Buffer.from(password).toString('base64');
  SECRETS.push(passwordB64, userB64);
  const apiToken = secret(40);
  const yaml = [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: settings',
    'data:',
    '  mode: batch-nightly-with-retries',
    '---',
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '  name: db-creds',
    '  namespace: floe-sales',
    'type: Opaque',
    'data:',
    `  password: ${passwordB64}`,
    `  user: ${userB64}`,
    '---',
    '# a second Secret in the same file',
    'apiVersion: v1',
    'kind: Secret',
    'metadata: { name: shop-api }',
    'stringData:',
    `  token: "${apiToken}"`,
    '  empty: ""',
    '  templated: "${SHOP_API_TOKEN}"',
    '---',
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '  name: filled-by-the-operator',
    'data: {}',
    '---',
    'apiVersion: bitnami.com/v1alpha1',
    'kind: SealedSecret',
    'metadata:',
    '  name: sealed',
    'spec:',
    '  encryptedData:',
    `    password: ${secret(200)}`,
    '',
  ].join('\n');

  test('reports each key of data and stringData, never the value', async () => {
    const dir = tempDir({ 'k8s/secrets.yaml': yaml });
    const result = await run([], dir);
    expect(result.code).toBe(ExitCode.PROBLEMS);
    const { findings } = await runJson([], dir);
    const secretFindings = findings.filter((f) => f.rule === 'k8s-secret-data');
    expect(secretFindings.map((f) => f.line)).toEqual([
      lineOf(yaml, '  password: '),
      lineOf(yaml, '  user: '),
      lineOf(yaml, '  token: '),
    ]);
    expect(secretFindings[0].description).toContain('Secret "db-creds" in namespace "floe-sales"');
    expect(secretFindings[0].description).toContain('key "password" in data (base64 is not encryption)');
    expect(secretFindings[2].description).toContain('Secret "shop-api" has a plaintext value for key "token" in stringData');
    for (const f of secretFindings) expect(f.redacted).toMatch(/^…\(\d+ chars\)$/);
    expect(result.stdout).toContain('k8s/secrets.yaml\n');
    expect(result.stdout).toContain(`k8s/secrets.yaml:${lineOf(yaml, '  token: ')}  k8s-secret-data`);
    expect(result.stdout).toContain('FloeSecret.fromSecretName');
  });

  test('a token in a Secret is reported once, as the Secret', () => {
    const ghToken = 'ghp' + '_' + secret(36);
    const text = ['apiVersion: v1', 'kind: Secret', 'metadata: { name: gh }', 'stringData:', `  token: ${ghToken}`, ''].join('\n');
    const findings = scanText(text, 'gh.yaml', { cwd: '/' });
    expect(findings.map((f) => [f.rule, f.line])).toEqual([['k8s-secret-data', 5]]);
    expect(JSON.stringify(findings)).not.toContain(ghToken.slice(4, 20));
  });

  test('a Secret in JSON (kubectl get -o json) and in a List', () => {
    const value = Buffer.from(secret(20)).toString('base64');
    SECRETS.push(value);
    const json = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, data: { key: value } }] }, undefined, 2);
    const findings = scanText(json, 'secret.json', { cwd: '/' });
    expect(findings.map((f) => [f.rule, f.line])).toEqual([['k8s-secret-data', lineOf(json, '"key"')]]);
  });

  test('text that is not YAML still gets the line rules', () => {
    const key = 'AKIA' + secret(16, UPPER + DIGITS);
    const text = `kind: Secret\ndata: {{ .Values.data | toYaml }\n  oops: [\naws: ${key}\n`;
    expect(scanText(text, 'chart/templates/secret.yaml', { cwd: '/' }).map((f) => f.rule)).toEqual(['aws-access-key-id']);
  });
});

describe('high-entropy env values and credential assignments', () => {
  test('pod spec env: literal secrets flagged, references and plain settings not', async () => {
    const apiKey = secret(32);
    const seed = secret(40, HEX + UPPER);
    const yaml = [
      'apiVersion: batch/v1',
      'kind: Job',
      'metadata: { name: load }',
      'spec:',
      '  template:',
      '    spec:',
      '      containers:',
      '        - name: main',
      '          image: ghcr.io/acme/orders-loader:1.4.2',
      '          env:',
      '            - name: LOG_LEVEL',
      '              value: info',
      '            - name: API_KEY',
      `              value: ${apiKey}`,
      '            - name: SESSION_SEED',
      `              value: "${seed}"`,
      '            - name: DBT_PASSWORD',
      '              value: "{{ env_var(\'FLOE_SECRET_DB_CREDS_PASSWORD\') }}"',
      '            - name: DB_PASSWORD',
      '              valueFrom:',
      '                secretKeyRef: { name: db-creds, key: password }',
      '            - name: COPY_OF_TOKEN',
      '              value: $(FLOE_SECRET_SHOP_API_TOKEN)',
      '            - name: SHELL_TOKEN',
      '              value: ${SHOP_API_TOKEN}',
      '            - name: CLIENT_SECRET',
      '              value: <your-client-secret-goes-here>',
      '            - name: PASSWORD',
      '              value: changeme-changeme-changeme',
      '            - name: INFISICAL_API_URL',
      '              value: https://app.infisical.com/api',
      '            - name: SECRET_FILE',
      '              value: /run/secrets/google-sa/key.json',
      '            - name: TARGET_SECRET_NAME',
      '              value: snowflake-credentials',
      '            - name: BUILD_ID',
      '              value: "20240501123000"',
      '',
    ].join('\n');
    const dir = tempDir({ 'job.yaml': yaml });
    const { code, findings } = await runJson(['job.yaml'], dir);
    expect(code).toBe(ExitCode.PROBLEMS);
    expect(findings.map((f) => [f.rule, f.line])).toEqual([
      ['high-entropy-env-value', lineOf(yaml, apiKey)],
      ['high-entropy-env-value', lineOf(yaml, seed)],
    ]);
    expect(findings[0].description).toContain('env var "API_KEY"');
    expect(findings[0].fix).toContain('valueFrom.secretKeyRef');
  });

  test('KEY=value and key: value lines with credential names', async () => {
    const dbPassword = secret(24);
    const clientSecret = secret(64, HEX);
    const apiKey = secret(32);
    const env = [
      '# local settings',
      `DB_PASSWORD=${dbPassword}`,
      `ADMIN_PASSWORD==${secret(24)}`, // dotenv reads the value "=…": a value may start with "="
      'API_TOKEN=${API_TOKEN}',
      'CLIENT_SECRET=changeme',
      'SECRET_NAME=snowflake-credentials',
      `LOG_FORMAT=${secret(24)}`, // not a credential name: not this rule's business
      'password=short',
      '',
    ].join('\n');
    const config = [
      'auth:',
      `  client_secret: ${clientSecret}`,
      '  client_id: { env: INFISICAL_CLIENT_ID }',
      '  other_secret: { env: INFISICAL_CLIENT_SECRET }',
      '  token_path: /var/run/secrets/kubernetes.io/serviceaccount/token',
      '  profile: "{{ env_var(\'DBT_ENV_SECRET_PASSWORD\') }}"',
      '',
    ].join('\n');
    const code = [
      `const apiKey = '${apiKey}';`,
      'const token = process.env.FLOE_TOKEN;',
      'const secret = /^\\/api\\/v3\\/secrets\\/raw\\/([^/]+)$/.exec(path);',
      'interface Props { password: string; clientSecret?: string }',
      `password == '${secret(24)}';`, // in code, == compares
      'export const SECRET_KEY_PATTERN = toJson_SecretKeyPatternProps;',
      '',
    ].join('\n');
    const dir = tempDir({ '.env': env, 'config.yml': config, 'src/client.ts': code });
    const { findings } = await runJson([], dir);
    expect(findings.map((f) => [f.path, f.rule, f.line])).toEqual([
      ['.env', 'credential-assignment', 2],
      ['.env', 'credential-assignment', 3],
      ['config.yml', 'credential-assignment', 2],
      ['src/client.ts', 'credential-assignment', 1],
    ]);
    expect(findings[0].description).toContain('"DB_PASSWORD"');
  });
});

describe('walking', () => {
  test('skips .git, node_modules, lib, coverage, cdk8s.out, binary files; reports large files', async () => {
    const token = () => `TOKEN_VALUE=${'ghp' + '_' + secret(36)}\n`;
    const binary = Buffer.concat([Buffer.from('\u0000\u0001binary'), Buffer.from(token())]);
    const large = token() + 'a'.repeat(2 * 1024 * 1024) + '\n';
    const dir = tempDir({
      '.git/config': token(),
      'node_modules/pkg/index.js': token(),
      'lib/index.js': token(),
      'coverage/lcov.info': token(),
      'cdk8s.out/app.k8s.yaml': token(),
      'image.png': binary,
      'big.log': large,
      'ok.txt': 'nothing to see here\n',
    });
    symlinkSync(path.join(dir, 'lib/index.js'), path.join(dir, 'link.js'));
    const result = await run([], dir);
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain('no plaintext credentials found in 1 file');
    expect(result.stdout).toContain('1 binary file skipped');
    expect(result.stderr).toContain('skipped big.log: larger than 2 MiB');

    // A path given explicitly is scanned even inside a skipped directory.
    const explicit = await runJson(['node_modules/pkg/index.js', 'lib'], dir);
    expect(explicit.findings.map((f) => f.path)).toEqual(['lib/index.js', 'node_modules/pkg/index.js']);
  });

  test('paths outside the working directory are shown absolute; duplicates are scanned once', async () => {
    const dir = tempDir({ 'a/.env': `DB_PASSWORD=${secret(24)}\n` });
    const elsewhere = tempDir();
    const { findings } = await runJson([path.join(dir, 'a'), path.join(dir, 'a/.env')], elsewhere);
    expect(findings.map((f) => f.path)).toEqual([path.join(dir, 'a/.env')]);
  });
});

describe('allowlist', () => {
  const setup = () => tempDir({
    'a.env': `DB_PASSWORD=${secret(24)}\nAPI_TOKEN=${secret(30)}\n`,
    'sub/b.env': `CLIENT_SECRET=${secret(40)}\n`,
  });

  test('by fingerprint, path:line, path and directory; # comments', async () => {
    const dir = setup();
    const all = await runJson([], dir);
    expect(all.findings.map((f) => `${f.path}:${f.line}`)).toEqual(['a.env:1', 'a.env:2', 'sub/b.env:1']);
    for (const f of all.findings) expect(f.fingerprint).toMatch(/^[0-9a-f]{12}$/);
    const human = await run([], dir);
    for (const f of all.findings) expect(human.stdout).toContain(`[${f.fingerprint}]`);

    writeFileSync(path.join(dir, 'by-fingerprint'), `# accepted after review\n${all.findings[0].fingerprint}  # test fixture\n`);
    expect((await runJson(['--allowlist', 'by-fingerprint'], dir)).findings.map((f) => `${f.path}:${f.line}`)).toEqual(['a.env:2', 'sub/b.env:1']);

    writeFileSync(path.join(dir, 'by-line'), 'a.env:2\n');
    expect((await runJson(['--allowlist', 'by-line'], dir)).findings.map((f) => `${f.path}:${f.line}`)).toEqual(['a.env:1', 'sub/b.env:1']);

    writeFileSync(path.join(dir, 'by-path'), '\n./a.env\n');
    expect((await runJson(['--allowlist', 'by-path'], dir)).findings.map((f) => `${f.path}:${f.line}`)).toEqual(['sub/b.env:1']);

    writeFileSync(path.join(dir, 'by-dir'), 'sub/\n');
    expect((await runJson(['--allowlist', 'by-dir'], dir)).findings.map((f) => f.path)).toEqual(['a.env', 'a.env']);

    // The default allowlist in the working directory is read without a flag.
    writeFileSync(path.join(dir, '.floe-secrets-allowlist'), all.findings.map((f) => f.fingerprint).join('\n'));
    const none = await run([], dir);
    expect(none.code).toBe(ExitCode.OK);
    expect(none.stdout).toContain('3 allowlisted');
  });

  test('a fingerprint changes with the matched text', async () => {
    const dir = setup();
    const before = await runJson(['a.env'], dir);
    writeFileSync(path.join(dir, 'a.env'), `DB_PASSWORD=${secret(24)}\nAPI_TOKEN=${secret(30)}\n`);
    const after = await runJson(['a.env'], dir);
    expect(after.findings[0].fingerprint).not.toBe(before.findings[0].fingerprint);
  });

  test('parseAllowlist', () => {
    const list = parseAllowlist('# c\nABCDEF012345\nx/y.yaml:12\nz/\n', '/repo');
    expect([...list.fingerprints]).toEqual(['abcdef012345']);
    expect([...(list.lines.get('/repo/x/y.yaml') ?? [])]).toEqual([12]);
    expect(list.paths.has('/repo/z')).toBe(true);
  });

  test('an unreadable allowlist is exit 2', async () => {
    const dir = setup();
    const missing = await run(['--allowlist', 'nope.txt'], dir);
    expect(missing.code).toBe(ExitCode.ERROR);
    expect(missing.stderr).toBe('floe-secrets scan: cannot read allowlist "nope.txt": no such file or directory\n');
    mkdirSync(path.join(dir, 'adir'));
    expect((await run(['--allowlist', 'adir'], dir)).code).toBe(ExitCode.ERROR);
    mkdirSync(path.join(dir, '.floe-secrets-allowlist'));
    const defaultIsDir = await run([], dir);
    expect(defaultIsDir.code).toBe(ExitCode.ERROR);
    expect(defaultIsDir.stderr).toContain('cannot read allowlist ".floe-secrets-allowlist"');
  });
});

describe('output and exit codes', () => {
  test('-o json prints an array of findings without values', async () => {
    const stripe = 'sk' + '_live_' + secret(24);
    const dir = tempDir({ 'settings.py': `STRIPE_KEY = "${stripe}"\n` });
    const result = await run(['-o', 'json'], dir);
    expect(result.code).toBe(ExitCode.PROBLEMS);
    const parsed = JSON.parse(result.stdout);
    expect(Array.isArray(parsed)).toBe(true);
    expect(parsed).toEqual([
      {
        path: 'settings.py',
        line: 1,
        rule: 'stripe-live-key',
        description: 'Stripe live secret key',
        redacted: 'sk_l…(32 chars)',
        fingerprint: expect.stringMatching(/^[0-9a-f]{12}$/),
        fix: expect.stringContaining('secrets backend'),
      },
    ]);
    expect(result.stderr).toContain('1 plaintext credential in 1 file');

    const clean = await run(['--output=json'], tempDir({ 'README.md': 'hello\n' }));
    expect(clean.code).toBe(ExitCode.OK);
    expect(JSON.parse(clean.stdout)).toEqual([]);
  });

  test('the human report groups by file and gives a fix per rule', async () => {
    const dir = tempDir({
      'b.txt': `aws = ${'AKIA' + secret(16, UPPER + DIGITS)}\n`,
      'a.txt': `one: ${'xox' + 'p-' + digits(12) + '-' + secret(30)}\ntwo: ${'AI' + 'za' + secret(35)}\n`,
    });
    const { code, stdout } = await run([], dir);
    expect(code).toBe(ExitCode.PROBLEMS);
    expect(stdout).toMatch(/^a\.txt\n {2}a\.txt:1 {2}slack-token {2}Slack token {2}\(xoxp…\(\d+ chars\)\) {2}\[[0-9a-f]{12}\]\n {2}a\.txt:2 {2}google-api-key/);
    expect(stdout.indexOf('\nb.txt\n')).toBeGreaterThan(stdout.indexOf('a.txt:2'));
    expect(stdout).toContain('how to fix:\n  aws-access-key-id: ');
    expect(stdout).toContain('\n  google-api-key: ');
    expect(stdout).toContain('3 plaintext credentials in 2 files (2 files scanned)');
  });

  test('exit 2: missing path, bad flag, missing flag value; --help is exit 0', async () => {
    const dir = tempDir({ 'ok.txt': 'fine\n' });
    const missing = await run(['ok.txt', 'does/not/exist'], dir);
    expect(missing).toEqual({ code: ExitCode.ERROR, stdout: '', stderr: 'floe-secrets scan: cannot scan "does/not/exist": no such file or directory\n' });

    symlinkSync(path.join(dir, 'gone'), path.join(dir, 'dangling'));
    expect((await run(['dangling'], dir)).code).toBe(ExitCode.ERROR);

    const badFlag = await run(['--nope'], dir);
    expect(badFlag.code).toBe(ExitCode.ERROR);
    expect(badFlag.stderr).toBe('floe-secrets scan: unknown option --nope; run "floe-secrets scan --help" for its options\n');
    expect(badFlag.stdout).toBe('');

    const noValue = await run(['--allowlist'], dir);
    expect(noValue.code).toBe(ExitCode.ERROR);
    expect(noValue.stderr).toBe('floe-secrets scan: --allowlist needs a value (<file>); run "floe-secrets scan --help"\n');

    const badFormat = await run(['-o', 'sarif'], dir);
    expect(badFormat).toEqual({ code: ExitCode.ERROR, stdout: '', stderr: 'floe-secrets scan: -o/--output "sarif" is not a format of this command; use one of text, json\n' });

    const help = await run(['--help'], dir);
    expect(help.code).toBe(ExitCode.OK);
    expect(help.stdout).toContain('Exit codes: 0 no findings, 1 findings, 2 could not scan');

    const clean = await run([], dir);
    expect(clean).toEqual({ code: ExitCode.OK, stdout: 'no plaintext credentials found in 1 file\n', stderr: '' });
  });

  test('random secrets of every rule never reach stdout or stderr', async () => {
    const lines = TOKEN_CASES.map((c) => `value_${Math.random().toString(36).slice(2, 6)}: ${JSON.stringify(c.positive())}`);
    lines.push(`DB_PASSWORD=${secret(48, BASE62 + '+/=')}`);
    const dir = tempDir({ 'everything.txt': `${lines.join('\n')}\n`, 's.yaml': `kind: Secret\nstringData:\n  p: ${secret(16)}\n` });
    for (const args of [[], ['-o', 'json']]) {
      const result = await run(args, dir); // run() fails on any 8-character window of any generated secret
      expect(result.code).toBe(ExitCode.PROBLEMS);
    }
    const { findings } = await runJson([], dir);
    expect(new Set(findings.map((f) => f.rule))).toEqual(new Set([...TOKEN_CASES.map((c) => c.rule), 'credential-assignment', 'k8s-secret-data']));
  });
});

describe('the repository itself', () => {
  const root = path.resolve(__dirname, '../../..');

  test('examples and sources (and committed example output) hold no plaintext credentials', async () => {
    const targets = ['examples', 'src', 'test/__snapshots__'].filter((p) => existsSync(path.join(root, p)));
    expect(targets).toEqual(expect.arrayContaining(['examples', 'src']));
    const result = await run(targets, root);
    if (result.code !== ExitCode.OK) throw new Error(`scan of ${targets.join(', ')} found:\n${result.stdout}${result.stderr}`);
    expect(result.stdout).toMatch(/^no plaintext credentials found in \d+ files\n$/);
  });
});
