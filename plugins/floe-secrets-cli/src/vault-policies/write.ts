import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describeFsError } from '../fs-errors';
import { CliError } from '../io';
import { OutputFiles, README_MARKER, TERRAFORM_FILE } from './render';

/** Files this command writes; a folder holding anything else is not replaced. */
const OWN_FILE = /(\.hcl|\.role\.json)$/;

/**
 * Writes `files` as the whole content of `dir`, all or nothing: into a new folder next to it first,
 * which then takes its place. `dir` may be missing, empty, or a folder this command wrote before (its
 * README.md starts with {@link README_MARKER} and it holds nothing else than policies, roles and the
 * Terraform file); anything else is refused before a file is written.
 *
 * @param shown how messages name the folder (as the user gave it)
 * @throws CliError (exit 2) naming -o, the problem and the fix
 */
export function replaceFolder(dir: string, shown: string, files: OutputFiles): void {
  const existing = inspect(dir, shown);
  const parent = dirname(dir);
  let staging: string;
  try {
    mkdirSync(parent, { recursive: true });
    staging = mkdtempSync(join(parent, `.${basename(dir)}.tmp-`));
  } catch (error) {
    throw new CliError(`-o ${shown}: cannot create a folder in ${parent}: ${describeFsError(error)}; give a directory you can write`);
  }
  try {
    for (const [path, text] of files) {
      mkdirSync(dirname(join(staging, path)), { recursive: true });
      writeFileSync(join(staging, path), text, { mode: 0o644 });
    }
    if (existing === 'ours' || existing === 'empty') {
      const old = `${staging}.old`;
      renameSync(dir, old);
      try {
        renameSync(staging, dir);
      } catch (error) {
        renameSync(old, dir); // put it back: nothing changed
        throw error;
      }
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(staging, dir);
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw new CliError(`-o ${shown}: cannot write: ${describeFsError(error)}; give a directory you can write`);
  }
}

/** Whether `dir` is missing, empty or written by this command; anything else is refused. */
function inspect(dir: string, shown: string): 'missing' | 'empty' | 'ours' {
  let stat;
  try {
    stat = lstatSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw new CliError(`-o ${shown}: cannot use it: ${describeFsError(error)}; give a directory you can write`);
  }
  if (!stat.isDirectory()) {
    throw new CliError(`-o ${shown} is ${stat.isSymbolicLink() ? 'a symbolic link' : 'a file'}, not a directory; give a new or empty directory`);
  }
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (error) {
    throw new CliError(`-o ${shown}: cannot read the directory: ${describeFsError(error)}; give a directory you can write`);
  }
  if (entries.length === 0) return 'empty';
  let readme = '';
  try {
    readme = readFileSync(join(dir, 'README.md'), 'utf8').split('\n', 1)[0];
  } catch {
    // no README: not ours
  }
  if (readme !== README_MARKER) {
    throw new CliError(`-o ${shown} is not empty and has no README.md written by vault-policies, and the whole folder is replaced; `
      + 'give a new or empty directory, or the one it wrote before');
  }
  const foreign = foreignFiles(dir, '');
  if (foreign.length > 0) {
    throw new CliError(`-o ${shown} holds files vault-policies did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}), `
      + 'and the whole folder is replaced; give a new or empty directory, or the one it wrote before');
  }
  return 'ours';
}

/** Files under `dir` that this command does not write (README.md at the top is checked by the caller). */
function foreignFiles(dir: string, prefix: string): string[] {
  const foreign: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) foreign.push(...foreignFiles(dir, path));
    else if (!entry.isFile() || !(OWN_FILE.test(entry.name) || (prefix === '' && (entry.name === 'README.md' || entry.name === TERRAFORM_FILE)))) foreign.push(path);
  }
  return foreign;
}
