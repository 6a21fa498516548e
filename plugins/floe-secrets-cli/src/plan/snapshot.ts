import { analyzeAccess } from '../access-map/analyze';
import { Access, Principal, SecretSource } from '../access-map/model';
import { toObject } from '../access-map/objects';
import { collectSources } from '../access-map/sources';
import { ManifestDocument } from '../manifests';
import { PlanArea } from './model';
import { readTimings, Timings } from './refresh';

/** Read verbs in the order the access map lists them. */
const VERB_ORDER = ['get', 'list', 'watch', '*'];

/** One thing of one side that can be added, removed or changed. */
export interface Item {
  readonly area: PlanArea;
  /** Identity across BASE and HEAD. */
  readonly id: string;
  readonly subject: string;
  readonly target?: string;
  readonly workload?: string;
  readonly how?: string;
  /** What is compared. */
  readonly fields: { [field: string]: string[] };
  /** What is shown, not compared. */
  readonly context: { [field: string]: string[] };
  /** For an access: who reads (for the broadening checks). */
  readonly principal?: Principal;
  /** For an access: the namespace read, `*` for every namespace. */
  readonly scope?: string;
  /** For an RBAC access: why the access map calls its grants over-broad. */
  readonly overBroad: string[];
  /** For an RBAC access: the ClusterRoles it is granted through. */
  readonly clusterRoles: string[];
}

/** What a principal can read on one side, for the broadening checks. */
interface PrincipalReach {
  /** The namespaces it reads Secrets (or Vault paths) in; `*` for every namespace. */
  readonly namespaces: Set<string>;
  /** The over-broad reasons of its grants, as `namespace|reason`. */
  readonly reasons: Set<string>;
}

/** Everything of one side that `plan` compares. */
export interface Snapshot {
  readonly items: Map<string, Item>;
  /** By subject label (`ServiceAccount floe-sales/x`). */
  readonly principals: Map<string, PrincipalReach>;
  readonly timings: Timings;
  readonly objects: number;
  readonly warnings: string[];
}

/** `ServiceAccount floe-sales/x`, `User jane`, `Group admins`. */
function principalName(principal: Principal): string {
  return principal.kind === 'ServiceAccount' ? `ServiceAccount ${principal.namespace}/${principal.name}` : `${principal.kind} ${principal.name}`;
}

/** The access model of one side (the access map, the sources and their refresh) as comparable items: names, keys and paths only, never a value. */
export function snapshotOf(documents: readonly ManifestDocument[]): Snapshot {
  const map = analyzeAccess([...documents]);
  const objects = documents.map(toObject);
  const warnings = [...map.warnings];
  const timings = readTimings(objects, warnings);
  const items = new Map<string, Item>();
  const principals = new Map<string, PrincipalReach>();

  const put = (item: NewItem): void => {
    const existing = items.get(item.id);
    if (!existing) {
      items.set(item.id, item as Item);
      if (!item.overBroad) (item as { overBroad: string[] }).overBroad = [];
      if (!item.clusterRoles) (item as { clusterRoles: string[] }).clusterRoles = [];
      return;
    }
    // The same access twice (a binding listed twice, two rules): one item with everything of both.
    for (const [field, values] of Object.entries(item.fields)) existing.fields[field] = union(existing.fields[field] ?? [], values);
    for (const [field, values] of Object.entries(item.context)) existing.context[field] = union(existing.context[field] ?? [], values);
    existing.overBroad.push(...(item.overBroad ?? []).filter((r) => !existing.overBroad.includes(r)));
    existing.clusterRoles.push(...(item.clusterRoles ?? []).filter((r) => !existing.clusterRoles.includes(r)));
  };

  for (const a of map.accesses) {
    if (a.how === 'none') continue;
    const subject = principalName(a.principal);
    const reach = principals.get(subject) ?? { namespaces: new Set<string>(), reasons: new Set<string>() };
    principals.set(subject, reach);
    reach.namespaces.add(a.namespace);
    const item = accessItem(a, subject);
    for (const reason of item.overBroad ?? []) reach.reasons.add(`${a.namespace}|${reason}`);
    put(item);
  }

  for (const s of map.secrets) {
    put({
      area: 'secret',
      id: `secret|${s.namespace}/${s.name}`,
      subject: `Secret ${s.namespace}/${s.name}`,
      fields: { keys: [...s.keys], managedBy: union([], s.sources.map(managerOf)) },
      context: { readBy: [...s.readBy] },
    });
  }

  for (const [key, sources] of collectSources(objects)) {
    const slash = key.indexOf('/');
    const secret = key.startsWith('*/') ? `${key.slice(slash + 1)} in every namespace` : key;
    for (const source of sources) {
      if (source.kind === 'manifest' || !source.resource) continue; // a Secret object: a Secret item already
      const timing = timings.sources.get(source.resource);
      put({
        area: 'source',
        id: `source|${source.resource}`,
        subject: source.resource,
        fields: { secrets: [secret], paths: union([], source.paths) },
        context: {
          backend: [source.backend],
          ...(source.floeSource ? { floeSource: [source.floeSource] } : {}),
          ...(timing?.refreshInterval ? { refreshInterval: [timing.refreshInterval] } : {}),
          ...(timing?.rotationPeriod ? { rotationPeriod: [timing.rotationPeriod] } : {}),
        },
      });
    }
  }

  for (const finding of map.findings) {
    if (!finding.binding.startsWith('aggregation into')) continue; // the others are grants to principals: accesses
    put({
      area: 'grant',
      id: `grant|${finding.role}|${finding.binding}`,
      subject: finding.role,
      target: finding.scope,
      fields: { verbs: [...finding.verbs], resourceNames: [...(finding.resourceNames ?? [])], reasons: [...finding.reasons] },
      context: { subjects: [...finding.subjects] },
    });
  }

  // Backend access broader than the domains need: a new one (or a new reason) broadens, as a grant does.
  for (const finding of map.backendFindings) {
    put({
      area: 'grant',
      id: `backend|${finding.flag}|${finding.resource}`,
      subject: finding.resource,
      target: finding.flag,
      fields: { reasons: [finding.reason] },
      context: { usedBy: [...finding.usedBy] },
    });
  }

  // Lists in a stable order, whatever the order of the input: verbs as the access map lists them, the rest sorted.
  for (const item of items.values()) {
    for (const field in item.fields) {
      const values = item.fields[field];
      if (values.length > 1) values.sort(field === 'verbs' ? (x, y) => VERB_ORDER.indexOf(x) - VERB_ORDER.indexOf(y) : undefined);
    }
    for (const field in item.context) {
      const values = item.context[field];
      if (values.length === 0) delete item.context[field];
      else if (values.length > 1) values.sort();
    }
  }
  return { items, principals, timings, objects: documents.length, warnings };
}

/** An item before {@link snapshotOf} adds it: without the lists an access's grants alone have. */
type NewItem = Omit<Item, 'overBroad' | 'clusterRoles'> & Partial<Pick<Item, 'overBroad' | 'clusterRoles'>>;

function accessItem(a: Access, subject: string): NewItem {
  const workload = a.workload ? `${a.workload.slice(0, a.workload.indexOf('/'))} ${a.namespace}/${a.workload.slice(a.workload.indexOf('/') + 1)}` : undefined;
  const backend = a.source ? { backend: [backendOf(a.source)], ...(a.source.paths.length > 0 ? { paths: [...a.source.paths] } : {}) } : {};
  if (a.how === 'vault-agent' && a.vault) {
    return {
      area: 'access',
      id: `access|${subject}|${workload}|vault-agent|${a.vault.path}`,
      subject,
      target: `Vault path ${a.vault.path}`,
      workload,
      how: 'vault-agent',
      fields: {
        keys: [...(a.keys ?? [])],
        files: [...a.vault.files],
        role: a.vault.role ? [a.vault.role] : [],
        agent: [a.vault.active ? 'active' : 'inactive'],
      },
      context: {},
      principal: a.principal,
      scope: a.namespace,
    };
  }
  const target = a.secret === '*'
    ? (a.namespace === '*' ? 'all secrets of all namespaces' : `all secrets of namespace ${a.namespace}`)
    : a.namespace === '*' ? `Secret ${a.secret} in every namespace` : `Secret ${a.namespace}/${a.secret}`;
  if (a.grant) {
    const roleKind = a.grant.role.slice(0, a.grant.role.indexOf(' '));
    return {
      area: 'access',
      id: `access|${subject}||rbac|${a.namespace}/${a.secret}`,
      subject,
      target,
      how: 'rbac',
      fields: { verbs: [...a.grant.verbs], via: [`${a.grant.binding} -> ${a.grant.role}`] },
      context: { ...backend, ...(a.overBroad.length > 0 ? { overBroad: [...a.overBroad] } : {}) },
      principal: a.principal,
      scope: a.namespace,
      overBroad: [...a.overBroad],
      clusterRoles: roleKind === 'ClusterRole' ? [a.grant.role] : [],
    };
  }
  return {
    area: 'access',
    id: `access|${subject}|${workload}|${a.how}|${a.namespace}/${a.secret}`,
    subject,
    target,
    workload,
    how: a.how,
    fields: { keys: a.keys ? [...a.keys] : ['*'], ...(a.how === 'file' ? { mountPaths: [...(a.mountPaths ?? [])] } : {}) },
    context: backend,
    principal: a.principal,
    scope: a.namespace,
  };
}

/** How a Secret's source is named in a Secret item: the resource (`InfisicalSecret ns/x`), or what it is (lowercase). */
function managerOf(source: SecretSource): string {
  return source.kind === 'external' || source.kind === 'manifest' ? backendOf(source) : source.resource ?? source.backend;
}

/**
 * The backend line of a source (`infisical project/env:/path`), in words for a Secret created
 * outside the manifests or defined in them (without its file, which differs between BASE and HEAD).
 */
function backendOf(source: SecretSource): string {
  if (source.kind === 'external') return 'external, created outside the manifests';
  if (source.kind === 'manifest') return source.backend.startsWith('API token') ? `the ${source.backend}` : 'a Secret object in the manifests';
  return source.backend;
}

function union(a: readonly string[], b: readonly string[]): string[] {
  const all = [...a];
  for (const x of b) if (!all.includes(x)) all.push(x);
  return all;
}

