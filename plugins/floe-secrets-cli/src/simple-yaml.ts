import { isScalar, ScalarTag, Schema } from 'yaml';

// Synthesized output is large (5,000 jobs: 16 MB of YAML) and plain: block mappings and lists,
// plain and quoted one-line values, literal blocks (`|`), `{}` and `[]`. The yaml library reads it
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

/** Nesting deeper than this is left to the yaml library. */
const MAX_DEPTH = 100;

/** Characters a plain value may not start with (indicators); `-` is checked apart. */
const INDICATOR_START = new Set([...'?:,[]{}#&*!|>\'"%@`']);

/** Tabs, CR, control characters, line breaks of other YAML versions, byte-order marks: the whole text goes to the yaml library. */
const UNUSUAL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/;

/** Gives up on the text: it is outside the plain subset. */
class NotSimple extends Error {}

/**
 * The documents of `text`, as the yaml library reads them (`parseAllDocuments(text)` then
 * `toJS()`; `null` for an empty document), or undefined when the text is not plain enough for
 * this reader: then read it with the yaml library.
 */
export function parseSimpleYaml(text: string): unknown[] | undefined {
  if (UNUSUAL.test(text)) return undefined;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  // Documents: the lines between `---` markers. Lines before the first marker are a document of
  // their own only when they hold more than comments (else they are the next document's comments).
  const regions: Array<[number, number]> = [];
  let start = 0;
  let marked = false;
  for (let i = 0; i <= lines.length; i++) {
    const line = i < lines.length ? lines[i] : undefined;
    if (line !== undefined && !line.startsWith('---') && !line.startsWith('...') && !line.startsWith('%')) continue;
    if (line !== undefined && !/^--- *$/.test(line)) return undefined; // `...`, `%YAML`, `--- |`, `---x`
    if (marked || hasContent(lines, start, i)) regions.push([start, i]);
    marked = true;
    start = i + 1;
  }
  try {
    return regions.map(([from, to]) => new DocumentReader(lines, from, to).read());
  } catch (error) {
    if (error instanceof NotSimple) return undefined;
    throw error;
  }
}

function hasContent(lines: string[], from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isBlankOrComment(lines[i])) return true;
  return false;
}

function isBlankOrComment(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 32) continue;
    return c === 35; // '#'
  }
  return true;
}

function indentOf(line: string): number {
  let i = 0;
  while (i < line.length && line.charCodeAt(i) === 32) i++;
  return i;
}

/** `text` without its leading (or trailing) spaces: YAML's white space, not JavaScript's (a no-break space is text). */
function trimSpaces(text: string, leading: boolean): string {
  if (leading) return text.slice(indentOf(text));
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 32) end--;
  return text.slice(0, end);
}

function fail(): never {
  throw new NotSimple();
}

/** Reads the lines [from, to) of one document. */
class DocumentReader {
  private next: number;

  public constructor(private readonly lines: string[], from: number, private readonly to: number) {
    this.next = from;
  }

  /** The document's value: a mapping (null when it is empty); anything else is left to the yaml library. */
  public read(): unknown {
    const line = this.peek();
    if (line === undefined) return null;
    const indent = indentOf(line);
    if (isSequenceItem(line, indent)) fail(); // not a Kubernetes object: the yaml library says where
    const value = this.mapping(indent, 0);
    if (this.peek() !== undefined) fail();
    return value;
  }

  /** The next line that is not blank or a comment (moving past those), or undefined at the end. */
  private peek(): string | undefined {
    while (this.next < this.to && isBlankOrComment(this.lines[this.next])) this.next++;
    return this.next < this.to ? this.lines[this.next] : undefined;
  }

  /** A block mapping whose keys are at column `indent`; the current line is its first entry. */
  private mapping(indent: number, depth: number, first?: string): { [key: string]: unknown } {
    if (depth > MAX_DEPTH) fail();
    const result: { [key: string]: unknown } = {};
    let text = first;
    for (;;) {
      if (text === undefined) {
        const line = this.peek();
        if (line === undefined) break;
        const lineIndent = indentOf(line);
        if (lineIndent < indent) break;
        if (lineIndent > indent || isSequenceItem(line, indent)) fail();
        text = line.slice(indent);
      }
      this.next++;
      const { key, rest } = splitKey(text);
      if (Object.prototype.hasOwnProperty.call(result, key) || key === '__proto__' || key === '<<') fail();
      result[key] = this.value(rest, indent, depth);
      text = undefined;
    }
    return result;
  }

  /** A block sequence whose `-` are at column `indent`; the current line is its first item. */
  private sequence(indent: number, depth: number): unknown[] {
    if (depth > MAX_DEPTH) fail();
    const result: unknown[] = [];
    for (;;) {
      const line = this.peek();
      if (line === undefined) break;
      const lineIndent = indentOf(line);
      if (lineIndent < indent) break;
      if (lineIndent > indent) fail();
      if (!isSequenceItem(line, indent)) break;
      const after = line.slice(indent + 1);
      const spaces = indentOf(after);
      const item = after.slice(spaces);
      if (item === '' || item.startsWith('#')) {
        if (item !== '' && spaces === 0) fail();
        this.next++;
        result.push(this.child(indent, depth, false));
      } else if (isSequenceItem(item, 0) || item.startsWith('|') || item.startsWith('>')) {
        fail();
      } else if (startsMappingEntry(item)) {
        // `- key: value`: a mapping whose keys line up with this first key
        result.push(this.mapping(indent + 1 + spaces, depth + 1, item));
      } else {
        this.next++;
        result.push(scalar(item));
      }
    }
    return result;
  }

  /** The value after `key:` (`rest` is what follows the colon) of a mapping at column `indent`. */
  private value(rest: string, indent: number, depth: number): unknown {
    const text = trimSpaces(rest, true);
    if (text === '' || text.startsWith('#')) {
      if (text !== '' && rest.length === text.length) fail();
      return this.child(indent, depth, true);
    }
    if (text.startsWith('|')) return this.literal(text, indent);
    return scalar(text);
  }

  /**
   * The block value on the lines below an entry at column `indent`: a mapping or list indented
   * further, a list at the same column (`key:` then `- item`, when `compact`), or null.
   */
  private child(indent: number, depth: number, compact: boolean): unknown {
    const line = this.peek();
    if (line === undefined) return null;
    const lineIndent = indentOf(line);
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
      const lineIndent = indentOf(line);
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
  return line.charCodeAt(indent) === 45 && (line.length === indent + 1 || line.charCodeAt(indent + 1) === 32);
}

/** Whether `text` (at a sequence item) starts with `key:` rather than being a value. */
function startsMappingEntry(text: string): boolean {
  if (text.startsWith('"') || text.startsWith('\'')) {
    const quoted = readQuoted(text);
    return text.slice(quoted.end).startsWith(':');
  }
  return keyEnd(text) >= 0;
}

/** Where the plain key of `text` ends (its `:` followed by a space or the end), or -1. */
function keyEnd(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 58 && (i + 1 === text.length || text.charCodeAt(i + 1) === 32)) return i; // ':'
    if (c === 35 && i > 0 && text.charCodeAt(i - 1) === 32) return -1; // ' #': a comment
  }
  return -1;
}

/** Splits `key: rest`; the key is a plain or quoted string. */
function splitKey(text: string): { key: string; rest: string } {
  if (text.startsWith('"') || text.startsWith('\'')) {
    const quoted = readQuoted(text);
    if (text.charCodeAt(quoted.end) !== 58 || quoted.end > 1024) fail();
    const rest = text.slice(quoted.end + 1);
    if (rest !== '' && !rest.startsWith(' ')) fail();
    return { key: quoted.value, rest };
  }
  const end = keyEnd(text);
  if (end <= 0) fail();
  const raw = text.slice(0, end);
  if (raw.endsWith(' ') || raw.length > 1024) fail(); // `key :`; a key the library refuses as too long
  const key = plain(raw);
  if (typeof key !== 'string') fail(); // a number, boolean or null as a key: left to the library
  return { key, rest: text.slice(end + 1) };
}

/** A one-line value: quoted, `{}`, `[]` or plain (with an optional comment after it). */
function scalar(text: string): unknown {
  if (text.startsWith('"') || text.startsWith('\'')) {
    const quoted = readQuoted(text);
    const after = text.slice(quoted.end);
    const trimmed = trimSpaces(after, true);
    if (trimmed !== '' && !(trimmed.startsWith('#') && trimmed.length < after.length)) fail();
    return quoted.value;
  }
  let end = text.length;
  for (let i = 1; i < text.length; i++) {
    if (text.charCodeAt(i) === 35 && text.charCodeAt(i - 1) === 32) {
      end = i;
      break;
    }
  }
  const value = trimSpaces(text.slice(0, end), false);
  if (value === '{}') return {};
  if (value === '[]') return [];
  return plain(value);
}

/** A plain one-line value, typed by the core schema; fails on what could be anything else. */
function plain(value: string): unknown {
  if (value === '' || INDICATOR_START.has(value[0])) fail();
  if (value[0] === '-' && (value.length === 1 || value[1] === ' ')) fail();
  if (value.includes(': ') || value.endsWith(':') || value.includes(' #')) fail();
  for (const tag of SCALAR_TAGS) {
    if (!tag.test!.test(value)) continue;
    let failed = false;
    const resolved = tag.resolve(value, () => (failed = true), RESOLVE_OPTIONS as never) as unknown;
    if (failed) fail();
    return isScalar(resolved) ? resolved.value : resolved;
  }
  return value;
}

/** A quoted string at the start of `text`: its value, and where it ends (after the closing quote). */
function readQuoted(text: string): { value: string; end: number } {
  const quote = text[0];
  if (quote === '\'') {
    let value = '';
    let i = 1;
    for (;;) {
      const close = text.indexOf('\'', i);
      if (close < 0) fail(); // a quoted value that goes on to the next line
      value += text.slice(i, close);
      if (text[close + 1] === '\'') {
        value += '\'';
        i = close + 2;
        continue;
      }
      return { value, end: close + 1 };
    }
  }
  let i = 1;
  let escaped = false;
  for (; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      // The escapes YAML shares with JSON, read by JSON.parse below; others are left to the library.
      const next = text[i + 1];
      if (next === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail();
      } else if (next === undefined || !'"\\/bfnrt'.includes(next)) {
        fail();
      }
      escaped = true;
      i++;
      continue;
    }
    if (c === '"') break;
  }
  if (i >= text.length) fail();
  const body = text.slice(1, i);
  if (!escaped) return { value: body, end: i + 1 };
  try {
    return { value: JSON.parse(`"${body}"`) as string, end: i + 1 };
  } catch {
    return fail();
  }
}
