import { Names } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { FloeDomain } from './floe-domain';
import { optionalBoolean, optionalString, requireProps, requireString } from './internal/runtime-props';
import { childPath, constructError, dnsSubdomainProblem, quote } from './internal/validation';
import { SECRET_READ_ROLE_SUFFIX, SecretReadRole } from './secret-read-role';

/** An RBAC subject that secrets can be granted to: a ServiceAccount of one domain. */
export interface ISecretReader extends IConstruct {
  /** The domain (and namespace) of the subject. */
  readonly domain: FloeDomain;

  /** The RBAC subject, as it appears in a RoleBinding. */
  readonly subject: k8s.Subject;

  /** The reader's name-scoped Role, created on first use and shared afterwards. */
  secretReadRole(): SecretReadRole;
}

/** Properties of a {@link FloeServiceAccount}. */
export interface FloeServiceAccountProps {
  /**
   * The ServiceAccount name.
   *
   * @default - a name derived from the construct path
   */
  readonly serviceAccountName?: string;

  /**
   * Whether pods get an API token mounted. Leave it off unless the workload itself calls the
   * Kubernetes API (for example through the floe runtime secrets plugin): env vars and secret
   * volumes are delivered by the kubelet and need no token.
   *
   * @default false
   */
  readonly automountToken?: boolean;
}

abstract class SecretReaderBase extends Construct implements ISecretReader {
  public abstract readonly domain: FloeDomain;
  public abstract readonly subject: k8s.Subject;
  private role?: SecretReadRole;

  public secretReadRole(): SecretReadRole {
    this.role ??= new SecretReadRole(this, 'SecretReadRole', { reader: this });
    return this.role;
  }
}

class ImportedServiceAccount extends SecretReaderBase {
  public readonly domain: FloeDomain;
  public readonly subject: k8s.Subject;

  public constructor(scope: Construct, id: string, name: string) {
    super(scope, id);
    this.domain = FloeDomain.of(this);
    this.subject = { kind: 'ServiceAccount', name, namespace: this.domain.namespace };
  }
}

/**
 * A ServiceAccount in a domain's namespace that secrets can be granted to, with API token
 * automount off by default.
 *
 * It is also a cdk8s-plus `IServiceAccount`: give it to a cdk8s-plus workload
 * (`new kplus.Deployment(domain, 'Api', { serviceAccount })`) and {@link WorkloadSecrets} grants
 * that workload's secrets to it.
 */
export class FloeServiceAccount extends SecretReaderBase implements kplus.IServiceAccount {
  /** A ServiceAccount of the scope's domain that is created outside the app. */
  public static fromServiceAccountName(scope: Construct, id: string, serviceAccountName: string): ISecretReader {
    requireString(childPath(scope, id), 'service account name', serviceAccountName, 'pass the ServiceAccount name, e.g. "loader"');
    checkServiceAccountName(childPath(scope, id), serviceAccountName);
    return new ImportedServiceAccount(scope, id, serviceAccountName);
  }

  public readonly domain: FloeDomain;
  public readonly subject: k8s.Subject;
  /** The ServiceAccount name. */
  public readonly serviceAccountName: string;
  /** Whether pods get an API token mounted. */
  public readonly automountToken: boolean;
  /** The ServiceAccount (construct id `Resource`). */
  public readonly resource: k8s.KubeServiceAccount;
  /** The RBAC resource type, `serviceaccounts` (cdk8s-plus `IApiResource`). */
  public readonly resourceType = 'serviceaccounts';

  public constructor(scope: Construct, id: string, props: FloeServiceAccountProps = {}) {
    requireProps(childPath(scope, id), props, '{ serviceAccountName: \'loader\' }');
    optionalString(childPath(scope, id), 'serviceAccountName', props.serviceAccountName, 'use a name such as "loader"');
    optionalBoolean(childPath(scope, id), 'automountToken', props.automountToken, 'pass true or false');
    if (props.serviceAccountName !== undefined) checkServiceAccountName(childPath(scope, id), props.serviceAccountName);
    super(scope, id);
    this.domain = FloeDomain.of(this);
    this.serviceAccountName = props.serviceAccountName ?? Names.toDnsLabel(this, { maxLen: 63 - SECRET_READ_ROLE_SUFFIX.length });
    this.automountToken = props.automountToken ?? false;
    this.subject = { kind: 'ServiceAccount', name: this.serviceAccountName, namespace: this.domain.namespace };
    this.domain._claimName(this, 'ServiceAccount', this.serviceAccountName);
    this.resource = new k8s.KubeServiceAccount(this, 'Resource', {
      metadata: { name: this.serviceAccountName },
      automountServiceAccountToken: this.automountToken,
    });
  }

  /** The ServiceAccount name, as cdk8s-plus reads it: the same as {@link FloeServiceAccount.serviceAccountName}. */
  public get name(): string {
    return this.serviceAccountName;
  }

  /** `v1`. */
  public get apiVersion(): string {
    return 'v1';
  }

  /** The core API group, `""`. */
  public get apiGroup(): string {
    return '';
  }

  /** `ServiceAccount`. */
  public get kind(): string {
    return 'ServiceAccount';
  }

  /** The ServiceAccount name. */
  public get resourceName(): string {
    return this.serviceAccountName;
  }

  /** The RBAC subject, for cdk8s-plus RoleBindings. */
  public toSubjectConfiguration(): kplus.SubjectConfiguration {
    return { kind: 'ServiceAccount', name: this.serviceAccountName, namespace: this.domain.namespace };
  }
}

function checkServiceAccountName(path: string, name: string): void {
  // The Role is named `<sa>-secret-reader`, which must itself be a valid name.
  const problem = dnsSubdomainProblem(name, 253 - SECRET_READ_ROLE_SUFFIX.length);
  if (problem) {
    throw constructError(path, `service account name ${quote(name)} ${problem}`, 'use a name such as "loader"');
  }
}
