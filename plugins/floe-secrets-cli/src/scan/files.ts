import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { FileTooLargeError, formatBytes, readTextFileCapped } from '@floe-secrets/core';
import { describeFsError } from '../fs-errors';
import { EntropyThresholds } from './rules';
import { Allowlist, parseAllowlist, ScanFinding, scanTextWithStats } from './scanner';

/** Directories never entered while walking (an explicitly named path is scanned anyway). */
export const SKIPPED_DIRECTORIES: readonly string[] = ['.git', 'node_modules', 'lib', 'coverage', 'cdk8s.out'];
/** Files larger than this are skipped (and reported). */
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024;
/** Bytes looked at for a NUL, which marks a binary file. */
export const BINARY_SNIFF_BYTES = 8 * 1024;
/** The allowlist read from the working directory when no --allowlist is given. */
export const DEFAULT_ALLOWLIST_FILE = '.floe-secrets-allowlist';

/** A path that cannot be scanned at all (missing, unreadable); nothing was scanned. */
export class ScanInputError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ScanInputError';
  }
}

/** Options of {@link scanPaths}. */
export interface ScanPathsOptions extends EntropyThresholds {
  /** Relative paths are resolved against it; findings show paths relative to it. */
  readonly cwd: string;
  readonly allowlist?: Allowlist;
  /** Default {@link DEFAULT_MAX_FILE_BYTES}. */
  readonly maxFileBytes?: number;
  /** Default {@link SKIPPED_DIRECTORIES}. */
  readonly skipDirectories?: readonly string[];
}

/** What {@link scanPaths} found and what it could not look at. */
export interface ScanResult {
  /** Sorted by path, then line. */
  readonly findings: ScanFinding[];
  readonly filesScanned: number;
  readonly binarySkipped: number;
  /** Display paths of files over the size limit. */
  readonly largeSkipped: string[];
  /** `path: reason` of files and directories that could not be read inside the given paths. */
  readonly unreadable: string[];
  /** Findings the allowlist accepted. */
  readonly allowlisted: number;
}

/** The path shown for a file: relative to `cwd` with `/` when inside it, else absolute. */
export function displayPath(file: string, cwd: string): string {
  const relative = nodePath.relative(cwd, file);
  if (relative === '') return '.';
  if (relative === '..' || relative.startsWith(`..${nodePath.sep}`) || nodePath.isAbsolute(relative)) return file;
  return relative.split(nodePath.sep).join('/');
}


/** The largest allowlist read (1 MiB): tens of thousands of entries. */
export const MAX_ALLOWLIST_BYTES = 1024 * 1024;

/**
 * Reads the allowlist: `file` (relative to cwd) when given, which must then be readable, else
 * `.floe-secrets-allowlist` in cwd if it exists. Throws {@link ScanInputError} when it cannot be read.
 */
export async function loadAllowlist(cwd: string, file?: string): Promise<Allowlist | undefined> {
  const path = nodePath.resolve(cwd, file ?? DEFAULT_ALLOWLIST_FILE);
  let text: string;
  try {
    text = readTextFileCapped(path, MAX_ALLOWLIST_BYTES);
  } catch (error) {
    if (file === undefined && (error as NodeJS.ErrnoException)?.code === 'ENOENT') return undefined;
    const why = error instanceof FileTooLargeError ? `larger than ${formatBytes(MAX_ALLOWLIST_BYTES)}; an allowlist holds one fingerprint or path a line` : describeFsError(error);
    throw new ScanInputError(`cannot read allowlist ${JSON.stringify(file ?? DEFAULT_ALLOWLIST_FILE)}: ${why}`);
  }
  return parseAllowlist(text, cwd);
}

/**
 * Scans files and directories (recursively, skipping {@link SKIPPED_DIRECTORIES}, symbolic links
 * inside directories, binary files and files over the size limit). Throws {@link ScanInputError}
 * before scanning anything when a given path does not exist or cannot be read.
 */
export async function scanPaths(paths: readonly string[], options: ScanPathsOptions): Promise<ScanResult> {
  const cwd = options.cwd;
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const skip = new Set(options.skipDirectories ?? SKIPPED_DIRECTORIES);

  const roots: { path: string; isDirectory: boolean }[] = [];
  for (const given of paths.length > 0 ? paths : ['.']) {
    const path = nodePath.resolve(cwd, given);
    try {
      const stat = await fs.stat(path);
      if (!stat.isDirectory() && !stat.isFile()) throw new ScanInputError(`cannot scan ${JSON.stringify(given)}: not a file or directory`);
      roots.push({ path, isDirectory: stat.isDirectory() });
    } catch (error) {
      if (error instanceof ScanInputError) throw error;
      throw new ScanInputError(`cannot scan ${JSON.stringify(given)}: ${describeFsError(error)}`);
    }
  }

  const findings: ScanFinding[] = [];
  const largeSkipped: string[] = [];
  const unreadable: string[] = [];
  const visited = new Set<string>();
  let filesScanned = 0;
  let binarySkipped = 0;
  let allowlisted = 0;

  const scanFile = async (file: string): Promise<void> => {
    if (visited.has(file)) return;
    visited.add(file);
    const shown = displayPath(file, cwd);
    try {
      const stat = await fs.stat(file);
      if (stat.size > maxFileBytes) {
        largeSkipped.push(shown);
        return;
      }
      const bytes = await fs.readFile(file);
      if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
        binarySkipped++;
        return;
      }
      const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
      const result = scanTextWithStats(text, shown, { ...options, cwd });
      findings.push(...result.findings);
      allowlisted += result.allowlisted;
      filesScanned++;
    } catch (error) {
      unreadable.push(`${shown}: ${describeFsError(error)}`);
    }
  };

  const walk = async (dir: string): Promise<void> => {
    if (visited.has(dir)) return;
    visited.add(dir);
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      unreadable.push(`${displayPath(dir, cwd)}: ${describeFsError(error)}`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = nodePath.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!skip.has(entry.name)) await walk(path);
      } else if (entry.isFile()) {
        await scanFile(path);
      }
      // Symbolic links, sockets, devices: not followed inside directories.
    }
  };

  for (const root of roots) {
    if (root.isDirectory) await walk(root.path);
    else await scanFile(root.path);
  }

  findings.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line));
  return { findings, filesScanned, binarySkipped, largeSkipped, unreadable, allowlisted };
}
