import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLogger, FileAuditSink, JsonLinesAuditSink, PluginOptions, SecretsPlugin } from '@floe-secrets/core';
import { KeycloakIdentityPlugin } from '@floe-secrets/identity-keycloak';
import { InfisicalSecretsPlugin } from '@floe-secrets/infisical';
import { K8sSecretsPlugin } from '@floe-secrets/k8s';
import { VaultSecretsPlugin } from '@floe-secrets/vault';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { CliRun, runCli } from './run-cli';
import {
  commentLine, CREDENTIAL_FRAGMENTS, LeakReport, LeakValues, platformManifest, printedForms, secretDocument, singleLine,
} from '../../../test/leak-values';
import { Fault, FaultServer, json, writeKubeconfig } from '../../floe-secrets-core/test/fault-server';
import { InfisicalTestServer } from '../../floe-secrets-infisical/test/infisical-test-server';
import { VaultTestServer } from '../../floe-secrets-vault/test/vault-test-server';

// Issue 10 acceptance, runtime side: thousands of random values (tokens, hex, digits, values with
// spaces, quotes, colons, "#", "*", "&", braces, newlines and unicode) as credentials, as secret
// values, and in hostile server answers, through every runtime channel:
//   - plugin errors (message, stack, cause, String, JSON, deep util.inspect) and every public
//     object (plugins, configs) printed the same ways, for the Infisical, Vault, K8s and Keycloak
//     plugins against their test servers and the core fault server;
//   - audit lines (JsonLinesAuditSink) and audit files (FileAuditSink), read back;
//   - OpenTelemetry spans (names, attributes, events, status messages);
//   - requests that reached an origin other than the configured one;
//   - the built CLI's stdout and stderr, with and without -o json, for manifest.yaml files with literal
//     credentials, YAML aliases, anchors, flow mappings and multi-line values in credential fields,
//     for Secret manifests with such values, and against the backends; and its audit files.
// No value, nor any 12-character slice of one, may appear in any of them.

const pool = new LeakValues();
let report: LeakReport;
let dir: string;
const exporter = new InMemorySpanExporter();
const auditLines: string[] = [];
let audit: AuditLogger;

/** Fast, bounded retries: faults fail in milliseconds. */
const FAST: PluginOptions['retry'] = { attempts: 2, baseDelayMs: 5, maxDelayMs: 20, totalTimeoutMs: 1_500, attemptTimeoutMs: 700 };
const options = (): PluginOptions => ({ audit, retry: FAST, healthTimeoutMs: 1_500 });
/** Against the (well-behaved) test servers: generous, so a loaded machine does not fail a write. */
const patient = (): PluginOptions => ({
  audit, retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 200, totalTimeoutMs: 20_000, attemptTimeoutMs: 8_000 },
});
let identities = 0;
/** A client id: an identifier, not a secret (the audit log's requester), so never a pool value. */
const clientId = (): string => `leak-id-${++identities}`;

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  dir = mkdtempSync(join(tmpdir(), 'floe-leak-runtime-'));
  audit = new AuditLogger([new JsonLinesAuditSink({ write: (line: string) => auditLines.push(line) }), new FileAuditSink({ directory: join(dir, 'audit') })]);
});

afterAll(() => {
  trace.disable();
  context.disable();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  report = new LeakReport(pool);
});

/** Audit lines, audit files and spans of the test so far: checked, then cleared. */
function checkAuditAndSpans(): void {
  report.check('audit lines (JsonLinesAuditSink)', auditLines.splice(0).join(''));
  const files = readdirSync(join(dir, 'audit')).map((f) => readFileSync(join(dir, 'audit', f), 'utf8')).join('');
  report.check('audit files (FileAuditSink)', files);
  for (const f of readdirSync(join(dir, 'audit'))) rmSync(join(dir, 'audit', f));
  const spans = exporter.getFinishedSpans().map((s) => JSON.stringify({
    name: s.name,
    attributes: s.attributes,
    status: s.status,
    events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
    links: s.links,
  }));
  report.check('spans', spans.join('\n'));
  exporter.reset();
}

/** Runs `call`; the error it threw, or undefined. */
async function failure(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Runs `fn` over `items`, `width` at a time. */
async function inBatches<T, R>(items: readonly T[], width: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...await Promise.all(items.slice(i, i + width).map((item, j) => fn(item, i + j))));
  return out;
}

/** Every call of the plugin API with fresh values: the errors and the health message are checked. */
async function exercise(plugin: SecretsPlugin, channel: string, key: string): Promise<void> {
  for (const call of [
    () => plugin.getSecret(key),
    () => plugin.setSecret(key, pool.next(), { note: pool.next() }),
    () => plugin.listSecrets('leak/'),
  ]) report.check(`${channel}: error`, printedForms(await failure(call)));
  report.check(`${channel}: health`, printedForms(await plugin.healthCheck()));
  report.check(`${channel}: printed plugin`, printedForms(plugin));
}

describe('plugins never show a value (issue 10 acceptance: randomized leak test)', () => {
  test('no value reaches Infisical plugin errors, printed plugins, audit or spans, as client secrets and secret values', async () => {
    // GIVEN an Infisical test server whose identities' client secrets are pool values
    const rw = { clientId: 'leak-rw', clientSecret: pool.next(), access: 'read-write' as const };
    const ro = { clientId: 'leak-ro', clientSecret: pool.next(), access: 'read-only' as const };
    const server = await InfisicalTestServer.start({ identities: [rw, ro] });
    const config = (who: { clientId: string; clientSecret: string }) => ({
      siteUrl: server.url, clientId: who.clientId, clientSecret: who.clientSecret, projectId: server.projectId, environment: 'dev', secretPath: '/',
    });
    try {
      // WHEN 800 values are written and read back, 100 writes are refused, 60 logins fail
      const writer = new InfisicalSecretsPlugin(config(rw), patient());
      const values = pool.many(800);
      await inBatches(values, 10, async (value, i) => writer.setSecret(`leak/k${i}`, value));
      const read = await inBatches(values, 10, async (_, i) => writer.getSecret(`leak/k${i}`));
      expect(read).toEqual(values);
      expect((await writer.listSecrets('leak/')).length).toBe(800);
      report.check('Infisical: printed plugin after use', printedForms(writer));

      const reader = new InfisicalSecretsPlugin(config(ro), patient());
      await inBatches(Array.from({ length: 100 }), 20, async (_, i) => report.check('Infisical: refused write', printedForms(await failure(() => reader.setSecret(`leak/k${i}`, pool.next())))));
      await inBatches(Array.from({ length: 60 }), 20, async (_, i) => {
        const wrong = new InfisicalSecretsPlugin(config({ clientId: i % 2 ? rw.clientId : clientId(), clientSecret: pool.next() }), options());
        await exercise(wrong, 'Infisical: wrong client secret', 'leak/k1');
      });

      // THEN none of it shows a value anywhere
      checkAuditAndSpans();
      expect(report.describe()).toEqual([]);
    } finally {
      await server.close();
    }
  }, 120_000);

  test('no value reaches Vault plugin errors, printed plugins, audit or spans, as tokens, AppRole ids and secret values', async () => {
    const server = await VaultTestServer.start();
    try {
      server.setPolicy('rw', { 'secret/data/*': ['create', 'read', 'update'], 'secret/metadata/*': ['list', 'read', 'create', 'update'] });
      server.setPolicy('ro', { 'secret/data/*': ['read'], 'secret/metadata/*': ['list', 'read'] });
      const rwToken = pool.add(server.createToken({ policies: ['rw'] }).token);
      const roToken = pool.add(server.createToken({ policies: ['ro'] }).token);
      const roleId = pool.next();
      const secretId = pool.next();
      server.addAppRole({ name: 'leak', policies: ['rw'], roleId, secretId });
      const byToken = (token: string, opts = options()) => new VaultSecretsPlugin({ address: server.address, auth: { method: 'token', token } }, opts);

      // WHEN 800 values are written through a token and AppRole and read back
      const writer = byToken(rwToken, patient());
      const approle = new VaultSecretsPlugin({ address: server.address, auth: { method: 'approle', roleId, secretId } }, patient());
      const values = pool.many(800);
      await inBatches(values, 10, async (value, i) => (i % 2 ? writer : approle).setSecret(`leak/k${i}`, value, { owner: 'floe' }));
      expect(await inBatches(values, 10, async (_, i) => writer.getSecret(`leak/k${i}`))).toEqual(values);
      await writer.listSecrets('leak/');
      for (const plugin of [writer, approle]) report.check('Vault: printed plugin after use', printedForms(plugin));

      // AND refused writes, wrong tokens and wrong AppRole secret ids
      const reader = byToken(roToken, patient());
      await inBatches(Array.from({ length: 100 }), 20, async (_, i) => report.check('Vault: refused write', printedForms(await failure(() => reader.setSecret(`leak/k${i}`, pool.next())))));
      await inBatches(Array.from({ length: 60 }), 20, async (_, i) => {
        const wrong = i % 2
          ? byToken(pool.next())
          : new VaultSecretsPlugin({ address: server.address, auth: { method: 'approle', roleId: i % 4 ? roleId : pool.next(), secretId: pool.next() } }, options());
        await exercise(wrong, 'Vault: wrong credentials', 'leak/k1');
      });

      // THEN
      checkAuditAndSpans();
      expect(report.describe()).toEqual([]);
    } finally {
      await server.close();
    }
  }, 120_000);

  test('no value reaches a plugin error when a hostile server answers with values in its body, headers or redirect', async () => {
    // GIVEN the core fault server, and another origin that must receive nothing
    const server = await FaultServer.start();
    const elsewhere = await FaultServer.start();
    const tls = await FaultServer.start({ tls: true });
    const refused = await FaultServer.refusedAddress();
    const echo = (): string => JSON.stringify({
      message: pool.next(), errors: [pool.next()], error: pool.next(), secret: { secretValue: pool.next() }, data: { data: { k: pool.next() } },
    });
    const faults: ReadonlyArray<readonly [string, () => Fault]> = [
      ...[400, 401, 403, 404, 409, 422, 429, 500, 502, 503].map((status): readonly [string, () => Fault] => [`JSON ${status} echoing values`, (): Fault => ({
        kind: 'status', status, body: echo(), contentType: 'application/json', headers: { 'retry-after': '0', 'www-authenticate': `Bearer error="${pool.token()}"`, 'x-debug': pool.token() },
      })]),
      ['HTML 404 echoing a value', (): Fault => ({ kind: 'status', status: 404, body: `<html><body><pre>${pool.next()}</pre></body></html>`, contentType: 'text/html' })],
      ['text 500 echoing a value', (): Fault => ({ kind: 'status', status: 500, body: pool.next(), contentType: 'text/plain' })],
      ['malformed JSON holding values', (): Fault => ({ kind: 'status', status: 200, body: echo().slice(0, -7), contentType: 'application/json' })],
      ['200 of the wrong shape holding values', (): Fault => ({ kind: 'status', status: 200, body: JSON.stringify([pool.next(), { value: pool.next() }]), contentType: 'application/json' })],
      ['cross-origin 307 with a value in path and query', (): Fault => ({ kind: 'redirect', status: 307, to: `${elsewhere.address}/${pool.token()}?token=${pool.token()}` })],
      ['cross-origin 301 with a value in path and query', (): Fault => ({ kind: 'redirect', status: 301, to: `${elsewhere.address}/${pool.token()}?token=${pool.token()}` })],
      ['reset mid-body', (): Fault => ({ kind: 'reset' })],
    ];
    const plugins: ReadonlyArray<readonly [string, (address: string) => SecretsPlugin]> = [
      ['Infisical', (address) => new InfisicalSecretsPlugin({ siteUrl: address, clientId: clientId(), clientSecret: pool.next(), projectId: 'p-1', environment: 'dev' }, options())],
      ['Vault (token)', (address) => new VaultSecretsPlugin({ address, auth: { method: 'token', token: pool.next() } }, options())],
      ['Vault (AppRole)', (address) => new VaultSecretsPlugin({ address, auth: { method: 'approle', roleId: pool.next(), secretId: pool.next() } }, options())],
    ];
    try {
      // WHEN every plugin makes every call against every fault, with fresh credentials and values
      for (const [name, make] of plugins) {
        for (const [fault, build] of faults) {
          server.fault = build();
          await exercise(make(server.address), `${name} x ${fault}`, 'leak/k');
        }
        for (const [fault, address] of [['self-signed TLS', tls.address], ['refused', refused]]) await exercise(make(address), `${name} x ${fault}`, 'leak/k');
      }
      // AND the Keycloak identity plugin validates pool values as tokens, with a pool client secret
      for (const [fault, build] of faults) {
        server.fault = build();
        const keycloak = new KeycloakIdentityPlugin({
          serverUrl: server.address, realms: ['floe'], audience: 'floe-cli', serviceAccount: { clientId: 'floe', clientSecret: pool.next() }, requestTimeoutMs: 700,
        }, { audit });
        const calls = [() => keycloak.validateToken(pool.next()), () => keycloak.getUserInfo(pool.next()), () => keycloak.getServiceAccountToken()];
        for (const call of calls) {
          report.check(`Keycloak x ${fault}: error`, printedForms(await failure(call)));
        }
        report.check(`Keycloak x ${fault}: health`, printedForms(await keycloak.healthCheck()));
        report.check(`Keycloak x ${fault}: printed plugin`, printedForms(keycloak));
      }

      // THEN no value in any error, printed object, audit event or span; nothing reached the other origin
      report.check('requests to another origin', elsewhere.transcript());
      checkAuditAndSpans();
      expect(report.describe()).toEqual([]);
    } finally {
      await Promise.all([server.close(), elsewhere.close(), tls.close()]);
    }
  }, 180_000);

  test('no value reaches K8s plugin errors or printed plugins, as the kubeconfig bearer token and as secret values', async () => {
    const server = await FaultServer.start({ tls: true });
    const elsewhere = await FaultServer.start({ tls: true });
    try {
      const answers = [400, 401, 403, 404, 409, 422, 500, 503];
      for (let i = 0; i < 40; i++) {
        const status = answers[i % answers.length];
        server.fault = i % 10 === 9
          ? { kind: 'redirect', status: 307, to: `${elsewhere.address}/${pool.token()}?t=${pool.token()}` }
          : json(status, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: pool.next(), reason: pool.token(), details: { name: pool.token() }, code: status });
        const plugin = new K8sSecretsPlugin({ namespace: 'floe-jobs', kubeconfig: writeKubeconfig(dir, server.address, pool.token()) }, options());
        await exercise(plugin, `K8s x ${i % 10 === 9 ? 'redirect' : `HTTP ${status}`}`, 'leak-k');
      }
      report.check('requests to another origin', elsewhere.transcript());
      checkAuditAndSpans();
      expect(report.describe()).toEqual([]);
    } finally {
      await Promise.all([server.close(), elsewhere.close()]);
    }
  }, 120_000);
});

describe('the built CLI never shows a value (issue 10 acceptance: randomized leak test)', () => {
  let env: NodeJS.ProcessEnv;
  let kubeconfig: string;

  /** Runs the CLI in `dir`, 8 at a time; every run's stdout and stderr are checked. */
  interface Run {
    readonly label: string;
    readonly args: string[];
    readonly env?: NodeJS.ProcessEnv;
    readonly input?: string;
  }

  async function cli(runs: readonly Run[]): Promise<CliRun[]> {
    return inBatches(runs, 8, async (run) => {
      const result = await runCli(run.args, { cwd: dir, env: run.env ?? env, input: run.input });
      report.check(`CLI ${run.label}: stdout`, result.stdout);
      report.check(`CLI ${run.label}: stderr`, result.stderr);
      return result;
    });
  }

  /** The CLI's audit files, checked and removed. */
  function checkCliAudit(): void {
    const audits = join(dir, 'cli-audit');
    mkdirSync(audits, { recursive: true });
    report.check('CLI audit files', readdirSync(audits).map((f) => readFileSync(join(audits, f), 'utf8')).join(''));
    rmSync(audits, { recursive: true, force: true });
  }

  beforeAll(async () => {
    // A kubeconfig whose bearer token is a value, for a server where nothing listens.
    kubeconfig = writeKubeconfig(dir, await FaultServer.refusedAddress({ tls: true }), pool.token());
    env = { ...process.env, KUBECONFIG: kubeconfig, FLOE_SECRETS_AUDIT_DIR: join(dir, 'cli-audit'), VAULT_TOKEN: pool.next(), INFISICAL_CLIENT_ID: 'leak', INFISICAL_CLIENT_SECRET: pool.next() };
    mkdirSync(join(dir, 'in'), { recursive: true });
    writeFileSync(join(dir, 'in', 'config.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: floe-sales\ndata:\n  mode: batch\n');
  });

  test('no value reaches CLI stdout or stderr for YAML aliases, anchors, flow mappings, multi-line values and literals in manifest.yaml credential fields, with and without -o json', async () => {
    // GIVEN per way of writing a credential (22) a manifest, Infisical or Vault in turn, with the
    // credential written that way and 120 more values around it
    const before = pool.values.length;
    const commands: string[][] = [['list', '-o', 'json'], ['validate', 'in', '-o', 'json'], ['access-map', 'in', '-o', 'json'], ['health'], ['get', 'a/b'], ['list'], ['validate', 'in']];
    const runs = CREDENTIAL_FRAGMENTS.map(([name, build], index) => {
      const backend = index % 2 === 0 ? 'infisical' : 'vault';
      const file = `manifest-${index}.yaml`;
      writeFileSync(join(dir, file), platformManifest(pool, backend, build(pool, backend === 'infisical' ? 6 : 4), 120));
      // WHEN a command reads it: with JSON output and without, in turn
      const args = commands[index % commands.length];
      return { label: `${args.join(' ')} (${name} in the ${backend} manifest)`, args: [...args, '--manifest', file] };
    });
    const results = await cli(runs);

    // THEN no run shows any value, and none printed a Node warning or a stack trace
    for (const run of results) expect(run.stderr).not.toMatch(/\(node:\d+\)|Warning:|\n\s+at /);
    checkCliAudit();
    expect(pool.values.length - before).toBeGreaterThanOrEqual(2_500);
    expect(report.describe()).toEqual([]);
  }, 120_000);

  test('no value reaches CLI stdout or stderr for Secret manifests with aliases, anchors, flow mappings, multi-line and literal values (access-map, validate, scan)', async () => {
    // GIVEN per fragment a directory with one Secret written that way among 20 well-formed ones,
    // and one directory of 300 well-formed Secrets with literal values
    writeFileSync(join(dir, 'k8s.yaml'), 'plugins:\n  secrets: { type: k8s }\ndomains:\n  - name: sales\n');
    const before = pool.values.length;
    const dirs = CREDENTIAL_FRAGMENTS.map(([name, build], index) => {
      const sub = join(dir, `secrets-${index}`);
      mkdirSync(sub, { recursive: true });
      const docs = Array.from({ length: 20 }, (_, i) => secretDocument(pool, `ok-${i}`, { value: JSON.stringify(singleLine(pool)) }));
      docs.splice(7, 0, secretDocument(pool, 'hostile', build(pool, 2)));
      writeFileSync(join(sub, 'secrets.yaml'), docs.join('---\n'));
      return [name, `secrets-${index}`] as const;
    });
    mkdirSync(join(dir, 'literal-secrets'), { recursive: true });
    for (let f = 0; f < 12; f++) {
      writeFileSync(join(dir, 'literal-secrets', `s${f}.yaml`), Array.from({ length: 30 }, (_, i) => `${commentLine(pool, 0)}\n${secretDocument(pool, `s-${f}-${i}`, { value: JSON.stringify(pool.next()) })}`).join('---\n'));
    }
    const commands: string[][] = [
      ['access-map', '{}'], ['access-map', '{}', '-o', 'json'], ['validate', '{}', '--manifest', 'k8s.yaml'], ['validate', '{}', '--manifest', 'k8s.yaml', '-o', 'json'],
      ['scan', '{}'], ['scan', '{}', '-o', 'json'],
    ];
    const fill = (args: string[], target: string) => args.map((a) => (a === '{}' ? target : a));

    // WHEN every command reads the literal directory, and two commands in turn read each hostile one
    const runs = [
      ...commands.map((args) => ({ label: `${args.join(' ')} (300 literal Secrets)`, args: fill(args, 'literal-secrets') })),
      ...dirs.map(([name, sub], index) => ({ label: `${commands[index % 6].join(' ')} (${name})`, args: fill(commands[index % 6], sub) })),
    ];
    const results = await cli(runs);

    // THEN
    for (const run of results) expect(run.stderr).not.toMatch(/\(node:\d+\)|Warning:|\n\s+at /);
    checkCliAudit();
    expect(pool.values.length - before).toBeGreaterThanOrEqual(2_000);
    expect(report.describe()).toEqual([]);
  }, 120_000);

  test('no value reaches CLI stdout or stderr against the Vault and Infisical backends and a kube-apiserver address, with and without -o json', async () => {
    // GIVEN backends holding 300 values each, and credentials that are values (right and wrong ones)
    const vault = await VaultTestServer.start();
    const identity = { clientId: 'leak-cli', clientSecret: pool.next(), access: 'read-write' as const };
    const infisical = await InfisicalTestServer.start({ identities: [identity] });
    try {
      vault.setPolicy('rw', { 'secret/data/*': ['create', 'read', 'update'], 'secret/metadata/*': ['list', 'read', 'create', 'update'] });
      vault.setPolicy('ro', { 'secret/data/*': ['read'], 'secret/metadata/*': ['list', 'read'] });
      const rw = pool.add(vault.createToken({ policies: ['rw'] }).token);
      const ro = pool.add(vault.createToken({ policies: ['ro'] }).token);
      for (let i = 0; i < 300; i++) {
        vault.put(`leak/k${i}`, { value: pool.next() });
        infisical.seed('dev', '/leak', `k${i}`, pool.next());
      }
      writeFileSync(join(dir, 'vault.yaml'), `plugins:\n  secrets: { type: vault, address: "${vault.address}", auth_method: token, token: { env: VAULT_TOKEN } }\ndomains:\n  - name: sales\n`);
      writeFileSync(join(dir, 'infisical.yaml'), [
        'plugins:', '  secrets:', '    type: infisical', `    site_url: ${infisical.url}`, `    project_id: ${infisical.projectId}`, '    environment: dev', '    auth:',
        '      method: universal-auth', '      credentials_secret: { name: infisical-universal-auth, namespace: floe-platform }',
        '      client_id: { env: INFISICAL_CLIENT_ID }', '      client_secret: { env: INFISICAL_CLIENT_SECRET }', 'domains:', '  - name: sales', '',
      ].join('\n'));
      writeFileSync(join(dir, 'k8s.yaml'), 'plugins:\n  secrets: { type: k8s }\ndomains:\n  - name: sales\n');
      const vaultEnv = (token: string) => ({ ...env, VAULT_TOKEN: token });
      const infisicalEnv = (secret: string) => ({ ...env, INFISICAL_CLIENT_ID: identity.clientId, INFISICAL_CLIENT_SECRET: secret });
      const backendCommands = (manifest: string): string[][] => [
        ['list', 'leak/', '-o', 'json', '--manifest', manifest], ['health', '--manifest', manifest], ['list', 'leak/', '--manifest', manifest], ['get', 'leak/k1', '--manifest', manifest],
      ];

      // WHEN every command runs with the right and a wrong credential, and set reads values from stdin
      const runs = [
        ...backendCommands('vault.yaml').flatMap((args) => [
          { label: `${args[0]} (Vault)`, args, env: vaultEnv(rw) },
          { label: `${args[0]} (Vault, wrong token)`, args, env: vaultEnv(pool.next()) },
        ]),
        ...backendCommands('infisical.yaml').flatMap((args) => [
          { label: `${args[0]} (Infisical)`, args, env: infisicalEnv(identity.clientSecret) },
          { label: `${args[0]} (Infisical, wrong client secret)`, args, env: infisicalEnv(pool.next()) },
        ]),
        ...backendCommands('k8s.yaml').map((args) => ({ label: `${args[0]} (K8s, token in kubeconfig)`, args })),
        ...Array.from({ length: 2 }, (_, i) => ({ label: 'set (Vault)', args: ['set', `leak/set${i}`, '--manifest', 'vault.yaml'], env: vaultEnv(rw), input: pool.next() })),
        ...Array.from({ length: 2 }, (_, i) => ({ label: 'set (Vault, read-only token)', args: ['set', `leak/set${i}`, '--manifest', 'vault.yaml'], env: vaultEnv(ro), input: pool.next() })),
        ...Array.from({ length: 2 }, (_, i) => ({ label: 'set (Infisical)', args: ['set', `leak/set${i}`, '--manifest', 'infisical.yaml'], env: infisicalEnv(identity.clientSecret), input: pool.next() })),
      ];
      const results = await cli(runs);

      // THEN none shows a value; the backends did answer (the right credentials listed the keys)
      expect(results[0].status).toBe(0);
      checkCliAudit();
      expect(report.describe()).toEqual([]);
    } finally {
      await Promise.all([vault.close(), infisical.close()]);
    }
  }, 120_000);

  test('the runtime tests used at least 10,000 random values of every flavour', () => {
    expect(pool.values.length).toBeGreaterThanOrEqual(10_000);
    for (const flavour of ['base64url', 'hex', 'spaces', 'quotes', 'colons', 'yaml-specials', 'multi-line', 'unicode', 'digits', 'token']) {
      expect(pool.flavours[flavour]).toBeGreaterThan(100);
    }
  });
});
