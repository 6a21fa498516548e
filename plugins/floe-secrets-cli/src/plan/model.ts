/**
 * What a change of {@link Plan} is about:
 * - `access`: who reads which Secret (env, envFrom, file, RBAC) or Vault path (Vault Agent);
 * - `secret`: a Secret of the input (managed, defined, or referenced and created outside);
 * - `source`: a resource that fills Secrets (InfisicalSecret, InfisicalStaticSecret,
 *   ExternalSecret, ClusterExternalSecret, VaultStaticSecret, SealedSecret, ...);
 * - `refresh`: how often a source refreshes, or the rotation period declared for it;
 * - `grant`: a ClusterRole that adds secret reads to the built-in `view` role.
 */
export type PlanArea = 'access' | 'secret' | 'source' | 'refresh' | 'grant';

/** The order areas are listed in. */
export const PLAN_AREAS: readonly PlanArea[] = ['access', 'secret', 'source', 'refresh', 'grant'];

/** `added` in HEAD, `removed` from BASE, or `changed` between them. */
export type ChangeKind = 'added' | 'removed' | 'changed';

/**
 * Named lists of names (never values): key names, mount paths, verbs, backend paths, intervals. A
 * single value is a list of one; a field a side does not have is an empty list.
 *
 * In an access, `keys` is `["*"]` when all keys of the Secret are received (envFrom, a whole
 * volume).
 */
export interface PlanFields {
  readonly [field: string]: readonly string[];
}

/** One difference between BASE and HEAD. */
export interface PlanChange {
  readonly area: PlanArea;
  readonly change: ChangeKind;
  /**
   * Who reads (`ServiceAccount floe-sales/orders-load`, `User jane`, `Group admins`) for an access;
   * the object otherwise (`Secret floe-sales/db`, `InfisicalSecret floe-sales/db-sync`,
   * `ClusterRole peek`).
   */
  readonly subject: string;
  /**
   * For an access, what is read: `Secret floe-sales/db`, `all secrets of namespace floe-sales`,
   * `Secret db in every namespace`, `all secrets of all namespaces` or `Vault path secret/data/x`.
   */
  readonly target?: string;
  /** For an access through pods, the workload whose pods receive it (`Job floe-sales/orders-load`). */
  readonly workload?: string;
  /** For an access: `env`, `envFrom`, `file`, `rbac` or `vault-agent`. */
  readonly how?: string;
  /** What is compared, in BASE; absent when added. */
  readonly before?: PlanFields;
  /** What is compared, in HEAD; absent when removed. */
  readonly after?: PlanFields;
  /** For `changed`: what HEAD has that BASE had not, by field. */
  readonly added?: PlanFields;
  /** For `changed`: what BASE had that HEAD has not, by field. */
  readonly removed?: PlanFields;
  /** What is shown but not compared (backend, who reads a Secret, the workloads a refresh concerns). */
  readonly context?: PlanFields;
  /** Whether the change broadens a grant (see {@link PlanChange.reasons}). */
  readonly broadens: boolean;
  /**
   * Why it broadens: a verb beyond get (list, watch, `*`), all secrets of a namespace (no
   * resourceNames), cluster-wide (ClusterRoleBinding), granted through a ClusterRole, wildcard
   * resources, granted to everyone, or a namespace the subject could not read before. Empty when
   * it does not broaden.
   */
  readonly reasons: readonly string[];
  /** The change in one line, for people. */
  readonly summary: string;
}

/** One side of the comparison. */
export interface PlanSide {
  /** The paths given. */
  readonly paths: readonly string[];
  /** The files read. */
  readonly files: number;
  /** The Kubernetes objects read. */
  readonly objects: number;
}

/** The differences in access between two synthesized outputs. */
export interface Plan {
  readonly base: PlanSide;
  readonly head: PlanSide;
  /** Whether any change broadens a grant. */
  readonly broadens: boolean;
  /** Every change, access first, then secrets, sources, refresh and grants; empty when none. */
  readonly changes: readonly PlanChange[];
  /** Remarks about the input (a binding to a role that is not in it, an unreadable annotation), each prefixed `base:` or `head:`. */
  readonly warnings: readonly string[];
}
