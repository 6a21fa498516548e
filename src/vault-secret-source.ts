import { Construct } from 'constructs';
import { ExternalSecretSource, SecretStoreRef } from './external-secret-source';
import { FloeDomain } from './floe-domain';
import { optionalString, requireProps, requireString, requireStringList } from './internal/runtime-props';
import { checkSecretKeys, childPath, constructError, dnsSubdomainProblem, quote } from './internal/validation';
import { annotateAgent, checkAgentTarget } from './internal/vault-agent';
import { checkKvPath } from './internal/vault-paths';
import { SECRET_MOUNT_ROOT } from './pod-spec';
import { SecretWorkload } from './secret-workload';

export { VAULT_ANNOTATION_PREFIX } from './internal/vault-agent';

/** Properties of a {@link VaultSecretSource}. */
export interface VaultSecretSourceProps {
  /** The Vault role the pod's ServiceAccount logs in as (Kubernetes auth). */
  readonly role: string;

  /**
   * The secret's path in the KV v2 engine, relative to its mount, e.g. `compute/snowflake`:
   * no leading or trailing `/`, no empty, `.` or `..` segment.
   */
  readonly path: string;

  /** The fields of the Vault secret to write as files, one file per field. */
  readonly keys: string[];

  /**
   * The directory name: files appear in `/run/secrets/<name>/<key>`, as with Kubernetes
   * Secrets.
   *
   * @requirement REQ-137
   */
  readonly name: string;

  /**
   * The KV v2 mount, as Vault lists it without slashes, e.g. `secret` or `kv/teams`.
   *
   * @default 'secret'
   */
  readonly mount?: string;

  /**
   * The Vault Enterprise namespace.
   *
   * @default - none
   */
  readonly vaultNamespace?: string;

  /**
   * The path of the Kubernetes auth method.
   *
   * @default - the injector's default, `auth/kubernetes`
   */
  readonly authPath?: string;
}

/** Properties of {@link VaultSecretSource.viaExternalSecrets}. */
export interface VaultExternalSecretProps {
  /** The External Secrets store whose provider is this Vault. */
  readonly secretStore: SecretStoreRef;
  /** The secret's path relative to the store's KV mount, e.g. `compute/snowflake`. */
  readonly path: string;
  /** The fields of the Vault secret; each becomes a key of the managed Secret. */
  readonly keys: string[];
  /** The managed Kubernetes Secret's name. */
  readonly secretName: string;
  /**
   * How often ESO re-reads Vault.
   *
   * @default '1h'
   */
  readonly refreshInterval?: string;
  /**
   * How often the credential is rotated in Vault.
   *
   * @default - no rotation declared
   */
  readonly rotationPeriod?: string;
}

/**
 * A Vault KV v2 secret delivered as files by the Vault Agent Injector, with no Kubernetes Secret in
 * between: {@link VaultSecretSource.injectInto} annotates a workload's pods so that the agent
 * writes each field to `/run/secrets/<name>/<key>`.
 *
 * The agent logs in with the pod's ServiceAccount token, so the workload needs
 * `automountServiceAccountToken: true`, and runs as the workload's user and group, so the files
 * (mode `fileMode`, default 0400) belong to the container user. Jobs and CronJobs get
 * `agent-pre-populate-only: "true"`: an init container writes the files once and no sidecar keeps
 * the Job from completing. Deployments, StatefulSets and DaemonSets get the sidecar, which
 * re-renders the files as Vault changes.
 *
 * For a Kubernetes Secret instead (env vars, envFrom), use
 * {@link VaultSecretSource.viaExternalSecrets}: an ESO ExternalSecret through a Vault store.
 *
 * Every prop reaches the pod template, since the injector reads its annotations there when the
 * pod is created. A Job's pod template is immutable: changing a prop of a source injected into an
 * existing Job needs that Job replaced (a new name, or deleting it first).
 */
export class VaultSecretSource extends Construct {
  /**
   * The same Vault secret as a Kubernetes Secret, synced by the External Secrets Operator through a
   * store whose provider is Vault.
   */
  public static viaExternalSecrets(scope: Construct, id: string, props: VaultExternalSecretProps): ExternalSecretSource {
    const path = childPath(scope, id);
    requireProps(path, props, "{ secretStore: { name: 'vault', kind: SecretStoreKind.CLUSTER_SECRET_STORE }, path: 'compute/snowflake', keys: ['password'], secretName: 'snowflake-credentials' }");
    requireString(path, 'path', props.path, 'give the path relative to the store\'s KV mount, e.g. "compute/snowflake"');
    requireStringList(path, 'keys', props.keys, 'list the fields of the Vault secret, e.g. ["user", "password"]');
    checkKvPath(path, 'path', props.path, 'write it like "compute/snowflake": relative to the mount, without a leading or trailing "/"');
    return new ExternalSecretSource(scope, id, {
      secretStore: props.secretStore,
      secretName: props.secretName,
      refreshInterval: props.refreshInterval,
      rotationPeriod: props.rotationPeriod,
      data: props.keys.map((key) => ({ secretKey: key, remoteKey: props.path, property: key })),
    });
  }

  /** The domain of the source: only workloads of this domain may get its files. */
  public readonly domain: FloeDomain;
  /** The Vault role. */
  public readonly role: string;
  /** The path Vault reads, `<mount>/data/<path>`. */
  public readonly vaultPath: string;
  /** The directory the files appear in. */
  public readonly mountPath: string;
  /** The fields written as files, sorted. */
  public readonly keys: string[];

  private readonly props: VaultSecretSourceProps;

  public constructor(scope: Construct, id: string, props: VaultSecretSourceProps) {
    checkVaultProps(childPath(scope, id), props);
    super(scope, id);
    this.domain = FloeDomain.of(this);
    this.props = props;
    this.role = props.role;
    this.vaultPath = `${props.mount ?? 'secret'}/data/${props.path}`;
    this.mountPath = `${SECRET_MOUNT_ROOT}/${props.name}`;
    this.keys = [...props.keys].sort();
  }

  /**
   * Annotates `workload`'s pods so that the Vault Agent writes each field to
   * `/run/secrets/<name>/<key>`.
   *
   * @throws when the workload is of another domain, mounts no API token, uses another Vault role,
   * or mounts something over the directory
   * @requirement REQ-139 (a workload reads only its own domain's secrets)
   */
  public injectInto(workload: SecretWorkload): this {
    checkAgentTarget(this, this.domain, 'VaultSecretSource', workload);
    annotateAgent(workload, {
      role: this.role,
      vaultNamespace: this.props.vaultNamespace,
      authPath: this.props.authPath,
      name: this.props.name,
      vaultPath: this.vaultPath,
      mountPath: this.mountPath,
      files: this.keys.map((key) => ({ file: key, body: `{{ index .Data.data "${key}" }}` })),
      prePopulateOnly: workload.runsToCompletion,
    });
    return this;
  }
}

function checkVaultProps(path: string, props: VaultSecretSourceProps): void {
  requireProps(path, props, "{ role: 'floe-sales', path: 'compute/snowflake', keys: ['password'], name: 'snowflake' }");
  requireString(path, 'role', props.role, 'give the Vault role bound to the workload\'s ServiceAccount');
  requireString(path, 'path', props.path, 'give the KV path relative to the mount, e.g. "compute/snowflake"');
  requireStringList(path, 'keys', props.keys, 'list the fields of the Vault secret to write as files, e.g. ["user", "password"]');
  requireString(path, 'name', props.name, 'give the directory name, e.g. "snowflake"; files appear in /run/secrets/<name>/');
  optionalString(path, 'mount', props.mount, 'give the KV v2 mount, e.g. "secret"');
  optionalString(path, 'vaultNamespace', props.vaultNamespace, 'give the Vault Enterprise namespace');
  optionalString(path, 'authPath', props.authPath, 'give the path of the Kubernetes auth method, e.g. "auth/kubernetes"');
  if (props.role.trim() === '') throw constructError(path, 'role is empty', 'give the Vault role bound to the workload\'s ServiceAccount');
  checkKvPath(path, 'path', props.path, 'write it like "compute/snowflake": relative to the mount, without a leading or trailing "/"');
  if (props.mount !== undefined) checkKvPath(path, 'mount', props.mount, 'give the mount path as Vault lists it without slashes, e.g. "secret" or "kv/teams"');
  const nameProblem = dnsSubdomainProblem(props.name);
  if (nameProblem) throw constructError(path, `name ${quote(props.name)} ${nameProblem}`, 'use a name such as "snowflake"; files appear in /run/secrets/<name>/');
  checkSecretKeys(path, props.keys, 'list the fields of the Vault secret to write as files', 'use the field name as a file name');
}
