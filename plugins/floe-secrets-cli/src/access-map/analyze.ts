import { ManifestDocument } from '../manifests';
import { findBackendScope } from './backend-scope';
import { Access, AccessMap, Principal, principalLabel, SecretInfo, SecretSource } from './model';
import { K8sObject, toObject } from './objects';
import { readRbac } from './rbac';
import { collectDeclaredKeys, collectSources, pickSource } from './sources';
import { readWorkload, WORKLOAD_GROUPS } from './workloads';

/** Builds the access map of a set of Kubernetes objects: reads names, keys and metadata, never values. */
export function analyzeAccess(documents: ManifestDocument[], files: string[] = []): AccessMap {
  const objects = documents.map(toObject);
  const accesses: Access[] = [];

  const sources = collectSources(objects);
  const declaredKeys = collectDeclaredKeys(objects);
  const sourceOf = (namespace: string, name: string): SecretSource =>
    pickSource(sources.get(`${namespace}/${name}`) ?? sources.get(`*/${name}`));

  // --- workloads: what the kubelet gives their pods ---------------------------------------------------
  const serviceAccounts = new Map<string, K8sObject>();
  for (const sa of objects.filter((x) => x.kind === 'ServiceAccount' && x.group === '')) serviceAccounts.set(`${sa.namespace}/${sa.name}`, sa);
  const workloads = objects.filter((x) => WORKLOAD_GROUPS[x.kind]?.includes(x.group)).flatMap((x) => {
    const workload = readWorkload(x, serviceAccounts);
    return workload ? [workload] : [];
  });
  for (const workload of workloads) {
    const principal: Principal = { kind: 'ServiceAccount', name: workload.serviceAccount, namespace: workload.namespace };
    for (const use of workload.uses) {
      accesses.push({
        namespace: workload.namespace,
        principal,
        workload: workload.ref,
        secret: use.secret,
        how: use.how,
        keys: use.keys ? [...use.keys].sort() : undefined,
        ...(use.how === 'file' ? { mountPaths: [...use.mountPaths].sort() } : {}),
        source: sourceOf(workload.namespace, use.secret),
        overBroad: [],
        notes: [...use.notes],
      });
    }
    for (const injection of workload.vault) {
      const { keys, ...vault } = injection;
      accesses.push({
        namespace: workload.namespace,
        principal,
        workload: workload.ref,
        how: 'vault-agent',
        keys,
        source: { kind: 'vault-agent', backend: `vault ${vault.path}`, paths: [vault.path] },
        vault,
        overBroad: [],
        notes: [
          ...(vault.role ? [`vault role ${vault.role}`] : ['no vault.hashicorp.com/role']),
          `files ${vault.files.join(', ')}`,
          'no Kubernetes Secret',
          ...(vault.active ? [] : ['inactive: vault.hashicorp.com/agent-inject is not "true"']),
        ],
      });
    }
  }

  // --- RBAC: what the API server lets them read -----------------------------------------------------
  const workloadsBySa = new Map<string, typeof workloads>();
  for (const w of workloads) {
    const key = `${w.namespace}/${w.serviceAccount}`;
    const list = workloadsBySa.get(key);
    if (list) list.push(w);
    else workloadsBySa.set(key, [w]);
  }
  const tokenNote = (principal: Principal): string[] => {
    if (principal.kind !== 'ServiceAccount') return [];
    const using = workloadsBySa.get(`${principal.namespace}/${principal.name}`) ?? [];
    if (using.length === 0) return ['no workload in the input runs as it'];
    const mounted = using.filter((w) => w.tokenMounted).map((w) => w.ref);
    return mounted.length === 0 ? ['API token not mounted in its pods'] : [`API token mounted in ${mounted.join(', ')}`];
  };
  const rbac = readRbac(objects, sourceOf, tokenNote);
  accesses.push(...rbac.accesses);

  // --- service accounts with no access at all ------------------------------------------------------
  const withAccess = new Set(accesses.flatMap((a) => (a.principal.kind === 'ServiceAccount' ? [`${a.principal.namespace}/${a.principal.name}`] : [])));
  for (const sa of serviceAccounts.values()) {
    if (withAccess.has(`${sa.namespace}/${sa.name}`)) continue;
    accesses.push({
      namespace: sa.namespace,
      principal: { kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace },
      how: 'none',
      overBroad: [],
      notes: ['no secret access found in the input'],
    });
  }

  sortAccesses(accesses);
  return {
    files,
    accesses,
    secrets: collectSecrets(accesses, sources, declaredKeys, sourceOf),
    findings: rbac.findings,
    backendFindings: findBackendScope(objects),
    warnings: rbac.warnings,
  };
}

// --- secrets -----------------------------------------------------------------------------------------

function collectSecrets(
  accesses: Access[],
  sources: Map<string, SecretSource[]>,
  declaredKeys: Map<string, Set<string>>,
  sourceOf: (namespace: string, name: string) => SecretSource,
): SecretInfo[] {
  const names = new Set<string>();
  for (const key of sources.keys()) if (!key.startsWith('*/')) names.add(key);
  for (const key of declaredKeys.keys()) names.add(key);
  for (const a of accesses) if (a.secret && a.secret !== '*' && a.namespace !== '*') names.add(`${a.namespace}/${a.secret}`);
  // Accesses by the Secret they name (`namespace/name`, namespace `*` for cluster-wide grants), and
  // grants on all secrets by namespace: each Secret looks up its readers instead of scanning them all.
  const byName = new Map<string, Access[]>();
  const allOf = new Map<string, Access[]>();
  for (const a of accesses) {
    if (!a.secret) continue;
    const [index, key] = a.secret === '*' ? [allOf, a.namespace] : [byName, `${a.namespace}/${a.secret}`];
    const list = index.get(key);
    if (list) list.push(a);
    else index.set(key, [a]);
  }
  return [...names].sort().map((key) => {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const keys = new Set(declaredKeys.get(key) ?? []);
    const readers = new Map<string, Set<string>>();
    const matching = [...(byName.get(key) ?? []), ...(byName.get(`*/${name}`) ?? []), ...(allOf.get(namespace) ?? []), ...(allOf.get('*') ?? [])];
    for (const a of matching) {
      if (a.secret === name) a.keys?.forEach((k) => keys.add(k));
      const label = principalLabel(a.principal);
      readers.set(label, (readers.get(label) ?? new Set<string>()).add(a.how));
    }
    const own = sources.get(key) ?? [];
    const found = own.length > 0 ? own : sources.get(`*/${name}`) ?? [];
    return {
      namespace,
      name,
      sources: found.length > 0 ? found : [sourceOf(namespace, name)],
      keys: [...keys].sort(),
      readBy: [...readers.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, hows]) => `${label} (${[...hows].sort().join(', ')})`),
    };
  });
}

/** Sorts by namespace, principal, workload, secret and how; each key is made once, not at every comparison. */
function sortAccesses(accesses: Access[]): void {
  const keyed = accesses.map((access) => ({ access, key: [access.namespace, principalLabel(access.principal), access.workload ?? '', access.secret ?? '', access.how] }));
  keyed.sort((a, b) => {
    for (let i = 0; i < a.key.length; i++) {
      if (a.key[i] !== b.key[i]) return a.key[i] < b.key[i] ? -1 : 1;
    }
    return 0;
  });
  keyed.forEach(({ access }, i) => (accesses[i] = access));
}
