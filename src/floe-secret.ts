import { Names } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { FloeDomain } from './floe-domain';
import { ISecretReader } from './floe-service-account';
import { optionalString, requireProps, requireString, requireStringList } from './internal/runtime-props';
import { checkSecretKeys, childPath, constructError, dnsSubdomainProblem, quote } from './internal/validation';
import { SecretSourceInfo } from './secret-source';

/**
 * A Kubernetes Secret in a domain's namespace that workloads may read, with the keys it is known
 * to hold. Other constructs accept this interface, never a concrete class.
 *
 * It is also a cdk8s-plus `ISecret`, so it goes wherever cdk8s-plus takes one
 * (`kplus.Volume.fromSecret`, `kplus.Env.fromSecret`, `kplus.EnvValue.fromSecretValue`). Used
 * that way, cdk8s-plus only renders the reference: the key is not checked and no read is granted.
 * Wire it through {@link WorkloadSecrets} to get both.
 */
export interface IFloeSecret extends IConstruct, kplus.ISecret {
  /** The Secret's name in its namespace. */
  readonly secretName: string;

  /** The domain, and so the namespace, the Secret lives in. */
  readonly domain: FloeDomain;

  /** The keys the Secret is known to hold, sorted (a copy). */
  readonly keys: string[];

  /**
   * Who creates the Secret: `external` for one created outside the app (for example with
   * `kubectl create secret`), otherwise the construct path of the source that manages it.
   */
  readonly managedBy: string;

  /**
   * The source that manages the Secret, with its refresh and rotation.
   *
   * @default - none: the Secret is created outside the app
   */
  readonly source?: SecretSourceInfo;

  /** Whether `key` is one of the declared keys. */
  hasKey(key: string): boolean;

  /**
   * The cdk8s-plus env value that reads `key` through `secretKeyRef`, for
   * `container.env.addVariable(name, value)`.
   *
   * @throws when `key` is not one of the declared keys
   */
  envValue(key: string, options?: kplus.EnvValueFromSecretOptions): kplus.EnvValue;

  /**
   * Lets each reader `get` this Secret, and nothing else, through its name-scoped Role.
   * Granting the same reader twice is a no-op.
   *
   * @returns the RoleBinding of each reader, in the order given
   * @throws when a reader belongs to another domain
   * @requirement REQ-139
   */
  grantRead(...readers: ISecretReader[]): k8s.KubeRoleBinding[];
}

/** Properties of a {@link FloeSecret}. */
export interface FloeSecretProps {
  /**
   * The Secret's name: a DNS-1123 subdomain.
   *
   * @default - a name derived from the construct path
   */
  readonly secretName?: string;

  /** The keys the Secret holds. At least one; each a valid Secret key. */
  readonly keys: string[];

  /**
   * The source that manages the Secret. Source constructs set it; leave it out for a Secret
   * created outside the app.
   *
   * @default - the Secret is created outside the app
   */
  readonly source?: SecretSourceInfo;
}

/** Options of {@link FloeSecret.fromSecretName}. */
export interface FromSecretNameOptions {
  /** The keys the existing Secret holds. At least one. */
  readonly keys: string[];
}

/**
 * Declares a Secret of a domain by name and keys. It never synthesizes the Secret or any value:
 * the Secret is created outside the app (see {@link FloeSecret.fromSecretName}) or by a source
 * construct that manages it.
 *
 * Declaring the keys lets the library check every reference, env var and file mount against
 * them at synth time.
 *
 * @requirement REQ-134
 */
export class FloeSecret extends Construct implements IFloeSecret {
  /**
   * A Secret created outside the app, for example by a platform engineer with
   * `kubectl create secret generic db-creds -n floe-sales --from-literal=password=...`.
   * The platform never creates these Secrets for you.
   *
   * @requirement REQ-134
   */
  public static fromSecretName(scope: Construct, id: string, secretName: string, options: FromSecretNameOptions): IFloeSecret {
    const path = childPath(scope, id);
    requireString(path, 'secret name', secretName, 'pass the Secret name, e.g. FloeSecret.fromSecretName(domain, \'Db\', \'db-creds\', { keys: [\'password\'] })');
    requireProps(path, options, "{ keys: ['user', 'password'] }");
    return new FloeSecret(scope, id, { secretName, keys: options.keys });
  }

  public readonly secretName: string;
  public readonly domain: FloeDomain;
  public readonly source?: SecretSourceInfo;
  /** The RBAC resource type, `secrets` (cdk8s-plus `IApiResource`). */
  public readonly resourceType = 'secrets';
  private readonly keySet: ReadonlySet<string>;

  public constructor(scope: Construct, id: string, props: FloeSecretProps) {
    const path = childPath(scope, id);
    requireProps(path, props, "{ secretName: 'db-creds', keys: ['user', 'password'] }");
    optionalString(path, 'secretName', props.secretName, 'use a name such as "db-creds"');
    requireStringList(path, 'keys', props.keys, 'list the keys the Secret holds, e.g. keys: ["user", "password"]');
    const secretName = props.secretName;
    if (secretName !== undefined) {
      const problem = dnsSubdomainProblem(secretName);
      if (problem) {
        throw constructError(path, `secret name ${quote(secretName)} ${problem}`, 'use a name such as "db-creds"');
      }
    }
    checkSecretKeys(path, props.keys, 'list the keys the Secret holds, e.g. keys: ["user", "password"]', 'use the key exactly as it is stored in the Secret, e.g. "password" or "key.json"');
    super(scope, id);
    this.domain = FloeDomain.of(this);
    this.secretName = secretName ?? Names.toDnsLabel(this);
    this.source = props.source;
    this.keySet = new Set(props.keys);
    this.domain._claimName(this, 'Secret', this.secretName);
  }

  /** The Secret's name, as cdk8s-plus reads it: the same as {@link FloeSecret.secretName}. */
  public get name(): string {
    return this.secretName;
  }

  /** `v1`. */
  public get apiVersion(): string {
    return 'v1';
  }

  /** The core API group, `""`. */
  public get apiGroup(): string {
    return '';
  }

  /** `Secret`. */
  public get kind(): string {
    return 'Secret';
  }

  /** The Secret's name, which scopes a cdk8s-plus Role rule to this Secret. */
  public get resourceName(): string {
    return this.secretName;
  }

  public get managedBy(): string {
    return this.source?.source ?? 'external';
  }

  public get keys(): string[] {
    return [...this.keySet].sort();
  }

  public hasKey(key: string): boolean {
    return this.keySet.has(key);
  }

  public envValue(key: string, options: kplus.EnvValueFromSecretOptions = {}): kplus.EnvValue {
    requireString(`${this.node.path}.envValue`, 'key', key, 'pass the key as a string, e.g. "password"');
    assertSecretHasKey(this, this, key);
    return kplus.EnvValue.fromSecretValue({ secret: this, key }, options);
  }

  public grantRead(...readers: ISecretReader[]): k8s.KubeRoleBinding[] {
    return readers.map((reader) => reader.secretReadRole().allowGet(this).binding);
  }
}

/**
 * Checks that `key` is declared on `secret`.
 *
 * @throws naming `user`'s path, the key, and the declared keys
 */
export function assertSecretHasKey(user: IConstruct | string, secret: IFloeSecret, key: string): void {
  if (!secret.hasKey(key)) {
    throw constructError(
      user,
      `key ${quote(key)} is not declared on secret ${quote(secret.secretName)} (declared: ${secret.keys.join(', ')})`,
      `use one of the declared keys, or add ${quote(key)} to the keys of ${secret.node.path}`,
    );
  }
}

/**
 * Checks that `user` (a workload or reader) is in the same domain as `secret`.
 *
 * @throws naming both domains
 * @requirement REQ-139
 */
export function assertSameDomain(user: IConstruct, userDomain: FloeDomain, secret: IFloeSecret): void {
  if (userDomain !== secret.domain) {
    throw constructError(
      user,
      `secret ${quote(secret.secretName)} belongs to domain ${quote(secret.domain.domainName)} (namespace ${secret.domain.namespace}), ` +
        `but this construct is in domain ${quote(userDomain.domainName)} (namespace ${userDomain.namespace}); ` +
        'a workload may only read secrets of its own domain',
      `declare the secret in domain ${quote(userDomain.domainName)}, or move the workload to domain ${quote(secret.domain.domainName)}`,
    );
  }
}
