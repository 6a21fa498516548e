/**
 * What every secret source (Infisical, Vault, External Secrets) records about the Secret it
 * manages, so that workloads can follow its refresh and rotation.
 */
export interface SecretSourceInfo {
  /** The operator or injector that delivers the Secret. */
  readonly kind: 'infisical' | 'vault' | 'external-secrets';

  /** The construct path of the source, e.g. `sales/Snowflake`. */
  readonly source: string;

  /** How often the operator re-reads the backend, as a duration string such as `60s`. */
  readonly refreshInterval: string;

  /**
   * How often the backend rotates the credential, as a duration string.
   *
   * @default - not declared: no rotation deadline is enforced
   */
  readonly rotationPeriod?: string;

  /**
   * Whether the operator restarts long-running workloads (Deployments, StatefulSets, DaemonSets)
   * that consume the Secret when it changes. True for the Infisical operator only.
   */
  readonly restartsWorkloads: boolean;
}

/** Annotation on managed Secrets: the construct path of the source that manages them. */
export const SOURCE_ANNOTATION = 'floe.dev/source';

/** Annotation on managed Secrets: the source kind (`infisical`, `vault`, `external-secrets`). */
export const SOURCE_KIND_ANNOTATION = 'floe.dev/source-kind';

/** Annotation on managed Secrets: the refresh interval of the source. */
export const REFRESH_INTERVAL_ANNOTATION = 'floe.dev/refresh-interval';

/** Annotation on managed Secrets: the declared rotation period of the credential. */
export const ROTATION_PERIOD_ANNOTATION = 'floe.dev/rotation-period';

/**
 * Annotation on workloads: JSON object from each managed Secret the workload reads to the source,
 * kind, refresh interval and rotation period it follows. It is on the workload's own metadata,
 * never in its pod template: a Job's pod template is immutable, and a change of refresh interval
 * must not make the next GitOps sync fail.
 */
export const SECRET_SOURCES_ANNOTATION = 'floe.dev/secret-sources';

/** The annotations a managed Secret carries so that reviewers see which source and interval it follows. */
export function sourceAnnotations(info: SecretSourceInfo): { [key: string]: string } {
  return {
    [SOURCE_ANNOTATION]: info.source,
    [SOURCE_KIND_ANNOTATION]: info.kind,
    [REFRESH_INTERVAL_ANNOTATION]: info.refreshInterval,
    ...(info.rotationPeriod ? { [ROTATION_PERIOD_ANNOTATION]: info.rotationPeriod } : {}),
  };
}

/** Label on every source resource and the Secrets it manages: the source kind. */
export const SOURCE_LABEL = 'floe.dev/source-kind';

/** What happens to a managed Secret when the resource that manages it is deleted. */
export enum CreationPolicy {
  /** The Secret is owned by the resource and deleted with it. */
  OWNER = 'Owner',
  /** The Secret is left behind. */
  ORPHAN = 'Orphan',
}
