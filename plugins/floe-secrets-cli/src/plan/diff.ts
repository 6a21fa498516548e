import { ChangeKind, PLAN_AREAS, PlanChange, PlanFields } from './model';
import { Timing } from './refresh';
import { Item, Snapshot } from './snapshot';

/** How fields are named for people. */
export const FIELD_NAMES: { readonly [field: string]: string } = {
  keys: 'keys',
  mountPaths: 'mounted at',
  files: 'files',
  role: 'vault role',
  agent: 'agent',
  verbs: 'verbs',
  via: 'via',
  managedBy: 'source',
  secrets: 'fills',
  paths: 'backend paths',
  refreshInterval: 'refresh',
  rotationPeriod: 'rotation',
  resourceNames: 'resourceNames',
  reasons: 'why',
};

/** Fields that hold one value (or none): shown as `before -> after` when they change. */
const SINGLE = new Set(['role', 'agent', 'refreshInterval', 'rotationPeriod']);

/** The changes from BASE to HEAD: accesses, Secrets, sources, refresh and rotation, grants. */
export function diffSnapshots(base: Snapshot, head: Snapshot): PlanChange[] {
  const changes: PlanChange[] = [];
  for (const [id, after] of head.items) {
    const before = base.items.get(id);
    if (!before) {
      changes.push(change(after, 'added', undefined, after.fields, broadening(after, undefined, base)));
      continue;
    }
    if (sameFields(before.fields, after.fields)) continue;
    const added: { [field: string]: string[] } = {};
    const removed: { [field: string]: string[] } = {};
    for (const field of new Set([...Object.keys(before.fields), ...Object.keys(after.fields)])) {
      const was = before.fields[field] ?? [];
      const is = after.fields[field] ?? [];
      const plus = is.filter((x) => !was.includes(x));
      const minus = was.filter((x) => !is.includes(x));
      if (plus.length > 0) added[field] = plus;
      if (minus.length > 0) removed[field] = minus;
    }
    if (Object.keys(added).length === 0 && Object.keys(removed).length === 0) continue;
    changes.push(change(after, 'changed', before.fields, after.fields, broadening(after, before, base), added, removed));
  }
  for (const [id, before] of base.items) {
    if (!head.items.has(id)) changes.push(change(before, 'removed', before.fields, undefined, []));
  }
  changes.push(...refreshChanges(base, head));
  return changes.sort(compareChanges);
}

/** Whether two items' fields hold the same lists (in the same order: the snapshot sorts them). */
function sameFields(a: { [field: string]: string[] }, b: { [field: string]: string[] }): boolean {
  let count = 0;
  for (const field in a) {
    const x = a[field];
    const y = b[field];
    if (y === undefined || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    count++;
  }
  return Object.keys(b).length === count;
}

function change(
  item: Item, kind: ChangeKind, before: PlanFields | undefined, after: PlanFields | undefined, reasons: string[],
  added?: PlanFields, removed?: PlanFields,
): PlanChange {
  const base = {
    area: item.area,
    change: kind,
    subject: item.subject,
    ...(item.target !== undefined ? { target: item.target } : {}),
    ...(item.workload !== undefined ? { workload: item.workload } : {}),
    ...(item.how !== undefined ? { how: item.how } : {}),
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
    ...(added ? { added, removed } : {}),
    ...(Object.keys(item.context).length > 0 ? { context: item.context } : {}),
    broadens: reasons.length > 0,
    reasons,
  };
  return { ...base, summary: summarize(base) };
}

/**
 * Why an added or changed item broadens a grant: the over-broad reasons of the access map its
 * subject did not have before in that namespace (a verb beyond get, all secrets, cluster-wide,
 * wildcard resources, granted to everyone), a ClusterRole where it had none, a namespace it could
 * not read before (another than its own, for a ServiceAccount), or a ClusterRole added to `view`.
 */
function broadening(item: Item, before: Item | undefined, base: Snapshot): string[] {
  if (item.area === 'grant') {
    const was = before?.fields.reasons ?? [];
    return item.fields.reasons.filter((r) => !was.includes(r));
  }
  if (item.area !== 'access' || item.how !== 'rbac' || !item.principal || item.scope === undefined) return [];
  const reach = base.principals.get(item.subject);
  const reasons = item.overBroad.filter((r) => !reach?.reasons.has(`${item.scope}|${r}`));
  if (item.clusterRoles.length > 0 && (before?.clusterRoles.length ?? 0) === 0 && !reasons.some((r) => r.startsWith('cluster-wide'))) {
    reasons.push(`granted through ${item.clusterRoles.join(', ')}, a role any namespace can bind`);
  }
  const scope = item.scope;
  if (scope !== '*' && !reach?.namespaces.has(scope) && !reach?.namespaces.has('*')) {
    const principal = item.principal;
    if (principal.kind === 'ServiceAccount' && scope !== principal.namespace) {
      reasons.push(`secrets of namespace ${scope}, not its own (${principal.namespace})`);
    } else if (principal.kind !== 'ServiceAccount' && reach && reach.namespaces.size > 0) {
      reasons.push(`a namespace it could not read before (${scope})`);
    }
  }
  return reasons;
}

/**
 * Refresh intervals and rotation periods that differ: of each source resource in both sides, and
 * as workloads declare them (`floe.dev/secret-sources`), grouped by Secret. A workload
 * declaration that follows a source resource's change is listed with it rather than apart.
 */
function refreshChanges(base: Snapshot, head: Snapshot): PlanChange[] {
  const changes: Array<{ change: PlanChange; secrets: string[]; workloads: string[] }> = [];
  for (const [resource, after] of head.timings.sources) {
    const before = base.timings.sources.get(resource);
    if (!before || sameTiming(before, after)) continue;
    const secrets = head.items.get(`source|${resource}`)?.fields.secrets ?? [];
    changes.push({ change: timingChange(resource, before, after, secrets, []), secrets, workloads: [] });
  }
  const groups = new Map<string, { namespace: string; secret: string; before: Timing; after: Timing; workloads: string[] }>();
  for (const [key, after] of head.timings.declared) {
    const before = base.timings.declared.get(key);
    if (!before || sameTiming(before, after)) continue;
    const group = `${after.namespace}/${after.secret}|${JSON.stringify(timingFields(before))}|${JSON.stringify(timingFields(after))}`;
    const entry = groups.get(group) ?? { namespace: after.namespace, secret: after.secret, before, after, workloads: [] };
    entry.workloads.push(after.workload);
    groups.set(group, entry);
  }
  for (const group of groups.values()) {
    const secret = `${group.namespace}/${group.secret}`;
    const workloads = group.workloads.sort();
    const source = changes.find((c) => c.secrets.includes(secret)
      && JSON.stringify(c.change.before) === JSON.stringify(timingFields(group.before))
      && JSON.stringify(c.change.after) === JSON.stringify(timingFields(group.after)));
    if (source) {
      source.workloads.push(...workloads);
      continue;
    }
    changes.push({ change: timingChange(`Secret ${secret}`, group.before, group.after, [secret], workloads), secrets: [secret], workloads });
  }
  return changes.map(({ change: c, secrets, workloads }) => {
    if (workloads.length === 0 || c.subject.startsWith('Secret ')) return c;
    const withWorkloads = { ...c, context: { secrets, workloads: [...new Set(workloads)].sort() } };
    return { ...withWorkloads, summary: summarize(withWorkloads) };
  });
}

function timingChange(subject: string, before: Timing, after: Timing, secrets: readonly string[], workloads: readonly string[]): PlanChange {
  const was = timingFields(before);
  const is = timingFields(after);
  const added: { [field: string]: string[] } = {};
  const removed: { [field: string]: string[] } = {};
  for (const field of ['refreshInterval', 'rotationPeriod'] as const) {
    if (JSON.stringify(was[field]) === JSON.stringify(is[field])) continue;
    if (is[field].length > 0) added[field] = is[field];
    if (was[field].length > 0) removed[field] = was[field];
  }
  const base = {
    area: 'refresh' as const,
    change: 'changed' as const,
    subject,
    before: was,
    after: is,
    added,
    removed,
    context: { secrets: [...secrets], ...(workloads.length > 0 ? { workloads: [...workloads] } : {}) },
    broadens: false,
    reasons: [],
  };
  return { ...base, summary: summarize(base) };
}

function timingFields(timing: Timing): { refreshInterval: string[]; rotationPeriod: string[] } {
  return {
    refreshInterval: timing.refreshInterval ? [timing.refreshInterval] : [],
    rotationPeriod: timing.rotationPeriod ? [timing.rotationPeriod] : [],
  };
}

function sameTiming(a: Timing, b: Timing): boolean {
  return a.refreshInterval === b.refreshInterval && a.rotationPeriod === b.rotationPeriod;
}

function compareChanges(a: PlanChange, b: PlanChange): number {
  const order: ChangeKind[] = ['added', 'removed', 'changed'];
  const key = (c: PlanChange): Array<string | number> =>
    [PLAN_AREAS.indexOf(c.area), c.subject, c.workload ?? '', c.target ?? '', c.how ?? '', order.indexOf(c.change)];
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
  }
  return 0;
}

// --- words ---------------------------------------------------------------------------------------

/** A list of names for people; `*` keys are "all keys". */
function listText(field: string, values: readonly string[]): string {
  if (values.length === 0) return 'none';
  if (field === 'keys' && values.length === 1 && values[0] === '*') return 'all';
  return values.join(', ');
}

/**
 * What a changed item's fields became, for people: `keys +password -user`, `refresh 60s -> 5m`,
 * `keys user -> all`.
 */
function differences(c: Pick<PlanChange, 'before' | 'after' | 'added' | 'removed'>): string[] {
  const out: string[] = [];
  const fields = new Set([...Object.keys(c.added ?? {}), ...Object.keys(c.removed ?? {})]);
  for (const field of Object.keys(FIELD_NAMES).filter((f) => fields.has(f)).concat([...fields].filter((f) => !(f in FIELD_NAMES)))) {
    const name = FIELD_NAMES[field] ?? field;
    const was = c.before?.[field] ?? [];
    const is = c.after?.[field] ?? [];
    if (SINGLE.has(field) || (field === 'keys' && (was.includes('*') || is.includes('*')))) {
      out.push(`${name} ${listText(field, was)} -> ${listText(field, is)}`);
    } else {
      out.push(`${name} ${[...(c.added?.[field] ?? []).map((x) => `+${x}`), ...(c.removed?.[field] ?? []).map((x) => `-${x}`)].join(' ')}`);
    }
  }
  return out;
}

/** What an added or removed item holds, for people: `keys password, user`, `verbs get via RoleBinding ...`. */
function contents(area: string, how: string | undefined, fields: PlanFields): string[] {
  const out: string[] = [];
  for (const field of Object.keys(FIELD_NAMES)) {
    const values = fields[field];
    if (!values || values.length === 0) continue;
    if (area === 'access' && how === 'rbac' && field === 'via') continue; // with the verbs
    if (area === 'access' && how === 'rbac' && field === 'verbs') {
      out.push(`${values.join(', ')} via ${(fields.via ?? []).join(', ')}`);
      continue;
    }
    out.push(field === 'keys' && values[0] === '*' && values.length === 1 ? 'all keys' : `${FIELD_NAMES[field]} ${listText(field, values)}`);
  }
  return out;
}

function summarize(c: Omit<PlanChange, 'summary'>): string {
  let text: string;
  const who = `${c.subject}${c.workload ? ` (${c.workload})` : ''}`;
  const what = c.change === 'changed' ? differences(c) : contents(c.area, c.how, (c.change === 'added' ? c.after : c.before) ?? {});
  if (c.area === 'access') {
    const verb = c.change === 'added' ? 'gains' : c.change === 'removed' ? 'loses' : 'changes how it reads';
    text = `${who} ${verb} ${c.target} by ${c.how}`;
  } else if (c.area === 'refresh') {
    const readers = c.context?.workloads?.length ?? 0;
    text = `${c.subject}${c.subject.startsWith('Secret ') ? ', as its readers declare it' : ` (${listText('secrets', c.context?.secrets ?? [])})`}`
      + `${readers > 0 ? `, read by ${readers} workload${readers === 1 ? '' : 's'}` : ''}`;
  } else {
    text = `${c.subject} ${c.change}`;
  }
  const details = what.length > 0 ? `: ${what.join('; ')}` : '';
  return `${text}${details}${c.broadens ? ` [broadens: ${c.reasons.join('; ')}]` : ''}`;
}
