import { FIELD_NAMES } from './diff';
import { Plan, PlanChange, PlanFields } from './model';
import { clean } from '../access-map/render';

/** Output formats of `floe-secrets plan`. */
export const PLAN_FORMATS = ['markdown', 'json'] as const;
/** One of {@link PLAN_FORMATS}. */
export type PlanFormat = typeof PLAN_FORMATS[number];

/** What `plan` prints when nothing changes (markdown). */
const NO_CHANGES = 'no access changes';

/**
 * The most rows of one table in markdown: a pull-request comment holds at most 65,536 characters.
 * JSON lists every change.
 */
const MAX_MARKDOWN_ROWS = 100;

/** Renders the plan in one of the formats. */
export function renderPlan(plan: Plan, format: PlanFormat): string {
  return format === 'json' ? renderPlanJson(plan) : renderPlanMarkdown(plan);
}

/** Everything, for bots: both sides, whether anything broadens, every change (empty when none), warnings. */
function renderPlanJson(plan: Plan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}

/**
 * GitHub-flavoured markdown for a pull-request comment: the grants that broaden first, then
 * accesses, Secrets and sources, refresh and rotation, each a table; one line when nothing
 * changes. Names are in code spans, so nothing in a name is read as markdown.
 */
function renderPlanMarkdown(plan: Plan): string {
  if (plan.changes.length === 0) return `${NO_CHANGES}\n`;
  const broadening = plan.changes.filter((c) => c.broadens);
  const count = plan.changes.length;
  const out = [`### Secret access plan: ${count} change${count === 1 ? '' : 's'}${broadening.length > 0 ? `, ${broadening.length} broaden${broadening.length === 1 ? 's' : ''} a grant` : ''}`];

  section(out, 'Grants that broaden', ['who', 'can now read', 'how', 'why'], broadening, (c) => [
    who(c),
    c.area === 'grant' ? text(c.target ?? '') : label(c.target ?? ''),
    c.area === 'grant' ? `${text((c.after?.verbs ?? []).join(', '))} added to the built-in ClusterRole \`view\`` : contents(c.after ?? {}, c.how),
    text(c.reasons.join('; ')),
  ]);
  section(out, 'Access', ['change', 'who', 'workload', 'reads', 'how', 'details'], plan.changes.filter((c) => c.area === 'access' || c.area === 'grant'), (c) => [
    changeCell(c),
    who(c),
    c.workload ? label(c.workload) : '-',
    c.area === 'grant' ? text(c.target ?? '') : label(c.target ?? ''),
    c.area === 'grant' ? 'aggregated into `view`' : text(c.how ?? ''),
    details(c),
  ]);
  section(out, 'Secrets and sources', ['change', 'what', 'details'], plan.changes.filter((c) => c.area === 'secret' || c.area === 'source'), (c) => [
    changeCell(c),
    label(c.subject),
    details(c),
  ]);
  section(out, 'Refresh and rotation', ['what', 'secrets', 'refresh', 'rotation', 'workloads'], plan.changes.filter((c) => c.area === 'refresh'), (c) => [
    label(c.subject),
    codes(c.context?.secrets ?? []) || '-',
    transition(c, 'refreshInterval'),
    transition(c, 'rotationPeriod'),
    workloads(c.context?.workloads ?? []),
  ]);
  return `${out.join('\n')}\n`;
}

function section(out: string[], title: string, header: string[], changes: readonly PlanChange[], row: (c: PlanChange) => string[]): void {
  if (changes.length === 0) return;
  out.push('', `#### ${title}`, '', `| ${header.join(' | ')} |`, `|${header.map(() => ' --- |').join('')}`);
  for (const c of changes.slice(0, MAX_MARKDOWN_ROWS)) out.push(`| ${row(c).join(' | ')} |`);
  if (changes.length > MAX_MARKDOWN_ROWS) {
    out.push('', `_and ${changes.length - MAX_MARKDOWN_ROWS} more; \`-o json\` lists every change._`);
  }
}

function changeCell(c: PlanChange): string {
  return c.broadens ? `**${c.change}, broadens**` : c.change;
}

function who(c: PlanChange): string {
  if (c.area === 'grant') return text((c.context?.subjects ?? []).join(', ')) || label(c.subject);
  return label(c.subject);
}

/** Details of a row: what an added or removed item holds, or what changed, plus where a Secret comes from. */
function details(c: PlanChange): string {
  const parts = c.change === 'changed' ? [differences(c)] : [contents((c.change === 'added' ? c.after : c.before) ?? {}, c.how)];
  if (c.area === 'access' && c.change !== 'changed' && c.context?.backend) parts.push(`from ${c.context.backend.map(backend).join(', ')}`);
  if (c.area === 'source' && c.change !== 'changed') {
    for (const field of ['refreshInterval', 'rotationPeriod']) {
      const values = c.context?.[field];
      if (values && values.length > 0) parts.push(`${FIELD_NAMES[field]} ${codes(values)}`);
    }
  }
  if (c.broadens && c.area !== 'grant') parts.push(`broadens: ${text(c.reasons.join('; '))}`);
  return parts.filter((p) => p !== '').join('; ') || '-';
}

/** What an item holds: keys, mount paths, files, verbs and bindings, managers, backend paths. */
function contents(fields: PlanFields, how: string | undefined): string {
  const parts: string[] = [];
  for (const field of Object.keys(FIELD_NAMES)) {
    const values = fields[field];
    if (!values || values.length === 0 || field === 'via') continue;
    if (field === 'verbs' && how === 'rbac') {
      parts.push(`${text(values.join(', '))} via ${(fields.via ?? []).map(label).join(', ')}`);
    } else if (field === 'keys' && values.length === 1 && values[0] === '*') {
      parts.push('all keys');
    } else if (field === 'managedBy') {
      parts.push(`${FIELD_NAMES[field]} ${values.map(manager).join(', ')}`);
    } else if (field === 'agent') {
      if (values[0] !== 'active') parts.push('agent inactive');
    } else {
      parts.push(`${FIELD_NAMES[field]} ${codes(values)}`);
    }
  }
  return parts.join('; ');
}

/** What changed, field by field: `keys +\`a\` -\`b\``, `kind \`x\` → \`y\``, `keys \`user\` → all`. */
function differences(c: PlanChange): string {
  const fields = new Set([...Object.keys(c.added ?? {}), ...Object.keys(c.removed ?? {})]);
  const parts: string[] = [];
  for (const field of [...Object.keys(FIELD_NAMES).filter((f) => fields.has(f)), ...[...fields].filter((f) => !(f in FIELD_NAMES)).sort()]) {
    const name = FIELD_NAMES[field] ?? field;
    const was = c.before?.[field] ?? [];
    const is = c.after?.[field] ?? [];
    const list = (values: readonly string[]) => (values.length === 0 ? 'none' : field === 'keys' && values[0] === '*' ? 'all' : codes(values));
    if (['role', 'agent'].includes(field) || (field === 'keys' && (was.includes('*') || is.includes('*')))) {
      parts.push(`${name} ${list(was)} → ${list(is)}`);
    } else if (field === 'via' || field === 'managedBy') {
      const show = field === 'via' ? label : manager;
      parts.push(`${name} ${[...(c.added?.[field] ?? []).map((x) => `+${show(x)}`), ...(c.removed?.[field] ?? []).map((x) => `-${show(x)}`)].join(' ')}`);
    } else {
      parts.push(`${name} ${[...(c.added?.[field] ?? []).map((x) => `+${code(x)}`), ...(c.removed?.[field] ?? []).map((x) => `-${code(x)}`)].join(' ')}`);
    }
  }
  return parts.join('; ');
}

function transition(c: PlanChange, field: string): string {
  const was = c.before?.[field] ?? [];
  const is = c.after?.[field] ?? [];
  const show = (values: readonly string[]) => (values.length === 0 ? 'not set' : codes(values));
  return JSON.stringify(was) === JSON.stringify(is) ? show(is) : `${show(was)} → ${show(is)}`;
}

/** At most 10 workloads, then how many more. */
function workloads(names: readonly string[]): string {
  if (names.length === 0) return '-';
  const shown = names.slice(0, 10).map(label).join(', ');
  return names.length > 10 ? `${shown} and ${names.length - 10} more` : shown;
}

// --- escaping ------------------------------------------------------------------------------------

const LABEL_PATTERNS: ReadonlyArray<[RegExp, (m: RegExpExecArray) => string]> = [
  [/^all secrets of all namespaces$/, () => 'all secrets of all namespaces'],
  [/^all secrets of namespace (.+)$/s, (m) => `all secrets of namespace ${code(m[1])}`],
  [/^Secret (\S+) in every namespace$/, (m) => `Secret ${code(m[1])} in every namespace`],
  [/^Vault path (.+)$/s, (m) => `Vault path ${code(m[1])}`],
  [/^([A-Za-z]+) (.+)$/s, (m) => `${m[1]} ${code(m[2])}`],
];

/** A label of the plan (`Secret floe-sales/db`, `RoleBinding x/y -> Role x/y`) with its names in code spans. */
function label(value: string): string {
  // `RoleBinding ns/x -> Role ns/y`: the binding's kind and name are two words
  const via = /^(\S+ \S+) -> (.+)$/s.exec(value);
  if (via) return `${label(via[1])} → ${label(via[2])}`;
  for (const [pattern, render] of LABEL_PATTERNS) {
    const m = pattern.exec(value);
    if (m) return render(m);
  }
  return code(value);
}

/** What manages a Secret: a resource label, or words (`created outside the manifests`). */
function manager(value: string): string {
  return /^[A-Z]/.test(value) ? label(value) : text(value);
}

/** A backend line: its kind, and the rest (store, paths) as code. */
function backend(value: string): string {
  const m = /^(infisical|vault|external-secrets) (.+)$/.exec(value);
  return m ? `${m[1]} ${code(m[2])}` : text(value);
}

function codes(values: readonly string[]): string {
  return values.map(code).join(', ');
}

/**
 * A code span: nothing inside is markdown. Control characters become `?`, a `|` is escaped for
 * the table, and the fence is longer than any run of backticks inside.
 */
export function code(value: string): string {
  const cleaned = clean(value).replace(/\|/g, '\\|');
  const runs = cleaned.match(/`+/g) ?? [];
  const fence = '`'.repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = cleaned.startsWith('`') || cleaned.endsWith('`') || cleaned === '' ? ' ' : '';
  return `${fence}${pad}${cleaned}${pad}${fence}`;
}

/** Text for a table cell: markdown punctuation escaped, control characters as `?`. */
function text(value: string): string {
  return clean(value)
    .replace(/[\\`*_[\]<>|~&@]/g, (c) => `\\${c}`);
}
