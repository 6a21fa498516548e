import { Access, Finding, Grant, Principal, principalLabel, SecretSource } from './model';
import { arr, K8sObject, record, str } from './objects';

const READ_VERBS = ['get', 'list', 'watch', '*'];
const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Built-in ClusterRoles that are usually not in the manifests, as far as secrets are concerned. */
const BUILT_IN_CLUSTER_ROLES: { readonly [name: string]: any[] } = {
  'cluster-admin': [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
  'admin': [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }],
  'edit': [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }],
  'view': [],
};

/** Groups every service account or user is in: a grant to them is a grant to everyone. */
const EVERYONE_GROUPS: { readonly [name: string]: string } = {
  'system:authenticated': 'every authenticated user',
  'system:unauthenticated': 'anonymous requests',
  'system:serviceaccounts': 'every service account of the cluster',
};

/** What the RBAC objects of the input let principals read of secrets. */
export interface RbacAccess {
  readonly accesses: Access[];
  /** Over-broad grants. */
  readonly findings: Finding[];
  readonly warnings: string[];
}

/**
 * Reads every (Cluster)RoleBinding of the input: one access per subject and Secret (or `*`) it may
 * read, and a finding for each over-broad grant.
 *
 * @param sourceOf where a Secret's content comes from
 * @param tokenNote remarks about whether a principal's API token is mounted anywhere
 */
export function readRbac(
  objects: K8sObject[], sourceOf: (namespace: string, name: string) => SecretSource, tokenNote: (principal: Principal) => string[],
): RbacAccess {
  const accesses: Access[] = [];
  const findings: Finding[] = [];
  const warnings: string[] = [];
  const roles = new Map<string, K8sObject>();
  const clusterRoles = new Map<string, K8sObject>();
  for (const x of objects.filter((o) => o.group === RBAC_GROUP)) {
    if (x.kind === 'Role') roles.set(`${x.namespace}/${x.name}`, x);
    if (x.kind === 'ClusterRole') clusterRoles.set(x.name, x);
  }

  for (const binding of objects.filter((x) => x.group === RBAC_GROUP && (x.kind === 'RoleBinding' || x.kind === 'ClusterRoleBinding'))) {
    const clusterWide = binding.kind === 'ClusterRoleBinding';
    const bindingLabel = clusterWide ? `ClusterRoleBinding ${binding.name}` : `RoleBinding ${binding.namespace}/${binding.name}`;
    const refKind = str(binding.o.roleRef?.kind) ?? 'ClusterRole';
    const refName = str(binding.o.roleRef?.name) ?? '';
    let rules: any[] | undefined;
    let roleLabel: string;
    if (refKind === 'Role') {
      roleLabel = `Role ${binding.namespace}/${refName}`;
      if (clusterWide) {
        warnings.push(`${bindingLabel} refers to a Role (${refName}); Kubernetes rejects that, so it grants nothing`);
        continue;
      }
      const role = roles.get(`${binding.namespace}/${refName}`);
      rules = role ? arr(role.o.rules) : undefined;
    } else {
      roleLabel = `ClusterRole ${refName}`;
      rules = clusterRoleRules(refName, clusterRoles);
    }
    if (!rules) {
      warnings.push(`${bindingLabel} refers to ${roleLabel}, which is not in the input: its grants could not be checked`);
      continue;
    }
    const subjects = arr(binding.o.subjects).flatMap((s): Principal[] => {
      const kind = str(s?.kind);
      const name = str(s?.name);
      if (!name) return [];
      if (kind === 'ServiceAccount') return [{ kind, name, namespace: str(s.namespace) ?? (clusterWide ? 'default' : binding.namespace) }];
      if (kind === 'User' || kind === 'Group') return [{ kind, name }];
      warnings.push(`${bindingLabel} has a subject of unknown kind ${JSON.stringify(kind ?? '')}: ignored`);
      return [];
    });
    if (subjects.length === 0) continue;
    for (const rule of rules) {
      const read = secretRead(rule);
      if (!read) continue;
      const scope = clusterWide ? '*' : binding.namespace;
      const reasons: string[] = [];
      for (const verb of read.verbs) if (verb !== 'get') reasons.push(`verb ${verb}`);
      if (!read.resourceNames) reasons.push(clusterWide ? 'all secrets of all namespaces' : 'all secrets of the namespace');
      if (clusterWide) reasons.push('cluster-wide (ClusterRoleBinding)');
      if (read.wildcardResources) reasons.push('resources: *');
      for (const subject of subjects) {
        const everyone = subject.kind === 'Group' ? everyoneGroup(subject.name) : undefined;
        if (everyone && !reasons.includes(`granted to ${everyone}`)) reasons.push(`granted to ${everyone}`);
      }
      const grant: Grant = { binding: bindingLabel, role: roleLabel, verbs: read.verbs, resourceNames: read.resourceNames };
      if (reasons.length > 0) {
        findings.push({
          binding: bindingLabel,
          role: roleLabel,
          subjects: subjects.map(principalLabel),
          scope: clusterWide ? 'all namespaces' : `namespace ${binding.namespace}`,
          verbs: read.verbs,
          resourceNames: read.resourceNames,
          reasons,
        });
      }
      for (const subject of subjects) {
        const everyone = subject.kind === 'Group' ? everyoneGroup(subject.name) : undefined;
        for (const secret of read.resourceNames ?? ['*']) {
          accesses.push({
            namespace: scope,
            principal: subject,
            secret,
            how: `rbac-${read.verbs.join(',')}`,
            source: secret === '*' ? undefined : sourceOf(scope, secret),
            grant,
            overBroad: reasons,
            notes: [
              `via ${roleLabel}`,
              ...(secret === '*' ? [clusterWide ? 'every secret of every namespace' : `every secret of ${scope}`] : []),
              ...(everyone ? [`this group is ${everyone}`] : []),
              ...tokenNote(subject),
            ],
          });
        }
      }
    }
  }
  findings.push(...aggregationFindings(clusterRoles));
  return { accesses, findings, warnings };
}

function clusterRoleRules(name: string, clusterRoles: Map<string, K8sObject>): any[] | undefined {
  const role = clusterRoles.get(name);
  const builtIn = BUILT_IN_CLUSTER_ROLES[name];
  if (!role && !builtIn) return undefined;
  const rules = role ? [...arr(role.o.rules)] : [...builtIn];
  const selectors = role ? arr(role.o.aggregationRule?.clusterRoleSelectors) : [];
  if (!role && (name === 'admin' || name === 'edit' || name === 'view')) {
    selectors.push({ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${name}`]: 'true' } });
  }
  if (selectors.length > 0) {
    for (const other of clusterRoles.values()) {
      if (other !== role && selectors.some((s) => matchesSelector(record(other.o.metadata?.labels), s))) rules.push(...arr(other.o.rules));
    }
  }
  return rules;
}

/** ClusterRoles that add secret reads to the built-in `view` role, which many subjects hold and which reads no secrets. */
function aggregationFindings(clusterRoles: Map<string, K8sObject>): Finding[] {
  const findings: Finding[] = [];
  if (clusterRoles.has('view')) return findings; // a custom role named view is checked like any other
  for (const role of clusterRoles.values()) {
    if (String(record(role.o.metadata?.labels)['rbac.authorization.k8s.io/aggregate-to-view']) !== 'true') continue;
    for (const rule of arr(role.o.rules)) {
      const read = secretRead(rule);
      if (!read) continue;
      findings.push({
        binding: 'aggregation into the built-in ClusterRole view',
        role: `ClusterRole ${role.name}`,
        subjects: ['everyone bound to view'],
        scope: 'wherever view is bound',
        verbs: read.verbs,
        resourceNames: read.resourceNames,
        reasons: [`adds secret ${read.verbs.join(',')} to the built-in ClusterRole view`],
      });
    }
  }
  return findings;
}

function matchesSelector(labels: { [key: string]: any }, selector: any): boolean {
  const matchLabels = record(selector?.matchLabels);
  if (!Object.keys(matchLabels).every((k) => String(labels[k]) === String(matchLabels[k]) && k in labels)) return false;
  return arr(selector?.matchExpressions).every((e) => {
    const key = String(e?.key);
    const values = arr(e?.values).map(String);
    switch (e?.operator) {
      case 'In': return key in labels && values.includes(String(labels[key]));
      case 'NotIn': return !(key in labels) || !values.includes(String(labels[key]));
      case 'Exists': return key in labels;
      case 'DoesNotExist': return !(key in labels);
      default: return false;
    }
  });
}

/** What an RBAC rule lets one read of secrets, or undefined when it does not. */
function secretRead(rule: any): { verbs: string[]; resourceNames?: string[]; wildcardResources: boolean } | undefined {
  const apiGroups = rule?.apiGroups === undefined ? [''] : arr(rule.apiGroups).map(String);
  const resources = arr(rule?.resources).map(String);
  if (!apiGroups.some((g) => g === '' || g === '*')) return undefined;
  if (!resources.some((r) => r === 'secrets' || r === '*')) return undefined;
  const verbs = [...new Set(arr(rule?.verbs).map(String).filter((v) => READ_VERBS.includes(v)))];
  if (verbs.length === 0) return undefined;
  verbs.sort((a, b) => READ_VERBS.indexOf(a) - READ_VERBS.indexOf(b));
  const names = arr(rule?.resourceNames).map(String);
  return { verbs, resourceNames: names.length > 0 ? names : undefined, wildcardResources: !resources.includes('secrets') };
}

function everyoneGroup(name: string): string | undefined {
  if (EVERYONE_GROUPS[name]) return EVERYONE_GROUPS[name];
  const match = /^system:serviceaccounts:(.+)$/.exec(name);
  return match ? `every service account of namespace ${match[1]}` : undefined;
}
