import { readdirSync, realpathSync, statSync } from 'node:fs';
import { extname, isAbsolute, join, relative, resolve } from 'node:path';
import { FileTooLargeError, formatBytes, parseYamlQuietly, readTextFileCapped, YamlProblem, yamlErrors, yamlToJS, yamlWarnings } from '@floe-secrets/core';
import { LineCounter } from 'yaml';
import { describeFsError } from './fs-errors';
import { CliError } from './io';
import { parseSimpleYaml } from './simple-yaml';

/**
 * The largest manifest file read (32 MiB): far more than any cdk8s app synthesizes (the apiserver
 * takes objects of at most about 1.5 MiB); a larger file, or a device such as /dev/zero, is refused
 * without being read whole.
 */
export const MAX_MANIFEST_FILE_BYTES = 32 * 1024 * 1024;

/** One Kubernetes object read from a manifest file. */
export interface ManifestDocument {
  /** The file it came from, relative to the working directory when inside it. */
  readonly file: string;
  /** Zero-based index of the YAML document in the file (counting empty documents too). */
  readonly index: number;
  /** Zero-based index in `items` when the document is a `kind: List` (kubectl get -o yaml). */
  readonly item?: number;
  /** The parsed object: has `apiVersion`, `kind` and `metadata.name` (or `metadata.generateName`). */
  readonly object: any;
}

/** Everything read from the given paths. */
export interface Manifests {
  /** The Kubernetes objects, in file order then document order. */
  readonly documents: ManifestDocument[];
  /** Every file read, in order (relative to the working directory when inside it). */
  readonly files: string[];
  /**
   * YAML that was read but is doubtful (an unknown tag or directive), as `<file>: line L, column C:
   * <problem>; <fix>`, never quoting the text.
   */
  readonly warnings: string[];
}

/** How {@link readManifests} reads. */
export interface ReadManifestsOptions {
  /**
   * Read plain YAML (block mappings and lists, one-line values, literal blocks: what cdk8s writes)
   * with a reader about ten times faster than the yaml library, which still reads any file that is
   * not that plain or that has a problem, so that results, errors and warnings are the same.
   *
   * @default false
   */
  readonly fast?: boolean;

  /**
   * With `fast`, the values of the plain YAML texts read so far, by text: a file whose text is in
   * it is not parsed again, and the texts read are added. Two synthesized outputs mostly agree,
   * file for file: read the second with the map of the first. The values are shared, not copied:
   * nothing may change them.
   *
   * @default - every file is parsed
   */
  readonly parsed?: Map<string, unknown[]>;
}

/** Extensions read when walking a directory; a file named explicitly is read whatever its name. */
export const MANIFEST_EXTENSIONS: readonly string[] = ['.yaml', '.yml', '.json'];

/**
 * The file `cdk8s synth` writes into its output folder when validations are enabled (the path of
 * the construct that made each object): JSON, but not a Kubernetes object, so skipped when walking
 * a directory. Named explicitly, it is read like any file (and refused as not a Kubernetes object).
 */
export const CDK8S_CONSTRUCT_METADATA = 'construct-metadata.json';

/**
 * Reads Kubernetes manifests: files and directories (walked recursively, sorted by name, only
 * .yaml/.yml/.json, skipping hidden entries, node_modules and {@link CDK8S_CONSTRUCT_METADATA}), every YAML document of each file (JSON is read as YAML), skipping empty
 * documents and expanding `kind: List`. Throws a CliError (exit 2) naming the file, and the line or
 * the document, for an unreadable path, a file over {@link MAX_MANIFEST_FILE_BYTES}, invalid YAML or
 * a document that is not a Kubernetes object. Error messages and warnings never quote the file's
 * content (it may hold a Secret's data), and the YAML library prints nothing.
 */
export function readManifests(paths: string[], cwd: string, options: ReadManifestsOptions = {}): Manifests {
  const files: string[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    collectFiles(resolve(cwd, path), true, files, seen, cwd);
  }
  const documents: ManifestDocument[] = [];
  const warnings: string[] = [];
  for (const file of files) {
    documents.push(...parseFile(file, cwd, warnings, options));
  }
  return { documents, files: files.map((file) => display(file, cwd)), warnings };
}

function collectFiles(path: string, explicit: boolean, files: string[], seen: Set<string>, cwd: string): void {
  let real: string;
  let isDirectory: boolean;
  try {
    real = realpathSync(path);
    isDirectory = statSync(real).isDirectory();
  } catch (error) {
    throw new CliError(`cannot read ${display(path, cwd)}: ${describeFsError(error)}`);
  }
  if (seen.has(real)) return; // the same file named twice, or a symlink loop
  seen.add(real);
  if (!isDirectory) {
    if (explicit || MANIFEST_EXTENSIONS.includes(extname(path).toLowerCase())) files.push(path);
    return;
  }
  let entries: string[];
  try {
    entries = readdirSync(path);
  } catch (error) {
    throw new CliError(`cannot read directory ${display(path, cwd)}: ${describeFsError(error)}`);
  }
  for (const entry of entries.sort()) {
    if (entry.startsWith('.') || entry === 'node_modules' || entry === CDK8S_CONSTRUCT_METADATA) continue;
    collectFiles(join(path, entry), false, files, seen, cwd);
  }
}

function parseFile(path: string, cwd: string, warnings: string[], options: ReadManifestsOptions): ManifestDocument[] {
  const file = display(path, cwd);
  let text: string;
  try {
    text = readTextFileCapped(path, MAX_MANIFEST_FILE_BYTES);
  } catch (error) {
    if (error instanceof FileTooLargeError) {
      throw new CliError(`cannot read ${file}: larger than ${formatBytes(MAX_MANIFEST_FILE_BYTES)}; pass the directory or files of the synthesized manifests, not ${file}`);
    }
    throw new CliError(`cannot read ${file}: ${describeFsError(error)}`);
  }
  const plain = options.fast ? plainDocuments(text, file, options.parsed) : undefined;
  if (plain) return plain;
  const at = (problem: YamlProblem): string => `line ${problem.line}, column ${problem.column}: ${problem.message}`;
  const invalid = (problem: YamlProblem): CliError => new CliError(`${file}: invalid YAML at ${at(problem)}`);
  const lineCounter = new LineCounter();
  const parsed = parseYamlQuietly(text, lineCounter);
  if (parsed.errors.length > 0) throw invalid(parsed.errors[0]);
  const documents: ManifestDocument[] = [];
  parsed.documents.forEach((doc, index) => {
    const contentStart = (doc.contents as { range?: [number, number, number] } | null)?.range?.[0];
    const startLine = lineCounter.linePos(contentStart ?? doc.range?.[0] ?? 0).line;
    const errors = yamlErrors(doc, lineCounter);
    if (errors.length > 0) throw invalid(errors[0]);
    for (const warning of yamlWarnings(doc, lineCounter)) warnings.push(`${file}: ${at(warning)}`);
    const converted = yamlToJS(doc, lineCounter);
    if ('problem' in converted) throw invalid(converted.problem);
    const object = converted.value;
    if (object === null || object === undefined) return; // an empty document
    const where = `${file}: document ${index + 1} (line ${startLine})`;
    checkKubernetesObject(object, where);
    const obj = object as { kind: string; items?: unknown };
    if (/List$/.test(obj.kind) && Array.isArray(obj.items)) {
      obj.items.forEach((itemObject, item) => {
        checkKubernetesObject(itemObject, `${where}, item ${item + 1} of the ${obj.kind}`);
        documents.push({ file, index, item, object: itemObject });
      });
      return;
    }
    documents.push({ file, index, object });
  });
  return documents;
}

/**
 * The objects of a plain YAML text (see {@link ReadManifestsOptions.fast}), or undefined when the
 * text is not plain or holds something that is not a Kubernetes object, for the yaml library to
 * read and report with its line.
 */
function plainDocuments(text: string, file: string, parsed: Map<string, unknown[]> | undefined): ManifestDocument[] | undefined {
  let values = parsed?.get(text);
  if (values === undefined) {
    values = parseSimpleYaml(text);
    if (values === undefined) return undefined;
    parsed?.set(text, values);
  }
  const documents: ManifestDocument[] = [];
  try {
    values.forEach((object, index) => {
      if (object === null) return;
      checkKubernetesObject(object, file);
      const obj = object as { kind: string; items?: unknown };
      if (/List$/.test(obj.kind) && Array.isArray(obj.items)) {
        obj.items.forEach((itemObject, item) => {
          checkKubernetesObject(itemObject, file);
          documents.push({ file, index, item, object: itemObject });
        });
        return;
      }
      documents.push({ file, index, object });
    });
  } catch (error) {
    if (error instanceof CliError) return undefined;
    throw error;
  }
  return documents;
}

/** Throws unless `object` has apiVersion, kind and metadata.name (or generateName); lists need no name. */
function checkKubernetesObject(object: unknown, where: string): void {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    const what = Array.isArray(object) ? 'a list' : `a ${typeof object}`;
    throw new CliError(`${where} is not a Kubernetes object (it is ${what}, not a mapping with apiVersion, kind and metadata.name)`);
  }
  const obj = object as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; generateName?: unknown }; items?: unknown };
  const missing: string[] = [];
  if (typeof obj.apiVersion !== 'string' || obj.apiVersion === '') missing.push('apiVersion');
  if (typeof obj.kind !== 'string' || obj.kind === '') missing.push('kind');
  const isList = typeof obj.kind === 'string' && /List$/.test(obj.kind) && Array.isArray(obj.items);
  const metadata = obj.metadata;
  const named = typeof metadata === 'object' && metadata !== null
    && (isName(metadata.name) || isName(metadata.generateName));
  if (!named && !isList) missing.push('metadata.name');
  if (missing.length > 0) {
    throw new CliError(`${where} is not a Kubernetes object (no ${missing.join(', no ')})`);
  }
}

function isName(value: unknown): boolean {
  return (typeof value === 'string' && value !== '') || typeof value === 'number';
}

function display(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
