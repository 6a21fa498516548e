import { BackendFinding } from './model';
import { arr, domainResolver, groupBy, K8sObject, str } from './objects';

/**
 * What operators may read in the backend beyond what each domain needs, from the input alone:
 * ExternalSecrets reading through a ClusterSecretStore that any namespace may use, one Infisical
 * identity reading different folders for several domains, and Infisical scopes broader than the
 * folder read (recursive at `/`, or another domain's folder).
 */
export function findBackendScope(objects: K8sObject[]): BackendFinding[] {
  const domainOf = domainResolver(objects);
  const reads = infisicalReads(objects);
  return [...clusterStores(objects), ...infisicalIdentities(reads, domainOf), ...infisicalScopes(reads, domainOf)]
    .sort((a, b) => (a.flag + a.resource < b.flag + b.resource ? -1 : a.flag + a.resource > b.flag + b.resource ? 1 : 0));
}

// --- External Secrets --------------------------------------------------------------------------------

/** The store references of an ExternalSecret spec: the default and every per-item sourceRef. */
function storeRefs(spec: any): Array<{ kind: string; name: string }> {
  const perItem = [...arr(spec?.data), ...arr(spec?.dataFrom)].map((d) => d?.sourceRef?.storeRef);
  const refs = [spec?.secretStoreRef, ...perItem];
  return refs.flatMap((ref) => (str(ref?.name) ? [{ kind: str(ref.kind) ?? 'SecretStore', name: str(ref.name)! }] : []));
}

/** Why a ClusterSecretStore's conditions do not limit it to some namespaces, or undefined when they do. */
function unlimited(store: K8sObject | undefined): string | undefined {
  if (!store) return 'it is not in the input, so nothing shows that its spec.conditions limit the namespaces that may use it';
  const conditions = arr(store.o.spec?.conditions);
  if (conditions.length === 0) return 'it has no spec.conditions: every namespace of the cluster may use it';
  const open = conditions.findIndex((c) =>
    arr(c?.namespaces).length === 0 && arr(c?.namespaceRegexes).length === 0 && !hasSelector(c?.namespaceSelector));
  return open < 0 ? undefined : `its spec.conditions[${open}] names no namespaces, namespaceRegexes or namespaceSelector: every namespace of the cluster may use it`;
}

function hasSelector(selector: any): boolean {
  return Object.keys(selector?.matchLabels ?? {}).length > 0 || arr(selector?.matchExpressions).length > 0;
}

function clusterStores(objects: K8sObject[]): BackendFinding[] {
  const stores = new Map(objects.filter((x) => x.group === 'external-secrets.io' && x.kind === 'ClusterSecretStore').map((x) => [x.name, x]));
  const users = new Map<string, Set<string>>();
  for (const x of objects) {
    if (x.group !== 'external-secrets.io' || (x.kind !== 'ExternalSecret' && x.kind !== 'ClusterExternalSecret')) continue;
    const spec = x.kind === 'ExternalSecret' ? x.o.spec : x.o.spec?.externalSecretSpec;
    const where = x.kind === 'ExternalSecret' ? `ExternalSecret ${x.namespace}/${x.name}` : `ClusterExternalSecret ${x.name}`;
    for (const ref of storeRefs(spec)) {
      if (ref.kind !== 'ClusterSecretStore') continue;
      users.set(ref.name, (users.get(ref.name) ?? new Set<string>()).add(where));
    }
  }
  return [...users].flatMap(([name, using]) => {
    const reason = unlimited(stores.get(name));
    if (!reason) return [];
    return [{
      flag: 'cluster-secret-store' as const,
      resource: `ClusterSecretStore ${name}`,
      usedBy: [...using].sort(),
      reason: `${[...using].sort().join(', ')} read${using.size === 1 ? 's' : ''} through ClusterSecretStore ${name}; ${reason}`,
      fix: 'use a namespaced SecretStore per domain (VaultSecretStore), or limit the ClusterSecretStore with spec.conditions[].namespaces to the domain namespaces'
        + (stores.has(name) ? '' : ' and pass its manifest too'),
    }];
  });
}

// --- Infisical ---------------------------------------------------------------------------------------

/** One folder an Infisical resource reads for a namespace, and the identity it logs in as. */
interface InfisicalRead {
  readonly resource: string;
  readonly namespace: string;
  readonly identity: string;
  readonly folder: string;
  readonly recursive: boolean;
}

/** What each InfisicalSecret and InfisicalStaticSecret reads, as whom, for which namespaces. */
function infisicalReads(objects: K8sObject[]): InfisicalRead[] {
  const auths = new Map(objects.filter((x) => x.group === 'secrets.infisical.com' && x.kind === 'InfisicalAuth').map((x) => [`${x.namespace}/${x.name}`, x]));
  const reads: InfisicalRead[] = [];
  for (const x of objects) {
    if (x.group !== 'secrets.infisical.com') continue;
    const resource = `${x.kind} ${x.namespace}/${x.name}`;
    if (x.kind === 'InfisicalSecret') {
      const refs = [...arr(x.o.spec?.managedKubeSecretReferences), ...(x.o.spec?.managedSecretReference ? [x.o.spec.managedSecretReference] : [])];
      const namespaces = [...new Set(refs.map((ref) => str(ref?.secretNamespace) ?? x.namespace))];
      const auth = x.o.spec?.authentication ?? {};
      for (const method of Object.keys(auth).sort()) {
        const scope = auth[method]?.secretsScope;
        if (!scope) continue;
        const project = `${str(scope.projectSlug) ?? str(scope.projectId) ?? '?'}/${str(scope.envSlug) ?? '?'}`;
        const identity = identityOf(method, auth[method], x.namespace);
        for (const namespace of namespaces.length > 0 ? namespaces : [x.namespace]) {
          reads.push({ resource, namespace, identity, folder: `${project}:${str(scope.secretsPath) ?? '/'}`, recursive: scope.recursive === true });
        }
      }
    } else if (x.kind === 'InfisicalStaticSecret') {
      const authRef = x.o.spec?.infisicalAuthRef;
      const authKey = `${str(authRef?.namespace) ?? x.namespace}/${str(authRef?.name) ?? '?'}`;
      const identity = staticIdentity(auths.get(authKey), authKey);
      const namespaces = [...new Set(arr(x.o.spec?.targets).map((t) => str(t?.namespace) ?? x.namespace))];
      for (const source of arr(x.o.spec?.sources)) {
        const folder = `${str(source?.projectSlug) ?? str(source?.projectId) ?? '?'}/${str(source?.environmentSlug) ?? '?'}:${str(source?.secretPath) ?? '/'}`;
        for (const namespace of namespaces.length > 0 ? namespaces : [x.namespace]) {
          reads.push({ resource, namespace, identity, folder, recursive: source?.recursive === true });
        }
      }
    }
  }
  return reads;
}

/** The identity of a v1alpha1 authentication method: its credentials Secret, identity id or token Secret. */
function identityOf(method: string, auth: any, namespace: string): string {
  if (method === 'universalAuth') {
    const ref = auth?.credentialsRef;
    return `universal-auth credentials Secret ${str(ref?.secretNamespace) ?? namespace}/${str(ref?.secretName) ?? '?'}`;
  }
  const id = str(auth?.identityId);
  return id ? `${method} identity ${id}` : `${method} of ${namespace}`;
}

/** The identity of a v1beta1 InfisicalAuth: its client id Secret or identity id Secret; the auth itself when not in the input. */
function staticIdentity(auth: K8sObject | undefined, key: string): string {
  const ref = auth?.o.spec?.universal?.clientIdRef ?? auth?.o.spec?.kubernetes?.identityIdRef;
  if (!ref) return `InfisicalAuth ${key}`;
  return `${auth!.o.spec?.universal ? 'universal-auth client id' : 'kubernetes identity id'} Secret ${str(ref.namespace) ?? auth!.namespace}/${str(ref.name) ?? '?'}`;
}

function infisicalIdentities(reads: InfisicalRead[], domains: { of: (namespace: string) => string }): BackendFinding[] {
  return [...groupBy(reads, (read) => read.identity)].flatMap(([identity, own]) => {
    const folders = new Map<string, Set<string>>();
    for (const read of own) {
      const domain = domains.of(read.namespace);
      folders.set(domain, (folders.get(domain) ?? new Set<string>()).add(`${read.folder}${read.recursive ? ' (recursive)' : ''}`));
    }
    // Copies of one folder into several domains (alsoSyncTo) read nothing more than each domain gets.
    const signatures = new Set([...folders.values()].map((set) => [...set].sort().join('\n')));
    if (folders.size < 2 || signatures.size < 2) return [];
    const per = [...folders].sort(([a], [b]) => a.localeCompare(b)).map(([domain, set]) => `${domain}: ${[...set].sort().join(', ')}`);
    return [{
      flag: 'shared-infisical-identity' as const,
      resource: identity,
      usedBy: [...new Set(own.map((r) => r.resource))].sort(),
      reason: `one Infisical identity reads for ${folders.size} domains (${per.join('; ')}): each domain's operator resources can read every other's folders`,
      fix: 'give each domain its own machine identity: a credentials Secret (or ServiceAccount) in each domain namespace, e.g. credentials_secret without a namespace in manifest.yaml',
    }];
  });
}

function infisicalScopes(reads: InfisicalRead[], domains: { of: (namespace: string) => string; all: ReadonlySet<string> }): BackendFinding[] {
  const findings = new Map<string, BackendFinding>();
  for (const read of reads) {
    const path = read.folder.slice(read.folder.indexOf(':') + 1);
    const own = domains.of(read.namespace);
    const others = path.split('/').filter((segment) => segment !== own && domains.all.has(segment));
    const reasons = [
      ...(read.recursive && path.replace(/\/+$/, '') === '' ? [`reads ${read.folder} recursively: every secret of the environment`] : []),
      ...others.map((other) => `reads ${read.folder}${read.recursive ? ' (recursive)' : ''} for domain ${own}, a folder of domain ${other}`),
    ];
    if (reasons.length === 0) continue;
    const key = `${read.resource}|${read.namespace}`;
    const previous = findings.get(key);
    findings.set(key, {
      flag: 'broad-infisical-scope',
      resource: read.resource,
      usedBy: [read.namespace],
      reason: [...(previous ? [previous.reason] : []), ...reasons].join('; '),
      fix: 'scope it to the folder of the secrets it syncs (secretsPath of that folder, recursive: false), in the reading domain\'s own folders',
    });
  }
  return [...findings.values()];
}
