import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CRD_RELEASES, OperatorRelease } from '../../projenrc/crd-pins';
import { crdFile, REPO_ROOT, resolveCrds, resolveCrdsSync } from '../../projenrc/crds';

// Two made-up releases with random content, so that no test needs the real CRDs or the network.
const CONTENT: Record<string, Buffer> = {
  'alpha/alpha.example.com_things.yaml': randomContent('kind: CustomResourceDefinition'),
  'alpha/LICENSE': randomContent('Apache License'),
  'beta/beta.example.com_widgets.yaml': randomContent('kind: CustomResourceDefinition'),
};
const RELEASES: OperatorRelease[] = [
  release('alpha', 'v1.2.3', 'acme/alpha', 'v1.2.3', ['alpha.example.com_things.yaml', 'LICENSE']),
  release('beta', 'v0.4.0', 'acme/beta', 'beta-operator/v0.4.0', ['beta.example.com_widgets.yaml']),
];
const NAMES = Object.keys(CONTENT);

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'floe-crds-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

describe('FLOE_CRDS_DIR', () => {
  test('takes every pinned file from the folder, a relative path resolved against the repository root', () => {
    const dir = folderWithPinnedFiles();
    const setting = relative(REPO_ROOT, dir);
    const crds = resolveCrdsSync({ env: { FLOE_CRDS_DIR: setting }, cacheDir: join(tmp, 'cache'), releases: RELEASES, sourceOrigin: 'http://127.0.0.1:1' });
    expect(crds.source).toBe(`FLOE_CRDS_DIR=${setting}`);
    expect(crds.files).toEqual(Object.fromEntries(NAMES.map((name) => [name, join(dir, name)])));
    expect(crdFile(crds, 'beta/beta.example.com_widgets.yaml')).toBe(join(dir, 'beta/beta.example.com_widgets.yaml'));
  });

  test('a file whose content differs from its pin is an error naming the file, both sha256 and the fix', async () => {
    const dir = folderWithPinnedFiles();
    const name = 'alpha/alpha.example.com_things.yaml';
    const tampered = Buffer.from(CONTENT[name]);
    const at = 16 + (randomBytes(1)[0] % (tampered.length - 16));
    tampered[at] = tampered[at] ^ 0x01;
    writeFileSync(join(dir, name), tampered);
    const options = { env: { FLOE_CRDS_DIR: dir }, cacheDir: join(tmp, 'cache'), releases: RELEASES };
    const expected = [
      `FLOE_CRDS_DIR=${dir}: ${join(dir, name)} has sha256 ${sha256(tampered)}, expected ${sha256(CONTENT[name])} (alpha v1.2.3)`,
      `replace it with the pinned file from https://raw.githubusercontent.com/acme/alpha/v1.2.3/${name}`,
      'update its pin in projenrc/crd-pins.ts and run `npx projen import`',
    ];
    expect(() => resolveCrdsSync(options)).toThrow(errorWith(expected));
    await expect(resolveCrds(options)).rejects.toThrow(errorWith(expected));
  });

  test('a missing file is an error naming the file and both ways to get it', () => {
    const dir = folderWithPinnedFiles();
    rmSync(join(dir, 'beta/beta.example.com_widgets.yaml'));
    expect(() => resolveCrdsSync({ env: { FLOE_CRDS_DIR: dir }, cacheDir: join(tmp, 'cache'), releases: RELEASES })).toThrow(errorWith([
      `FLOE_CRDS_DIR=${dir}: beta/beta.example.com_widgets.yaml not found in ${dir}`,
      'set FLOE_CRDS_DIR to a folder holding alpha/{alpha.example.com_things.yaml, LICENSE} and beta/{beta.example.com_widgets.yaml}',
      'or unset it to download the pinned files (such as https://raw.githubusercontent.com/acme/beta/beta-operator/v0.4.0/beta/beta.example.com_widgets.yaml)',
    ]));
  });

  test('a file given as the folder is an error naming it', () => {
    const file = join(tmp, 'crds.yaml');
    writeFileSync(file, 'not a folder');
    expect(() => resolveCrdsSync({ env: { FLOE_CRDS_DIR: file }, releases: RELEASES }))
      .toThrow(`FLOE_CRDS_DIR=${file}: alpha/alpha.example.com_things.yaml not found in ${file}; set FLOE_CRDS_DIR to a folder holding`);
  });
});

describe('the download cache (FLOE_CRDS_DIR unset)', () => {
  test('without the files and without a reachable URL: one error naming both ways', async () => {
    const origin = `http://127.0.0.1:${await closedPort()}`;
    const cacheDir = join(tmp, 'cache');
    const options = { env: {}, cacheDir, releases: RELEASES, sourceOrigin: origin };
    const expected = [
      `operator CRD alpha/alpha.example.com_things.yaml (alpha v1.2.3) is not in the cache ${cacheDir}`,
      `could not be downloaded from ${origin}/acme/alpha/v1.2.3/alpha/alpha.example.com_things.yaml (error: connect ECONNREFUSED`,
      'set FLOE_CRDS_DIR to a folder holding alpha/{alpha.example.com_things.yaml, LICENSE} and beta/{beta.example.com_widgets.yaml}',
      `or let this machine reach ${origin}/acme/alpha/v1.2.3/alpha/alpha.example.com_things.yaml`,
    ];
    // The synchronous resolver downloads in a child process: its error is the same one.
    expect(() => resolveCrdsSync(options)).toThrow(errorWith(expected));
    await expect(resolveCrds(options)).rejects.toThrow(errorWith(expected));
    expect(filesUnder(cacheDir)).toEqual([]);
  });

  test('XDG_CACHE_HOME sets where the cache is', async () => {
    const origin = `http://127.0.0.1:${await closedPort()}`;
    await expect(resolveCrds({ env: { XDG_CACHE_HOME: tmp }, releases: RELEASES, sourceOrigin: origin }))
      .rejects.toThrow(`is not in the cache ${join(tmp, 'floe-secrets', 'crds')} and could not be downloaded`);
  });

  test('a cache holding the pinned files is used without the network', async () => {
    const cacheDir = cacheWithPinnedFiles();
    const options = { env: {}, cacheDir, releases: RELEASES, sourceOrigin: `http://127.0.0.1:${await closedPort()}` };
    const expected = {
      'alpha/alpha.example.com_things.yaml': join(cacheDir, 'alpha-v1.2.3', 'alpha.example.com_things.yaml'),
      'alpha/LICENSE': join(cacheDir, 'alpha-v1.2.3', 'LICENSE'),
      'beta/beta.example.com_widgets.yaml': join(cacheDir, 'beta-v0.4.0', 'beta.example.com_widgets.yaml'),
    };
    expect(resolveCrdsSync(options)).toEqual({ source: cacheDir, files: expected });
    expect((await resolveCrds(options)).files).toEqual(expected);
  });

  test('a cached file that differs from its pin is not trusted', async () => {
    const cacheDir = cacheWithPinnedFiles();
    const cached = join(cacheDir, 'beta-v0.4.0', 'beta.example.com_widgets.yaml');
    writeFileSync(cached, randomContent('kind: CustomResourceDefinition'));
    const origin = `http://127.0.0.1:${await closedPort()}`;
    await expect(resolveCrds({ env: {}, cacheDir, releases: RELEASES, sourceOrigin: origin })).rejects.toThrow(
      `(error: connect ECONNREFUSED 127.0.0.1:${origin.split(':')[2]}; the cached ${cached} does not match its sha256 and is not used)`,
    );

    // With the right bytes at the URL, the cached file is replaced.
    const server = await serve((path) => CONTENT[path.replace(/^\/acme\/[a-z]+\/(beta-operator\/)?v[\d.]+\//, '')]);
    try {
      await resolveCrds({ env: {}, cacheDir, releases: RELEASES, sourceOrigin: server.origin });
    } finally {
      await server.close();
    }
    expect(readFileSync(cached)).toEqual(CONTENT['beta/beta.example.com_widgets.yaml']);
    expect(server.requests).toEqual(['/acme/beta/beta-operator/v0.4.0/beta/beta.example.com_widgets.yaml']);
  });

  test('downloads each pinned URL once into <operator>-<version>/, then serves from the cache', async () => {
    const cacheDir = join(tmp, 'cache');
    const server = await serve((path) => CONTENT[path.replace(/^\/acme\/[a-z]+\/(beta-operator\/)?v[\d.]+\//, '')]);
    let crds;
    try {
      crds = await resolveCrds({ env: {}, cacheDir, releases: RELEASES, sourceOrigin: server.origin });
    } finally {
      await server.close();
    }
    expect(server.requests).toEqual([
      '/acme/alpha/v1.2.3/alpha/alpha.example.com_things.yaml',
      '/acme/alpha/v1.2.3/alpha/LICENSE',
      '/acme/beta/beta-operator/v0.4.0/beta/beta.example.com_widgets.yaml',
    ]);
    for (const name of NAMES) expect(readFileSync(crdFile(crds, name))).toEqual(CONTENT[name]);
    // Written by rename: no temporary file is left.
    expect(filesUnder(cacheDir)).toEqual(['alpha-v1.2.3/LICENSE', 'alpha-v1.2.3/alpha.example.com_things.yaml', 'beta-v0.4.0/beta.example.com_widgets.yaml']);
    // The server is gone: the cache alone answers.
    expect(resolveCrdsSync({ env: {}, cacheDir, releases: RELEASES, sourceOrigin: server.origin }).files).toEqual(crds.files);
  });

  test('the synchronous resolver downloads what the cache lacks in a child process', async () => {
    const served = folderWithPinnedFiles();
    const server = await serveFolderInChild(served);
    const cacheDir = join(tmp, 'cache');
    try {
      const crds = resolveCrdsSync({ env: {}, cacheDir, releases: RELEASES, sourceOrigin: server.origin });
      for (const name of NAMES) expect(readFileSync(crdFile(crds, name))).toEqual(CONTENT[name]);
      expect(crds.source).toBe(cacheDir);
    } finally {
      server.child.kill();
    }
  });

  test('a download whose sha256 differs from the pin is refused and not written', async () => {
    const cacheDir = join(tmp, 'cache');
    const wrong = randomContent('kind: CustomResourceDefinition');
    const server = await serve(() => wrong);
    try {
      await expect(resolveCrds({ env: {}, cacheDir, releases: RELEASES, sourceOrigin: server.origin })).rejects.toThrow(errorWith([
        `could not be downloaded from ${server.origin}/acme/alpha/v1.2.3/alpha/alpha.example.com_things.yaml ` +
          `(error: the download has sha256 ${sha256(wrong)}, expected ${sha256(CONTENT['alpha/alpha.example.com_things.yaml'])})`,
        'set FLOE_CRDS_DIR to a folder holding',
      ]));
    } finally {
      await server.close();
    }
    expect(filesUnder(cacheDir)).toEqual([]);
  });

  test('a redirect is followed only to GitHub\'s raw-file hosts over https', async () => {
    const server = await serve(() => undefined, (res) => res.writeHead(302, { location: 'https://example.com/crd.yaml' }).end());
    try {
      await expect(resolveCrds({ env: {}, cacheDir: join(tmp, 'cache'), releases: RELEASES, sourceOrigin: server.origin })).rejects.toThrow(
        '(error: HTTP 302 redirect to https://example.com refused (only raw.githubusercontent.com and objects.githubusercontent.com over https are followed))',
      );
    } finally {
      await server.close();
    }
  });

  test('an HTTP error status is reported with the URL', async () => {
    const server = await serve(() => undefined);
    try {
      await expect(resolveCrds({ env: {}, cacheDir: join(tmp, 'cache'), releases: RELEASES, sourceOrigin: server.origin }))
        .rejects.toThrow(`could not be downloaded from ${server.origin}/acme/alpha/v1.2.3/alpha/alpha.example.com_things.yaml (error: HTTP 404)`);
    } finally {
      await server.close();
    }
  });

  test('plain http is refused for any host other than loopback', async () => {
    await expect(resolveCrds({ env: {}, cacheDir: join(tmp, 'cache'), releases: RELEASES, sourceOrigin: 'http://example.com' }))
      .rejects.toThrow('(error: http: is refused, only https is used)');
  });
});

test('a name that is not pinned is an error naming the pinned ones', () => {
  const crds = resolveCrdsSync({ env: { FLOE_CRDS_DIR: folderWithPinnedFiles() }, releases: RELEASES });
  expect(() => crdFile(crds, 'alpha/other.yaml')).toThrow(
    'operator CRD alpha/other.yaml is not pinned (pinned: alpha/alpha.example.com_things.yaml, alpha/LICENSE, beta/beta.example.com_widgets.yaml); pin it in projenrc/crd-pins.ts',
  );
});

describe('the pins', () => {
  test.each(CRD_RELEASES.map((r) => [r.operator, r] as const))('%s: each file at the release tag on raw.githubusercontent.com, with a sha256 and the licence', (_, r) => {
    const repository = r.repository.replace('https://github.com/', '');
    expect(r.tag.endsWith(r.version)).toBe(true);
    expect(r.files.map((f) => f.name)).toContain('LICENSE');
    expect(new Set(r.files.map((f) => f.name)).size).toBe(r.files.length);
    for (const file of r.files) {
      expect(file.url).toMatch(new RegExp(`^https://raw\\.githubusercontent\\.com/${escape(repository)}/${escape(r.tag)}/(.+/)?${escape(file.name)}$`));
      expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  test('cover the CRDs the integration tests and the import task use', () => {
    const pinned = CRD_RELEASES.flatMap((r) => r.files.map((f) => `${r.operator}/${f.name}`));
    const used = [
      ...readFileSync(join(REPO_ROOT, 'test/integration/crds.ts'), 'utf8').matchAll(/'((?:infisical|external-secrets)\/[\w.-]+\.yaml)'/g),
      ...readFileSync(join(REPO_ROOT, '.projenrc.ts'), 'utf8').matchAll(/'((?:infisical|external-secrets)\/[\w.-]+\.yaml)'/g),
    ].map((m) => m[1]);
    expect(used.length).toBeGreaterThanOrEqual(11);
    expect(used.filter((name) => !pinned.includes(name))).toEqual([]);
  });
});

function release(operator: string, version: string, repository: string, tag: string, names: string[]): OperatorRelease {
  return {
    operator,
    version,
    tag,
    repository: `https://github.com/${repository}`,
    license: 'Apache-2.0',
    // The made-up path keeps the operator's folder, so a test server can find the content by URL path.
    files: names.map((name) => ({
      name,
      url: `https://raw.githubusercontent.com/${repository}/${tag}/${operator}/${name}`,
      sha256: sha256(CONTENT[`${operator}/${name}`]),
    })),
  };
}

function randomContent(head: string): Buffer {
  return Buffer.from(`${head}\n# ${randomBytes(24).toString('hex')}\n`);
}

function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Matches an error whose message holds every part. */
function errorWith(parts: string[]): RegExp {
  return new RegExp(parts.map(escape).join('[^]*'));
}

function folderWithPinnedFiles(): string {
  const dir = join(tmp, 'crds');
  for (const name of NAMES) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), CONTENT[name]);
  }
  return dir;
}

function cacheWithPinnedFiles(): string {
  const cacheDir = join(tmp, 'cache');
  for (const r of RELEASES) {
    mkdirSync(join(cacheDir, `${r.operator}-${r.version}`), { recursive: true });
    for (const f of r.files) writeFileSync(join(cacheDir, `${r.operator}-${r.version}`, f.name), CONTENT[`${r.operator}/${f.name}`]);
  }
  return cacheDir;
}

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)))
      .sort();
  } catch {
    return [];
  }
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as AddressInfo).port;
  await new Promise((done) => server.close(done));
  return port;
}

interface TestServer {
  readonly origin: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/** An http server on 127.0.0.1 answering each path with `content(path)`, 404 when undefined, or with `answer`. */
async function serve(content: (path: string) => Buffer | undefined, answer?: (res: ServerResponse) => void): Promise<TestServer> {
  const requests: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? '');
    if (answer) return answer(res);
    const body = content(req.url ?? '');
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

/**
 * The same kind of server in a child process, for the synchronous resolver (which blocks this process
 * while its own child downloads): `/<repo>/<tag>/<operator>/<file>` answers with `<dir>/<operator>/<file>`.
 */
async function serveFolderInChild(dir: string): Promise<{ origin: string; child: ChildProcess }> {
  const script = `
    const { readFileSync } = require('node:fs');
    const server = require('node:http').createServer((req, res) => {
      const name = req.url.replace(/^\\/acme\\/[a-z]+\\/(beta-operator\\/)?v[\\d.]+\\//, '');
      try { res.writeHead(200).end(readFileSync(require('node:path').join(process.argv[1], name))); } catch { res.writeHead(404).end(); }
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((done, fail) => {
    child.stdout!.once('data', (chunk: Buffer) => done(chunk.toString().trim()));
    child.once('exit', (code) => fail(new Error(`the test server exited (${code})`)));
  });
  return { origin: `http://127.0.0.1:${port}`, child };
}
