import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..');
/** The committed API reference, written by `npx projen docs` with typedoc.json. */
const DOCS = join(ROOT, 'docs', 'api');
const TYPEDOC = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');

/** Every file under `dir`, relative to it with `/` separators, sorted; none when `dir` is missing. */
function filesUnder(dir: string, prefix = ''): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]))
    .sort();
}

/**
 * How the committed reference differs from a fresh one: files whose content differs, files the
 * fresh one has and the committed one lacks, and files only the committed one has.
 */
function differences(committed: string, fresh: string): { stale: string[]; missing: string[]; extra: string[] } {
  const committedFiles = new Set(filesUnder(committed));
  const freshFiles = filesUnder(fresh);
  return {
    stale: freshFiles.filter((f) => committedFiles.has(f) && !readFileSync(join(committed, f)).equals(readFileSync(join(fresh, f)))),
    missing: freshFiles.filter((f) => !committedFiles.has(f)),
    extra: [...committedFiles].filter((f) => !freshFiles.includes(f)),
  };
}

describe('API reference', () => {
  let out: string;
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'floe-api-docs-'));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test('docs/api/ is what `npx projen docs` generates from the current JSDoc', async () => {
    // GIVEN the committed reference; WHEN typedoc.json generates it afresh into a temporary folder
    try {
      await promisify(execFile)(process.execPath, [TYPEDOC, '--options', 'typedoc.json', '--out', out], {
        cwd: ROOT,
        env: { ...process.env, NO_COLOR: '1' },
      });
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`typedoc failed (a broken {@link} or a warning fails it, see typedoc.json):\n${stdout ?? ''}${stderr ?? ''}`);
    }

    // THEN both have the same files with the same content
    const { stale, missing, extra } = differences(DOCS, out);
    const lines = [
      ...stale.map((f) => `  out of date: docs/api/${f}`),
      ...missing.map((f) => `  missing:     docs/api/${f}`),
      ...extra.map((f) => `  extra:       docs/api/${f} (no longer generated)`),
    ];
    if (lines.length > 0) {
      throw new Error(`docs/api/ does not match the JSDoc; run \`npx projen docs\` and commit docs/api/:\n${lines.join('\n')}`);
    }
    expect(filesUnder(DOCS)).toContain('README.md');
  }, 180_000);
});
