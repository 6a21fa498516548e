import { z } from 'zod';
import { quote } from '../names';
import { YamlPathSegment } from './yaml-locate';

// Renders zod's issues on manifest.yaml (see ./manifest-schema.ts) as the library's
// `<problem>; <fix>` messages. Values are quoted only where no credential can be: never under a
// credential field or a key that looks like one, never for an unknown key.

/** A problem found in the manifest, before its line is looked up. */
export interface SchemaProblem {
  readonly path: YamlPathSegment[];
  readonly message: string;
}

const CREDENTIAL_FIELDS = new Set(['client_id', 'client_secret', 'token', 'role_id', 'secret_id']);
const NOT_CREDENTIALS = new Set(['secrets', 'secrets_path', 'secret_ref', 'secret_store', 'credentials_secret', 'connection_secret_ref']);
const CREDENTIAL_LIKE = /passw|pwd|secret|token|api[-_]?key|private[-_]?key|access[-_]?key|credential/i;

/** Whether a key's name says that its value is (or could be) a credential. */
export function looksLikeCredential(key: string): boolean {
  return CREDENTIAL_FIELDS.has(key) || (CREDENTIAL_LIKE.test(key) && !NOT_CREDENTIALS.has(key));
}

const NO_BACKEND = 'no secrets backend is configured; add one under plugins.secrets, e.g. "plugins: { secrets: { type: k8s, namespace: floe-jobs } }" '
  + '(or type infisical or vault, see examples/manifest.yaml)';

/** Examples for "is missing" and wrong-type messages, by dotted path with `*` for names and indexes, or by key. */
const EXAMPLES: { readonly [pathOrKey: string]: string } = {
  'plugins': 'plugins: { secrets: { type: k8s } }',
  'plugins.secrets': 'secrets: { type: k8s, namespace: floe-jobs }',
  'plugins.secrets.namespace': 'namespace: floe-jobs',
  'plugins.secrets.auth': 'auth: { method: universal-auth, credentials_secret: { name: infisical-universal-auth } }',
  'domains': 'domains: [{ name: sales }]',
  'domains.*': '- name: sales',
  'domains.*.name': 'name: sales',
  'compute': 'compute: { snowflake: { type: snowflake, connection_secret_ref: snowflake-credentials } }',
  'compute.*': 'snowflake: { type: snowflake, connection_secret_ref: snowflake-credentials }',
  'compute.*.domains': 'domains: [sales]',
  'site_url': 'site_url: https://app.infisical.com',
  'environment': 'environment: prod',
  'secrets_path': 'secrets_path: /compute/snowflake',
  'resync_interval': 'resync_interval: 60s',
  'credentials_secret': 'credentials_secret: { name: infisical-universal-auth }',
  'identity_id': 'identity_id: <the machine identity ID>',
  'service_account': 'service_account: { name: floe-infisical }',
  'namespace': 'namespace: floe-platform',
  'secret_ref': 'secret_ref: { name: infisical-cli, namespace: floe-platform, key: clientSecret }',
  'project_id': 'project_id: <the project ID>',
  'project_slug': 'project_slug: floe-analytics',
  'role': 'role: floe',
  'mount': 'mount: secret',
  'vault_namespace': 'vault_namespace: team-a',
  'secret_store': 'secret_store: { name: vault, kind: SecretStore }',
  'address': 'address: https://vault.example:8200',
  'type': 'type: snowflake',
  'connection_secret_ref': 'connection_secret_ref: snowflake-credentials',
  'keys': 'keys: [account, user, password]',
};

function exampleFor(path: YamlPathSegment[]): string | undefined {
  const generic = path.map((segment, index) => (typeof segment === 'number' || (index === 1 && path[0] === 'compute') ? '*' : segment)).join('.');
  return EXAMPLES[generic] ?? EXAMPLES[String(path[path.length - 1])];
}

function kindOf(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

/** Whether `path` leads through a credential field or a key that looks like one. */
function sensitive(path: YamlPathSegment[]): boolean {
  return path.some((segment) => typeof segment === 'string' && looksLikeCredential(segment));
}

/** The value, quoted, when it is a scalar that may be shown at `path`, else `''`. */
function shown(value: unknown, path: YamlPathSegment[]): string {
  return !sensitive(path) && (typeof value === 'number' || typeof value === 'boolean' || (typeof value === 'string' && value !== '')) ? quote(value) : '';
}

function missing(path: YamlPathSegment[]): string {
  const example = exampleFor(path);
  return `is missing; add it${example ? `, e.g. "${example}"` : ''}`;
}

function oneOf(input: unknown, values: ReadonlyArray<unknown>, path: YamlPathSegment[]): string {
  const list = values.map((value) => quote(value)).join(', ');
  if (input === undefined || input === null) return `is ${input === null ? 'empty' : 'missing'}; set it to one of ${list}`;
  return `${shown(input, path) || kindOf(input)} is not one of ${list}; use one of them`;
}

function wrongType(expected: string, input: unknown, path: YamlPathSegment[]): string {
  const dotted = path.join('.');
  if ((dotted === 'plugins' || dotted === 'plugins.secrets') && (input === undefined || input === null)) return NO_BACKEND;
  if (input === undefined) return missing(path);
  const want = expected === 'array' ? 'a list' : expected === 'object' || expected === 'record' ? 'a mapping' : `a ${expected}`;
  const value = shown(input, path);
  const example = exampleFor(path);
  return `is ${kindOf(input)}${value ? ` (${value})` : ''}, not ${want}; write ${example ? `it as e.g. "${example}"` : want}`;
}

/**
 * One message per unknown key, never with its value; `allowed` lists the keys the mapping accepts.
 * Inside a credential reference not even the key is named (in `{ hunter2 }` the key is the
 * secret): one message for the reference itself.
 *
 * @requirement REQ-135 (the manifest only references credentials)
 */
function unknownFields(keys: string[], path: YamlPathSegment[], allowed: string): SchemaProblem[] {
  const policy = `the manifest only references credentials; allowed fields here are ${allowed}`;
  if (sensitive(path)) {
    const what = keys.length === 1 ? 'an unknown field' : `${keys.length} unknown fields`;
    return [{ path, message: `holds ${what} (names and values not shown); remove ${keys.length === 1 ? 'it' : 'them'}: ${policy}` }];
  }
  return keys.map((key) => ({
    path: [...path, key],
    message: looksLikeCredential(key)
      ? `unknown field ${quote(key)} looks like a credential (its value is not shown); remove it and keep the credential in the secrets backend: ${policy}`
      : `unknown field ${quote(key)}; remove it or use one of the allowed fields: ${allowed}`,
  }));
}

/** Turns zod's issues (parsed with `reportInput`) into `<problem>; <fix>` messages, one per problem. */
export function describeIssues(issues: ReadonlyArray<z.core.$ZodIssue & { input?: unknown }>): SchemaProblem[] {
  return issues.flatMap((issue): SchemaProblem[] => {
    const path = issue.path as YamlPathSegment[];
    switch (issue.code) {
      case 'unrecognized_keys':
        return unknownFields(issue.keys, path, issue.message);
      case 'invalid_type':
        return [{ path, message: wrongType(issue.expected, issue.input, path) }];
      case 'invalid_value':
        return [{ path, message: oneOf(issue.input, issue.values, path) }];
      case 'invalid_union': {
        // only discriminated unions here: no option matched the discriminator of this mapping
        const { discriminator, options } = issue as unknown as { discriminator: string; options: unknown[] };
        return [{ path, message: oneOf((issue.input as { [key: string]: unknown })[discriminator], options, path) }];
      }
      default: {
        const value = (issue as { params?: { echo?: boolean } }).params?.echo ? shown(issue.input, path) : '';
        return [{ path, message: value ? `${value} ${issue.message}` : issue.message }];
      }
    }
  });
}
