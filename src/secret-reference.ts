import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { assertSecretHasKey, IFloeSecret } from './floe-secret';
import { requireFloeSecret, requireString } from './internal/runtime-props';
import { argumentError, dnsSubdomainProblem, quote, secretKeyProblem } from './internal/validation';

/** Prefix of the env var a {@link SecretReference} maps to. */
export const SECRET_ENV_PREFIX = 'FLOE_SECRET_';

/** The prefix dbt masks in its logs (dbt docs: "Secret environment variables"). */
export const DBT_SECRET_ENV_PREFIX = 'DBT_ENV_SECRET_';

/** Options of a {@link SecretReference}. */
export interface SecretReferenceOptions {
  /**
   * Prefix the env var name with `DBT_ENV_SECRET_`, so that dbt masks the value in its logs.
   * dbt then only accepts `env_var()` of it in `profiles.yml` and `packages.yml`, not in models.
   *
   * @default false
   */
  readonly dbtMasked?: boolean;
}

/**
 * One key of one Secret, and the env var it is injected as:
 * `FLOE_SECRET_<SECRET>_<KEY>`, upper case, every other character than a letter or digit
 * becoming `_`.
 *
 * ```ts
 * SecretReference.fromNames('db-creds', 'password').toEnvVarSyntax();
 * // "{{ env_var('FLOE_SECRET_DB_CREDS_PASSWORD') }}"
 * ```
 *
 * @requirement seed 001 "SecretReference Resolution"
 */
export class SecretReference {
  /** A key of a declared secret; the key must be one of its declared keys. */
  public static fromSecret(secret: IFloeSecret, key: string, options: SecretReferenceOptions = {}): SecretReference {
    requireFloeSecret('SecretReference.fromSecret', 'secret', secret);
    requireString('SecretReference.fromSecret', 'key', key, 'pass the key as a string, e.g. "password"');
    assertSecretHasKey(`SecretReference(${secret.node.path})`, secret, key);
    return new SecretReference(secret.secretName, key, options, secret);
  }

  /**
   * A key of a Secret known only by name, for pod-spec fragments outside any construct.
   * Prefer {@link SecretReference.fromSecret}, which checks the key and the domain.
   */
  public static fromNames(secretName: string, key: string, options: SecretReferenceOptions = {}): SecretReference {
    requireString('SecretReference.fromNames', 'secretName', secretName, 'pass the Secret name, e.g. "db-creds"');
    requireString('SecretReference.fromNames', 'key', key, 'pass the key as a string, e.g. "password"');
    const nameProblem = dnsSubdomainProblem(secretName);
    if (nameProblem) {
      throw argumentError('secretName', `${quote(secretName)} ${nameProblem}`, 'pass the Secret name, e.g. "db-creds"');
    }
    const keyProblem = secretKeyProblem(key);
    if (keyProblem) {
      throw argumentError('key', `${quote(key)} ${keyProblem}`, 'pass the key as stored in the Secret, e.g. "password"');
    }
    return new SecretReference(secretName, key, options);
  }

  /** The Secret's name. */
  public readonly secretName: string;
  /** The key in the Secret. */
  public readonly key: string;
  /** Whether the env var carries dbt's secret prefix. */
  public readonly dbtMasked: boolean;
  /** The env var name the value is injected as. */
  public readonly envVarName: string;
  /** The declared secret, when the reference was made from one. */
  public readonly secret?: IFloeSecret;

  private constructor(secretName: string, key: string, options: SecretReferenceOptions, secret?: IFloeSecret) {
    this.secretName = secretName;
    this.key = key;
    this.secret = secret;
    this.dbtMasked = options.dbtMasked ?? false;
    const base = `${SECRET_ENV_PREFIX}${toEnvPart(secretName)}_${toEnvPart(key)}`;
    this.envVarName = this.dbtMasked ? `${DBT_SECRET_ENV_PREFIX}${base}` : base;
  }

  /** The dbt / Jinja expression that reads the env var: `{{ env_var('FLOE_SECRET_DB_CREDS_PASSWORD') }}`. */
  public toEnvVarSyntax(): string {
    return `{{ env_var('${this.envVarName}') }}`;
  }

  /** The container env entry that injects this key through `secretKeyRef`. */
  public toEnvVar(name: string = this.envVarName): k8s.EnvVar {
    return { name, valueFrom: { secretKeyRef: { name: this.secretName, key: this.key } } };
  }

  /**
   * The cdk8s-plus env value that injects this key through `secretKeyRef`, for
   * `container.env.addVariable(ref.envVarName, ref.toEnvValue())`. Passed to a container
   * directly, no read is granted; {@link WorkloadSecrets.addSecretEnv} grants it and checks the name.
   *
   * @throws when the reference was made with {@link SecretReference.fromNames} and so names no declared secret
   */
  public toEnvValue(): kplus.EnvValue {
    if (!this.secret) {
      throw argumentError(
        'reference',
        `${this} was made with SecretReference.fromNames and names no declared secret, which a cdk8s-plus env value needs`,
        'make it with SecretReference.fromSecret(secret, key)',
      );
    }
    return this.secret.envValue(this.key);
  }

  /** `secret/key`, for messages. */
  public toString(): string {
    return `${this.secretName}/${this.key}`;
  }
}

function toEnvPart(value: string): string {
  return value.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}
