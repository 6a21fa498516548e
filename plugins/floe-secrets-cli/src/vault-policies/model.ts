/** A Vault ACL capability this command grants: `read` on values, `list` on folders (ESO's find). */
export type GrantedCapability = 'read' | 'list';

/** Who reads a Vault path: a workload (Vault Agent) or an ExternalSecret (through its store). */
export interface PathUser {
  /** `Job floe-sales/orders-load (Vault Agent)` or `ExternalSecret floe-sales/ads (SecretStore vault)`. */
  readonly label: string;
  /** The domain of its namespace. */
  readonly domain: string;
}

/** One `path "..." { capabilities = [...] }` block of a policy. */
export interface PolicyPath {
  /** The ACL path, exactly as Vault matches it: `secret/data/compute/snowflake`, or `secret/metadata/sales/*`. */
  readonly path: string;
  readonly capabilities: Set<GrantedCapability>;
  /** Why: the workloads and ExternalSecrets that read it (names only). */
  readonly users: Map<string, PathUser>;
}

/** A Vault role of the Kubernetes auth method, and the policy of the same name it is given. */
export interface VaultRole {
  /** The Vault (Enterprise) namespace; `''` for the root namespace. */
  readonly vaultNamespace: string;
  /** The Kubernetes auth method's path, without `auth/`: `kubernetes`. */
  readonly authMount: string;
  /** The role name, which is also the policy name. */
  readonly name: string;
  /** The ServiceAccounts that log in with it, as `namespace/name`. */
  readonly serviceAccounts: Set<string>;
  /** Its policy's paths, by ACL path. */
  readonly paths: Map<string, PolicyPath>;
  /** The domains of its users. */
  readonly domains: Set<string>;
}

/** A remark about the input: printed on stderr and kept in the output's README. */
export interface Remark {
  /** `shared-path`, `shared-role`, `broad-binding`, `default-service-account`, `broad-find`, `kv-version`, `note`. */
  readonly kind: string;
  readonly message: string;
}

/**
 * Something the command could not turn into a policy (an ExternalSecret whose store is not in the
 * input, a Vault Agent workload without a role, a path Vault cannot match literally): the reason
 * for exit code 1.
 */
export interface Problem {
  /** What: `ExternalSecret floe-sales/ads`. */
  readonly what: string;
  readonly problem: string;
  readonly fix: string;
}

/** Everything the command found. */
export interface VaultPlan {
  /** By `vaultNamespace|role`, sorted on output. */
  readonly roles: Map<string, VaultRole>;
  readonly remarks: Remark[];
  readonly problems: Problem[];
  /** How many Vault Agent workloads and ExternalSecrets through a Vault store were read. */
  readonly counts: { agentWorkloads: number; externalSecrets: number };
}

/** Token lifetimes written into every role. */
export interface TokenTtls {
  /** Seconds. */
  readonly ttl: number;
  /** Seconds. */
  readonly maxTtl: number;
}
