/**
 * Where the pinned operator CRDs (projenrc/crd-pins.ts) come from, for `npx projen import` and the
 * integration tests:
 *
 * - FLOE_CRDS_DIR, when set: a folder holding `<operator>/<file>` (a relative path is resolved against
 *   the repository root); every file must match its pinned sha256;
 * - otherwise a cache outside the repository, `${XDG_CACHE_HOME:-~/.cache}/floe-secrets/crds/<operator>-<version>/`,
 *   filled by downloading the pinned URLs; a file is written there only once its sha256 matches, and a
 *   cached file that does not match is downloaded again.
 *
 * When neither gives every file, one error says both ways.
 *
 * Run as a script: `ts-node projenrc/crds.ts import <module>:=<operator>/<file> ...` runs `cdk8s import`
 * of each resolved file into src/imports/.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CRD_RELEASES, OperatorRelease, PinnedFile } from './crd-pins';

/** The repository root, against which a relative FLOE_CRDS_DIR is resolved. */
export const REPO_ROOT = resolve(__dirname, '..');

/** Where every pinned URL points. */
const PINNED_ORIGIN = 'https://raw.githubusercontent.com';
/** The only hosts a download may be redirected to. */
const REDIRECT_HOSTS = ['raw.githubusercontent.com', 'objects.githubusercontent.com'];
const MAX_REDIRECTS = 3;
/** No pinned file comes near this (the largest is ~0.7 MB); anything bigger is not one of them. */
const MAX_BYTES = 16 * 1024 * 1024;
/** Given to the child process that downloads for {@link resolveCrdsSync}. */
const FILL_CACHE_ARG = '--fill-cache';

/** Options of {@link resolveCrds} and {@link resolveCrdsSync}. */
export interface ResolveOptions {
  /**
   * The environment that FLOE_CRDS_DIR, XDG_CACHE_HOME and HOME are read from.
   * @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The cache folder, holding `<operator>-<version>/<file>`.
   * @default `${XDG_CACHE_HOME:-~/.cache}/floe-secrets/crds`
   */
  readonly cacheDir?: string;
  /**
   * The releases to resolve.
   * @default CRD_RELEASES
   */
  readonly releases?: readonly OperatorRelease[];
  /**
   * For tests only: downloads go to this origin (`http://127.0.0.1:<port>`) instead of
   * https://raw.githubusercontent.com, with each pinned URL's path. Plain http is accepted for
   * loopback addresses only.
   * @default - the pinned URLs
   */
  readonly sourceOrigin?: string;
  /**
   * How long one download may take, in milliseconds.
   * @default 60000
   */
  readonly timeoutMs?: number;
}

/** The resolved files. */
export interface ResolvedCrds {
  /** Where they were found: `FLOE_CRDS_DIR=<value>`, or the cache folder. */
  readonly source: string;
  /** The absolute path of each pinned file, by `<operator>/<file>`. */
  readonly files: Readonly<Record<string, string>>;
}

/** What both resolvers (and the child process of the synchronous one) work from. */
interface Settings {
  /** FLOE_CRDS_DIR as given; undefined when unset or empty. */
  readonly crdsDir?: string;
  readonly cacheDir: string;
  readonly releases: readonly OperatorRelease[];
  readonly sourceOrigin?: string;
  readonly timeoutMs: number;
}

/**
 * Resolves the pinned files, downloading into the cache what it lacks. Fails with an error naming the
 * file, and the fix, when FLOE_CRDS_DIR is set and a file there is missing or differs from its pin,
 * and with one error naming both ways when FLOE_CRDS_DIR is unset and a download fails.
 */
export async function resolveCrds(options: ResolveOptions = {}): Promise<ResolvedCrds> {
  const settings = settingsOf(options);
  if (settings.crdsDir !== undefined) return fromFolder(settings, settings.crdsDir);
  await fillCache(settings);
  return fromCache(settings);
}

/**
 * {@link resolveCrds} for callers that cannot wait (a module's top level): FLOE_CRDS_DIR and a complete
 * cache are read here; what the cache lacks is downloaded by a child process running this module.
 */
export function resolveCrdsSync(options: ResolveOptions = {}): ResolvedCrds {
  const settings = settingsOf(options);
  if (settings.crdsDir !== undefined) return fromFolder(settings, settings.crdsDir);
  if (pinnedFiles(settings).some((pin) => !matches(cachePath(settings, pin), pin.sha256))) fillCacheInChild(settings);
  return fromCache(settings);
}

/** The absolute path of `<operator>/<file>`, which must be one of the pinned files. */
export function crdFile(crds: ResolvedCrds, name: string): string {
  const path = crds.files[name];
  if (path === undefined) {
    throw new Error(`operator CRD ${name} is not pinned (pinned: ${Object.keys(crds.files).join(', ')}); pin it in projenrc/crd-pins.ts`);
  }
  return path;
}

interface Pin extends PinnedFile {
  readonly release: OperatorRelease;
  /** `<operator>/<file>` */
  readonly key: string;
}

function settingsOf(options: ResolveOptions): Settings {
  const env = options.env ?? process.env;
  const cacheHome = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return {
    crdsDir: env.FLOE_CRDS_DIR || undefined,
    cacheDir: resolve(options.cacheDir ?? join(cacheHome, 'floe-secrets', 'crds')),
    releases: options.releases ?? CRD_RELEASES,
    sourceOrigin: options.sourceOrigin,
    timeoutMs: options.timeoutMs ?? 60_000,
  };
}

function pinnedFiles(settings: Settings): Pin[] {
  return settings.releases.flatMap((release) => release.files.map((file) => ({ ...file, release, key: `${release.operator}/${file.name}` })));
}

function fromFolder(settings: Settings, crdsDir: string): ResolvedCrds {
  const dir = resolve(REPO_ROOT, crdsDir);
  const setting = `FLOE_CRDS_DIR=${crdsDir}`;
  const files: Record<string, string> = {};
  for (const pin of pinnedFiles(settings)) {
    const path = join(dir, pin.release.operator, pin.name);
    const content = readPinned(path);
    if (content === undefined) {
      throw new Error(
        `${setting}: ${pin.key} not found in ${dir}; set FLOE_CRDS_DIR to a folder holding ${holding(settings)} ` +
          `(a relative path is resolved against ${REPO_ROOT}), or unset it to download the pinned files (such as ${pin.url})`,
      );
    }
    const actual = sha256(content);
    if (actual !== pin.sha256) {
      throw new Error(
        `${setting}: ${path} has sha256 ${actual}, expected ${pin.sha256} (${pin.release.operator} ${pin.release.version}); ` +
          `replace it with the pinned file from ${pin.url}, or, when moving to another release on purpose, ` +
          'update its pin in projenrc/crd-pins.ts and run `npx projen import`',
      );
    }
    files[pin.key] = path;
  }
  return { source: setting, files };
}

function fromCache(settings: Settings): ResolvedCrds {
  const files: Record<string, string> = {};
  for (const pin of pinnedFiles(settings)) {
    const path = cachePath(settings, pin);
    if (!matches(path, pin.sha256)) throw new Error(`${path} does not hold the pinned ${pin.key} (sha256 ${pin.sha256}) after the download`);
    files[pin.key] = path;
  }
  return { source: settings.cacheDir, files };
}

/** Downloads every pinned file the cache lacks or holds with other content, writing only verified files. */
async function fillCache(settings: Settings): Promise<void> {
  for (const pin of pinnedFiles(settings)) {
    const path = cachePath(settings, pin);
    const cached = readPinned(path);
    if (cached !== undefined && sha256(cached) === pin.sha256) continue;
    const url = downloadUrl(settings, pin);
    const untrusted = cached === undefined ? '' : `; the cached ${path} does not match its sha256 and is not used`;
    let content: Buffer;
    try {
      content = await download(url, settings.timeoutMs);
    } catch (e) {
      throw neitherWay(settings, pin, url, `${(e as Error).message}${untrusted}`);
    }
    const actual = sha256(content);
    if (actual !== pin.sha256) throw neitherWay(settings, pin, url, `the download has sha256 ${actual}, expected ${pin.sha256}${untrusted}`);
    writeAtomically(path, content);
  }
}

function fillCacheInChild(settings: Settings): void {
  const filesToGet = pinnedFiles(settings).length;
  const run = spawnSync(process.execPath, ['--require', require.resolve('ts-node/register/transpile-only'), __filename, FILL_CACHE_ARG, JSON.stringify(settings)], {
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_PROJECT: join(REPO_ROOT, 'projenrc', 'tsconfig.json') },
    timeout: filesToGet * settings.timeoutMs + 60_000,
  });
  if (run.status === 0) return;
  const answer = /^\{"error":.*\}$/m.exec(run.stdout ?? '')?.[0];
  if (answer) throw new Error(JSON.parse(answer).error);
  throw new Error(`the download of the operator CRDs into ${settings.cacheDir} did not finish (${run.error?.message ?? `exit ${run.status ?? run.signal}`}): ${(run.stderr ?? '').trim()}`);
}

/** The one error when FLOE_CRDS_DIR is unset and a pinned file cannot be had from the pinned URL. */
function neitherWay(settings: Settings, pin: Pin, url: string, reason: string): Error {
  return new Error(
    `operator CRD ${pin.key} (${pin.release.operator} ${pin.release.version}) is not in the cache ${settings.cacheDir} and ` +
      `could not be downloaded from ${url} (error: ${reason}); set FLOE_CRDS_DIR to a folder holding ${holding(settings)} ` +
      `(a relative path is resolved against ${REPO_ROOT}), or let this machine reach ${url}`,
  );
}

/** `external-secrets/{a.yaml, LICENSE} and infisical/{...}` */
function holding(settings: Settings): string {
  return settings.releases.map((r) => `${r.operator}/{${r.files.map((f) => f.name).join(', ')}}`).join(' and ');
}

function cachePath(settings: Settings, pin: Pin): string {
  return join(settings.cacheDir, `${pin.release.operator}-${pin.release.version}`, pin.name);
}

function downloadUrl(settings: Settings, pin: Pin): string {
  if (!pin.url.startsWith(`${PINNED_ORIGIN}/`)) throw new Error(`the pinned URL of ${pin.key}, ${pin.url}, is not on ${PINNED_ORIGIN}; fix it in projenrc/crd-pins.ts`);
  return settings.sourceOrigin === undefined ? pin.url : settings.sourceOrigin.replace(/\/$/, '') + pin.url.slice(PINNED_ORIGIN.length);
}

/** The content of a regular file, or undefined when there is none at `path`. */
function readPinned(path: string): Buffer | undefined {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    // ENOTDIR: a file where a folder of the path should be (FLOE_CRDS_DIR naming a file).
    if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw e;
  }
  if (!stat.isFile()) return undefined;
  if (stat.size > MAX_BYTES) throw new Error(`${path} has ${stat.size} bytes, more than any pinned operator CRD (at most ${MAX_BYTES}); remove it`);
  return readFileSync(path);
}

function matches(path: string, expected: string): boolean {
  const content = readPinned(path);
  return content !== undefined && sha256(content) === expected;
}

function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

function writeAtomically(path: string, content: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(temp, content, { mode: 0o644 });
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
}

/** GET over https (plain http to loopback only, for tests), following redirects to GitHub's raw-file hosts only. */
function download(url: string, timeoutMs: number, redirects: number = 0): Promise<Buffer> {
  const target = new URL(url);
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(target.hostname);
  if (target.protocol !== 'https:' && !(target.protocol === 'http:' && loopback)) {
    return Promise.reject(new Error(`${target.protocol} is refused, only https is used`));
  }
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolveDownload, reject) => {
    const request = client.get(target, { timeout: timeoutMs }, (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if ([301, 302, 303, 307, 308].includes(status) && location) {
        response.resume();
        const next = new URL(location, target);
        if (next.protocol !== 'https:' || !REDIRECT_HOSTS.includes(next.hostname)) {
          reject(new Error(`HTTP ${status} redirect to ${next.protocol}//${next.host} refused (only ${REDIRECT_HOSTS.join(' and ')} over https are followed)`));
        } else if (redirects >= MAX_REDIRECTS) {
          reject(new Error(`more than ${MAX_REDIRECTS} redirects`));
        } else {
          download(next.href, timeoutMs, redirects + 1).then(resolveDownload, reject);
        }
        return;
      }
      if (status !== 200) {
        response.resume();
        reject(new Error(`HTTP ${status}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BYTES) request.destroy(new Error(`the answer passed ${MAX_BYTES} bytes`));
        else chunks.push(chunk);
      });
      response.on('end', () => resolveDownload(Buffer.concat(chunks)));
      response.on('error', reject);
    });
    const deadline = setTimeout(() => request.destroy(new Error(`no complete answer within ${timeoutMs / 1000} s`)), timeoutMs);
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    request.on('error', reject);
    request.on('close', () => clearTimeout(deadline));
  });
}

/** `import <module>:=<operator>/<file> ...`: `cdk8s import` of each resolved file into src/imports/. */
async function cdk8sImport(specs: readonly string[]): Promise<void> {
  if (specs.length === 0) throw new Error('import: no <module>:=<operator>/<file> given; name the CRDs to import, as the import task in .projenrc.ts does');
  const crds = await resolveCrds();
  // cdk8s-cli's exports name only its package.json, not its bin.
  const cdk8sBin = join(dirname(require.resolve('cdk8s-cli/package.json')), 'bin', 'cdk8s');
  console.error(`operator CRDs from ${crds.source}`);
  for (const spec of specs) {
    const [module, name] = spec.split(':=');
    if (!module || !name) throw new Error(`import: ${spec} is not <module>:=<operator>/<file>; write it as infisicalsecrets:=infisical/secrets.infisical.com_infisicalsecrets.yaml`);
    const args = ['import', '--check-upgrade=false', '--no-save', '--language', 'typescript', '--output', 'src/imports', `${module}:=${crdFile(crds, name)}`];
    const run = spawnSync(process.execPath, [cdk8sBin, ...args], { cwd: REPO_ROOT, stdio: 'inherit' });
    if (run.status !== 0) throw new Error(`cdk8s ${args.join(' ')} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`})`);
  }
}

async function main(args: readonly string[]): Promise<void> {
  const [command, ...rest] = args;
  if (command === FILL_CACHE_ARG) {
    try {
      await fillCache(JSON.parse(rest[0]) as Settings);
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ error: (e as Error).message })}\n`);
      process.exitCode = 1;
    }
  } else if (command === 'import') {
    await cdk8sImport(rest);
  } else {
    throw new Error(`unknown command ${JSON.stringify(command ?? '')}; use: ts-node projenrc/crds.ts import <module>:=<operator>/<file> ...`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(e.message);
    process.exitCode = 1;
  });
}
