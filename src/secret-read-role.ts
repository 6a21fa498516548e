import { Lazy } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { assertSameDomain, IFloeSecret } from './floe-secret';
import { ISecretReader } from './floe-service-account';
import { describeValue, isRecord, requireFloeSecret, requireProps } from './internal/runtime-props';
import { childPath, constructError, quote } from './internal/validation';

/** Suffix of the Role and RoleBinding names: ServiceAccount `loader` gets Role `loader-secret-reader`. */
export const SECRET_READ_ROLE_SUFFIX = '-secret-reader';

/** Properties of a {@link SecretReadRole}. */
export interface SecretReadRoleProps {
  /** The subject the Role is bound to. */
  readonly reader: ISecretReader;
}

/**
 * The least-privilege Role of one reader: verb `get` on Secrets, restricted by `resourceNames` to
 * exactly the granted Secrets, in the reader's own namespace, plus the RoleBinding to the reader.
 *
 * Only `get`: Kubernetes applies `resourceNames` to `list` and `watch` only when the request
 * filters by name, so granting them would let the reader list every Secret of the namespace.
 * Never a ClusterRole, never a wildcard. With no Secret granted it synthesizes nothing, because an
 * empty `resourceNames` would mean "every Secret".
 *
 * Create it through {@link ISecretReader.secretReadRole}, which keeps one per reader.
 */
export class SecretReadRole extends Construct {
  /** The Role and RoleBinding name. */
  public readonly roleName: string;
  /** The Role (construct id `Resource`). */
  public readonly role: k8s.KubeRole;
  /** The RoleBinding that binds the Role to the reader. */
  public readonly binding: k8s.KubeRoleBinding;

  private readonly reader: ISecretReader;
  private readonly secrets = new Map<string, IFloeSecret>();

  public constructor(scope: Construct, id: string, props: SecretReadRoleProps) {
    const path = childPath(scope, id);
    requireProps(path, props, '{ reader: serviceAccount }');
    const reader = props.reader as Partial<ISecretReader> | undefined;
    if (!isRecord(reader) || !isRecord(reader.subject) || !isRecord(reader.domain)) {
      throw constructError(path, `reader must be an ISecretReader (a FloeServiceAccount), got ${describeValue(props.reader)}`, 'pass a FloeServiceAccount, or FloeServiceAccount.fromServiceAccountName(...)');
    }
    super(scope, id);
    this.reader = props.reader;
    this.roleName = `${props.reader.subject.name}${SECRET_READ_ROLE_SUFFIX}`;
    const domain = props.reader.domain;
    domain._claimName(this, 'Role', this.roleName);
    domain._claimName(this, 'RoleBinding', this.roleName);
    this.role = new k8s.KubeRole(this, 'Resource', {
      metadata: { name: this.roleName },
      rules: Lazy.any({
        produce: () => [
          {
            apiGroups: [''],
            resources: ['secrets'],
            verbs: ['get'],
            resourceNames: this.secretNames,
          },
        ],
      }),
    });
    this.binding = new k8s.KubeRoleBinding(this, 'Binding', {
      metadata: { name: this.roleName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: this.roleName },
      subjects: [props.reader.subject],
    });
    this.node.addValidation({
      validate: () =>
        this.secrets.size === 0
          ? [`${this.node.path}: Role ${quote(this.roleName)} grants no Secret, and an empty resourceNames would grant every Secret; grant at least one secret or remove the role`]
          : [],
    });
  }

  /** Names of the Secrets this Role lets the reader get, sorted (a copy). */
  public get secretNames(): string[] {
    return [...this.secrets.keys()].sort();
  }

  /**
   * Lets the reader `get` each of `secrets`. Idempotent.
   *
   * @throws when a secret belongs to another domain than the reader
   * @requirement REQ-139
   */
  public allowGet(...secrets: IFloeSecret[]): this {
    for (const secret of secrets) {
      requireFloeSecret(this, 'a secret to allow', secret);
      assertSameDomain(this.reader, this.reader.domain, secret);
      const existing = this.secrets.get(secret.secretName);
      if (existing !== undefined && existing !== secret) {
        throw constructError(
          this,
          `two different secret constructs are named ${quote(secret.secretName)}: ${existing.node.path} and ${secret.node.path}`,
          'declare each Secret once and share the construct',
        );
      }
      this.secrets.set(secret.secretName, secret);
    }
    return this;
  }
}
