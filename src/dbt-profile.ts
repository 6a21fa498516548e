import { Names } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { FloeDomain } from './floe-domain';
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
   * A literal string in a credential-like field (password, token, secret, private key, ...) is
   * rejected.
   */
  readonly outputs: { readonly [target: string]: { readonly [field: string]: DbtValue } };

  /**
   * The ConfigMap name.
   *
   * @default - a name derived from the construct path
   */
  readonly configMapName?: string;
}

const CREDENTIAL_FIELD = /(password|passphrase|secret|token|private_key|api_key|apikey|keyfile_json)/i;
const ENV_VAR_CALL = /env_var\(\s*(['"])([^'"]+)\1\s*(,)?/g;

/**
 * A dbt `profiles.yml` in a ConfigMap of the domain, whose credentials are `env_var()`
 * references resolved when the pod starts (REQ-136). Several secrets may appear in one profile.
 * Mount it with {@link SecretMountedJob.useDbtProfile}; synth fails if the job does not set
 * every env var the profile reads without a default.
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
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderValue(v)]));
  return value;
}

function checkProfileProps(path: string, props: DbtProfileProps): void {
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
  for (const [target, fields] of Object.entries(props.outputs)) checkLiterals(path, `outputs.${target}`, fields);
}

/** Rejects literal strings in credential-like fields, without ever quoting the value. */
function checkLiterals(path: string, where: string, value: DbtValue): void {
  if (value instanceof SecretReference || typeof value !== 'object') return;
  for (const [field, inner] of Object.entries(value)) {
    const at = Array.isArray(value) ? `${where}[${field}]` : `${where}.${field}`;
    if (typeof inner === 'string' && CREDENTIAL_FIELD.test(field) && !/env_var\(/.test(inner)) {
      throw constructError(
        path,
        `${at} is a literal string; credentials must not be written into profiles.yml`,
        'pass a SecretReference (SecretReference.fromSecret(secret, key)) so dbt reads it from the env at pod start',
      );
    }
    checkLiterals(path, at, inner);
  }
}
