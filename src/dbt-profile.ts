import { Names } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { FloeDomain } from './floe-domain';
import { FieldKind, fieldKind, valueProblem } from './internal/dbt-credentials';
import { describeValue, isRecord, optionalString, requireProps, requireRecord, requireString } from './internal/runtime-props';
import { childPath, constructError, dnsSubdomainProblem, quote } from './internal/validation';
import { SecretReference } from './secret-reference';

/** A value in a dbt output: a literal, a secret reference, or a list or map of values. */
export type DbtValue = string | number | boolean | SecretReference | DbtValue[] | { readonly [field: string]: DbtValue };

/** Properties of a {@link DbtProfile}. */
export interface DbtProfileProps {
  /** The profile name, as `profile:` in `dbt_project.yml` names it. */
  readonly profileName: string;

  /** The default target; one of the keys of `outputs`. */
  readonly target: string;

  /**
   * The outputs by target name. Credentials are {@link SecretReference}s, rendered as
   * `{{ env_var('FLOE_SECRET_...') }}` and resolved by dbt from the pod's env at start.
   *
   * A credential field (by name, from dbt's adapters: `password`, `pass`, `private_key`,
   * `private_key_passphrase`, `token`, `refresh_token`, `client_secret`, `keyfile_json`,
   * DuckDB's `s3_secret_access_key` and `secrets` entries, and every field whose name contains
   * `pass`, `secret`, `token`, `private_key`, `api_key`, `access_key`, `account_key`, `keyfile` or
   * `connection_string` or ends in `key_id`) accepts only a SecretReference or a hand-written
   * `{{ env_var('NAME') }}` without a default: a literal of any type, an `env_var()` with a default
   * and any other Jinja expression are refused. File fields (`keyfile`, `private_key_path`) also
   * accept an absolute path, e.g. of a file mounted with `secretFiles`. Other fields may use
   * `env_var()` defaults, unless the env var's own name says it is a credential, and may not hold a
   * literal password or token inside a connection string or URL. Errors never repeat the value.
   */
  readonly outputs: { readonly [target: string]: { readonly [field: string]: DbtValue } };

  /**
   * The ConfigMap name.
   *
   * @default - a name derived from the construct path
   */
  readonly configMapName?: string;
}

const ENV_VAR_CALL = /env_var\(\s*(['"])([^'"]+)\1\s*(,)?/g;

/**
 * A dbt `profiles.yml` in a ConfigMap of the domain, whose credentials are `env_var()`
 * references resolved when the pod starts. Several secrets may appear in one profile.
 * Mount it with {@link SecretMountedJob.useDbtProfile}; synth fails if the job does not set
 * every env var the profile reads without a default.
 *
 * @requirement REQ-136
 */
export class DbtProfile extends Construct {
  /** The domain of the ConfigMap. */
  public readonly domain: FloeDomain;
  /** The profile name. */
  public readonly profileName: string;
  /** The ConfigMap name. */
  public readonly configMapName: string;
  /** The ConfigMap holding `profiles.yml` (construct id `Resource`). */
  public readonly configMap: k8s.KubeConfigMap;

  private readonly rendered: string;
  private readonly required: string[];

  public constructor(scope: Construct, id: string, props: DbtProfileProps) {
    const path = childPath(scope, id);
    checkProfileProps(path, props);
    super(scope, id);
    this.domain = FloeDomain.of(this);
    this.profileName = props.profileName;
    this.configMapName = props.configMapName ?? Names.toDnsLabel(this);
    this.domain._claimName(this, 'ConfigMap', this.configMapName);

    const outputs = renderValue(props.outputs);
    this.rendered = stringify({ [props.profileName]: { target: props.target, outputs } }, { lineWidth: 0 });
    this.required = [...new Set([...this.rendered.matchAll(ENV_VAR_CALL)].filter((m) => m[3] === undefined).map((m) => m[2]))].sort();

    this.configMap = new k8s.KubeConfigMap(this, 'Resource', {
      metadata: { name: this.configMapName },
      data: { 'profiles.yml': this.rendered },
    });
  }

  /** Env vars the profile reads through `env_var()` without a default, sorted (a copy). */
  public get requiredEnvVars(): string[] {
    return [...this.required];
  }

  /** The `profiles.yml` text. */
  public toYaml(): string {
    return this.rendered;
  }
}

function renderValue(value: DbtValue): unknown {
  if (value instanceof SecretReference) return value.toEnvVarSyntax();
  if (Array.isArray(value)) return value.map(renderValue);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v)]));
  return value;
}

function checkProfileProps(path: string, props: DbtProfileProps): void {
  requireProps(path, props, "{ profileName: 'sales', target: 'prod', outputs: { prod: { type: 'snowflake', ... } } }");
  requireString(path, 'profileName', props.profileName, 'use the profile name of dbt_project.yml');
  requireString(path, 'target', props.target, 'set target to one of the outputs, e.g. "prod"');
  requireRecord(path, 'outputs', props.outputs, 'give the outputs by target name, e.g. outputs: { prod: { type: "snowflake", ... } }');
  optionalString(path, 'configMapName', props.configMapName, 'use a name such as "dbt-profile"');
  if (props.configMapName !== undefined) {
    const problem = dnsSubdomainProblem(props.configMapName);
    if (problem) throw constructError(path, `configMapName ${quote(props.configMapName)} ${problem}`, 'use a name such as "dbt-profile"');
  }
  if (props.profileName.trim() === '') throw constructError(path, 'profileName is empty', 'use the profile name of dbt_project.yml');
  const targets = Object.keys(props.outputs);
  if (targets.length === 0) throw constructError(path, 'outputs is empty', 'give at least one output, e.g. outputs: { prod: { type: "snowflake", ... } }');
  if (!targets.includes(props.target)) {
    throw constructError(path, `target ${quote(props.target)} is not an output (outputs: ${targets.join(', ')})`, 'set target to one of the outputs');
  }
  for (const [target, fields] of Object.entries(props.outputs)) {
    const where = `profile ${quote(props.profileName)}, target ${quote(target)}`;
    if (!isRecord(fields) || fields instanceof SecretReference) {
      throw constructError(path, `${where}: the output must be a map of fields, got ${describeValue(fields)}`, 'give the output\'s fields, e.g. { type: "postgres", host: "db", ... }');
    }
    checkFields(path, where, '', fields, 'plain');
  }
}

/**
 * Checks every value of an output against its field's kind (see `internal/dbt-credentials`):
 * credentials only as `{{ env_var('NAME') }}`, never a literal, a default or another expression.
 * Errors name the profile, target and field, never the value.
 */
function checkFields(path: string, where: string, field: string, value: unknown, inherited: FieldKind): void {
  if (value instanceof SecretReference) return;
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkFields(path, where, `${field}[${index}]`, item, inherited));
    return;
  }
  if (isRecord(value)) {
    for (const [name, inner] of Object.entries(value)) {
      const own = fieldKind(name);
      // Under a credential, everything is a credential; a structured field's entries are judged by their own names.
      const kind = inherited === 'credential' || inherited === 'credential-file' ? inherited : own === 'structured' ? 'plain' : own;
      const at = field === '' ? name : `${field}.${name}`;
      if (own === 'structured' && kind === 'plain' && !isRecord(inner) && !Array.isArray(inner)) {
        checkFields(path, where, at, inner, 'credential');
      } else {
        checkFields(path, where, at, inner, kind);
      }
    }
    return;
  }
  if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
    throw constructError(path, `${where}: field ${field} must be a string, number, boolean, list, map or SecretReference, got ${describeValue(value)}`, 'give a value dbt can read');
  }
  const problem = valueProblem(inherited, value);
  if (problem) throw constructError(path, `${where}: field ${field} ${problem.problem}`, problem.fix);
}
