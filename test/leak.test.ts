import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { App } from 'cdk8s';
import {
  DbtProfile, DbtValue, FloeDomain, FloeSecret, FloeSecretsPlatform, InfisicalAuthentication, InfisicalSecretSource, parsePlatformManifest,
  SecretMountedJob, SecretReference,
} from '../src';
import {
  CREDENTIAL_FRAGMENTS, LeakReport, LeakValues, platformManifest, printedForms, singleLine,
} from './leak-values';

// Issue 10 acceptance, construct side: thousands of random values (tokens, hex, digits, values with
// spaces, quotes, colons, "#", "*", "&", braces, newlines and unicode) in the credential positions
// of the constructs, which must refuse them: literals in dbt credential fields, siteUrl userinfo,
// literal credentials in the platform manifest, as YAML aliases, anchors, flow mappings and
// multi-line values. No value, nor any 12-character slice of one, may reach a thrown error
// (message, stack, cause, String, JSON, deep util.inspect), a Node warning, the console, or a
// file of the synthesized output.

const pool = new LeakValues();
/** The leaks of the running test (each test starts a new report). */
let report: LeakReport;
let dir: string;

beforeEach(() => {
  report = new LeakReport(pool);
});

/** Everything written to the console and every process warning while the tests ran. */
const printed: string[] = [];
const restore: Array<() => void> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'floe-leak-constructs-'));
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: Infinity }))).join(' '));
    });
    restore.push(() => spy.mockRestore());
  }
  const onWarning = (warning: Error): void => {
    printed.push(`${warning.name}: ${warning.message}\n${warning.stack ?? ''}`);
  };
  process.on('warning', onWarning);
  restore.push(() => process.off('warning', onWarning));
});

afterAll(() => {
  for (const undo of restore) undo();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `build`; returns what it threw (or undefined). */
function thrown(build: () => unknown): unknown {
  try {
    build();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Every file under `root`, read back as text. */
function filesUnder(root: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push([path, readFileSync(path, 'utf8')]);
  }
  return out;
}

/** Synthesizes `app` into a fresh output directory; returns the files written (none when synth threw). */
function synthFiles(app: App, channel: string): Array<[string, string]> {
  const error = thrown(() => app.synth());
  if (error !== undefined) report.check(`${channel}: synth error`, printedForms(error));
  const files = filesUnder(app.outdir);
  for (const [, text] of files) report.check(`${channel}: synthesized YAML`, text);
  return files;
}

// dbt's credential fields by adapter (see src/internal/dbt-credentials.ts and dbt's adapter docs).
const ADAPTERS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['snowflake', ['password', 'private_key', 'private_key_passphrase', 'token', 'oauth_client_secret']],
  ['bigquery', ['refresh_token', 'client_secret', 'token']],
  ['postgres', ['password', 'pass']],
  ['redshift', ['password', 'pass', 'access_key_id', 'secret_access_key']],
  ['databricks', ['token', 'client_secret', 'azure_client_secret']],
  ['duckdb', ['motherduck_token']],
];

/** A credential written into a dbt output in one of the ways the profile must refuse. */
function dbtCredential(): [string, DbtValue] {
  const form = Math.floor(Math.random() * 8);
  switch (form) {
    case 0: return ['a literal', pool.next()];
    case 1: return ['an env_var() with a literal default', `{{ env_var('DBT_CREDENTIAL', '${singleLine(pool).replace(/'/g, '')}') }}`];
    case 2: return ['an env_var() with a literal default, double quotes', `{{ env_var("FLOE_SECRET_X", "${singleLine(pool).replace(/"/g, '')}") }}`];
    case 3: {
      const digits = pool.next('digits').slice(0, 15);
      pool.add(String(Number(digits)));
      return ['a number', Number(digits)];
    }
    case 4: return ['a list of literals', [pool.next(), pool.next()]];
    case 5: return ['a map of literals', { value: pool.next(), other: pool.next() }];
    case 6: return ['a Jinja expression around a literal', `{{ '${singleLine(pool).replace(/'/g, '')}' | trim }}`];
    default: return ['a literal after a reference', `{{ env_var('X') }}${pool.next()}`];
  }
}

describe('constructs refuse credentials without repeating them (issue 10 acceptance: randomized leak test)', () => {
  test('no value reaches a DbtProfile error, profiles.yml or synthesized YAML for literals in every adapter\'s credential fields', () => {
    // GIVEN one app, one domain, and 1,200 profiles, each with 2 to 4 refused credentials
    const app = new App({ outdir: join(dir, 'dbt') });
    const sales = new FloeDomain(app, 'sales', { domain: 'sales' });
    const secret = FloeSecret.fromSecretName(sales, 'Pg', 'pg', { keys: ['user'] });
    const user = SecretReference.fromSecret(secret, 'user');
    const forms = new Map<string, number>();
    let refused = 0;
    const before = pool.values.length;

    for (let i = 0; i < 1_200; i++) {
      const [adapter, fields] = ADAPTERS[i % ADAPTERS.length];
      const output: { [field: string]: DbtValue } = { type: adapter, user, host: 'db.example.com', threads: 4 };
      for (const field of fields.slice(0, 2 + (i % 3))) {
        const [form, value] = dbtCredential();
        forms.set(form, (forms.get(form) ?? 0) + 1);
        output[field] = value;
      }
      // Nested credential positions: BigQuery's keyfile_json and DuckDB's secrets entries.
      if (adapter === 'bigquery') output.keyfile_json = { type: 'service_account', private_key: pool.next(), private_key_id: pool.next('hex') };
      if (adapter === 'duckdb') output.secrets = [{ type: 's3', key_id: pool.next(), secret: pool.next() }];
      // A literal password inside a connection string or URL of a plain field.
      if (i % 4 === 0) output.connection = `postgres://floe:${encodeURIComponent(pool.token())}@db.example.com/floe`;

      // WHEN the profile is built
      const error = thrown(() => new DbtProfile(sales, `Profile${i}`, { profileName: 'sales', target: 'prod', outputs: { prod: output } }));

      // THEN it is refused, and nothing it throws holds a value
      if (error !== undefined) refused++;
      report.check('DbtProfile error', printedForms(error));
    }
    const profileValues = pool.values.length - before;

    // AND the job and the app synthesize without any of them
    new SecretMountedJob(sales, 'Job', { name: 'dbt', image: 'dbt:1', secretEnv: [user] });
    const files = synthFiles(app, 'DbtProfile');
    for (const [, text] of files) expect(text).not.toContain('profiles.yml');

    expect(profileValues).toBeGreaterThanOrEqual(3_000);
    expect(refused).toBe(1_200);
    expect(report.describe()).toEqual([]);
  });

  test('no value reaches an InfisicalSecretSource error or the synthesized YAML for credentials in siteUrl', () => {
    const app = new App({ outdir: join(dir, 'infisical') });
    const sales = new FloeDomain(app, 'sales', { domain: 'sales' });
    const auth = InfisicalAuthentication.universalAuth({ name: 'infisical-universal-auth', namespace: 'floe-platform' });
    const urls: ReadonlyArray<readonly [string, (v: string) => string]> = [
      ['a password', (v) => `https://floe:${v}@infisical.example.com`],
      ['a percent-encoded password', (v) => `https://floe:${encodeURIComponent(v)}@infisical.example.com`],
      ['a user name', (v) => `https://${encodeURIComponent(v)}@infisical.example.com`],
      ['a user name and password on loopback', (v) => `https://${encodeURIComponent(v)}:${encodeURIComponent(pool.token())}@127.0.0.1:8080`],
      ['a password over http to localhost', (v) => `http://floe:${encodeURIComponent(v)}@localhost:8080`],
      ['a query', (v) => `https://infisical.example.com/?token=${encodeURIComponent(v)}`],
      ['a fragment', (v) => `https://infisical.example.com/#${encodeURIComponent(v)}`],
      ['a password over http to another host', (v) => `http://floe:${encodeURIComponent(v)}@infisical.example.com`],
    ];
    let refused = 0;
    for (let i = 0; i < 800; i++) {
      const [form, url] = urls[i % urls.length];
      const siteUrl = url(i % 8 === 0 ? pool.token() : pool.next());
      const error = thrown(() => new InfisicalSecretSource(sales, `Source${i}`, {
        siteUrl, projectSlug: 'floe-analytics', envSlug: 'prod', secretsPath: '/compute/snowflake', authentication: auth, secretName: `s-${i}`, keys: ['password'],
      }));
      if (error !== undefined) refused++;
      report.check(`InfisicalSecretSource error (siteUrl with ${form})`, printedForms(error));
    }
    synthFiles(app, 'InfisicalSecretSource');
    expect(refused).toBe(800);
    expect(report.describe()).toEqual([]);
  });

  test.each(CREDENTIAL_FRAGMENTS.map(([name]) => [name]))(
    'no value reaches a manifest error, FloeSecretsPlatform.fromManifest or synthesized YAML for %s in a credential field',
    (name) => {
      const build = CREDENTIAL_FRAGMENTS.find(([n]) => n === name)![1];
      let refused = 0;
      for (let i = 0; i < 12; i++) {
        // GIVEN a manifest with the credential written this way, and more values around it
        const backend = i % 2 === 0 ? 'infisical' : 'vault';
        const text = platformManifest(pool, backend, build(pool, backend === 'infisical' ? 6 : 4), 8);

        // WHEN it is parsed, and loaded by the construct into an app that is then synthesized
        const parsed = thrown(() => parsePlatformManifest(text, `manifest-${i}.yaml`));
        const file = join(dir, `manifest-${name.replace(/\W+/g, '-')}-${i}.yaml`);
        writeFileSync(file, text);
        const app = new App({ outdir: join(dir, `out-${name.replace(/\W+/g, '-')}-${i}`) });
        const loaded = thrown(() => FloeSecretsPlatform.fromManifest(app, 'Platform', file));

        // THEN both refuse it, and nothing they throw, print or write holds a value
        if (parsed !== undefined && loaded !== undefined) refused++;
        report.check('parsePlatformManifest error', printedForms(parsed));
        report.check('FloeSecretsPlatform.fromManifest error', printedForms(loaded));
        synthFiles(app, 'FloeSecretsPlatform');
      }
      report.check('console and process warnings', printed.join('\n'));
      expect(refused).toBe(12);
      expect(report.describe()).toEqual([]);
    });

  test('no value reaches a manifest error for credentials in URLs: Vault address, Infisical and Keycloak site URLs', () => {
    const urls: ReadonlyArray<readonly [string, (v: string) => string]> = [
      ['a password', (v) => `https://floe:${encodeURIComponent(v)}@vault.example.com:8200`],
      ['a query', (v) => `https://vault.example.com:8200/?token=${encodeURIComponent(v)}`],
      ['a fragment', (v) => `https://vault.example.com:8200/v1#${encodeURIComponent(v)}`],
      ['a user name', (v) => `https://${encodeURIComponent(v)}@vault.example.com`],
    ];
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const [form, build] = urls[i % urls.length];
      const url = build(pool.next());
      const field = ['vault', 'infisical', 'keycloak'][i % 3];
      const secrets = field === 'vault'
        ? `  secrets:\n    type: vault\n    address: ${JSON.stringify(url)}\n    auth_method: token\n    token: { env: VAULT_TOKEN }\n`
        : `  secrets:\n    type: infisical\n    site_url: ${JSON.stringify(url)}\n    project_id: p-1\n    environment: prod\n    auth:\n      method: universal-auth\n`
          + '      credentials_secret: { name: infisical-universal-auth, namespace: floe-platform }\n';
      const identity = field === 'keycloak' ? `  identity:\n    type: keycloak\n    server_url: ${JSON.stringify(url)}\n    realms: [floe]\n    audience: floe-cli\n` : '';
      const error = thrown(() => parsePlatformManifest(`plugins:\n${secrets}${identity}domains:\n  - name: sales\n`));
      if (error !== undefined) refused++;
      report.check(`parsePlatformManifest error (${field} URL with ${form})`, printedForms(error));
    }
    expect(refused).toBe(300);
    expect(report.describe()).toEqual([]);
  });

  test('the construct tests used at least 7,000 random values of every flavour', () => {
    report.check('console and process warnings', printed.join('\n'));
    expect(report.describe()).toEqual([]);
    expect(pool.values.length).toBeGreaterThanOrEqual(7_000);
    for (const flavour of ['base64url', 'hex', 'spaces', 'quotes', 'colons', 'yaml-specials', 'multi-line', 'unicode', 'digits', 'token']) {
      expect(pool.flavours[flavour]).toBeGreaterThan(50);
    }
  });
});
