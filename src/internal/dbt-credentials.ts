/**
 * Which fields of a dbt output hold credentials, and the check that none of them is written into
 * `profiles.yml` in clear. Never quotes a value: a problem names the field and, for `env_var()`
 * calls, the env var, which is a name rather than a value.
 *
 * Credential fields, by name, case-insensitively (`-` read as `_`), derived from dbt's adapters:
 *
 * | adapter | fields |
 * |---|---|
 * | Snowflake | `password`, `private_key`, `private_key_passphrase`, `private_key_path`, `token`, `oauth_client_secret` |
 * | BigQuery | `keyfile`, `keyfile_json` (and inside it `private_key`, `private_key_id`), `refresh_token`, `client_secret`, `token` |
 * | Postgres | `password`, `pass` |
 * | Redshift | `password`, `pass`, `access_key_id`, `secret_access_key` |
 * | Databricks | `token`, `client_secret`, `azure_client_secret` |
 * | DuckDB | `settings` such as `s3_access_key_id`, `s3_secret_access_key`, `s3_session_token`, `motherduck_token`; `secrets[]` entries' `key_id`, `secret`, `session_token`, `password`, `connection_string`, `account_key` |
 *
 * and, conservatively, every field whose name contains `pass`, `secret`, `token`, `private_key`,
 * `api_key`/`apikey`, `access_key`, `account_key`, `keyfile` or `connection_string`, or ends in
 * `key_id`; except names ending in `_uri`, `_url` or `_endpoint` (`token_uri` of a keyfile_json is an
 * address). A list or map under a credential field is a credential throughout, except the
 * structured fields `keyfile_json` and `secrets`, whose entries are judged by their own names.
 */

/** What a field holds, judged by its name. */
export type FieldKind = 'plain' | 'credential' | 'credential-file' | 'structured';

const CREDENTIAL_NAME = /pass|secret|token|private_key|api_?key|access_key|account_key|keyfile|connection_string|key_id$/;
const ADDRESS_NAME = /(_uri|_url|_endpoint)$/;
const FILE_NAME = /(^keyfile$|_path$|_file$)/;
const STRUCTURED_NAMES = new Set(['keyfile_json', 'secrets']);

/** The one form a credential may take: `{{ env_var('NAME') }}`, without a default. */
const ENV_VAR_ONLY = /^\{\{\s*env_var\(\s*(['"])[A-Za-z_][A-Za-z0-9_]*\1\s*\)\s*\}\}$/;
/** An `env_var()` call with a second argument (a default), capturing the env var name. */
const ENV_VAR_WITH_DEFAULT = /env_var\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)\1\s*,/g;
/** An absolute file path, e.g. `/run/secrets/google-sa/key.json`. */
const ABSOLUTE_PATH = /^(\/[A-Za-z0-9._-]+)+$/;
/** A literal password or token inside a connection string (`password=...`, `?motherduck_token=...`). */
const EMBEDDED_PARAMETER = /(?:^|[\s;?&,])[\w.-]*(?:password|passwd|pwd|secret|token|accountkey|api_?key)\s*=\s*(?!\{\{)[^\s;&,]/i;
/** A literal password in a URL (`postgres://user:password@host`). */
const EMBEDDED_USERINFO = /:\/\/[^/\s@:]*:(?!\{\{)[^/\s@]+@/;

/** How a field named `name` is judged. */
export function fieldKind(name: string): FieldKind {
  const normalized = name.toLowerCase().replace(/-/g, '_');
  if (ADDRESS_NAME.test(normalized) || !CREDENTIAL_NAME.test(normalized)) return 'plain';
  if (STRUCTURED_NAMES.has(normalized)) return 'structured';
  return FILE_NAME.test(normalized) ? 'credential-file' : 'credential';
}

/** A problem with one value, and how to fix it; never the value itself. */
export interface CredentialProblem {
  readonly problem: string;
  readonly fix: string;
}

const REFERENCE_FIX = 'pass a SecretReference (SecretReference.fromSecret(secret, key)), rendered as {{ env_var(\'...\') }} and read by dbt from the pod\'s env at start';

/**
 * The problem with `value` in a field of `kind`, or undefined when it may be written into
 * `profiles.yml`. `value` is a scalar: a string (a SecretReference already rendered), number,
 * boolean or null.
 */
export function valueProblem(kind: FieldKind, value: unknown): CredentialProblem | undefined {
  if (kind === 'credential' || kind === 'credential-file') {
    if (typeof value === 'string' && ENV_VAR_ONLY.test(value)) return undefined;
    if (kind === 'credential-file' && typeof value === 'string' && ABSOLUTE_PATH.test(value) && !value.split('/').includes('..')) return undefined;
    return { problem: credentialProblem(value, kind), fix: credentialFix(value, kind) };
  }
  if (typeof value !== 'string') return undefined;
  for (const match of value.matchAll(ENV_VAR_WITH_DEFAULT)) {
    if (fieldKind(match[2]) !== 'plain') {
      return {
        problem: `reads env var ${match[2]}, whose name says it is a credential, with a default, and the default is written into profiles.yml in clear`,
        fix: `remove the default ({{ env_var('${match[2]}') }}) and set ${match[2]} in the job, e.g. with a SecretReference in secretEnv`,
      };
    }
  }
  if (EMBEDDED_PARAMETER.test(value) || EMBEDDED_USERINFO.test(value)) {
    return {
      problem: 'holds a literal password or token inside a connection string or URL',
      fix: 'write that part as {{ env_var(\'NAME\') }} and set NAME in the job with a SecretReference',
    };
  }
  return undefined;
}

function credentialProblem(value: unknown, kind: FieldKind): string {
  const clear = 'and credentials must not be written into profiles.yml';
  if (typeof value !== 'string') return `is a literal ${value === null ? 'null' : typeof value}, ${clear}`;
  const withDefault = [...value.matchAll(ENV_VAR_WITH_DEFAULT)][0];
  if (withDefault) return `reads env var ${withDefault[2]} with a default, and a default in a credential field is written into profiles.yml in clear`;
  if (/\{\{|\{%/.test(value)) return `is a Jinja expression other than a plain {{ env_var('NAME') }}, ${clear}`;
  return kind === 'credential-file' ? `is a literal string that is not an absolute file path, ${clear}` : `is a literal string, ${clear}`;
}

function credentialFix(value: unknown, kind: FieldKind): string {
  const withDefault = typeof value === 'string' ? [...value.matchAll(ENV_VAR_WITH_DEFAULT)][0] : undefined;
  if (withDefault) return `remove the default ({{ env_var('${withDefault[2]}') }}) and set ${withDefault[2]} in the job, e.g. with a SecretReference in secretEnv`;
  if (kind === 'credential-file') return `${REFERENCE_FIX}, or mount the file with secretFiles and give its path, e.g. "/run/secrets/google-sa/key.json"`;
  return REFERENCE_FIX;
}
