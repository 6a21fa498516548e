import { Construct, IConstruct } from 'constructs';
import { describeValue } from './internal/runtime-props';
import { argumentError } from './internal/validation';

/** The annotation Argo CD reads an object's sync wave from. */
export const SYNC_WAVE_ANNOTATION = 'argocd.argoproj.io/sync-wave';

/**
 * The Argo CD sync waves of a domain's objects, lowest first. Argo CD applies one wave, waits until
 * its objects are in sync and healthy, then goes on to the next, so a pod never starts before the
 * managed Secret it reads has a source (a pod that starts first fails with
 * `CreateContainerConfigError` until the Secret appears).
 */
export enum SyncWave {
  /** The domain's Namespace: everything else lands in it. */
  NAMESPACE = -3,
  /**
   * Identities, permissions and what operators log in with: ServiceAccounts, Roles, RoleBindings,
   * Secrets kept in Git, External Secrets `SecretStore`s and `ClusterSecretStore`s, Infisical
   * `InfisicalConnection`s and `InfisicalAuth`s.
   */
  ACCESS = -2,
  /** Secret sources: `InfisicalSecret`, `InfisicalStaticSecret`, `ExternalSecret`. */
  SOURCE = -1,
  /** Workloads and every other object: Argo CD's default wave, which is not written. */
  WORKLOAD = 0,
}

/** The wave of each kind, by API group (`''` is the core group). */
const WAVES: { readonly [group: string]: { readonly [kind: string]: SyncWave } } = {
  '': { Namespace: SyncWave.NAMESPACE, ServiceAccount: SyncWave.ACCESS, Secret: SyncWave.ACCESS },
  'rbac.authorization.k8s.io': { Role: SyncWave.ACCESS, RoleBinding: SyncWave.ACCESS },
  'secrets.infisical.com': {
    InfisicalConnection: SyncWave.ACCESS,
    InfisicalAuth: SyncWave.ACCESS,
    InfisicalSecret: SyncWave.SOURCE,
    InfisicalStaticSecret: SyncWave.SOURCE,
  },
  'external-secrets.io': {
    SecretStore: SyncWave.ACCESS,
    ClusterSecretStore: SyncWave.ACCESS,
    ExternalSecret: SyncWave.SOURCE,
  },
  // A generator is read by the ExternalSecrets that use it, as a store is.
  'generators.external-secrets.io': { VaultDynamicSecret: SyncWave.ACCESS },
};

/** The scopes below which no domain writes sync waves. */
const DISABLED = new WeakSet<IConstruct>();

/**
 * Argo CD sync waves on what a {@link FloeDomain} synthesizes: each object whose kind is listed in
 * {@link SyncWave} gets `argocd.argoproj.io/sync-wave`, so that Argo CD creates the namespace, then
 * RBAC and the operators' credentials, then the secret sources, and only then the workloads that
 * read the managed Secrets. An object that already carries the annotation (set through
 * `ApiObject.of(x).metadata.addAnnotation`) keeps its own value.
 *
 * Waves are on by default; they change nothing for `kubectl apply` or Flux, which ignore the
 * annotation. Turn them off with {@link SyncWaves.disable}.
 */
export class SyncWaves {
  /**
   * Writes no sync wave in any domain at or below `scope`: the app (every domain) or one domain.
   * Call it before synth; the order relative to the domain's constructs does not matter.
   */
  public static disable(scope: IConstruct): void {
    if (!Construct.isConstruct(scope)) {
      throw argumentError('SyncWaves.disable', `expects a construct, got ${describeValue(scope)}`, 'pass the App (every domain) or the FloeDomain whose objects carry no sync wave');
    }
    DISABLED.add(scope);
  }

  /** Whether objects synthesized at `scope` carry sync waves: no enclosing scope was disabled. */
  public static isEnabled(scope: IConstruct): boolean {
    return !scope.node.scopes.some((s) => DISABLED.has(s));
  }

  /** The wave of an object of `apiVersion` and `kind` (e.g. `external-secrets.io/v1`, `ExternalSecret`). */
  public static waveOf(apiVersion: string, kind: string): SyncWave {
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
    return WAVES[group]?.[kind] ?? SyncWave.WORKLOAD;
  }

  private constructor() {}
}
