import { CliError } from '../io';
import { readManifests } from '../manifests';
import { Snapshot, snapshotOf } from './snapshot';

/** Which output: the one compared from, or the one compared to. */
export type PlanSideName = 'base' | 'head';

/** One output, read and modelled. */
export interface SideResult {
  readonly side: PlanSideName;
  /** The path given. */
  readonly path: string;
  /** The files read. */
  readonly files: string[];
  /** Doubtful YAML that was read anyway (never quoting it). */
  readonly yamlWarnings: string[];
  readonly snapshot: Snapshot;
}

/**
 * Reads one output (as access-map reads its paths, with the fast reader for plain YAML) and builds
 * its access model. Errors name the side: `base: cannot read dist: no such file or directory`.
 *
 * @param parsed plain YAML texts already read, by text (see `ReadManifestsOptions.parsed`)
 */
function readSide(side: PlanSideName, path: string, cwd: string, parsed?: Map<string, unknown[]>): SideResult {
  if (path === '-') throw new CliError(`plan reads files and directories, not standard input (${side})`);
  try {
    const manifests = readManifests([path], cwd, { fast: true, parsed });
    return { side, path, files: manifests.files, yamlWarnings: manifests.warnings, snapshot: snapshotOf(manifests.documents) };
  } catch (error) {
    if (error instanceof CliError) throw new CliError(`${side}: ${error.message}`, error.exitCode);
    throw error;
  }
}

/**
 * Reads both outputs, BASE first. A file of HEAD with the same text as one of BASE (most of them,
 * in a pull request) is not parsed again: its objects are those of BASE, which the access model
 * only reads.
 */
export function readSides(basePath: string, headPath: string, cwd: string): [SideResult, SideResult] {
  const parsed = new Map<string, unknown[]>();
  return [readSide('base', basePath, cwd, parsed), readSide('head', headPath, cwd, parsed)];
}
