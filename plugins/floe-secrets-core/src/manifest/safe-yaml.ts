import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Document, ErrorCode, isAlias, isCollection, isNode, isPair, LineCounter, parseAllDocuments, visit, YAMLError } from 'yaml';

// YAML that may hold credentials (a manifest, a Secret), parsed so that nothing of its text reaches
// a message: the yaml library's own messages quote the source ("Unresolved alias ...: <name>",
// "Unresolved tag: !<tag>", "Unknown directive %<name>", the source excerpt of prettyErrors) and it
// prints warnings with content through process.emitWarning (a mapping used as a key, `{{ x }}`).
// Here every problem is described by its code alone, and the library never logs.

/**
 * Parse options for YAML whose text must never be echoed: no source excerpts, no printed warnings.
 * `error`, not `silent`: with `silent` the library also drops errors (`parse()` returns data from
 * broken YAML, `parseDocument()` ignores a second document).
 */
export const QUIET_YAML_OPTIONS = { prettyErrors: false, logLevel: 'error' } as const;

/** The most aliases a document may expand (the yaml library's default; more is a "billion laughs"). */
export const MAX_YAML_ALIAS_COUNT = 100;

/** What can be wrong with YAML: the yaml library's codes, and what this module finds itself. */
export type YamlProblemCode = ErrorCode | 'UNRESOLVED_ALIAS' | 'COLLECTION_KEY' | 'ALIAS_KEY' | 'UNREADABLE';

/**
 * One problem in YAML text, described without any of that text: the kind of problem, where it is
 * and how to fix it.
 */
export interface YamlProblem {
  /** What kind of problem (the yaml library's error code, or one of this module's). */
  readonly code: YamlProblemCode;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  /** `<problem>; <fix>`, never quoting the text. */
  readonly message: string;
}

const PROBLEMS: { readonly [code in YamlProblemCode]: string } = {
  ALIAS_PROPS: 'an alias (*name) carries a tag or an anchor; remove the tag or anchor from the alias',
  BAD_ALIAS: 'an anchor or alias name is ambiguous or malformed (e.g. it ends with ":"); rename it, or put a space after it',
  BAD_DIRECTIVE: 'an unknown or malformed "%" directive; remove it (only %YAML and %TAG are known)',
  BAD_DQ_ESCAPE: 'a double-quoted string holds an invalid escape sequence; write a backslash as "\\\\", or use single quotes',
  BAD_INDENT: 'the indentation is wrong, or a "[" or "{" is not closed; indent the entries of one mapping or list by the same number of spaces, and close every bracket',
  BAD_PROP_ORDER: 'an anchor or tag is in the wrong place; put it right before the value it belongs to',
  BAD_SCALAR_START: 'a plain value starts with a reserved character (such as @, ` or an indicator); quote the value',
  BLOCK_AS_IMPLICIT_KEY: 'a nested mapping is written where a single value was expected (a value holding ": "?); quote the value, or put the mapping on its own lines',
  BLOCK_IN_FLOW: 'a block value is written inside { } or [ ]; use flow style inside the brackets, or write the collection in block style',
  DUPLICATE_KEY: 'a key is given twice in one mapping; keep one of them',
  IMPOSSIBLE: 'the YAML parser failed; simplify the YAML around this place',
  KEY_OVER_1024_CHARS: 'an implicit key is longer than 1024 characters; shorten it, or write it as an explicit key ("? ")',
  MISSING_CHAR: 'a closing quote or bracket is missing; close the quoted string, { } or [ ]',
  MULTILINE_IMPLICIT_KEY: 'a key spans several lines (an unclosed quote, or a value holding ": "?); write the key on one line, and quote such values',
  MULTIPLE_ANCHORS: 'a value has more than one anchor; keep one',
  MULTIPLE_DOCS: 'the text holds more than one YAML document; keep one (remove the "---" separators)',
  MULTIPLE_TAGS: 'a value has more than one tag; keep one',
  NON_STRING_KEY: 'a mapping key is not a string; quote the key',
  RESOURCE_EXHAUSTION: `aliases expand to too much (more than ${MAX_YAML_ALIAS_COUNT} values); write the values out instead of aliasing them`,
  TAB_AS_INDENT: 'a tab is used for indentation; indent with spaces',
  TAG_RESOLVE_FAILED: 'a tag ("!name" or "!!name") is unknown or does not fit its value; remove the tag',
  UNEXPECTED_TOKEN: 'an unexpected character or token; check the quoting and indentation here (quote values that start with a special character)',
  BAD_COLLECTION_TYPE: 'a tag is used for the wrong kind of value (a mapping, a list or a single value); remove the tag',
  UNRESOLVED_ALIAS: 'an alias (*name) refers to no anchor (&name) before it; define the anchor first, or quote a value that starts with "*"',
  COLLECTION_KEY: 'a mapping or list is used as a key (as in "{{ x }}"); use a plain key, and quote a value that starts with "{"',
  ALIAS_KEY: 'an alias (*name) is used as a key; write the key out (a key reached through an alias could be a credential)',
  UNREADABLE: 'the YAML cannot be converted to data; simplify the YAML around this place',
};

/** `<problem>; <fix>` for a kind of YAML problem; never any of the text. */
export function describeYamlProblem(code: YamlProblemCode): string {
  return PROBLEMS[code] ?? PROBLEMS.IMPOSSIBLE;
}

/** The documents of a YAML text, and the problems of a text that holds none. */
export interface QuietYaml {
  /** Every document, empty ones included. */
  readonly documents: Document.Parsed[];
  /** Errors outside any document (a text of directives or comments only). */
  readonly errors: YamlProblem[];
}

/**
 * Parses every YAML document of `text` without printing anything and without error messages that
 * quote the text: read problems with {@link yamlErrors}, {@link yamlWarnings} and {@link yamlToJS},
 * never through the documents' own `errors` messages.
 *
 * @param lineCounter filled with the text's line starts, for the problems' positions
 */
export function parseYamlQuietly(text: string, lineCounter: LineCounter): QuietYaml {
  const parsed = parseAllDocuments(text, { ...QUIET_YAML_OPTIONS, lineCounter });
  if (parsed.length > 0) return { documents: [...parsed], errors: [] };
  const stream = parsed as unknown as { errors?: YAMLError[] };
  return { documents: [], errors: (stream.errors ?? []).map((error) => problemAt(error.code, error.pos[0], lineCounter)) };
}

/** The document's errors, by kind and position only. */
export function yamlErrors(doc: Document, lineCounter: LineCounter): YamlProblem[] {
  return doc.errors.map((error) => problemAt(error.code, error.pos[0], lineCounter));
}

/** The document's warnings (an unknown tag or directive, ...), by kind and position only. */
export function yamlWarnings(doc: Document, lineCounter: LineCounter): YamlProblem[] {
  return doc.warnings.map((warning: YAMLError) => problemAt(warning.code, warning.pos[0], lineCounter));
}

/**
 * The document's data, or the first problem that prevents it: an alias without an anchor, a
 * mapping or list used as a key, aliases that expand too much. Call it on a document without
 * {@link yamlErrors}.
 */
export function yamlToJS(doc: Document, lineCounter: LineCounter): { readonly value: unknown } | { readonly problem: YamlProblem } {
  const found = structuralProblem(doc, lineCounter);
  if (found) return { problem: found };
  try {
    return { value: doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT }) };
  } catch (error) {
    // The library's message may name an alias or quote a key: keep only what kind of failure it was.
    const exhausted = error instanceof ReferenceError && /^Excessive alias count/.test(error.message);
    const offset = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
    return { problem: problemAt(exhausted ? 'RESOURCE_EXHAUSTION' : 'UNREADABLE', offset, lineCounter) };
  }
}

/** The first alias without an anchor before it, or key that is a mapping, list or alias, in document order. */
function structuralProblem(doc: Document, lineCounter: LineCounter): YamlProblem | undefined {
  const anchors = new Set<string>();
  let found: YamlProblem | undefined;
  visit(doc, {
    Pair: (_key, pair) => {
      if (isPair(pair) && (isCollection(pair.key) || isAlias(pair.key))) {
        found = problemAt(isAlias(pair.key) ? 'ALIAS_KEY' : 'COLLECTION_KEY', pair.key.range?.[0] ?? 0, lineCounter);
        return visit.BREAK;
      }
      return undefined;
    },
    Node: (_key, node) => {
      if (isAlias(node)) {
        if (!anchors.has(node.source)) {
          found = problemAt('UNRESOLVED_ALIAS', node.range?.[0] ?? 0, lineCounter);
          return visit.BREAK;
        }
      } else if (isNode(node) && node.anchor) {
        anchors.add(node.anchor);
      }
      return undefined;
    },
  });
  return found;
}

function problemAt(code: YamlProblemCode, offset: number, lineCounter: LineCounter): YamlProblem {
  const { line, col } = lineCounter.linePos(offset);
  return { code, line, column: col, message: describeYamlProblem(code) };
}

/** A file larger than the cap it is read with. */
export class FileTooLargeError extends Error {
  public constructor(public readonly path: string, public readonly maxBytes: number) {
    super(`${path} is larger than ${formatBytes(maxBytes)}`);
    this.name = 'FileTooLargeError';
  }
}

/** `1 MiB`, `64 KiB`, `300 bytes`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * Reads a UTF-8 text file, but never more than `maxBytes` of it: a regular file over the cap is
 * refused from its size, without reading it; anything else (a device such as /dev/zero, a FIFO) is
 * read up to the cap and refused when it goes on.
 *
 * @throws FileTooLargeError when the file holds more than `maxBytes`
 * @throws the filesystem's error (with its `code`) when it cannot be opened or read
 */
export function readTextFileCapped(path: string, maxBytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
    if (stat.isFile() && stat.size > maxBytes) throw new FileTooLargeError(path, maxBytes);
    const decoder = new StringDecoder('utf8');
    const chunk = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024));
    let text = '';
    let total = 0;
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      total += read;
      if (total > maxBytes) throw new FileTooLargeError(path, maxBytes);
      text += decoder.write(chunk.subarray(0, read));
    }
    return text + decoder.end();
  } finally {
    closeSync(fd);
  }
}
