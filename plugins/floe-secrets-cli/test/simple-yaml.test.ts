import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { parseAllDocuments, Schema, stringify } from 'yaml';
import { buildLibraryApp } from '../../../bench/library-app';
import { buildExampleApp } from '../../../examples/app';
import { readManifests } from '../src/manifests';
import { parseSimpleYaml } from '../src/simple-yaml';

// The fast reader of plain YAML must read exactly what the yaml library reads, or give up: never a
// different value, never a text the library refuses.

/** What the yaml library makes of `text`: the documents' values, or 'refused' when it reports an error or a warning. */
function library(text: string): unknown[] | 'refused' {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs) || list.some((d) => d.errors.length > 0 || d.warnings.length > 0)) return 'refused';
  return list.map((d) => d.toJS());
}

/** The fast reader agrees with the library, or gives up; returns whether it read the text. */
function agrees(text: string): boolean {
  const fast = parseSimpleYaml(text);
  if (fast === undefined) return false;
  const full = library(text);
  expect({ text, fast }).toEqual({ text, fast: full });
  return true;
}

describe('parseSimpleYaml reads synthesized output as the yaml library does', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'floe-simple-yaml-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['the example app', (outdir: string) => buildExampleApp(new App({ outdir }))],
    ['the benchmark app (100 jobs)', (outdir: string) => buildLibraryApp({ domains: 10, jobsPerDomain: 10 }, new App({ outdir }))],
  ])('%s: every file, read fast, deeply equal', (name, build) => {
    const outdir = join(dir, name.replace(/\W+/g, '-'));
    build(outdir).synth();
    const files = readdirSync(outdir);
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) expect(agrees(readFileSync(join(outdir, file), 'utf8'))).toBe(true);
    // and readManifests gives the same documents either way
    expect(readManifests([outdir], dir, { fast: true })).toEqual(readManifests([outdir], dir));
  });
});

describe('parseSimpleYaml on hand-written YAML', () => {
  test.each([
    ['an empty text', ''],
    ['comments only', '# one\n  # two\n'],
    ['comments before the first ---', '# c\n---\na: 1\n'],
    ['a trailing ---', 'a: 1\n---\n'],
    ['an empty document between two', 'a: 1\n---\n# c\n---\nb: 2\n'],
    ['a leading --- then two', '---\n---\na: 1\n'],
    ['compact lists (no indent before -)', 'a:\n- 1\n- x: 1\n  y:\n  - z\nb: 2\n'],
    ['indented lists, empty items, nested mappings', 'a:\n  - 1\n  -\n  - x: 1\n    y: 2\n  -\n    k: v\n'],
    ['comments everywhere', 'a: 1 # one\n# between\nb:   # empty\n  - x # item\n    # deeper\nc: "q" # after a quote\n'],
    ['plain values typed by the core schema', 'a: true\nb: False\nc: ~\nd: null\ne: 0x1f\nf: 0o17\ng: -12\nh: 1.5e3\ni: .inf\nj: .NaN\nk: 0440\nl: yes\nm: 1_000\nn: 12:30\no: +1\np: .5\n'],
    ['quoted values and keys', 'a: "x: y # z"\n"b c": \'it\'\'s\'\nd: "tab\\there \\u00e9 \\"q\\" \\\\ \\/"\n\'e\': ""\n'],
    ['URLs, colons and hashes inside plain values', 'a: http://x/y#z\nb: a:b\nc: x#y\nvault.hashicorp.com/agent-inject-secret-db: secret/data/db\n'],
    ['literal blocks', 'a: |\n  line 1\n\n    indented\n  line 3\n\n\nb: |-\n   x\n   y\nc: 1\n'],
    ['a literal block at the end', 'a:\n  b: |\n    x\n'],
    ['literal blocks as list items (a wrapped command)', 'command:\n  - /bin/sh\n  - -c\n  - |-\n    set -a\n    "$@"\n      nested\n\n    exit $status\n  - floe-run\nb:\n- |\n  x\n- y\n'],
    ['{} and []', 'a: {}\nb: []\nc:\n  - {}\n  - []\n'],
    ['sequence items that look like options', 'args:\n  - --since\n  - -1\n  - "-"\n'],
    ['a document indented as a whole', '  a: 1\n  b:\n    c: 2\n'],
    ['unicode', 'name: "caf\u00e9"\nemoji: \ud83d\ude00\n'],
    ['no-break spaces, which are text and not white space', 'a: \u00a0x\u00a0\n\u00a0b: 1\n'],
  ])('%s: read, and as the library reads it', (_, text) => {
    expect(agrees(text)).toBe(true);
  });

  test.each([
    ['anchors and aliases', 'a: &x 1\nb: *x\n'],
    ['tags', 'a: !!str 1\n'],
    ['directives', '%YAML 1.2\n---\na: 1\n'],
    ['document end markers', 'a: 1\n...\n'],
    ['flow collections', 'a: { b: 1 }\nc: [1, 2]\n'],
    ['folded blocks', 'a: >\n  x\n  y\n'],
    ['folded blocks as list items', 'a:\n  - >\n    x\n'],
    ['an empty literal block item', 'a:\n  - |\n  - x\n'],
    ['kept and indented literal blocks', 'a: |+\n  x\n\nb: |2\n    y\n'],
    ['multi-line plain values', 'a: one\n  two\n'],
    ['multi-line quoted values', 'a: "one\n  two"\n'],
    ['duplicate keys', 'a: 1\na: 2\n'],
    ['tabs', 'a:\n\tb: 1\n'],
    ['CRLF line ends', 'a: 1\r\nb: 2\r\n'],
    ['a byte-order mark', '\ufeffa: 1\n'],
    ['explicit keys', '? a\n: 1\n'],
    ['keys that are not strings', '1: a\ntrue: b\n'],
    ['a nested mapping on one line', 'a: b: c\n'],
    ['a list at the top', '- a\n- b\n'],
    ['a scalar at the top', 'hello\n'],
    ['bad indentation', 'a:\n    b: 1\n  c: 2\n'],
    ['a value after a quoted value', 'a: "x" y\n'],
    ['an escape JSON does not have', 'a: "\\x41"\n'],
    ['a merge key', 'a: 1\n<<: {}\n'],
    ['a __proto__ key', '__proto__: 1\n'],
    ['a key over 1024 characters', `${'k'.repeat(1025)}: 1\n`],
    ['a control character', 'a: \u0001\n'],
    ['a very deep nesting', `${Array.from({ length: 120 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')} 1\n`],
  ])('%s: left to the yaml library', (_, text) => {
    expect(parseSimpleYaml(text)).toBeUndefined();
  });
});

describe('parseSimpleYaml types plain values by the yaml library\'s core schema', () => {
  test('only a plain value starting with ~ n N t T f F + - . or a digit can be anything but a string (what the reader relies on)', () => {
    // every string of up to four characters over characters the core schema's patterns use, and any first character
    const follow = [...'nulNULtrueTRUEfalsFALSinfINFaN0o17x9f.+-e_ :'];
    const firsts = Array.from({ length: 0x7e - 0x20 }, (_, i) => String.fromCharCode(0x21 + i)).concat(['é', '\u00a0']);
    const typed: string[] = [];
    // the schema's patterns for plain values, as the yaml library tries them
    const patterns = new Schema({}).tags.flatMap((tag) => (tag.default === true && 'test' in tag && tag.test ? [tag.test] : []));
    expect(patterns.length).toBeGreaterThan(5);
    const check = (value: string) => {
      if (patterns.some((pattern) => pattern.test(value))) typed.push(value);
    };
    for (const first of firsts) {
      if ('~nNtTfF+-.0123456789'.includes(first)) continue;
      check(first);
      for (const a of follow) {
        check(first + a);
        for (const b of follow) check(first + a + b);
      }
    }
    expect(typed).toEqual([]);
  });
});

describe('parseSimpleYaml on random objects written by the yaml library', () => {
  /** A deterministic random generator (xorshift), so that a failure can be replayed. */
  function generator(seed: number): () => number {
    let x = seed;
    return () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 4294967296;
    };
  }
  const FRAGMENTS = [
    'a', 'name', 'floe-sales', 'x.y/z', 'k_1', ' ', ': ', ':', ' #', '#', '"', '\'', '@', '`', '*', '&', '!', '|', '>', '%', '{', '}',
    '[', ']', ',', '?', '-', '- ', '\\', '\n', '\t', 'é', '\u00a0', '😀', 'yes', 'no', 'null', '~', 'true', 'False', '1', '0x1f', '1e3',
    '.inf', '0o7', '0440', '--since', 'http://a/b', '---', '...', '  ', '<<', '=', '12:30', '', '\u2028', '\r',
  ];

  function randomText(random: () => number): string {
    return Array.from({ length: 1 + Math.floor(random() * 4) }, () => FRAGMENTS[Math.floor(random() * FRAGMENTS.length)]).join('');
  }

  function randomValue(random: () => number, depth: number): unknown {
    const r = random();
    if (depth < 4 && r < 0.25) {
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, () => [randomText(random), randomValue(random, depth + 1)]));
    }
    if (depth < 4 && r < 0.4) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
    if (r < 0.5) return Math.floor(random() * 2000) - 1000;
    if (r < 0.55) return random() * 100;
    if (r < 0.6) return random() < 0.5;
    if (r < 0.63) return null;
    return randomText(random);
  }

  test.each([
    ['as cdk8s writes it (YAML 1.1, no line folding)', { keepUndefined: true, lineWidth: 0, version: '1.1' as const }],
    ['with the library\'s defaults', {}],
    ['with compact lists', { indentSeq: false }],
  ])('%s: 3,000 documents, each read as the library reads it, or left to it', (_, options) => {
    const random = generator(0x5eed + JSON.stringify(options).length);
    let read = 0;
    for (let i = 0; i < 1000; i++) {
      const docs = Array.from({ length: 3 }, () => ({ apiVersion: 'v1', kind: 'Thing', metadata: { name: `n${i}` }, spec: randomValue(random, 0) }));
      if (agrees(docs.map((d) => stringify(d, options)).join('---\n'))) read++;
    }
    // most are plain enough: the fast path is what was tested
    expect(read).toBeGreaterThan(200);
  });
});
