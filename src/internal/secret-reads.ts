import { IConstruct } from 'constructs';
import type { FloeDomain } from '../floe-domain';
import { assertSecretHasKey, IFloeSecret } from '../floe-secret';
import type { ISecretReader } from '../floe-service-account';
import { checkMountPath, SECRET_MOUNT_ROOT } from '../pod-spec';
import { SecretReference } from '../secret-reference';
import { requireReadableSecret } from './readable-secret';
import { describeValue, optionalString, optionalStringList, requireFloeSecret } from './runtime-props';
import { constructError, isEnvVarName, octal, quote, rethrowAt } from './validation';

/** A secret key to set as an env var, checked. */
export interface CheckedSecretEnv {
  readonly secret: IFloeSecret;
  readonly reference: SecretReference;
  /** The env var name: the one asked for, or the reference's. */
  readonly name: string;
}

/** A secret to mount as files, checked. */
export interface CheckedSecretMount {
  readonly secret: IFloeSecret;
  /** The keys to mount; undefined for all. */
  readonly keys?: string[];
  /** The directory, defaulted to `/run/secrets/<secret-name>`. */
  readonly mountPath: string;
}

/**
 * The secrets one workload reads, and the checks every way of wiring them applies
 * ({@link WorkloadSecrets} on a cdk8s-plus workload, and the SecretMounted* conveniences on their
 * own pod spec): the argument's shape, the secret declared and of the workload's domain, the keys
 * declared, env var names that Kubernetes accepts. The `check*` methods only check; {@link grant} grants
 * the workload's ServiceAccount `get` on the secret once the caller has wired it, so that a refused
 * call grants nothing. Errors name `owner`'s path.
 */
export class SecretReads {
  private readonly used = new Map<string, IFloeSecret>();

  /**
   * @param owner the construct errors name
   * @param user the construct whose domain may be read (the workload)
   * @param onUse called for every secret granted, e.g. to turn on the operator's auto-reload
   */
  public constructor(
    private readonly owner: IConstruct,
    private readonly user: IConstruct,
    private readonly domain: FloeDomain,
    private readonly onUse: (secret: IFloeSecret) => void = () => undefined,
  ) {}

  /**
   * Checks one key to set as an env var through `secretKeyRef`.
   *
   * @throws when the reference is not a SecretReference, names no declared secret or one of another
   * domain, the key is not declared, or the env var name is not a C identifier
   */
  public checkSecretEnv(reference: SecretReference, name: string | undefined): CheckedSecretEnv {
    if (!(reference instanceof SecretReference)) {
      throw constructError(this.owner, `a secret env entry must be a SecretReference, got ${describeValue(reference)}`, 'make it with SecretReference.fromSecret(secret, key)');
    }
    optionalString(this.owner.node.path, 'env var name', name, 'give the env var name as a string');
    const secret = requireReadableSecret(this.user, this.domain, reference.secret, `reference ${reference}`);
    assertSecretHasKey(this.owner, secret, reference.key);
    const envName = name ?? reference.envVarName;
    if (!isEnvVarName(envName)) {
      throw constructError(this.owner, `env var name ${quote(envName)} is not a C identifier`, 'use letters, digits and "_", not starting with a digit');
    }
    return { secret, reference, name: envName };
  }

  /**
   * Checks a secret whose every key becomes an env var through `envFrom`.
   *
   * @throws when it is not a declared secret of the domain, or a key is not a valid env var name
   * (Kubernetes would silently skip it)
   */
  public checkEnvFrom(secret: IFloeSecret): IFloeSecret {
    requireFloeSecret(this.owner, 'a secretEnvFrom entry', secret);
    requireReadableSecret(this.user, this.domain, secret, `secret ${quote(secret.secretName)}`);
    for (const key of secret.keys) {
      if (!isEnvVarName(key)) {
        throw constructError(
          this.owner,
          `key ${quote(key)} of secret ${quote(secret.secretName)} is not a valid env var name, so envFrom would silently skip it`,
          'mount the secret as files, or inject its keys one by one with addSecretEnv and an explicit name',
        );
      }
    }
    return secret;
  }

  /**
   * Checks a secret to mount as files; the mount path's clashes are the caller's to check.
   *
   * @throws when it is not a declared secret of the domain, `keys` is empty or names an undeclared
   * key, or the mount path is not an absolute, normalized directory
   */
  public checkMount(secret: IFloeSecret, options: { readonly keys?: string[]; readonly mountPath?: string }): CheckedSecretMount {
    requireFloeSecret(this.owner, 'a secret file mount', secret);
    optionalStringList(this.owner.node.path, 'keys', options.keys, 'list the keys to mount, e.g. ["password"]');
    optionalString(this.owner.node.path, 'mountPath', options.mountPath, 'give an absolute directory, e.g. "/run/secrets/db-creds"');
    requireReadableSecret(this.user, this.domain, secret, `secret ${quote(secret.secretName)}`);
    if (options.keys !== undefined && options.keys.length === 0) {
      throw constructError(this.owner, 'keys is empty', 'omit keys to mount every key, or list at least one');
    }
    for (const key of options.keys ?? []) assertSecretHasKey(this.owner, secret, key);
    const mountPath = options.mountPath ?? `${SECRET_MOUNT_ROOT}/${secret.secretName}`;
    rethrowAt(this.owner, () => checkMountPath('mountPath', mountPath));
    return { secret, keys: options.keys, mountPath };
  }

  /** Grants `reader` `get` on a wired secret and records it as read. */
  public grant(secret: IFloeSecret, reader: ISecretReader): void {
    secret.grantRead(reader);
    this.used.set(secret.secretName, secret);
    this.onUse(secret);
  }

  /** The names of the Secrets read, sorted (a copy). */
  public get secretNames(): string[] {
    return [...this.used.keys()].sort();
  }

  /** The secrets read, by name order (a copy). */
  public get secretsRead(): IFloeSecret[] {
    return this.secretNames.map((name) => this.used.get(name)!);
  }
}

/**
 * The mode and ownership of mounted secret files as the container sees them, e.g. `0440 root:26000`:
 * with an fsGroup the kubelet adds group read to `fileMode` and gives the files that group.
 */
export function fileModeDescription(fileMode: number, fsGroup: number | undefined): string {
  return `${octal(effectiveFileMode(fileMode, fsGroup))} root:${fsGroup ?? 0}`;
}

/** The mode of secret files as the container sees them: `fileMode | 0o440` with an fsGroup. */
export function effectiveFileMode(fileMode: number, fsGroup: number | undefined): number {
  return fsGroup === undefined ? fileMode : fileMode | 0o440;
}
