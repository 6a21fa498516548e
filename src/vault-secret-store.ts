import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { SecretStoreKind, SecretStoreRef } from './external-secret-source';
import { FloeDomain } from './floe-domain';
import { FloeServiceAccount } from './floe-service-account';
import { checkServiceUrl } from './internal/infisical-props';
import { optionalString, requireProps, requireString } from './internal/runtime-props';
import { childPath, constructError, dnsSubdomainProblem, quote } from './internal/validation';
import { checkKvPath } from './internal/vault-paths';

/** Properties of a {@link VaultSecretStore}. */
export interface VaultSecretStoreProps {
  /** The Vault address, e.g. `https://vault.example:8200`: https, or plain http to localhost only. */
  readonly server: string;

  /**
   * The path of the KV v2 secrets engine the store reads.
   *
   * @default 'secret'
   */
  readonly mount?: string;

  /**
   * The Vault Enterprise namespace.
   *
   * @default - the root namespace
   */
  readonly vaultNamespace?: string;

  /**
   * The Vault role of the Kubernetes auth method that the store logs in with. Bind it to this
   * store's ServiceAccount only, with a policy that reads exactly the domain's paths:
   * `floe-secrets vault-policies` writes both from the synthesized YAML.
   *
   * @default - the domain's namespace, e.g. `floe-sales` (or `floe-sales-prod` with an environment)
   */
  readonly role?: string;

  /**
   * The path of the Kubernetes auth method in Vault.
   *
   * @default 'kubernetes'
   */
  readonly authMountPath?: string;

  /**
   * The SecretStore's name, unique in the domain.
   *
   * @default 'vault'
   */
  readonly name?: string;

  /**
   * The name of the ServiceAccount the store logs in as. It is created in the domain, with no
   * token mounted anywhere: the External Secrets Operator requests short-lived tokens for it.
   *
   * @default `external-secrets-<name>`, e.g. `external-secrets-vault`
   */
  readonly serviceAccountName?: string;
}

/**
 * A namespaced External Secrets `SecretStore` (`external-secrets.io/v1`) in a domain, whose
 * provider is Vault's KV v2 engine and which logs in with Vault's Kubernetes auth as a
 * ServiceAccount of its own. This is the least-privilege shape for ExternalSecrets: only the
 * domain's namespace can use the store, and the Vault role it logs in with can be bound to that
 * one ServiceAccount and limited to the domain's paths. A `ClusterSecretStore` without
 * `spec.conditions`, by contrast, is usable from every namespace of the cluster (`floe-secrets
 * validate` and `access-map` flag it).
 *
 * The store is a {@link SecretStoreRef}: pass it as `secretStore` to
 * {@link ExternalSecretSource} or {@link VaultSecretSource.viaExternalSecrets} in the same domain.
 * {@link FloeSecretsPlatform} creates one per domain (`vault`) for `delivery: external-secrets`
 * when the manifest names no `secret_store`.
 */
export class VaultSecretStore extends Construct implements SecretStoreRef {
  /** The SecretStore's name. */
  public readonly name: string;
  /** Always {@link SecretStoreKind.SECRET_STORE}: the store is namespaced. */
  public readonly kind = SecretStoreKind.SECRET_STORE;
  /** The domain whose namespace holds the store; only its ExternalSecrets can use it. */
  public readonly domain: FloeDomain;
  /** The Vault role the store logs in with. */
  public readonly role: string;
  /** The KV v2 mount the store reads. */
  public readonly mount: string;
  /** The ServiceAccount the store logs in as. */
  public readonly serviceAccount: FloeServiceAccount;
  /** The SecretStore (construct id `Resource`). */
  public readonly resource: ApiObject;

  public constructor(scope: Construct, id: string, props: VaultSecretStoreProps) {
    const path = childPath(scope, id);
    checkStoreProps(path, props);
    super(scope, id);
    this.domain = FloeDomain.of(this);
    this.name = props.name ?? 'vault';
    this.role = props.role ?? this.domain.namespace;
    this.mount = props.mount ?? 'secret';
    try {
      this.domain._claimName(this, 'SecretStore', this.name);
      this.serviceAccount = new FloeServiceAccount(this, 'ServiceAccount', { serviceAccountName: props.serviceAccountName ?? `external-secrets-${this.name}` });
    } catch (error) {
      scope.node.tryRemoveChild(id); // nothing half-written
      throw error;
    }
    this.resource = new ApiObject(this, 'Resource', {
      apiVersion: 'external-secrets.io/v1',
      kind: 'SecretStore',
      metadata: { name: this.name },
      spec: {
        provider: {
          vault: {
            server: props.server,
            path: this.mount,
            version: 'v2',
            ...(props.vaultNamespace === undefined ? {} : { namespace: props.vaultNamespace }),
            auth: {
              kubernetes: {
                mountPath: props.authMountPath ?? 'kubernetes',
                role: this.role,
                serviceAccountRef: { name: this.serviceAccount.serviceAccountName },
              },
            },
          },
        },
      },
    });
  }
}

function checkStoreProps(path: string, props: VaultSecretStoreProps): void {
  requireProps(path, props, "{ server: 'https://vault.example:8200' }");
  requireString(path, 'server', props.server, 'give the Vault address, e.g. "https://vault.example:8200"');
  for (const [field, fix] of [
    ['mount', 'give the KV v2 mount, e.g. "secret"'],
    ['vaultNamespace', 'give the Vault Enterprise namespace, e.g. "team-a"'],
    ['role', 'give the Vault role of the Kubernetes auth method, e.g. "floe-sales"'],
    ['authMountPath', 'give the path of the Kubernetes auth method, e.g. "kubernetes"'],
    ['name', 'give the SecretStore a name such as "vault"'],
    ['serviceAccountName', 'give the ServiceAccount a name such as "external-secrets-vault"'],
  ] as const) optionalString(path, field, props[field], fix);
  checkServiceUrl(path, 'server', props.server, 'give the Vault address without a trailing "/", e.g. "https://vault.example:8200"');
  if (props.mount !== undefined) checkKvPath(path, 'mount', props.mount, 'give the mount path as Vault lists it without slashes, e.g. "secret" or "kv/teams"');
  if (props.authMountPath !== undefined) checkKvPath(path, 'authMountPath', props.authMountPath, 'give the auth method\'s path without "auth/" or slashes, e.g. "kubernetes"');
  if (props.role !== undefined && !/^[A-Za-z0-9_.-]+$/.test(props.role)) {
    throw constructError(path, `role ${quote(props.role)} is not a Vault role name (letters, digits, "_", "." and "-")`, 'give the Vault role of the Kubernetes auth method, e.g. "floe-sales"');
  }
  for (const [field, value] of [['name', props.name], ['serviceAccountName', props.serviceAccountName]] as const) {
    const problem = value === undefined ? undefined : dnsSubdomainProblem(value);
    if (problem) throw constructError(path, `${field} ${quote(value)} ${problem}`, 'use a lower-case name such as "vault"');
  }
}
