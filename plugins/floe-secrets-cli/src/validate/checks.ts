import { Access, AccessMap } from '../access-map/model';
import { ManifestDocument } from '../manifests';
import { Backend, BackendReads, ClusterReader, ProgressSink } from './backends';
import { checkClusterSecrets } from './cluster-secrets';
import { checkCrds } from './crds';
import { checkExternalSecrets } from './external-secrets';
import { checkInfisical } from './infisical';
import { checkRbac } from './rbac';
import { checkBackendScope } from './scope';
import { label } from './util';
import { checkVaultAgent } from './vault-agent';

/** One problem found: the workload (or resource) it is about, the reference, what is wrong and the fix. */
export interface Problem {
  /**
   * `secret` (cluster Secret), `crd` (operator CRD), `infisical` (Infisical content), `vault`
   * (Vault content), `external-secrets` (an ExternalSecret's keys or remote keys), `rbac`,
   * `backend-scope` (backend access broader than the domains need).
   */
  readonly check: 'secret' | 'crd' | 'infisical' | 'vault' | 'external-secrets' | 'rbac' | 'backend-scope';
  /** `namespace/Kind/name` of the workload, or of the resource or binding when no workload is involved. */
  readonly workload: string;
  /** What it refers to, e.g. `env secret snowflake-credentials key password`. */
  readonly reference: string;
  readonly message: string;
  readonly fix: string;
}

/** What validate found. */
export interface ValidateResult {
  readonly problems: Problem[];
  /** Things not checked, and why. */
  readonly notes: string[];
  /** Checks that could not be done (unreachable or refusing backend): exit 2. */
  readonly errors: string[];
  /**
   * `secrets`: distinct Secrets and Vault Agent paths checked against their backend; `references`:
   * the workload references to secrets; `backendReads`: reads of the cluster's Secrets and of the backend.
   */
  readonly checked: { secrets: number; references: number; backendReads: number };
}

/** What every check reads and where it writes. */
export interface CheckContext {
  readonly documents: readonly ManifestDocument[];
  readonly map: AccessMap;
  /** What workloads read: every access with a workload, except RBAC grants. */
  readonly references: readonly Access[];
  readonly backend: Backend;
  readonly reads: BackendReads;
  readonly progress: ProgressSink;
  readonly problems: Problem[];
  readonly notes: string[];
  readonly errors: string[];
  /** What was checked against a backend: `namespace/name` of Secrets, `vault <path>` for Vault Agent paths. */
  readonly checked: Set<string>;
}

/** Source kinds whose content some check reads. */
const CHECKED_SOURCES = ['external', 'infisical', 'infisical-static', 'external-secrets', 'vault-agent', 'manifest'];

/** Runs every check on the input; reads each distinct Secret, Vault secret and Infisical folder once. */
export async function validateAll(
  documents: ManifestDocument[], map: AccessMap, cluster: ClusterReader, backend: Backend, progress: ProgressSink,
): Promise<ValidateResult> {
  const context: CheckContext = {
    documents,
    map,
    references: map.accesses.filter((a) => a.workload !== undefined && a.how !== 'none' && !a.grant),
    backend,
    reads: new BackendReads(cluster, backend),
    progress,
    problems: [],
    notes: [],
    errors: [],
    checked: new Set<string>(),
  };
  await checkCrds(context, cluster);
  await checkClusterSecrets(context);
  await checkInfisical(context);
  await checkExternalSecrets(context);
  await checkVaultAgent(context);
  checkRbac(context);
  checkBackendScope(context);

  for (const a of context.references) {
    const kind = a.source?.kind;
    if (kind && !CHECKED_SOURCES.includes(kind)) {
      context.notes.push(`${label(a)}: secret ${a.secret} comes from ${a.source?.resource ?? kind} (${kind}); its backend content is not checked in this version`);
    }
  }
  const order = (p: Problem): string => `${p.workload}\u0000${p.check}\u0000${p.reference}\u0000${p.message}`;
  const problems = [...context.problems].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return {
    problems,
    notes: [...new Set(context.notes)],
    errors: [...new Set(context.errors)],
    checked: { secrets: context.checked.size, references: context.references.length, backendReads: context.reads.calls },
  };
}
