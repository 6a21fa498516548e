import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadPlatformManifest, ManifestError, ManifestIssue, MAX_MANIFEST_BYTES, parseDuration, parsePlatformManifest, randomSecret as randomValue, SecretsConfigError } from '../src';

const EXAMPLE = join(__dirname, '..', '..', '..', 'examples', 'manifest.yaml');

type Fields = { [key: string]: unknown };

const UNIVERSAL_AUTH = { method: 'universal-auth', credentials_secret: { name: 'infisical-universal-auth', namespace: 'floe-platform' } };
const INFISICAL: Fields = { type: 'infisical', project_slug: 'floe-analytics', environment: 'prod', auth: UNIVERSAL_AUTH };
const VAULT: Fields = { type: 'vault', address: 'https://vault.example:8200', auth_method: 'kubernetes', role: 'floe' };

/** YAML text of a manifest with `secrets` as its backend and `rest` as its other top-level fields. */
function manifest(secrets: unknown, rest: Fields = {}): string {
  return stringify({ plugins: { secrets }, ...rest });
}

/** `fields` without `key`. */
function omit(fields: Fields, ...keys: string[]): Fields {
  return Object.fromEntries(Object.entries(fields).filter(([key]) => !keys.includes(key)));
}

/** The ManifestError that parsing `text` throws. */
function errorOf(text: string, source?: string): ManifestError {
  try {
    parsePlatformManifest(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return error as ManifestError;
  }
  throw new Error('expected a ManifestError, but the manifest parsed');
}

/** The one issue at `path` that parsing `text` reports. */
function issueAt(text: string, path: string): ManifestIssue {
  const error = errorOf(text);
  const found = error.issues.filter((issue) => issue.path === path);
  if (found.length !== 1) throw new Error(`expected one issue at ${path}, got:\n${error.message}`);
  return found[0];
}

/** The message of the one issue at `path`. */
const problemAt = (text: string, path: string) => issueAt(text, path).message;

/** Asserts that nothing of `value` shows in the error, its issues or its stack. */
function expectHidden(error: ManifestError, value: string): void {
  expect(error.message).not.toContain(value);
  expect(JSON.stringify(error.issues)).not.toContain(value);
  expect(String(error.stack)).not.toContain(value);
}

describe('parsePlatformManifest: valid manifests', () => {
  test('examples/manifest.yaml parses to the documented infisical setup', () => {
    expect(parsePlatformManifest(readFileSync(EXAMPLE, 'utf8'))).toEqual({
      plugins: {
        secrets: {
          type: 'infisical',
          siteUrl: 'https://app.infisical.com',
          projectSlug: 'floe-analytics',
          environment: 'prod',
          secretsPath: '/',
          resyncInterval: '60s',
          operatorApi: 'v1alpha1',
          auth: {
            method: 'universal-auth',
            credentialsSecret: { name: 'infisical-universal-auth' },
            clientId: { env: 'INFISICAL_CLIENT_ID' },
            clientSecret: { env: 'INFISICAL_CLIENT_SECRET' },
          },
        },
      },
      compute: {
        snowflake: { type: 'snowflake', connectionSecretRef: 'snowflake-credentials', keys: ['account', 'user', 'password'], domains: ['sales'] },
        hubspot: { type: 'hubspot', connectionSecretRef: 'hubspot-api', keys: ['HUBSPOT_TOKEN'], domains: ['marketing'] },
      },
      domains: [{ name: 'sales' }, { name: 'marketing' }],
    });
  });

  test('k8s backend: namespace defaults to floe-jobs, compute to {} and domains to []', () => {
    expect(parsePlatformManifest(manifest({ type: 'k8s' }))).toEqual({
      plugins: { secrets: { type: 'k8s', namespace: 'floe-jobs' } },
      compute: {},
      domains: [],
    });
    expect(parsePlatformManifest(manifest({ type: 'k8s', namespace: 'data-jobs' })).plugins.secrets).toEqual({ type: 'k8s', namespace: 'data-jobs' });
  });

  test('infisical backend: site_url, secrets_path, resync_interval and operator_api have defaults', () => {
    const { secrets } = parsePlatformManifest(manifest(INFISICAL)).plugins;
    expect(secrets).toEqual({
      type: 'infisical',
      siteUrl: 'https://app.infisical.com',
      projectSlug: 'floe-analytics',
      environment: 'prod',
      secretsPath: '/',
      resyncInterval: '60s',
      operatorApi: 'v1alpha1',
      auth: { method: 'universal-auth', credentialsSecret: { name: 'infisical-universal-auth', namespace: 'floe-platform' } },
    });
    expect(secrets).not.toHaveProperty('projectId');
  });

  test('infisical backend: every field given, project_id, v1beta1 and secret_ref credentials', () => {
    const { secrets } = parsePlatformManifest(manifest({
      ...omit(INFISICAL, 'project_slug'),
      site_url: 'https://infisical.internal.example/base',
      project_id: '6f1c2b9e0d4a',
      secrets_path: '/compute/snowflake/',
      resync_interval: '1m30s',
      operator_api: 'v1beta1',
      auth: {
        ...UNIVERSAL_AUTH,
        client_id: { env: 'INFISICAL_CLIENT_ID' },
        client_secret: { secret_ref: { name: 'infisical-cli', namespace: 'floe-platform', key: 'clientSecret' } },
      },
    })).plugins;
    expect(secrets).toEqual({
      type: 'infisical',
      siteUrl: 'https://infisical.internal.example/base',
      projectId: '6f1c2b9e0d4a',
      environment: 'prod',
      secretsPath: '/compute/snowflake/',
      resyncInterval: '1m30s',
      operatorApi: 'v1beta1',
      auth: {
        method: 'universal-auth',
        credentialsSecret: { name: 'infisical-universal-auth', namespace: 'floe-platform' },
        clientId: { env: 'INFISICAL_CLIENT_ID' },
        clientSecret: { secretRef: { name: 'infisical-cli', namespace: 'floe-platform', key: 'clientSecret' } },
      },
    });
  });

  test('infisical backend: kubernetes auth with a machine identity and a ServiceAccount', () => {
    const auth = { method: 'kubernetes', identity_id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', service_account: { name: 'floe-infisical', namespace: 'floe-platform' } };
    expect(parsePlatformManifest(manifest({ ...INFISICAL, auth })).plugins.secrets).toMatchObject({
      auth: { method: 'kubernetes', identityId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', serviceAccount: { name: 'floe-infisical', namespace: 'floe-platform' } },
    });
  });

  test.each(['http://localhost:8080', 'http://127.0.0.1', 'http://[::1]:8080'])('plain http is accepted for the loopback address %s', (siteUrl) => {
    expect(parsePlatformManifest(manifest({ ...INFISICAL, site_url: siteUrl })).plugins.secrets).toMatchObject({ siteUrl });
  });

  test('vault backend, kubernetes method: mount and delivery have defaults', () => {
    expect(parsePlatformManifest(manifest(VAULT)).plugins.secrets).toEqual({
      type: 'vault',
      address: 'https://vault.example:8200',
      authMethod: 'kubernetes',
      role: 'floe',
      mount: 'secret',
      delivery: 'agent-injector',
    });
  });

  test('vault backend, approle method through External Secrets, every field given', () => {
    const secrets = {
      ...VAULT,
      auth_method: 'approle',
      role: undefined,
      mount: 'kv/floe',
      vault_namespace: 'team-a',
      delivery: 'external-secrets',
      secret_store: { name: 'vault', kind: 'ClusterSecretStore' },
      role_id: { env: 'VAULT_ROLE_ID' },
      secret_id: { secret_ref: { name: 'vault-approle', namespace: 'floe-platform', key: 'secret-id' } },
    };
    expect(parsePlatformManifest(manifest(secrets)).plugins.secrets).toEqual({
      type: 'vault',
      address: 'https://vault.example:8200',
      authMethod: 'approle',
      mount: 'kv/floe',
      vaultNamespace: 'team-a',
      delivery: 'external-secrets',
      secretStore: { name: 'vault', kind: 'ClusterSecretStore' },
      roleId: { env: 'VAULT_ROLE_ID' },
      secretId: { secretRef: { name: 'vault-approle', namespace: 'floe-platform', key: 'secret-id' } },
    });
  });

  test('vault backend, token method: the token is a reference and no role is needed', () => {
    const secrets = { ...omit(VAULT, 'role'), address: 'http://127.0.0.1:8200', auth_method: 'token', token: { env: 'VAULT_TOKEN' } };
    expect(parsePlatformManifest(manifest(secrets)).plugins.secrets).toEqual({
      type: 'vault',
      address: 'http://127.0.0.1:8200',
      authMethod: 'token',
      mount: 'secret',
      delivery: 'agent-injector',
      token: { env: 'VAULT_TOKEN' },
    });
  });

  test('a compute target needs only type and connection_secret_ref', () => {
    const text = manifest({ type: 'k8s' }, { compute: { bigquery: { type: 'bigquery', connection_secret_ref: 'gcp.sa-key' } } });
    expect(parsePlatformManifest(text).compute).toEqual({ bigquery: { type: 'bigquery', connectionSecretRef: 'gcp.sa-key' } });
  });

  test('the result is deeply frozen', () => {
    const result = parsePlatformManifest(readFileSync(EXAMPLE, 'utf8'));
    const frozen = [
      result, result.plugins, result.plugins.secrets, (result.plugins.secrets as any).auth, (result.plugins.secrets as any).auth.clientId,
      result.compute, result.compute.snowflake, result.compute.snowflake.keys, result.domains, result.domains[0],
    ];
    for (const object of frozen) expect(Object.isFrozen(object)).toBe(true);
    expect(() => {
      (result.compute.snowflake.keys as string[]).push('warehouse');
    }).toThrow(TypeError);
    expect(() => {
      (result.plugins.secrets as any).type = 'k8s';
    }).toThrow(TypeError);
  });

  test('anchors and aliases resolve', () => {
    const text = [
      'plugins:',
      '  secrets:',
      '    type: k8s',
      'compute:',
      '  snowflake: &target',
      '    type: snowflake',
      '    connection_secret_ref: shared-credentials',
      '  snowflake-eu: *target',
    ].join('\n');
    expect(parsePlatformManifest(text).compute['snowflake-eu']).toEqual({ type: 'snowflake', connectionSecretRef: 'shared-credentials' });
  });
});

describe('parsePlatformManifest: the error format', () => {
  const TEXT = [
    'plugins:', //                          1
    '  secrets:', //                        2
    '    type: infisical', //               3
    '    project_id: 6f1c2b', //            4
    '    environment: prod', //             5
    '    resync_interval: 2s', //           6
    '    project_slug: floe-analytics', //  7
    '    auth:', //                         8
    '      method: universal-auth', //      9
    '      credentials_secret:', //         10
    '        name: Infisical-Auth', //     11
    'domains:', //                          12
    '  - name: sales', //                   13
    '  - nam: marketing', //                14
  ].join('\n');

  test('every problem is reported, one per line, in file order, as <source>:<line>: <path>: <problem>; <fix>', () => {
    const error = errorOf(TEXT);
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect(error.source).toBe('manifest.yaml');
    expect(error.message.split('\n')).toEqual([
      'manifest.yaml:6: plugins.secrets.resync_interval: "2s" is shorter than 5s; write a Go-style duration of at least 5s in whole seconds, e.g. "60s" or "1m30s"',
      'manifest.yaml:7: plugins.secrets.project_slug: "floe-analytics" is given together with project_id "6f1c2b"; keep exactly one of project_id or project_slug',
      'manifest.yaml:11: plugins.secrets.auth.credentials_secret.name: "Infisical-Auth" is not a DNS-1123 subdomain (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit); use the name of the Secret holding clientId and clientSecret',
      'manifest.yaml:14: domains[1].name: is missing; add it, e.g. "name: sales"',
      'manifest.yaml:14: domains[1].nam: unknown field "nam"; remove it or use one of the allowed fields: name',
    ]);
    expect(error.issues).toEqual([
      { path: 'plugins.secrets.resync_interval', line: 6, message: expect.stringMatching(/^"2s" is shorter than 5s; /) },
      { path: 'plugins.secrets.project_slug', line: 7, message: expect.stringMatching(/together with project_id/) },
      { path: 'plugins.secrets.auth.credentials_secret.name', line: 11, message: expect.stringMatching(/^"Infisical-Auth" is not a DNS-1123 subdomain/) },
      { path: 'domains[1].name', line: 14, message: expect.stringMatching(/^is missing; /) },
      { path: 'domains[1].nam', line: 14, message: expect.stringMatching(/^unknown field "nam"/) },
    ]);
    expect(Object.isFrozen(error.issues)).toBe(true);
    expect(Object.isFrozen(error.issues[0])).toBe(true);
  });

  test('the source name given is used in every line', () => {
    const error = errorOf(TEXT, 'platform/prod.yaml');
    expect(error.source).toBe('platform/prod.yaml');
    for (const line of error.message.split('\n')) expect(line).toMatch(/^platform\/prod\.yaml:\d+: /);
  });

  test('a missing key points at the line of the mapping that lacks it', () => {
    const text = ['# the platform', 'plugins:', '  secrets:', '    type: infisical', '    project_id: x', '    auth: { method: universal-auth }'].join('\n');
    expect(issueAt(text, 'plugins.secrets.environment').line).toBe(3);
    expect(issueAt(text, 'plugins.secrets.auth.credentials_secret').line).toBe(6);
  });

  test('a problem inside an alias points at the anchored node', () => {
    const text = [
      'plugins:',
      '  secrets:',
      '    type: k8s',
      'compute:',
      '  snowflake: &target',
      '    type: snowflake',
      '    connection_secret_ref: Not_A_Name',
      '  snowflake-eu: *target',
    ].join('\n');
    const error = errorOf(text);
    expect(error.issues.map((issue) => [issue.path, issue.line])).toEqual([
      ['compute.snowflake.connection_secret_ref', 7],
      ['compute.snowflake-eu.connection_secret_ref', 7],
    ]);
  });

  test('a key that is not a plain word is quoted in the path', () => {
    const text = manifest({ type: 'k8s' }, { compute: { 'snow.flake': { type: 'snowflake', connection_secret_ref: 'creds' } } });
    expect(problemAt(text, 'compute["snow.flake"]')).toBe(
      '"snow.flake" is not a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit); rename the compute target, e.g. "snowflake"',
    );
  });
});

describe('parsePlatformManifest: the file as a whole', () => {
  test('text that is not YAML reports each syntax error with its line, column and fix', () => {
    const error = errorOf('plugins:\n  secrets: { type: k8s\ndomains: []\n');
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.issues[0]).toEqual({ path: '', line: expect.any(Number), message: expect.stringMatching(/^is not valid YAML at column \d+: [^;]+; .+$/) });
    expect(error.message).toMatch(/^manifest\.yaml:\d+: is not valid YAML at column \d+: /);
  });

  test('duplicate keys are a YAML error on the line of the second one', () => {
    expect(errorOf('plugins:\n  secrets:\n    type: k8s\nplugins: {}\n').message).toBe(
      'manifest.yaml:4: is not valid YAML at column 1: a key is given twice in one mapping; keep one of them',
    );
  });

  test('YAML errors never repeat the source text they point at', () => {
    const value = randomValue();
    const error = errorOf(`plugins:\n  secrets:\n    - type: k8s\n    password: ${value}\n`);
    expect(error.message).toMatch(/is not valid YAML/);
    expectHidden(error, value);
    const escape = errorOf(`password: "x\\q${value}"\n`);
    expect(escape.message).toContain('a double-quoted string holds an invalid escape sequence');
    expectHidden(escape, value);
  });

  test('an alias without an anchor is a clear error that does not name the alias', () => {
    expect(errorOf('plugins:\n  secrets: *backend\n').message).toBe(
      'manifest.yaml:2: is not valid YAML at column 12: an alias (*name) refers to no anchor (&name) before it; define the anchor first, or quote a value that starts with "*"',
    );
  });

  test('a second YAML document is an error', () => {
    expect(errorOf('plugins:\n  secrets: { type: k8s }\n---\nplugins: {}\n').message).toBe(
      'manifest.yaml:3: is not valid YAML at column 1: the manifest holds more than one YAML document; keep one (remove the "---" separators)',
    );
  });

  test.each([
    ['', 'manifest.yaml: is empty; configure at least plugins.secrets (see examples/manifest.yaml)'],
    ['# nothing yet\n', 'manifest.yaml: is empty; configure at least plugins.secrets (see examples/manifest.yaml)'],
    ['- plugins\n', 'manifest.yaml:1: is a list, not a mapping; write top-level fields plugins, compute and domains (see examples/manifest.yaml)'],
    ['\nhello\n', 'manifest.yaml:2: is a string, not a mapping; write top-level fields plugins, compute and domains (see examples/manifest.yaml)'],
  ])('%j is not a manifest', (text, message) => {
    expect(errorOf(text).message).toBe(message);
  });

  test('unknown top-level fields are rejected with the allowed ones', () => {
    expect(problemAt(`${manifest({ type: 'k8s' })}catalog: polaris\n`, 'catalog')).toBe(
      'unknown field "catalog"; remove it or use one of the allowed fields: plugins, compute, domains',
    );
  });
});

describe('parsePlatformManifest: no secrets backend', () => {
  const NO_BACKEND = /^no secrets backend is configured; add one under plugins\.secrets, e\.g\. "plugins: \{ secrets: \{ type: k8s, namespace: floe-jobs \} \}"/;

  test('without plugins', () => {
    const issue = issueAt('domains:\n  - name: sales\n', 'plugins');
    expect(issue.message).toMatch(NO_BACKEND);
    expect(issue.line).toBe(1);
  });

  test.each(['plugins: {}\n', 'plugins:\n  secrets:\n', 'plugins:\n'])('with %j', (text) => {
    const error = errorOf(text);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0].message).toMatch(NO_BACKEND);
  });

  test('plugins other than secrets are unknown', () => {
    expect(problemAt('plugins:\n  secrets: { type: k8s }\n  catalog: {}\n', 'plugins.catalog')).toBe(
      'unknown field "catalog"; remove it or use one of the allowed fields: secrets, identity',
    );
  });

  test('plugins.secrets must be a mapping with a known type', () => {
    expect(problemAt(manifest('infisical'), 'plugins.secrets')).toBe(
      'is a string ("infisical"), not a mapping; write it as e.g. "secrets: { type: k8s, namespace: floe-jobs }"',
    );
    expect(problemAt(manifest({ type: 'aws' }), 'plugins.secrets.type')).toBe('"aws" is not one of "k8s", "infisical", "vault"; use one of them');
    expect(problemAt(manifest({ namespace: 'x' }), 'plugins.secrets.type')).toBe('is missing; set it to one of "k8s", "infisical", "vault"');
  });

  test('each backend accepts only its own fields', () => {
    expect(problemAt(manifest({ type: 'k8s', address: 'https://vault' }), 'plugins.secrets.address')).toBe(
      'unknown field "address"; remove it or use one of the allowed fields: type, namespace',
    );
    expect(problemAt(manifest({ ...VAULT, namespace: 'x' }), 'plugins.secrets.namespace')).toMatch(
      /^unknown field "namespace"; remove it or use one of the allowed fields: type, address, auth_method, role, mount, vault_namespace, delivery, secret_store, token, role_id, secret_id$/,
    );
  });
});

describe('parsePlatformManifest: infisical rules', () => {
  test('exactly one of project_id or project_slug', () => {
    expect(problemAt(manifest(omit(INFISICAL, 'project_slug')), 'plugins.secrets')).toBe(
      'neither project_id nor project_slug is set; add one, e.g. "project_slug: floe-analytics"',
    );
    expect(problemAt(manifest({ ...INFISICAL, project_id: 'abc' }), 'plugins.secrets.project_slug')).toBe(
      '"floe-analytics" is given together with project_id "abc"; keep exactly one of project_id or project_slug',
    );
  });

  test.each([
    ['5x', 'is not a duration'],
    ['60', 'is not a duration'],
    ['-10s', 'is not a duration'],
    ['4s', 'is shorter than 5s'],
    ['4999ms', 'is shorter than 5s'],
    ['5500ms', 'is not a whole number of seconds'],
  ])('resync_interval %j: %s', (value, problem) => {
    expect(problemAt(manifest({ ...INFISICAL, resync_interval: value }), 'plugins.secrets.resync_interval')).toBe(
      `"${value}" ${problem}; write a Go-style duration of at least 5s in whole seconds, e.g. "60s" or "1m30s"`,
    );
  });

  test('resync_interval may use fractions that add up to whole seconds', () => {
    expect(parseDuration('1.1m')).toBe(66);
    expect(parsePlatformManifest(manifest({ ...INFISICAL, resync_interval: '1.1m' })).plugins.secrets).toMatchObject({ resyncInterval: '1.1m' });
    expect(parsePlatformManifest(manifest({ ...INFISICAL, resync_interval: '4s1000ms' })).plugins.secrets).toMatchObject({ resyncInterval: '4s1000ms' });
  });

  test('resync_interval written as a bare number', () => {
    expect(problemAt(manifest({ ...INFISICAL, resync_interval: 60 }), 'plugins.secrets.resync_interval')).toBe(
      'is a number (60), not a string; write it as e.g. "resync_interval: 60s"',
    );
  });

  test('secrets_path must start with /', () => {
    expect(problemAt(manifest({ ...INFISICAL, secrets_path: 'compute/snowflake' }), 'plugins.secrets.secrets_path')).toBe(
      '"compute/snowflake" does not start with "/"; write the folder as an absolute path, e.g. "/compute/snowflake"',
    );
  });

  test.each([
    ['app.infisical.com', '"app.infisical.com" is not a URL; write the full address of the Infisical instance, e.g. "https://app.infisical.com"'],
    ['http://infisical.example', '"http://infisical.example" uses plain http to a host other than localhost; use https (plain http is only allowed for localhost, 127.0.0.1 and [::1])'],
    ['ftp://infisical.example', '"ftp://infisical.example" is not an https URL; use the https address of the Infisical instance, e.g. "https://app.infisical.com"'],
    ['https://infisical.example/api', '"https://infisical.example/api" ends in "/api"; write the instance address without it, e.g. "https://infisical.example.com" (the operator and the plugins add /api)'],
  ])('site_url %j', (value, message) => {
    expect(problemAt(manifest({ ...INFISICAL, site_url: value }), 'plugins.secrets.site_url')).toBe(message);
  });

  test('slugs, IDs and names are checked', () => {
    expect(problemAt(manifest({ ...INFISICAL, project_slug: 'Floe Analytics' }), 'plugins.secrets.project_slug')).toBe(
      '"Floe Analytics" is not a project slug (lower-case letters, digits and "-"); copy the slug from the project settings in Infisical',
    );
    expect(problemAt(manifest({ ...omit(INFISICAL, 'project_slug'), project_id: 'a b' }), 'plugins.secrets.project_id')).toBe(
      '"a b" is empty or holds white space; copy the project ID from the project settings in Infisical',
    );
    expect(problemAt(manifest({ ...INFISICAL, environment: 'Prod' }), 'plugins.secrets.environment')).toBe(
      '"Prod" is not an environment slug (lower-case letters, digits and "-"); use the slug of the environment, e.g. "prod"',
    );
    expect(problemAt(manifest(omit(INFISICAL, 'environment')), 'plugins.secrets.environment')).toBe('is missing; add it, e.g. "environment: prod"');
    expect(problemAt(manifest({ ...INFISICAL, operator_api: 'v2' }), 'plugins.secrets.operator_api')).toBe('"v2" is not one of "v1alpha1", "v1beta1"; use one of them');
  });

  test('auth: method, credentials_secret and the kubernetes method\'s fields', () => {
    expect(problemAt(manifest(omit(INFISICAL, 'auth')), 'plugins.secrets.auth')).toBe(
      'is missing; add it, e.g. "auth: { method: universal-auth, credentials_secret: { name: infisical-universal-auth } }"',
    );
    expect(problemAt(manifest({ ...INFISICAL, auth: { method: 'oidc' } }), 'plugins.secrets.auth.method')).toBe(
      '"oidc" is not one of "universal-auth", "kubernetes"; use one of them',
    );
    expect(problemAt(manifest({ ...INFISICAL, auth: { method: 'universal-auth' } }), 'plugins.secrets.auth.credentials_secret')).toBe(
      'is missing; add it, e.g. "credentials_secret: { name: infisical-universal-auth }"',
    );
    const kubernetes = { method: 'kubernetes', identity_id: 'not-a-uuid', service_account: { name: 'Floe', namespace: 'floe-platform' } };
    const text = manifest({ ...INFISICAL, auth: kubernetes });
    expect(problemAt(text, 'plugins.secrets.auth.identity_id')).toBe('"not-a-uuid" is not a machine identity ID (a UUID); copy the ID of the machine identity from Infisical');
    expect(problemAt(text, 'plugins.secrets.auth.service_account.name')).toMatch(/^"Floe" is not a DNS-1123 subdomain .*; use the name of the ServiceAccount$/);
    expect(problemAt(manifest({ ...INFISICAL, auth: { method: 'kubernetes', identity_id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427' } }), 'plugins.secrets.auth.service_account')).toBe(
      'is missing; add it, e.g. "service_account: { name: floe-infisical }"',
    );
    // Each domain's own identity id: only for declared domains, each a UUID.
    const ids = { method: 'kubernetes', identity_id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', service_account: { name: 'floe-infisical' } };
    const perDomainIds = parsePlatformManifest(manifest(
      { ...INFISICAL, auth: { ...ids, domain_identity_ids: { sales: '2c5f39cb-3fb2-42e3-994f-1127e4ddb538' } } }, { domains: [{ name: 'sales' }] }));
    expect(perDomainIds.plugins.secrets).toMatchObject({ auth: { domainIdentityIds: { sales: '2c5f39cb-3fb2-42e3-994f-1127e4ddb538' }, serviceAccount: { name: 'floe-infisical' } } });
    expect(problemAt(manifest({ ...INFISICAL, auth: { ...ids, domain_identity_ids: { finance: '2c5f39cb-3fb2-42e3-994f-1127e4ddb538' } } }), 'plugins.secrets.auth.domain_identity_ids.finance'))
      .toBe('"finance" is not declared under domains; declare it ("domains: [{ name: finance }]") or remove it from domain_identity_ids');
    expect(problemAt(manifest({ ...INFISICAL, auth: { ...ids, domain_identity_ids: { sales: 'x' } } }), 'plugins.secrets.auth.domain_identity_ids.sales'))
      .toBe('"x" is not a machine identity ID (a UUID); copy the ID of the domain\'s machine identity from Infisical');
    // Without a namespace, each domain's own Secret or ServiceAccount (one identity per domain); a bad one is still refused.
    const perDomain = parsePlatformManifest(manifest({ ...INFISICAL, auth: { method: 'universal-auth', credentials_secret: { name: 'infisical-universal-auth' } } }));
    expect(perDomain.plugins.secrets).toMatchObject({ auth: { credentialsSecret: { name: 'infisical-universal-auth' } } });
    expect(problemAt(manifest({ ...INFISICAL, auth: { method: 'universal-auth', credentials_secret: { name: 'a', namespace: 'Floe' } } }), 'plugins.secrets.auth.credentials_secret.namespace'))
      .toMatch(/^"Floe" is not a DNS-1123 label/);
  });

  test('the kubernetes method has no client credentials', () => {
    const auth = { method: 'kubernetes', identity_id: '1b4e28ba-2fa1-11d2-883f-0016d3cca427', service_account: { name: 'a', namespace: 'b' }, client_id: { env: 'ID' } };
    expect(problemAt(manifest({ ...INFISICAL, auth }), 'plugins.secrets.auth.client_id')).toMatch(/^unknown field "client_id" looks like a credential/);
  });

  test('credential references: env names, Secret keys, exactly one of env or secret_ref', () => {
    const withRef = (ref: unknown) => manifest({ ...INFISICAL, auth: { ...UNIVERSAL_AUTH, client_id: ref } });
    expect(problemAt(withRef({ env: '1BAD' }), 'plugins.secrets.auth.client_id.env')).toBe(
      'is not an environment variable name; use letters, digits and "_", not starting with a digit',
    );
    expect(problemAt(withRef({ secret_ref: { name: 'x', namespace: 'y', key: 'a/b' } }), 'plugins.secrets.auth.client_id.secret_ref.key')).toBe(
      'may only hold letters, digits, "-", "_" and "."; use the key of the Secret that holds the credential',
    );
    expect(problemAt(withRef({ secret_ref: { name: 'x', namespace: 'y' } }), 'plugins.secrets.auth.client_id.secret_ref.key')).toBe('is missing; add it');
    expect(problemAt(withRef({}), 'plugins.secrets.auth.client_id')).toBe('is an empty reference; give exactly one of env or secret_ref');
    expect(problemAt(withRef({ env: 'A', secret_ref: { name: 'x', namespace: 'y', key: 'z' } }), 'plugins.secrets.auth.client_id')).toBe(
      'gives both env and secret_ref; give exactly one of env or secret_ref',
    );
    expect(problemAt(withRef(null), 'plugins.secrets.auth.client_id')).toMatch(/^is empty; credentials are never written in the manifest: /);
  });
});

describe('parsePlatformManifest: vault rules', () => {
  test('auth_method kubernetes needs a role', () => {
    expect(problemAt(manifest(omit(VAULT, 'role')), 'plugins.secrets.role')).toBe('is missing; auth_method kubernetes needs it, e.g. "role: floe"');
  });

  test('auth_method approle takes no role: an AppRole login has none, so a role there would be ignored', () => {
    const secrets = { ...VAULT, auth_method: 'approle', role_id: { env: 'R' }, secret_id: { env: 'S' } };
    expect(problemAt(manifest(secrets), 'plugins.secrets.role')).toBe('is only used by auth_method kubernetes, not approle; remove it');
    expect(parsePlatformManifest(manifest(omit(secrets, 'role'))).plugins.secrets).toMatchObject({ authMethod: 'approle' });
  });

  test('approle needs role_id and secret_id, token needs token', () => {
    const approle = errorOf(manifest({ ...omit(VAULT, 'role'), auth_method: 'approle' }));
    expect(approle.issues.map((issue) => [issue.path, issue.line, issue.message])).toEqual([
      ['plugins.secrets.role_id', 2, 'is missing; auth_method approle needs it, e.g. "role_id: { env: VAULT_ROLE_ID }"'],
      ['plugins.secrets.secret_id', 2, 'is missing; auth_method approle needs it, e.g. "secret_id: { env: VAULT_SECRET_ID }"'],
    ]);
    expect(problemAt(manifest({ ...omit(VAULT, 'role'), auth_method: 'token' }), 'plugins.secrets.token')).toBe(
      'is missing; auth_method token needs it, e.g. "token: { env: VAULT_TOKEN }"',
    );
  });

  test('fields of another auth method are rejected', () => {
    const text = manifest({ ...VAULT, token: { env: 'VAULT_TOKEN' }, role_id: { env: 'R' }, secret_id: { env: 'S' } });
    expect(problemAt(text, 'plugins.secrets.token')).toBe('is only used by auth_method token, not kubernetes; remove it');
    expect(problemAt(text, 'plugins.secrets.role_id')).toBe('is only used by auth_method approle, not kubernetes; remove it');
    expect(problemAt(text, 'plugins.secrets.secret_id')).toBe('is only used by auth_method approle, not kubernetes; remove it');
    expect(problemAt(manifest({ ...VAULT, auth_method: 'token', token: { env: 'T' } }), 'plugins.secrets.role')).toBe(
      'is only used by auth_method kubernetes, not token; remove it',
    );
  });

  test('auth_method is required and checked; no cross-field message for an unknown method', () => {
    expect(problemAt(manifest(omit(VAULT, 'auth_method')), 'plugins.secrets.auth_method')).toBe(
      'is missing; set it to one of "kubernetes", "approle", "token"',
    );
    const error = errorOf(manifest({ ...VAULT, auth_method: 'ldap', token: { env: 'T' } }));
    expect(error.issues.map((issue) => issue.path)).toEqual(['plugins.secrets.auth_method']);
    const delivery = errorOf(manifest({ ...VAULT, delivery: 'sidecar', secret_store: { name: 'vault', kind: 'SecretStore' } }));
    expect(delivery.issues.map((issue) => issue.path)).toEqual(['plugins.secrets.delivery']);
  });

  test('secret_store goes with delivery external-secrets, and only with it; without it each domain gets a store of its own', () => {
    const perDomain = parsePlatformManifest(manifest({ ...VAULT, delivery: 'external-secrets' }));
    expect(perDomain.plugins.secrets).toMatchObject({ type: 'vault', delivery: 'external-secrets' });
    expect(perDomain.plugins.secrets).not.toHaveProperty('secretStore');
    expect(problemAt(manifest({ ...VAULT, secret_store: { name: 'vault', kind: 'SecretStore' } }), 'plugins.secrets.secret_store')).toBe(
      'is only used with delivery external-secrets, not agent-injector; remove it or set "delivery: external-secrets"',
    );
    expect(problemAt(manifest({ ...VAULT, delivery: 'external-secrets', secret_store: { name: 'vault', kind: 'Store' } }), 'plugins.secrets.secret_store.kind')).toBe(
      '"Store" is not one of "SecretStore", "ClusterSecretStore"; use one of them',
    );
    expect(problemAt(manifest({ ...VAULT, delivery: null }), 'plugins.secrets.delivery')).toBe('is empty; set it to one of "agent-injector", "external-secrets"');
    expect(problemAt(manifest({ ...VAULT, delivery: 'sidecar' }), 'plugins.secrets.delivery')).toBe(
      '"sidecar" is not one of "agent-injector", "external-secrets"; use one of them',
    );
  });

  test('address, mount, vault_namespace and role are checked', () => {
    expect(problemAt(manifest(omit(VAULT, 'address')), 'plugins.secrets.address')).toBe('is missing; add it, e.g. "address: https://vault.example:8200"');
    expect(problemAt(manifest({ ...VAULT, address: 'http://vault.example:8200' }), 'plugins.secrets.address')).toMatch(/uses plain http to a host other than localhost/);
    expect(problemAt(manifest({ ...VAULT, mount: '/secret/' }), 'plugins.secrets.mount')).toBe(
      '"/secret/" is not a mount path (no leading or trailing "/"); use the path of the KV v2 engine, e.g. "secret"',
    );
    expect(problemAt(manifest({ ...VAULT, vault_namespace: '' }), 'plugins.secrets.vault_namespace')).toBe(
      'is empty or holds white space; use the Vault Enterprise namespace, e.g. "team-a"',
    );
    expect(problemAt(manifest({ ...VAULT, role: 'my role' }), 'plugins.secrets.role')).toBe('"my role" is empty or holds white space; use the name of the Vault role, e.g. "floe"');
  });
});

describe('parsePlatformManifest: k8s rules', () => {
  test('namespace is a DNS-1123 label', () => {
    expect(problemAt(manifest({ type: 'k8s', namespace: 'Floe_Jobs' }), 'plugins.secrets.namespace')).toMatch(
      /^"Floe_Jobs" is not a DNS-1123 label .*; use the namespace that holds the Secrets, e\.g\. "floe-jobs"$/,
    );
    expect(problemAt(manifest({ type: 'k8s', namespace: 5 }), 'plugins.secrets.namespace')).toBe('is a number (5), not a string; write it as e.g. "namespace: floe-jobs"');
  });
});

describe('parsePlatformManifest: compute and domains', () => {
  const K8S = { type: 'k8s' };
  const target = (fields: Fields) => ({ type: 'snowflake', connection_secret_ref: 'snowflake-credentials', ...fields });

  test('compute and domains must be a mapping and a list', () => {
    const error = errorOf(manifest(K8S, { compute: ['snowflake'], domains: { sales: {} } }));
    expect(error.issues.map((issue) => [issue.path, issue.message])).toEqual([
      ['compute', 'is a list, not a mapping; write it as e.g. "compute: { snowflake: { type: snowflake, connection_secret_ref: snowflake-credentials } }"'],
      ['domains', 'is a mapping, not a list; write it as e.g. "domains: [{ name: sales }]"'],
    ]);
    const empty = errorOf(manifest(K8S, { compute: null, domains: null }));
    expect(empty.issues.map((issue) => [issue.path, issue.message])).toEqual([
      ['compute', 'is empty, not a mapping; write it as e.g. "compute: { snowflake: { type: snowflake, connection_secret_ref: snowflake-credentials } }"'],
      ['domains', 'is empty, not a list; write it as e.g. "domains: [{ name: sales }]"'],
    ]);
    expect(problemAt(manifest(K8S, { compute: { snowflake: null } }), 'compute.snowflake')).toMatch(/^is empty, not a mapping; /);
    expect(errorOf(manifest(K8S, { compute: null, domains: [{ name: 'sales' }] })).issues.map((issue) => issue.path)).toEqual(['compute']);
    expect(problemAt(manifest(K8S, { compute: { snowflake: 'snowflake-credentials' } }), 'compute.snowflake')).toBe(
      'is a string ("snowflake-credentials"), not a mapping; write it as e.g. "snowflake: { type: snowflake, connection_secret_ref: snowflake-credentials }"',
    );
  });

  test('a target needs type and connection_secret_ref, a DNS-1123 Secret name', () => {
    const error = errorOf(manifest(K8S, { compute: { snowflake: {} } }));
    expect(error.issues.map((issue) => [issue.path, issue.message])).toEqual([
      ['compute.snowflake.type', 'is missing; add it, e.g. "type: snowflake"'],
      ['compute.snowflake.connection_secret_ref', 'is missing; add it, e.g. "connection_secret_ref: snowflake-credentials"'],
    ]);
    expect(problemAt(manifest(K8S, { compute: { snowflake: target({ connection_secret_ref: 'Snowflake' }) } }), 'compute.snowflake.connection_secret_ref')).toMatch(
      /^"Snowflake" is not a DNS-1123 subdomain .*; use the name of the Secret holding the connection credentials, e\.g\. "snowflake-credentials"$/,
    );
  });

  test('target names are DNS-1123 labels', () => {
    expect(problemAt(manifest(K8S, { compute: { Snowflake: target({}) } }), 'compute.Snowflake')).toMatch(/^"Snowflake" is not a DNS-1123 label/);
  });

  test('keys are Secret keys, each listed once', () => {
    const text = manifest(K8S, { compute: { snowflake: target({ keys: ['user', 'user', 'pass word'] }) } });
    expect(problemAt(text, 'compute.snowflake.keys[1]')).toBe('"user" is listed twice; list each key once');
    expect(problemAt(text, 'compute.snowflake.keys[2]')).toBe('"pass word" may only hold letters, digits, "-", "_" and "."; use a key of the Secret, e.g. "password"');
    expect(problemAt(manifest(K8S, { compute: { snowflake: target({ keys: 'user' }) } }), 'compute.snowflake.keys')).toBe(
      'is a string ("user"), not a list; write it as e.g. "keys: [account, user, password]"',
    );
  });

  test('the domains of a target are declared under domains, each listed once', () => {
    const text = manifest(K8S, { compute: { snowflake: target({ domains: ['sales', 'finance', 'sales'] }) }, domains: [{ name: 'sales' }] });
    expect(problemAt(text, 'compute.snowflake.domains[1]')).toBe(
      '"finance" is not declared under domains; declare it ("domains: [{ name: finance }]") or remove it from this list',
    );
    expect(problemAt(text, 'compute.snowflake.domains[2]')).toBe('"sales" is listed twice; list each domain once');
    // an invalid name is reported once, for what it is; with no usable domains list, references are not checked
    const invalid = errorOf(manifest(K8S, { compute: { snowflake: target({ domains: ['Sales'] }) }, domains: [{ name: 'sales' }] }));
    expect(invalid.issues.map((issue) => issue.path)).toEqual(['compute.snowflake.domains[0]']);
    expect(invalid.issues[0].message).toMatch(/^"Sales" is not a DNS-1123 label/);
    const noList = errorOf(manifest(K8S, { compute: { snowflake: target({ domains: ['sales'] }) }, domains: 'sales' }));
    expect(noList.issues.map((issue) => issue.path)).toEqual(['domains']);
    expect(problemAt(manifest(K8S, { compute: { snowflake: target({ domains: 'sales' }) } }), 'compute.snowflake.domains')).toBe(
      'is a string ("sales"), not a list; write it as e.g. "domains: [sales]"',
    );
  });

  test('domain names are DNS-1123 labels of at most 58 characters, each declared once', () => {
    const long = 'a'.repeat(59);
    const text = manifest(K8S, { domains: [{ name: 'sales' }, { name: 'Sales' }, { name: long }, { name: 'sales' }, 'marketing', null] });
    expect(problemAt(text, 'domains[1].name')).toMatch(/^"Sales" is not a DNS-1123 label .*; use a short lower-case name such as "sales" \(at most 58 characters; its namespace is "floe-<name>"\)$/);
    expect(problemAt(text, 'domains[2].name')).toMatch(/^"a{59}" is 59 characters long \(at most 58\); /);
    expect(problemAt(text, 'domains[3]')).toBe('"sales" is listed twice; list each domain once');
    expect(problemAt(text, 'domains[4]')).toBe('is a string ("marketing"), not a mapping; write it as e.g. "- name: sales"');
    expect(problemAt(text, 'domains[5]')).toBe('is empty, not a mapping; write it as e.g. "- name: sales"');
    expect(problemAt(manifest(K8S, { domains: [{}] }), 'domains[0].name')).toBe('is missing; add it, e.g. "name: sales"');
  });

  test('a value of an unexpected kind is named, and a boolean is shown', () => {
    expect(problemAt(manifest(K8S, { compute: { snowflake: target({ type: true }) } }), 'compute.snowflake.type')).toBe(
      'is a boolean (true), not a string; write it as e.g. "type: snowflake"',
    );
    expect(problemAt(manifest(K8S, { compute: { snowflake: target({ keys: [['a']] }) } }), 'compute.snowflake.keys[0]')).toBe('is a list, not a string; write a string');
    expect(problemAt(manifest({ ...VAULT, auth_method: ['token'] }), 'plugins.secrets.auth_method')).toBe(
      'a list is not one of "kubernetes", "approle", "token"; use one of them',
    );
  });
});

describe('parsePlatformManifest: credentials are only ever references (REQ-135)', () => {
  const CREDENTIAL_FIELDS: ReadonlyArray<[path: string, secrets: (value: unknown) => Fields]> = [
    ['plugins.secrets.auth.client_id', (value) => ({ ...INFISICAL, auth: { ...UNIVERSAL_AUTH, client_id: value } })],
    ['plugins.secrets.auth.client_secret', (value) => ({ ...INFISICAL, auth: { ...UNIVERSAL_AUTH, client_secret: value } })],
    ['plugins.secrets.token', (value) => ({ ...omit(VAULT, 'role'), auth_method: 'token', token: value })],
    ['plugins.secrets.role_id', (value) => ({ ...omit(VAULT, 'role'), auth_method: 'approle', role_id: value, secret_id: { env: 'S' } })],
    ['plugins.secrets.secret_id', (value) => ({ ...omit(VAULT, 'role'), auth_method: 'approle', role_id: { env: 'R' }, secret_id: value })],
  ];

  test.each(CREDENTIAL_FIELDS)('a literal %s is rejected without showing it', (path, secrets) => {
    const field = path.split('.').pop();
    for (const value of [randomValue(), randomInt(1e14, 2 ** 48)]) {
      const error = errorOf(manifest(secrets(value)));
      expect(error.issues).toHaveLength(1);
      expect(error.issues[0]).toEqual({ path, line: expect.any(Number), message: expect.any(String) });
      expect(error.issues[0].message).toMatch(
        new RegExp(`^is a literal value \\(not shown\\), not a reference; credentials are never written in the manifest: reference one, e\\.g\\. "${field}: \\{ env: [A-Z_]+ \\}"`),
      );
      expectHidden(error, String(value));
    }
  });

  test.each(CREDENTIAL_FIELDS)('a literal list or a bad reference in %s is not shown either', (path, secrets) => {
    const value = randomValue();
    expectHidden(errorOf(manifest(secrets([value]))), value);
    const badEnv = errorOf(manifest(secrets({ env: `${value}!` })));
    expect(badEnv.issues.map((issue) => issue.path)).toEqual([`${path}.env`]);
    expectHidden(badEnv, value);
    const wrongKey = errorOf(manifest(secrets({ value })));
    expect(wrongKey.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [path, 'holds an unknown field (names and values not shown); remove it: the manifest only references credentials; allowed fields here are env, secret_ref'],
      [path, 'is an empty reference; give exactly one of env or secret_ref'],
    ]);
    expectHidden(wrongKey, value);
    // `{ hunter2 }` is a mapping whose key is the secret: the key is not named either
    const keyed = errorOf(manifest(secrets({ [value]: null, [`${value}2`]: null })));
    expect(keyed.issues.map((issue) => [issue.path, issue.message])).toEqual([
      [path, 'holds 2 unknown fields (names and values not shown); remove them: the manifest only references credentials; allowed fields here are env, secret_ref'],
      [path, 'is an empty reference; give exactly one of env or secret_ref'],
    ]);
    expectHidden(keyed, value);
    const inSecretRef = errorOf(manifest(secrets({ secret_ref: { name: 'a', namespace: 'b', key: 'c', [value]: 1 } })));
    expect(inSecretRef.issues.map((issue) => issue.path)).toEqual([`${path}.secret_ref`]);
    expect(inSecretRef.issues[0].message).toMatch(/; allowed fields here are name, namespace, key$/);
    expectHidden(inSecretRef, value);
  });

  test.each([
    ['password', [], (fields: Fields) => ({ plugins: { secrets: { type: 'k8s' } }, ...fields })],
    ['api_key', ['plugins'], (fields: Fields) => ({ plugins: { secrets: { type: 'k8s' }, ...fields } })],
    ['client_secret', ['plugins', 'secrets'], (fields: Fields) => ({ plugins: { secrets: { type: 'k8s', ...fields } } })],
    ['private_key', ['plugins', 'secrets'], (fields: Fields) => ({ plugins: { secrets: { ...VAULT, ...fields } } })],
    ['secret', ['plugins', 'secrets', 'auth'], (fields: Fields) => ({ plugins: { secrets: { ...INFISICAL, auth: { ...UNIVERSAL_AUTH, ...fields } } } })],
    ['token', ['plugins', 'secrets', 'auth', 'credentials_secret'],
      (fields: Fields) => ({ plugins: { secrets: { ...INFISICAL, auth: { ...UNIVERSAL_AUTH, credentials_secret: { name: 'a', namespace: 'b', ...fields } } } } })],
    ['db_password', ['compute', 'snowflake'], (fields: Fields) => ({ plugins: { secrets: { type: 'k8s' } }, compute: { snowflake: { type: 'snowflake', connection_secret_ref: 'c', ...fields } } })],
    ['accessToken', ['domains', 0], (fields: Fields) => ({ plugins: { secrets: { type: 'k8s' } }, domains: [{ name: 'sales', ...fields }] })],
  ])('an unknown field named %s is rejected as a credential without showing its value', (key, at, build) => {
    const value = randomValue();
    const error = errorOf(stringify(build({ [key]: value })));
    const path = [...at, key].map((segment) => (typeof segment === 'number' ? `[${segment}]` : segment)).join('.').replace('.[', '[');
    expect(error.issues).toEqual([{ path, line: expect.any(Number), message: expect.stringMatching(new RegExp(`^unknown field "${key}" looks like a credential \\(its value is not shown\\); remove it`)) }]);
    expect(error.issues[0].message).toMatch(/; allowed fields here are [a-z_, ]+$/);
    expectHidden(error, value);
  });

  test('a user name or password in a URL is not shown', () => {
    const password = randomValue();
    expect(issueAt(manifest({ ...INFISICAL, site_url: `https://floe:${password}@infisical.example` }), 'plugins.secrets.site_url').message).toBe(
      'holds a user name or password (not shown); remove them: credentials are never written in the manifest',
    );
    expectHidden(errorOf(manifest({ ...VAULT, address: `https://floe:${password}@vault.example` })), password);
    const broken = errorOf(manifest({ ...VAULT, address: `${password}@vault example` }));
    expect(broken.issues[0].message).toMatch(/^is not a URL; /);
    expectHidden(broken, password);
  });

  test.each([
    ['plugins.secrets.address', (url: string) => manifest({ ...VAULT, address: url }), 'https://vault.example:8200', 'the Vault server'],
    ['plugins.secrets.site_url', (url: string) => manifest({ ...INFISICAL, site_url: url }), 'https://app.infisical.com', 'the Infisical instance'],
    ['plugins.identity.server_url', (url: string) => stringify({
      plugins: { secrets: { type: 'k8s' }, identity: { type: 'keycloak', server_url: url, realms: ['floe'], audience: 'floe-cli' } },
    }), 'https://id.example.com', 'the Keycloak server'],
  ])('%s with a query string or fragment is refused, without its value (issue 10, C)', (path, build, example, what) => {
    for (const suffix of [(v: string) => `?token=${v}`, (v: string) => `/v1?${v}`, (v: string) => `#${v}`, (v: string) => `?x=1#${v}`]) {
      const value = randomValue();
      const error = errorOf(build(`${example}${suffix(value)}`));
      expect(error.issues.map((issue) => [issue.path, issue.message])).toEqual([[
        path,
        `holds a query string or fragment (not shown); remove everything from "?" or "#" on: write only the address of ${what}, e.g. "${example}"`,
      ]]);
      expectHidden(error, value);
    }
    expect(errorOf(build(`${example}?`)).issues[0].message).toMatch(/^holds a query string or fragment \(not shown\)/);
  });

  test('values under a credential-like compute name are not shown', () => {
    const value = randomValue();
    const error = errorOf(manifest({ type: 'k8s' }, { compute: { password: value } }));
    expect(error.issues.map((issue) => [issue.path, issue.message])).toEqual([
      ['compute.password', 'is a string, not a mapping; write it as e.g. "snowflake: { type: snowflake, connection_secret_ref: snowflake-credentials }"'],
    ]);
    expectHidden(error, value);
  });
});

/** An Infisical manifest whose `client_secret` is `fragment` (it may span lines, indented under the key). */
function withClientSecret(fragment: string): string {
  return [
    'plugins:',
    '  secrets:',
    '    type: infisical',
    '    project_slug: floe-analytics',
    '    environment: prod',
    '    auth:',
    '      method: universal-auth',
    '      credentials_secret: { name: infisical-universal-auth, namespace: floe-platform }',
    '      client_id: { env: INFISICAL_CLIENT_ID }',
    `      client_secret: ${fragment}`,
    '',
  ].join('\n');
}

describe('parsePlatformManifest: YAML problems never quote a credential (issue 10, A2)', () => {
  /** Each case: a `client_secret` fragment holding `v`, written the way a mistaken paste would. */
  const CASES: ReadonlyArray<[string, (v: string) => string]> = [
    ['an alias without an anchor', (v) => `*${v}`],
    ['an alias ending in ":"', (v) => `*${v}:`],
    ['a flow mapping used as a key', (v) => `{{ ${v} }}`],
    ['a flow list used as a key', (v) => `{[${v}]: x}`],
    ['an anchor named after the value, aliased later', (v) => `&${v} { env: X }\n      other: *${v}`],
    ['an anchor on the value, aliased as a key', (v) => `&a ${v}\n      *a : 1`],
    ['an unknown local tag', (v) => `!${v} x`],
    ['an unknown global tag', (v) => `!!${v} x`],
    ['a tag for the wrong kind', (v) => `!!map ${v}`],
    ['a bad escape in a double-quoted string', (v) => `"${v}\\q${v}"`],
    ['an unclosed double-quoted multi-line value', (v) => `"${v}\n        ${v}`],
    ['an unclosed single-quoted multi-line value', (v) => `'${v}\n        ${v}`],
    ['a block scalar with bad indentation', (v) => `|\n        ${v}\n        ${v}\n     ${v}: x`],
    ['a folded multi-line value followed by a bad key', (v) => `>\n        ${v}\n        ${v}\n    ${v}`],
    ['a value holding ": "', (v) => `${v}: ${v}`],
    ['a key given twice', (v) => `{ ${v}: 1, ${v}: 2 }`],
    ['an unclosed flow list', (v) => `[${v}`],
    ['a reserved first character', (v) => `@${v}`],
    ['a tab as indentation', (v) => `\n\t${v}: x`],
    ['a key over 1024 characters', (v) => `{ ${v.repeat(Math.ceil(1100 / v.length))}\n  : x }`],
    ['two anchors', (v) => `&${v} &b ${v}`],
    ['an alias with a tag', (v) => `!!str *${v}`],
    ['aliases that expand too much', (v) => `&a [${v}, ${v}, ${v}, ${v}, ${v}, ${v}, ${v}, ${v}, ${v}, ${v}, ${v}, ${v}]\n      b: &b [${Array(12).fill('*a').join(', ')}]\n      c: [${Array(12).fill('*b').join(', ')}]`],
    ['a directive', (v) => `x\n%${v} x\n---\n`],
  ];

  let warnings: jest.SpyInstance;
  beforeEach(() => {
    warnings = jest.spyOn(process, 'emitWarning');
  });
  afterEach(() => warnings.mockRestore());

  test.each(CASES)('%s: the kind of problem, its line and its fix; no value in the message, issues, stack or a Node warning', (_, fragment) => {
    for (let i = 0; i < 20; i++) {
      const value = randomValue();
      const error = errorOf(withClientSecret(fragment(value)));
      expectHidden(error, value);
      for (const issue of error.issues) expect(issue.line).toBeGreaterThanOrEqual(1);
      expect(error.issues[0].message).toMatch(/; .+/);
    }
    expect(warnings).not.toHaveBeenCalled();
  });

  test('a YAML problem names the line and column, and the kind of error', () => {
    const value = randomValue();
    expect(errorOf(withClientSecret(`*${value}`)).message).toBe(
      'manifest.yaml:10: is not valid YAML at column 22: an alias (*name) refers to no anchor (&name) before it; define the anchor first, or quote a value that starts with "*"',
    );
    expect(errorOf(withClientSecret(`{{ ${value} }}`)).message).toBe(
      'manifest.yaml:10: is not valid YAML at column 23: a mapping or list is used as a key (as in "{{ x }}"); use a plain key, and quote a value that starts with "{"',
    );
    expect(errorOf(withClientSecret(`!${value} x`)).message).toBe(
      'manifest.yaml:10: is not valid YAML at column 22: a tag ("!name" or "!!name") is unknown or does not fit its value; remove the tag',
    );
  });

  test('aliases and anchors that resolve are fine, and a value reached through one is still refused without being shown', () => {
    const value = randomValue();
    const text = `shared: &ref { env: INFISICAL_CLIENT_SECRET }\n${withClientSecret('*ref')}`.replace('shared:', 'x-shared:');
    // an anchor defined in an unknown field: the unknown field is reported, not the alias
    expect(errorOf(text).issues.map((issue) => issue.path)).toEqual(['x-shared']);
    const literal = errorOf(`${withClientSecret(`&lit ${value}`).trimEnd()}\n      x: *lit\n`);
    expectHidden(literal, value);
    expect(literal.issues.map((issue) => issue.path)).toEqual(['plugins.secrets.auth.client_secret', 'plugins.secrets.auth.x']);
  });
});

describe('loadPlatformManifest', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'floe-manifest-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('reads examples/manifest.yaml', () => {
    expect(loadPlatformManifest(EXAMPLE).plugins.secrets.type).toBe('infisical');
  });

  test('names the file in every problem', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'plugins: {}\n');
    expect(() => loadPlatformManifest(path)).toThrow(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: plugins\\.secrets: no secrets backend is configured`));
  });

  test.each([
    ['a missing file', 'missing.yaml', 'does not exist'],
    ['a directory', '.', 'is a directory'],
  ])('%s is a ManifestError naming the path, not a raw fs error', (_, name, problem) => {
    const path = join(dir, name);
    expect(() => loadPlatformManifest(path)).toThrow(ManifestError);
    expect(() => loadPlatformManifest(path)).toThrow(`${path}: ${problem}; pass the path of the platform manifest, e.g. "platform/manifest.yaml"`);
  });

  test('a file larger than MAX_MANIFEST_BYTES is refused from its size, without being parsed (issue 10, C)', () => {
    const path = join(dir, 'huge.yaml');
    const value = randomValue();
    writeFileSync(path, `# ${value}\n`.padEnd(MAX_MANIFEST_BYTES + 1, '#'));
    expect(() => loadPlatformManifest(path)).toThrow(
      `${path}: is larger than 1 MiB (a platform manifest is a few KiB: is this the right file?); pass the path of the platform manifest, e.g. "platform/manifest.yaml"`,
    );
    writeFileSync(path, `${'#'.repeat(MAX_MANIFEST_BYTES - 20)}\nplugins: {}\n`);
    expect(() => loadPlatformManifest(path)).toThrow(/plugins\.secrets: no secrets backend is configured/);
  });

  test('a device that never ends (/dev/zero) is read only up to the cap, then refused', () => {
    const started = Date.now();
    expect(() => loadPlatformManifest('/dev/zero')).toThrow('/dev/zero: is larger than 1 MiB (a platform manifest is a few KiB: is this the right file?)');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  test('any other read failure is a ManifestError too', () => {
    expect(() => loadPlatformManifest('bad\0path')).toThrow(/^bad\0path: cannot be read \(.+\); pass the path of the platform manifest/);
  });
});

describe('parseDuration', () => {
  test.each([
    ['0', 0],
    ['5s', 5],
    ['90s', 90],
    ['5m', 300],
    ['1m30s', 90],
    ['2h', 7200],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['1.1m', 66],
    ['500ms', 0.5],
    ['1s500ms', 1.5],
    ['250us', 0.00025],
    ['250µs', 0.00025],
    ['1500000ns', 0.0015],
  ])('%j is %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBeCloseTo(seconds, 12);
  });

  test.each(['', '60', 's', '5 s', '-5s', '+5s', '5d', '1h 30m', '.5m', '5.s', 'abc', `${'9'.repeat(400)}h`])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('parsePlatformManifest: plugins.identity (Keycloak)', () => {
  const withIdentity = (identity: Fields): string => stringify({ plugins: { secrets: { type: 'k8s' }, identity } });
  const KEYCLOAK: Fields = { type: 'keycloak', server_url: 'https://id.example.com', realms: ['floe'], audience: 'floe-cli' };

  test('is optional; given, domains come from groups by default and one audience becomes a list', () => {
    expect(parsePlatformManifest(manifest({ type: 'k8s' })).plugins.identity).toBeUndefined();
    expect(parsePlatformManifest(withIdentity(KEYCLOAK)).plugins.identity).toEqual({
      type: 'keycloak', serverUrl: 'https://id.example.com', realms: ['floe'], audience: ['floe-cli'], domainsFrom: 'groups',
    });
    expect(parsePlatformManifest(withIdentity({ ...KEYCLOAK, audience: ['a', 'b'], domains_from: 'claim', claim: 'teams' })).plugins.identity)
      .toMatchObject({ audience: ['a', 'b'], domainsFrom: 'claim', claim: 'teams' });
  });

  test('every problem at once: http, empty lists, a field of another domains_from, a realm twice', () => {
    const error = errorOf(withIdentity({ ...KEYCLOAK, server_url: 'http://id.example.com', realms: ['a', 'a'], audience: [], domains_from: 'realm', group_prefix: '/floe/' }));
    expect(error.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'plugins.identity.server_url: "http://id.example.com" uses plain http to a host other than localhost; use https (plain http is only allowed for localhost, 127.0.0.1 and [::1])',
      'plugins.identity.realms[1]: "a" is listed twice; list each realm once',
      'plugins.identity.audience: is empty; give the client id tokens are issued for',
      'plugins.identity.group_prefix: is only used with domains_from groups, not realm; remove it or set "domains_from: groups"',
    ]);
  });

  test('a credential is never accepted, nor repeated', () => {
    const secret = randomValue();
    const error = errorOf(withIdentity({ ...KEYCLOAK, client_secret: secret }));
    expect(error.issues.map((i) => i.path)).toEqual(['plugins.identity.client_secret']);
    expect(error.message).not.toContain(secret);
  });

  test('an unknown type names the one there is', () => {
    expect(problemAt(withIdentity({ type: 'okta' }), 'plugins.identity.type')).toMatch(/keycloak/);
  });
});
