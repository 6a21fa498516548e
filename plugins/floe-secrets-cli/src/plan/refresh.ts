import { K8sObject, record, str } from '../access-map/objects';
import { WORKLOAD_GROUPS } from '../access-map/workloads';

/** The annotation floe secrets puts on workloads: each managed Secret read, its source, refresh interval and rotation period. */
export const SECRET_SOURCES_ANNOTATION = 'floe.dev/secret-sources';
/** The annotation floe secrets puts on source resources: the refresh interval. */
const REFRESH_ANNOTATION = 'floe.dev/refresh-interval';
/** The annotation floe secrets puts on source resources: the declared rotation period. */
const ROTATION_ANNOTATION = 'floe.dev/rotation-period';

/** How often a value is refreshed, and the rotation period declared for it; absent when not set. */
export interface Timing {
  readonly refreshInterval?: string;
  readonly rotationPeriod?: string;
}

/** A workload's declaration (`floe.dev/secret-sources`) for one managed Secret it reads. */
export interface DeclaredTiming extends Timing {
  /** `Kind namespace/name`. */
  readonly workload: string;
  readonly namespace: string;
  /** The Secret's name. */
  readonly secret: string;
}

/** The refresh and rotation of the input. */
export interface Timings {
  /** Of each source resource, by its label (`InfisicalSecret floe-sales/db-sync`, as in the access map). */
  readonly sources: Map<string, Timing>;
  /** The workloads' declarations, by `workload|secret`. */
  readonly declared: Map<string, DeclaredTiming>;
}

/**
 * Reads how often each source resource refreshes (InfisicalSecret `resyncInterval`,
 * InfisicalStaticSecret `syncOptions.refreshInterval`, (Cluster)ExternalSecret `refreshInterval`,
 * Vault Secrets Operator `refreshAfter`, else the `floe.dev/refresh-interval` annotation), its
 * declared rotation period (`floe.dev/rotation-period`), and what workloads declare in
 * `floe.dev/secret-sources`.
 *
 * @param warnings gets a line for an annotation that cannot be read
 */
export function readTimings(objects: readonly K8sObject[], warnings: string[]): Timings {
  const sources = new Map<string, Timing>();
  const declared = new Map<string, DeclaredTiming>();
  for (const x of objects) {
    const annotations = record(x.o.metadata?.annotations);
    const refresh = sourceRefresh(x);
    if (refresh !== null) {
      const label = x.kind === 'ClusterExternalSecret' ? `${x.kind} ${x.name}` : `${x.kind} ${x.namespace}/${x.name}`;
      sources.set(label, timing(refresh ?? str(annotations[REFRESH_ANNOTATION]), str(annotations[ROTATION_ANNOTATION])));
      continue;
    }
    const value = annotations[SECRET_SOURCES_ANNOTATION];
    if (value === undefined || !WORKLOAD_GROUPS[x.kind]?.includes(x.group)) continue;
    const workload = `${x.kind} ${x.namespace}/${x.name}`;
    let parsed: unknown;
    try {
      parsed = typeof value === 'string' ? JSON.parse(value) : undefined;
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      warnings.push(`${workload}: the ${SECRET_SOURCES_ANNOTATION} annotation is not a JSON object: its refresh intervals and rotation periods are not compared; write it as floe does, a JSON object from Secret name to { refreshInterval, rotationPeriod }`);
      continue;
    }
    for (const [secret, info] of Object.entries(parsed)) {
      const entry = record(info);
      declared.set(`${workload}|${secret}`, {
        workload,
        namespace: x.namespace,
        secret,
        ...timing(str(entry.refreshInterval), str(entry.rotationPeriod)),
      });
    }
  }
  return { sources, declared };
}

/**
 * The refresh interval a source resource sets: a string, undefined when it sets none, or null
 * when the object is not a source resource.
 */
function sourceRefresh(x: K8sObject): string | undefined | null {
  const spec = record(x.o.spec);
  if (x.group === 'secrets.infisical.com' && x.kind === 'InfisicalSecret') {
    const interval = record(spec.syncConfig).resyncInterval ?? spec.resyncInterval;
    // v1alpha1's older resyncInterval is a number of seconds
    return typeof interval === 'number' ? `${interval}s` : str(interval);
  }
  if (x.group === 'secrets.infisical.com' && x.kind === 'InfisicalStaticSecret') return str(record(spec.syncOptions).refreshInterval);
  if (x.group === 'external-secrets.io' && x.kind === 'ExternalSecret') return str(spec.refreshInterval);
  if (x.group === 'external-secrets.io' && x.kind === 'ClusterExternalSecret') return str(record(spec.externalSecretSpec).refreshInterval);
  if (x.group === 'secrets.hashicorp.com' && /^Vault(Static|Dynamic|PKI)Secret$/.test(x.kind)) return str(spec.refreshAfter);
  return null;
}

function timing(refreshInterval: string | undefined, rotationPeriod: string | undefined): Timing {
  return { ...(refreshInterval ? { refreshInterval } : {}), ...(rotationPeriod ? { rotationPeriod } : {}) };
}
