/** Who reads: a ServiceAccount, or a User or Group subject of a (Cluster)RoleBinding. */
export interface Principal {
  readonly kind: 'ServiceAccount' | 'User' | 'Group';
  readonly name: string;
  /** Only for ServiceAccounts. */
  readonly namespace?: string;
}

/** Where a Secret's content comes from. */
export interface SecretSource {
  /**
   * `infisical` (InfisicalSecret), `infisical-static` (InfisicalStaticSecret), `external-secrets`
   * (ExternalSecret / ClusterExternalSecret), `vault-secrets-operator` (VaultStaticSecret, ...),
   * `sealed-secrets` (SealedSecret), `manifest` (a Secret object in the input) or `external`
   * (created outside the manifests).
   */
  readonly kind: string;
  /** The resource that manages it, as `Kind namespace/name`; absent for `external`. */
  readonly resource?: string;
  /** The file that resource was read from. */
  readonly file?: string;
  /** One line for people: backend and path(s). */
  readonly backend: string;
  /** The backend paths (Infisical `project/env:/path`, ESO remote keys, Vault paths). */
  readonly paths: string[];
  /** The `floe.dev/source` annotation, when the resource has one. */
  readonly floeSource?: string;
}

/** A Vault Agent injection: files in the pod, with no Kubernetes Secret in between. */
export interface VaultInjection {
  /** The Vault role the agent logs in with (`vault.hashicorp.com/role`). */
  readonly role?: string;
  /** The Vault path read. */
  readonly path: string;
  /** The files written in the pod. */
  readonly files: string[];
  /** Whether `vault.hashicorp.com/agent-inject` is "true". */
  readonly active: boolean;
}

/** An RBAC grant on secrets, as found in a binding. */
export interface Grant {
  /** `RoleBinding namespace/name` or `ClusterRoleBinding name`. */
  readonly binding: string;
  /** `Role namespace/name` or `ClusterRole name`. */
  readonly role: string;
  /** The read verbs granted on secrets (get, list, watch, *). */
  readonly verbs: string[];
  /** The Secret names it is limited to; absent when it covers all secrets of its scope. */
  readonly resourceNames?: string[];
}

/** One line of the map: a principal can read a secret (or a Vault path), and how. */
export interface Access {
  /** Namespace of the secret; `*` for a cluster-wide grant. */
  readonly namespace: string;
  readonly principal: Principal;
  /** `Kind/name` of the workload whose pods receive the secret; absent for RBAC grants. */
  readonly workload?: string;
  /** The Secret's name; `*` for all secrets of the namespace (or cluster); absent for Vault Agent and "no access". */
  readonly secret?: string;
  /** `env`, `envFrom`, `file`, `rbac-<verbs>`, `vault-agent`, or `none`. */
  readonly how: string;
  /** Key names received (never values); absent when all keys are. */
  readonly keys?: string[];
  /** For `file`: where the secret's volumes are mounted in the containers; empty when no container mounts them. */
  readonly mountPaths?: string[];
  /** Where the secret comes from. */
  readonly source?: SecretSource;
  /** For RBAC lines. */
  readonly grant?: Grant;
  /** For Vault Agent lines. */
  readonly vault?: VaultInjection;
  /** Why this grant is over-broad; empty when it is not. */
  readonly overBroad: string[];
  /** Other remarks (mount paths, token mounting, optional references...). */
  readonly notes: string[];
}

/** A Secret seen in the input (managed, defined, referenced or named in RBAC). */
export interface SecretInfo {
  readonly namespace: string;
  readonly name: string;
  readonly sources: SecretSource[];
  /** Key names known from the input (declared or referenced); never values. */
  readonly keys: string[];
  /** Principals that can read it (directly, or through a grant on all secrets), for display. */
  readonly readBy: string[];
}

/** An over-broad RBAC grant: the reason for exit code 1. */
export interface Finding {
  readonly binding: string;
  readonly role: string;
  readonly subjects: string[];
  /** `namespace floe-sales` or `all namespaces`. */
  readonly scope: string;
  readonly verbs: string[];
  readonly resourceNames?: string[];
  readonly reasons: string[];
}

/**
 * Backend access broader than the domains need, behind the Kubernetes Secrets: also a reason for
 * exit code 1.
 */
export interface BackendFinding {
  /**
   * `cluster-secret-store` (ExternalSecrets read through a ClusterSecretStore any namespace may
   * use), `shared-infisical-identity` (one Infisical identity reads different folders for several
   * domains) or `broad-infisical-scope` (recursive at `/`, or another domain's folder).
   */
  readonly flag: 'cluster-secret-store' | 'shared-infisical-identity' | 'broad-infisical-scope';
  /** What is too broad: `ClusterSecretStore vault`, the identity, or `InfisicalSecret namespace/name`. */
  readonly resource: string;
  /** The resources (or namespaces) that use it, sorted. */
  readonly usedBy: string[];
  readonly reason: string;
  readonly fix: string;
}

/** The whole map. */
export interface AccessMap {
  readonly files: string[];
  readonly accesses: Access[];
  readonly secrets: SecretInfo[];
  readonly findings: Finding[];
  /** Backend access broader than the domains need (see {@link BackendFinding}). */
  readonly backendFindings: BackendFinding[];
  readonly warnings: string[];
}

/** `namespace/name` for ServiceAccounts, `User:name`, `Group:name`. */
export function principalLabel(principal: Principal): string {
  return principal.kind === 'ServiceAccount' ? `${principal.namespace}/${principal.name}` : `${principal.kind}:${principal.name}`;
}
