import { Access, AccessMap, principalLabel } from './model';

/** Output formats of `floe-secrets access-map`. */
export const ACCESS_MAP_FORMATS = ['table', 'mermaid', 'dot', 'json'] as const;
/** One of {@link ACCESS_MAP_FORMATS}. */
export type AccessMapFormat = typeof ACCESS_MAP_FORMATS[number];

/** Renders the map in one of the formats. */
export function renderAccessMap(map: AccessMap, format: AccessMapFormat): string {
  switch (format) {
    case 'mermaid': return renderMermaid(map);
    case 'dot': return renderDot(map);
    case 'json': return renderJson(map);
    default: return renderTable(map);
  }
}

// --- table -------------------------------------------------------------------------------------------

/** Plain-text tables: accesses, then secrets and their sources, then over-broad grants. */
export function renderTable(map: AccessMap): string {
  const access = map.accesses.map((a) => [
    a.namespace,
    a.principal.kind === 'ServiceAccount' && a.principal.namespace === a.namespace ? a.principal.name : principalLabel(a.principal),
    a.workload ?? '-',
    a.secret ?? '-',
    a.how,
    a.source?.backend ?? '-',
    accessNotes(a).join('; ') || '-',
  ]);
  const secrets = map.secrets.map((s) => [
    s.namespace,
    s.name,
    s.sources.map((src) => src.backend).join(' | '),
    s.sources.map((src) => [src.resource, src.floeSource ? `floe.dev/source ${src.floeSource}` : undefined].filter((x) => x).join(', ')).join(' | ') || '-',
    s.keys.join(', ') || '-',
    s.readBy.join(', ') || '-',
  ]);
  const lines = [
    'ACCESS',
    ...formatTable(['NAMESPACE', 'SERVICE ACCOUNT', 'WORKLOAD', 'SECRET', 'HOW', 'SOURCE / BACKEND PATH', 'NOTES'], access),
    '',
    'SECRETS',
    ...formatTable(['NAMESPACE', 'SECRET', 'SOURCE / BACKEND PATH', 'MANAGED BY', 'KEYS', 'READ BY'], secrets),
    '',
  ];
  if (map.findings.length === 0) {
    lines.push('no over-broad secret grant');
  } else {
    lines.push(`OVER-BROAD GRANTS (${map.findings.length})`);
    for (const f of map.findings) {
      const what = f.resourceNames ? `secrets ${f.resourceNames.join(', ')}` : 'all secrets';
      lines.push(`- ${f.binding} -> ${f.role}: ${f.verbs.join(',')} on ${what} (${f.scope}) for ${f.subjects.join(', ')}: ${f.reasons.join('; ')}`);
    }
  }
  if (map.backendFindings.length === 0) {
    lines.push('no over-broad backend access');
  } else {
    lines.push(`OVER-BROAD BACKEND ACCESS (${map.backendFindings.length})`);
    for (const f of map.backendFindings) lines.push(`- [${f.flag}] ${f.resource}: ${f.reason}; fix: ${f.fix}`);
  }
  return lines.map(clean).join('\n') + '\n';
}

function accessNotes(a: Access): string[] {
  const notes: string[] = [];
  if (a.overBroad.length > 0) notes.push(`OVER-BROAD: ${a.overBroad.join(', ')}`);
  if (a.keys && a.keys.length > 0) notes.push(`keys ${a.keys.join(', ')}`);
  else if (a.how === 'envFrom' || a.how === 'file') notes.push('all keys');
  notes.push(...a.notes);
  return notes;
}

function formatTable(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows].map((row) => row.map(clean));
  const widths = header.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  return all.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
}

/** Control characters (newlines, terminal escapes) from hand-written names never reach the terminal. */
export function clean(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

// --- graph -------------------------------------------------------------------------------------------

interface GraphNode {
  readonly key: string;
  readonly kind: 'sa' | 'user' | 'group' | 'secret' | 'all' | 'backend' | 'vault';
  readonly lines: string[];
  /** The namespace box it is drawn in; none for users, groups and backends. */
  readonly namespace?: string;
}

interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly lines: string[];
  readonly overBroad: boolean;
}

/** ServiceAccount (or User/Group) -> Secret -> backend path; ServiceAccount -> Vault path for the Vault Agent. */
function buildGraph(map: AccessMap): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const node = (n: GraphNode) => {
    if (!nodes.has(n.key)) nodes.set(n.key, n);
    return n.key;
  };
  const edge = (e: GraphEdge) => {
    const id = JSON.stringify([e.from, e.to, e.lines]);
    if (!edges.has(id)) edges.set(id, e);
  };
  const backendNode = (backend: string, kind: 'backend' | 'vault') => node({ key: `${kind}:${backend}`, kind, lines: [backend] });

  for (const a of map.accesses) {
    const p = a.principal;
    const from = p.kind === 'ServiceAccount'
      ? node({ key: `sa:${p.namespace}/${p.name}`, kind: 'sa', lines: ['ServiceAccount', `${p.namespace}/${p.name}`], namespace: p.namespace })
      : node({ key: `${p.kind.toLowerCase()}:${p.name}`, kind: p.kind === 'User' ? 'user' : 'group', lines: [p.kind, p.name] });
    const lines = [a.how, ...(a.workload ? [a.workload] : []), ...(a.overBroad.length > 0 ? ['OVER-BROAD'] : [])];
    if (a.how === 'vault-agent' && a.vault) {
      edge({ from, to: backendNode(`vault ${a.vault.path}`, 'vault'), lines, overBroad: false });
    } else if (a.secret === '*') {
      const label = a.namespace === '*' ? 'all secrets of all namespaces' : `all secrets of ${a.namespace}`;
      const to = node({ key: `all:${a.namespace}`, kind: 'all', lines: ['Secrets', label], namespace: a.namespace === '*' ? undefined : a.namespace });
      edge({ from, to, lines, overBroad: a.overBroad.length > 0 });
    } else if (a.secret) {
      const to = node({ key: `secret:${a.namespace}/${a.secret}`, kind: 'secret', lines: ['Secret', `${a.namespace}/${a.secret}`], namespace: a.namespace });
      edge({ from, to, lines, overBroad: a.overBroad.length > 0 });
    }
  }
  for (const s of map.secrets) {
    const from = node({ key: `secret:${s.namespace}/${s.name}`, kind: 'secret', lines: ['Secret', `${s.namespace}/${s.name}`], namespace: s.namespace });
    for (const source of s.sources) {
      edge({ from, to: backendNode(source.backend, 'backend'), lines: [], overBroad: false });
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

function namespacesOf(nodes: GraphNode[]): string[] {
  return [...new Set(nodes.flatMap((n) => (n.namespace ? [n.namespace] : [])))].sort();
}

// --- Mermaid -----------------------------------------------------------------------------------------

/**
 * Mermaid ids: the node kind and a number (`sa_1`, `secret_2`, `ns_1`), in order of appearance. Names never reach an
 * id, so dots, dashes, spaces and Mermaid keywords (`end`, `graph`) in names cannot break the chart; they only appear
 * in quoted, entity-escaped labels.
 */
function mermaidIds(): (key: string, kind: string) => string {
  const ids = new Map<string, string>();
  const counts = new Map<string, number>();
  return (key, kind) => {
    let id = ids.get(key);
    if (!id) {
      const n = (counts.get(kind) ?? 0) + 1;
      counts.set(kind, n);
      id = `${kind}_${n}`;
      ids.set(key, id);
    }
    return id;
  };
}

/** Mermaid label text: anything but plain characters becomes an entity code (`#34;`), so quotes, brackets and pipes cannot break out. */
export function mermaidText(text: string): string {
  return Array.from(text).map((c) => (/[A-Za-z0-9 ._,:/*=+@()-]/.test(c) ? c : `#${c.codePointAt(0)};`)).join('');
}

/** `flowchart LR`: ServiceAccount -> Secret -> backend path, one box per namespace; over-broad grants in red. */
export function renderMermaid(map: AccessMap): string {
  const { nodes, edges } = buildGraph(map);
  const ids = mermaidIds();
  const kinds = new Map(nodes.map((n) => [n.key, n.kind]));
  const mermaidId = (key: string) => ids(key, key.startsWith('ns:') ? 'ns' : kinds.get(key) ?? 'node');
  const shapes: { [kind in GraphNode['kind']]: [string, string] } = {
    sa: ['([', '])'], user: ['([', '])'], group: ['([', '])'], secret: ['[', ']'], all: ['[', ']'], backend: ['[(', ')]'], vault: ['[(', ')]'],
  };
  const declare = (n: GraphNode) => {
    const [open, close] = shapes[n.kind];
    return `${mermaidId(n.key)}${open}"${n.lines.map(mermaidText).join('<br/>')}"${close}`;
  };
  const out = ['flowchart LR'];
  for (const namespace of namespacesOf(nodes)) {
    out.push(`  subgraph ${mermaidId(`ns:${namespace}`)}["${mermaidText(`namespace ${namespace}`)}"]`);
    for (const n of nodes.filter((x) => x.namespace === namespace)) out.push(`    ${declare(n)}`);
    out.push('  end');
  }
  for (const n of nodes.filter((x) => !x.namespace)) out.push(`  ${declare(n)}`);
  const red: number[] = [];
  edges.forEach((e, i) => {
    const arrow = e.overBroad ? '==>' : '-->';
    const label = e.lines.length > 0 ? `|"${e.lines.map(mermaidText).join('<br/>')}"|` : '';
    out.push(`  ${mermaidId(e.from)} ${arrow}${label} ${mermaidId(e.to)}`);
    if (e.overBroad) red.push(i);
  });
  out.push('  classDef principal fill:#e8f0fe,stroke:#1a73e8');
  out.push('  classDef secret fill:#fef7e0,stroke:#f9ab00');
  out.push('  classDef backend fill:#e6f4ea,stroke:#188038');
  out.push('  classDef overbroad fill:#fce8e6,stroke:#d93025,stroke-width:2px');
  const classOf = (n: GraphNode) => (n.kind === 'all' ? 'overbroad' : n.kind === 'secret' ? 'secret' : n.kind === 'backend' || n.kind === 'vault' ? 'backend' : 'principal');
  for (const cls of ['principal', 'secret', 'backend', 'overbroad']) {
    const members = nodes.filter((n) => classOf(n) === cls).map((n) => mermaidId(n.key));
    if (members.length > 0) out.push(`  class ${members.join(',')} ${cls}`);
  }
  if (red.length > 0) out.push(`  linkStyle ${red.join(',')} stroke:#d93025,stroke-width:3px`);
  return out.join('\n') + '\n';
}

// --- Graphviz ----------------------------------------------------------------------------------------

/** A DOT double-quoted string: backslashes and quotes escaped, line breaks as `\n`, other control characters dropped. */
export function dotString(text: string): string {
  const escaped = text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n').replace(/[\u0000-\u001f\u007f]/g, '');
  return `"${escaped}"`;
}

function dotLabel(lines: string[]): string {
  return dotString(lines.join('\n'));
}

/** A Graphviz digraph: namespaces as clusters, over-broad grants in red. */
export function renderDot(map: AccessMap): string {
  const { nodes, edges } = buildGraph(map);
  const attrs: { [kind in GraphNode['kind']]: string } = {
    sa: 'shape=ellipse, style=filled, fillcolor="#e8f0fe"',
    user: 'shape=ellipse, style=filled, fillcolor="#e8f0fe"',
    group: 'shape=ellipse, style=filled, fillcolor="#e8f0fe"',
    secret: 'shape=note, style=filled, fillcolor="#fef7e0"',
    all: 'shape=note, style=filled, fillcolor="#fce8e6", color="#d93025"',
    backend: 'shape=cylinder, style=filled, fillcolor="#e6f4ea"',
    vault: 'shape=cylinder, style=filled, fillcolor="#e6f4ea"',
  };
  const declare = (n: GraphNode) => `${dotString(n.key)} [label=${dotLabel(n.lines)}, ${attrs[n.kind]}];`;
  const out = ['digraph "floe-secrets access-map" {', '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=9];'];
  for (const namespace of namespacesOf(nodes)) {
    out.push(`  subgraph ${dotString(`cluster_ns:${namespace}`)} {`);
    out.push(`    label=${dotString(`namespace ${namespace}`)};`);
    for (const n of nodes.filter((x) => x.namespace === namespace)) out.push(`    ${declare(n)}`);
    out.push('  }');
  }
  for (const n of nodes.filter((x) => !x.namespace)) out.push(`  ${declare(n)}`);
  for (const e of edges) {
    const style = e.overBroad ? ', color="#d93025", fontcolor="#d93025", penwidth=2' : '';
    out.push(`  ${dotString(e.from)} -> ${dotString(e.to)} [label=${dotLabel(e.lines)}${style}];`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

// --- JSON --------------------------------------------------------------------------------------------

/** Everything, for other tools: accesses, secrets with sources and key names, findings, warnings. */
export function renderJson(map: AccessMap): string {
  return JSON.stringify({ overBroad: map.findings.length > 0 || map.backendFindings.length > 0, ...map }, null, 2) + '\n';
}
