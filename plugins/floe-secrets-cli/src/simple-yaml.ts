import { isScalar, ScalarTag, Schema } from 'yaml';

// Synthesized output is large (5,000 jobs: 16 MB of YAML) and plain: block mappings and lists,
// plain and quoted one-line values, literal blocks (`|`, also as list items), `{}` and `[]`. The yaml library reads it
// at about 2 MB/s, building a document model with positions the commands need only for errors.
// This reader takes that plain subset alone, about ten times faster, and gives up (returns
// undefined) on anything else: anchors, aliases, tags, directives, flow collections, folded or
// kept blocks, multi-line plain or quoted values, explicit keys, duplicate keys, tabs, CR, and
// anything it does not understand. Its caller then reads the text with the yaml library, which
// also gives every error its line and column. It never reports anything itself, so no text of
// the input can reach a message. Plain values are typed by the yaml library's own core schema
// (YAML 1.2, as the library reads by default), so `true`, `1`, `0x1f`, `1e3`, `null` and `~`
// become what the library makes of them.

/** The core schema's scalar tags, tried in order, as the yaml library does for a plain value. */
const SCALAR_TAGS = new Schema({}).tags.filter((tag): tag is ScalarTag => tag.default === true && !('collection' in tag && tag.collection) && (tag as ScalarTag).test !== undefined);
const RESOLVE_OPTIONS = { intAsBigInt: false };

/**
 * The first characters of every plain value the core schema reads as something else than a string
 * (`~`, `null`, `true`, `false`, numbers, `.inf`, `.nan`): any other plain value is a string, without
 * trying the schema's patterns.
 */
const MAYBE_NOT_STRING = new Set([...'~nNtTfF+-.0123456789'].map((c) => c.charCodeAt(0)));

/** Nesting deeper than this is left to the yaml library. */
const MAX_DEPTH = 100;

/** Characters a plain value may not start with (indicators); `-` is checked apart. */
const INDICATOR_START = new Set([...'?:,[]{}#&*!|>\'"%@`']);

/** Tabs, CR, control characters, line breaks of other YAML versions, byte-order marks: the whole text goes to the yaml library. */
const UNUSUAL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/;

/** Gives up on the text: it is outside the plain subset. */
class NotSimple extends Error {}

const SPACE = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;

/**
 * The documents of `text`, as the yaml library reads them (`parseAllDocuments(text)` then
 * `toJS()`; `null` for an empty document), or undefined when the text is not plain enough for
 * this reader: then read it with the yaml library.
 */
export function parseSimpleYaml(text: string): unknown[] | undefined {
  if (UNUSUAL.test(text)) return undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  // The indentation of each line, or -1 for a blank line or a comment.
  const indents = new Int32Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const indent = indentOf(line, 0);
    indents[i] = indent === line.length || line.charCodeAt(indent) === HASH ? -1 : indent;
  }
  // Documents: the lines between `---` markers. Lines before the first marker are a document of
  // their own only when they hold more than comments (else they are the next document's comments).
  const regions: Array<[number, number]> = [];
  let start = 0;
  let marked = false;
  for (let i = 0; i <= lines.length; i++) {
    if (i < lines.length) {
      const first = lines[i].charCodeAt(0);
      if (first !== DASH && first !== 46 && first !== 37) continue; // '-', '.', '%'
      const line = lines[i];
      if (!line.startsWith('---') && !line.startsWith('...') && !line.startsWith('%')) continue;
      if (!/^--- *$/.test(line)) return undefined; // `...`, `%YAML`, `--- |`, `---x`
    }
    if (marked || hasContent(indents, start, i)) regions.push([start, i]);
    marked = true;
    start = i + 1;
  }
  try {
    return regions.map(([from, to]) => new DocumentReader(lines, indents, from, to).read());
  } catch (error) {
    if (error instanceof NotSimple) return undefined;
    throw error;
  }
}

function hasContent(indents: Int32Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (indents[i] >= 0) return true;
  return false;
}

/** The column of the first character of `line` from `from` on that is not a space. */
function indentOf(line: string, from: number): number {
  let i = from;
  while (i < line.length && line.charCodeAt(i) === SPACE) i++;
  return i;
}

function fail(): never {
  throw new NotSimple();
}

/** Reads the lines [from, to) of one document. */
class DocumentReader {
  private next: number;
  /** The key read by the last {@link key} call. */
  private lastKey = '';

  public constructor(
    private readonly lines: string[], private readonly indents: Int32Array, from: number, private readonly to: number,
  ) {
    this.next = from;
  }

  /** The document's value: a mapping (null when it is empty); anything else is left to the yaml library. */
  public read(): unknown {
    const i = this.peek();
    if (i < 0) return null;
    const indent = this.indents[i];
    if (isSequenceItem(this.lines[i], indent)) fail(); // not a Kubernetes object: the yaml library says where
    const value = this.mapping(indent, 0);
    if (this.peek() >= 0) fail();
    return value;
  }

  /** The next line that is not blank or a comment (moving past those), or -1 at the end. */
  private peek(): number {
    while (this.next < this.to && this.indents[this.next] < 0) this.next++;
    return this.next < this.to ? this.next : -1;
  }

  /**
   * A block mapping whose keys are at column `indent`. With `inline`, its first key is on the
   * current line (after a sequence item's `- `).
   */
  private mapping(indent: number, depth: number, inline = false): { [key: string]: unknown } {
    if (depth > MAX_DEPTH) fail();
    const result: { [key: string]: unknown } = {};
    let first = inline;
    for (;;) {
      let i: number;
      if (first) {
        i = this.next;
        first = false;
      } else {
        i = this.peek();
        if (i < 0) break;
        const lineIndent = this.indents[i];
        if (lineIndent < indent) break;
        if (lineIndent > indent || isSequenceItem(this.lines[i], indent)) fail();
      }
      this.next = i + 1;
      const line = this.lines[i];
      const valueAt = this.key(line, indent);
      const key = this.lastKey;
      if (Object.prototype.hasOwnProperty.call(result, key) || key === '__proto__' || key === '<<') fail();
      result[key] = this.value(line, valueAt, indent, depth);
    }
    return result;
  }

  /** Reads the plain or quoted key at column `at` of `line` into {@link lastKey}; returns where its value starts (after the colon). */
  private key(line: string, at: number): number {
    const c = line.charCodeAt(at);
    if (c === 34 || c === 39) {
      const quoted = readQuoted(line, at);
      if (line.charCodeAt(quoted.end) !== COLON || quoted.end - at > 1024) fail();
      const after = quoted.end + 1;
      if (after < line.length && line.charCodeAt(after) !== SPACE) fail();
      this.lastKey = quoted.value;
      return after;
    }
    const end = keyEnd(line, at);
    if (end <= at || line.charCodeAt(end - 1) === SPACE || end - at > 1024) fail(); // `key :`; a key the library refuses as too long
    const raw = line.slice(at, end);
    if (typeof plain(raw) !== 'string') fail(); // a number, boolean or null as a key: left to the library
    this.lastKey = raw;
    return end + 1;
  }

  /** A block sequence whose `-` are at column `indent`; the current line is its first item. */
  private sequence(indent: number, depth: number): unknown[] {
    if (depth > MAX_DEPTH) fail();
    const result: unknown[] = [];
    for (;;) {
      const i = this.peek();
      if (i < 0) break;
      const lineIndent = this.indents[i];
      if (lineIndent < indent) break;
      if (lineIndent > indent) fail();
      const line = this.lines[i];
      if (!isSequenceItem(line, indent)) break;
      const at = indentOf(line, indent + 1);
      const c = line.charCodeAt(at);
      if (at === line.length || c === HASH) {
        this.next = i + 1;
        result.push(this.child(indent, depth, false));
      } else if (c === 124) { // `- |`: a literal block item (a wrapped command's script)
        this.next = i + 1;
        result.push(this.literal(line.slice(at), indent));
      } else if (isSequenceItem(line, at) || c === 62) { // `- - x`, `- >`
        fail();
      } else if (startsMappingEntry(line, at)) {
        // `- key: value`: a mapping whose keys line up with this first key
        this.next = i;
        result.push(this.mapping(at, depth + 1, true));
      } else {
        this.next = i + 1;
        result.push(scalar(line, at));
      }
    }
    return result;
  }

  /** The value that starts at column `at` of `line`, after the colon of a key of a mapping at column `indent`. */
  private value(line: string, at: number, indent: number, depth: number): unknown {
    const start = indentOf(line, at);
    if (start === line.length || line.charCodeAt(start) === HASH) {
      if (start === at && start < line.length) fail();
      return this.child(indent, depth, true);
    }
    if (line.charCodeAt(start) === 124) return this.literal(line.slice(start), indent); // '|'
    return scalar(line, start);
  }

  /**
   * The block value on the lines below an entry at column `indent`: a mapping or list indented
   * further, a list at the same column (`key:` then `- item`, when `compact`), or null.
   */
  private child(indent: number, depth: number, compact: boolean): unknown {
    const i = this.peek();
    if (i < 0) return null;
    const lineIndent = this.indents[i];
    const line = this.lines[i];
    if (lineIndent > indent) {
      return isSequenceItem(line, lineIndent) ? this.sequence(lineIndent, depth + 1) : this.mapping(lineIndent, depth + 1);
    }
    if (compact && lineIndent === indent && isSequenceItem(line, indent)) return this.sequence(indent, depth + 1);
    return null;
  }

  /** A literal block (`|` or `|-`) under an entry at column `indent`. */
  private literal(header: string, indent: number): string {
    if (header !== '|' && header !== '|-') fail(); // `|+`, `|2`, a comment after the header: left to the library
    const content: string[] = [];
    let contentIndent = -1;
    let trailingBlank = 0;
    while (this.next < this.to) {
      const line = this.lines[this.next];
      const lineIndent = indentOf(line, 0);
      if (lineIndent === line.length) {
        // An empty line; one of spaces only is left to the library where it is more than an indentation.
        if (contentIndent < 0 ? line.length > 0 : line.length > contentIndent) fail();
        content.push('');
        trailingBlank++;
        this.next++;
        continue;
      }
      if (contentIndent < 0) {
        if (lineIndent <= indent) break;
        contentIndent = lineIndent;
      } else if (lineIndent < contentIndent) {
        break;
      }
      content.push(line.slice(contentIndent));
      trailingBlank = 0;
      this.next++;
    }
    if (contentIndent < 0) fail(); // an empty block: left to the library
    const body = content.slice(0, content.length - trailingBlank).join('\n');
    return header === '|' ? `${body}\n` : body;
  }
}

/** Whether `line` has a sequence item (`-` then a space or the end) at column `indent`. */
function isSequenceItem(line: string, indent: number): boolean {
  return line.charCodeAt(indent) === DASH && (line.length === indent + 1 || line.charCodeAt(indent + 1) === SPACE);
}

/** Whether the item at column `at` of `line` starts with `key:` rather than being a value. */
function startsMappingEntry(line: string, at: number): boolean {
  const c = line.charCodeAt(at);
  if (c === 34 || c === 39) return line.charCodeAt(readQuoted(line, at).end) === COLON;
  return keyEnd(line, at) >= 0;
}

/** Where the plain key at column `from` of `line` ends (its `:` followed by a space or the end), or -1. */
function keyEnd(line: string, from: number): number {
  for (let i = from; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === COLON && (i + 1 === line.length || line.charCodeAt(i + 1) === SPACE)) return i;
    if (c === HASH && i > from && line.charCodeAt(i - 1) === SPACE) return -1; // ' #': a comment
  }
  return -1;
}

/** The one-line value at column `at` of `line`: quoted, `{}`, `[]` or plain (with an optional comment after it). */
function scalar(line: string, at: number): unknown {
  const c = line.charCodeAt(at);
  if (c === 34 || c === 39) {
    const quoted = readQuoted(line, at);
    const after = indentOf(line, quoted.end);
    if (after < line.length && (line.charCodeAt(after) !== HASH || after === quoted.end)) fail();
    return quoted.value;
  }
  // The value ends at a comment (` #`); `: ` or a final `:` before that would make it a mapping.
  let end = line.length;
  for (let i = at + 1; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (ch === HASH && line.charCodeAt(i - 1) === SPACE) {
      end = i;
      break;
    }
    if (ch === COLON && (i + 1 === line.length || line.charCodeAt(i + 1) === SPACE)) fail();
  }
  while (end > at && line.charCodeAt(end - 1) === SPACE) end--;
  const value = line.slice(at, end);
  if (value === '{}') return {};
  if (value === '[]') return [];
  return plain(value);
}

/**
 * A plain one-line value (or key), typed by the core schema; fails on what could be anything else.
 * The caller has checked that it holds no `: ` or ` #`.
 */
function plain(value: string): unknown {
  if (value === '' || INDICATOR_START.has(value[0])) fail();
  if (value.charCodeAt(0) === DASH && (value.length === 1 || value.charCodeAt(1) === SPACE)) fail();
  if (value.charCodeAt(value.length - 1) === COLON) fail();
  if (!MAYBE_NOT_STRING.has(value.charCodeAt(0))) return value;
  for (const tag of SCALAR_TAGS) {
    if (!tag.test!.test(value)) continue;
    let failed = false;
    const resolved = tag.resolve(value, () => (failed = true), RESOLVE_OPTIONS as never) as unknown;
    if (failed) fail();
    return isScalar(resolved) ? resolved.value : resolved;
  }
  return value;
}

/** The quoted string at column `at` of `line`: its value, and where it ends (after the closing quote). */
function readQuoted(line: string, at: number): { value: string; end: number } {
  if (line.charCodeAt(at) === 39) {
    let value = '';
    let i = at + 1;
    for (;;) {
      const close = line.indexOf('\'', i);
      if (close < 0) fail(); // a quoted value that goes on to the next line
      value += line.slice(i, close);
      if (line.charCodeAt(close + 1) === 39) {
        value += '\'';
        i = close + 2;
        continue;
      }
      return { value, end: close + 1 };
    }
  }
  let i = at + 1;
  let escaped = false;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 92) { // a backslash
      // The escapes YAML shares with JSON, read by JSON.parse below; others are left to the library.
      const next = line[i + 1];
      if (next === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(line.slice(i + 2, i + 6))) fail();
      } else if (next === undefined || !'"\\/bfnrt'.includes(next)) {
        fail();
      }
      escaped = true;
      i++;
      continue;
    }
    if (c === 34) break;
  }
  if (i >= line.length) fail();
  const body = line.slice(at + 1, i);
  if (!escaped) return { value: body, end: i + 1 };
  try {
    return { value: JSON.parse(`"${body}"`) as string, end: i + 1 };
  } catch {
    return fail();
  }
}
