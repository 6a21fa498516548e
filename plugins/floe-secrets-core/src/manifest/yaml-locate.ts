import { Document, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Node } from 'yaml';

/** One step of a path into a parsed YAML document: a mapping key or a list index. */
export type YamlPathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/**
 * A path as a platform engineer reads it in the YAML: `plugins.secrets.site_url`,
 * `domains[1].name`, `compute["odd.name"].type`. The empty path is the empty string.
 */
export function formatYamlPath(path: ReadonlyArray<YamlPathSegment>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The line (1-based) on which `offset` lies. */
export function lineAt(lineCounter: LineCounter, offset: number): number {
  return lineCounter.linePos(offset).line;
}

/**
 * The line of the node at `path` in `doc`, which has content: for a mapping entry the line of its
 * key, for a list item the line of the item. When the path leads nowhere (a missing key), the line
 * of the deepest node that does exist: the parent's key, so "is missing" points at the mapping
 * that lacks it.
 */
export function locateLine(doc: Document, lineCounter: LineCounter, path: ReadonlyArray<YamlPathSegment>): number {
  let node: unknown = doc.contents;
  let line = startLine(lineCounter, node);
  for (const segment of path) {
    let next: { at: unknown; node: unknown } | undefined;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair) next = { at: pair.key, node: pair.value };
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      next = { at: node.items[segment], node: node.items[segment] };
    }
    if (!next) break;
    line = startLine(lineCounter, next.at);
    node = isAlias(next.node) ? next.node.resolve(doc) : next.node;
  }
  return line;
}

/** Parsed nodes always carry their range. */
function startLine(lineCounter: LineCounter, node: unknown): number {
  return lineAt(lineCounter, (node as Node).range![0]);
}
