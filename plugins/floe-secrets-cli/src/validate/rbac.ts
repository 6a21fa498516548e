import { CheckContext } from './checks';
import { label } from './util';
import { Access } from '../access-map/model';

/** `namespace/name` of a ServiceAccount, as the grants are indexed. */
const saKey = (namespace: string | undefined, name: string): string => `${namespace}/${name}`;

/** Each ServiceAccount may get what its pods read, and no binding grants more than get on named Secrets. */
export function checkRbac(context: CheckContext): void {
  const { map, references, problems } = context;
  const seen = new Set<string>();
  // The grants of each ServiceAccount, looked up once per reference instead of scanning every access.
  const grantsOf = new Map<string, Access[]>();
  for (const a of map.accesses) {
    if (!a.grant || a.principal.kind !== 'ServiceAccount') continue;
    const key = saKey(a.principal.namespace, a.principal.name);
    const list = grantsOf.get(key);
    if (list) list.push(a);
    else grantsOf.set(key, [a]);
  }
  for (const use of references) {
    if (!use.secret || use.principal.kind !== 'ServiceAccount') continue;
    const id = `${label(use)} ${use.secret}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const sa = use.principal;
    // The key only narrows the search: names from the input may hold a slash, so the match is exact.
    const granted = (grantsOf.get(saKey(sa.namespace, sa.name)) ?? []).some((a) => a.principal.name === sa.name
      && a.principal.namespace === sa.namespace && (a.namespace === use.namespace || a.namespace === '*')
      && (a.secret === use.secret || a.secret === '*') && a.grant!.verbs.some((v) => v === 'get' || v === '*'));
    if (granted) continue;
    problems.push({
      check: 'rbac',
      workload: label(use),
      reference: `ServiceAccount ${sa.namespace}/${sa.name} get secret ${use.secret}`,
      message: `no Role bound to ServiceAccount ${sa.namespace}/${sa.name} grants get on Secret ${use.namespace}/${use.secret}, which its pods read`,
      fix: `add a Role in ${use.namespace} with rule {apiGroups: [""], resources: [secrets], resourceNames: [${use.secret}], verbs: [get]} `
        + `and a RoleBinding of it to ServiceAccount ${sa.name}`,
    });
  }
  for (const finding of map.findings) {
    const binding = /^RoleBinding (.+)\/(.+)$/.exec(finding.binding);
    const cluster = /^ClusterRoleBinding (.+)$/.exec(finding.binding);
    problems.push({
      check: 'rbac',
      workload: binding ? `${binding[1]}/RoleBinding/${binding[2]}` : cluster ? `-/ClusterRoleBinding/${cluster[1]}` : finding.binding,
      reference: `${finding.role} ${finding.verbs.join(',')} on ${finding.resourceNames ? `secrets ${finding.resourceNames.join(', ')}` : 'all secrets'} in ${finding.scope}`,
      message: `over-broad secret access for ${finding.subjects.join(', ')}: ${finding.reasons.join('; ')}`,
      fix: 'grant only get, with resourceNames listing the Secrets the pods read, in a namespaced Role bound by a RoleBinding',
    });
  }
}
