import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = resolve(__dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
// A snippet is written in the README as `<!-- snippet: examples/snippets/x.ts -->` then a ts block.
const SNIPPET = /<!-- snippet: (\S+) -->\n```ts\n([\s\S]*?)```/g;
const snippets = [...README.matchAll(SNIPPET)].map((m) => ({ file: m[1], code: m[2] }));

describe('README', () => {
  test('has snippets, every one of them a type-checked example file', () => {
    expect(snippets.map((s) => s.file).sort()).toEqual(readdirSync(join(ROOT, 'examples/snippets')).map((f) => `examples/snippets/${f}`).sort());
  });

  test.each(snippets)('$file is in the README exactly as in the file', ({ file, code }) => {
    expect(code).toBe(readFileSync(join(ROOT, file), 'utf8'));
  });

  test.each(snippets)('$file runs; when it synthesizes, it writes valid YAML', async ({ file, code }) => {
    const outdir = mkdtempSync(join(tmpdir(), 'floe-readme-'));
    const previous = process.env.CDK8S_OUTDIR;
    process.env.CDK8S_OUTDIR = outdir;
    try {
      await jest.isolateModulesAsync(async () => {
        await import(join(ROOT, file));
      });
      const written = readdirSync(outdir);
      expect(written.length > 0).toBe(code.includes('app.synth()'));
      for (const f of written) {
        const docs = parseAllDocuments(readFileSync(join(outdir, f), 'utf8'));
        expect(docs.every((d) => d.errors.length === 0)).toBe(true);
        expect(docs.length).toBeGreaterThan(0);
      }
    } finally {
      if (previous === undefined) delete process.env.CDK8S_OUTDIR;
      else process.env.CDK8S_OUTDIR = previous;
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('the kubectl command it shows creates the Secret the minimal example declares', () => {
    expect(README).toContain('kubectl create secret generic db-creds -n floe-sales');
    expect(readFileSync(join(ROOT, 'examples/snippets/minimal.ts'), 'utf8')).toContain("'db-creds', { keys: ['user', 'password'] }");
  });
});

/**
 * Internal requirement and contract ids (REQ-131..REQ-140, CR-001..CR-006, seed and epic numbers,
 * ADR numbers) belong in test names and JSDoc tags (`@requirement`, which the API reference leaves
 * out), not in what a user reads.
 */
const INTERNAL_ID = /\bREQ-\d+|\bCR-\d+|\bseed\s+\d{3}\b|\bEpic\s+\d+|\bADR-\d+/gi;

/** Every file under `dir` (relative to the repository, `/` separators), sorted; none when it is missing. */
function filesUnder(dir: string): string[] {
  if (!existsSync(join(ROOT, dir))) return [];
  return readdirSync(join(ROOT, dir), { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(`${dir}/${entry.name}`) : [`${dir}/${entry.name}`]))
    .sort();
}

describe('user documentation carries no internal requirement ids', () => {
  const plugins = readdirSync(join(ROOT, 'plugins')).map((p) => `plugins/${p}/README.md`).filter((f) => existsSync(join(ROOT, f)));
  // The API reference, generated from the JSDoc (test/api-docs.test.ts keeps it current).
  const apiReference = filesUnder('docs/api');
  const documents = ['README.md', 'CHANGELOG.md', 'examples/manifest.yaml', ...plugins].filter((f) => existsSync(join(ROOT, f))).concat(apiReference);

  test('the root README and every plugin README are checked', () => {
    expect(documents).toContain('README.md');
    expect(plugins.length).toBeGreaterThan(0);
  });

  test('every file of the API reference is checked, the section of every package included', () => {
    const packages = ['.', ...readdirSync(join(ROOT, 'plugins')).map((p) => `plugins/${p}`)]
      .filter((dir) => existsSync(join(ROOT, dir, 'src/index.ts')))
      .map((dir) => JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')).name as string);
    expect(packages).toContain('floe-secrets');
    expect(documents).toContain('docs/api/README.md');
    for (const name of packages) expect(documents).toContain(`docs/api/${name}/README.md`);
  });

  test.each(documents)('%s', (file) => {
    // Matched in the whole text, so that an id wrapped onto the next line (`seed` / `001`) is found.
    const text = readFileSync(join(ROOT, file), 'utf8');
    const lines = text.split('\n');
    const offending = [...text.matchAll(INTERNAL_ID)].map((match) => {
      const line = text.slice(0, match.index).split('\n').length;
      return `${file}:${line}: ${lines[line - 1]}`;
    });
    expect([...new Set(offending)]).toEqual([]);
  });
});
