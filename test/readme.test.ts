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
 * Internal requirement and contract ids (REQ-131..REQ-140, CR-001..CR-006, seed and epic numbers)
 * belong in test names and JSDoc tags, not in what a user reads.
 */
const INTERNAL_ID = /\bREQ-\d+|\bCR-\d+|\bseed \d{3}\b|\bEpic \d+/i;

describe('user documentation carries no internal requirement ids', () => {
  const plugins = readdirSync(join(ROOT, 'plugins')).map((p) => `plugins/${p}/README.md`).filter((f) => existsSync(join(ROOT, f)));
  const documents = ['README.md', 'CHANGELOG.md', 'examples/manifest.yaml', ...plugins].filter((f) => existsSync(join(ROOT, f)));

  test('the root README and every plugin README are checked', () => {
    expect(documents).toContain('README.md');
    expect(plugins.length).toBeGreaterThan(0);
  });

  test.each(documents)('%s', (file) => {
    const offending = readFileSync(join(ROOT, file), 'utf8').split('\n')
      .map((line, i) => `${file}:${i + 1}: ${line}`)
      .filter((line) => INTERNAL_ID.test(line.slice(line.indexOf(': ') + 2)));
    expect(offending).toEqual([]);
  });
});
