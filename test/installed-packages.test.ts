import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * What a user gets, proven from outside the repository: every package is packed (its `prepack`
 * builds it) from a clean copy of the sources, installed from the tarballs into a fresh cdk8s
 * TypeScript app with the strict tsconfig `cdk8s init typescript-app` writes (no `skipLibCheck`,
 * no `esModuleInterop`), type-checked, synthesized with cdk8s-cli, and its `floe-secrets` command run.
 */
const ROOT = resolve(__dirname, '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The packages the repository publishes, by npm name. */
const PACKAGES = ['floe-secrets', '@floe-secrets/core', '@floe-secrets/k8s', '@floe-secrets/infisical', '@floe-secrets/vault', '@floe-secrets/identity-keycloak', '@floe-secrets/cli'];

/** The installed version of a dev dependency of the repository, so that the app installs the same (from npm's cache). */
function repoVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Runs a command; fails the test with its output when it does not exit 0. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 8 * 60_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** The README's minimal example, as the README shows it. */
function readmeExample(): string {
  const match = /<!-- snippet: examples\/snippets\/minimal\.ts -->\n```ts\n([\s\S]*?)```/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  if (!match) throw new Error('README.md has no minimal example (<!-- snippet: examples/snippets/minimal.ts -->)');
  return match[1];
}

/** A program that uses the runtime plugins' types the way a user's code would. */
const PLUGIN_USER = `import { SecretsPlugin, loadPlatformManifest } from '@floe-secrets/core';
import { K8sSecretsPlugin } from '@floe-secrets/k8s';
import { InfisicalSecretsPlugin } from '@floe-secrets/infisical';
import { VaultSecretsPlugin } from '@floe-secrets/vault';
import { KeycloakIdentityPlugin } from '@floe-secrets/identity-keycloak';
import { FloeSecretsValidation } from '@floe-secrets/cli';

export async function read(key: string): Promise<string | undefined> {
  const plugin: SecretsPlugin = new K8sSecretsPlugin({ namespace: 'floe-sales' });
  return plugin.getSecret(key);
}
export const kinds = [InfisicalSecretsPlugin, VaultSecretsPlugin, KeycloakIdentityPlugin, FloeSecretsValidation].map((c) => c.name);
export const load = loadPlatformManifest;
`;

describe('the packages as a user installs them', () => {
  let work: string;
  let app: string;
  let tarballs: { name: string; filename: string; files: { path: string }[]; version: string }[];

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'floe-packages-'));
    // A clean copy of the sources: packing builds lib/ in the copy, never in the working tree that other tests run.
    const source = join(work, 'source');
    const files = run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], ROOT).stdout.split('\0').filter((f) => f !== '');
    for (const file of files) {
      mkdirSync(dirname(join(source, file)), { recursive: true });
      cpSync(join(ROOT, file), join(source, file), { verbatimSymlinks: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'));
    const packs = join(work, 'packs');
    mkdirSync(packs);
    const packed = run('npm', ['pack', '--workspaces', '--include-workspace-root', '--pack-destination', packs, '--json'], source);
    tarballs = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as typeof tarballs;

    app = join(work, 'app');
    mkdirSync(app);
    cpSync(join(ROOT, 'node_modules/cdk8s-cli/templates/typescript-app/tsconfig.json'), join(app, 'tsconfig.json'));
    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true, license: 'Apache-2.0' }, null, 2)}\n`);
    writeFileSync(join(app, 'cdk8s.yaml'), 'language: typescript\napp: npx ts-node main.ts\n');
    writeFileSync(join(app, 'main.ts'), readmeExample());
    writeFileSync(join(app, 'plugins.ts'), PLUGIN_USER);
    const npmInstall = ['install', '--no-audit', '--no-fund', '--prefer-offline'];
    run('npm', [...npmInstall, ...tarballs.map((t) => join(packs, t.filename)), ...['cdk8s', 'cdk8s-plus-28', 'constructs'].map((p) => `${p}@${repoVersion(p)}`)], app);
    run('npm', [...npmInstall, '--save-dev', ...['typescript', '@types/node', 'ts-node', 'cdk8s-cli'].map((p) => `${p}@${repoVersion(p)}`)], app);
  }, 10 * 60_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('every package packs, all at one version', () => {
    expect(tarballs.map((t) => t.name).sort()).toEqual([...PACKAGES].sort());
    expect(new Set(tarballs.map((t) => t.version))).toEqual(new Set([VERSION]));
  });

  test.each(PACKAGES)('%s ships compiled code with declarations, its README and LICENSE, and nothing else', (name) => {
    const paths = tarballs.find((t) => t.name === name)!.files.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'lib/index.js', 'lib/index.d.ts']));
    const unexpected = paths.filter((p) => !/^(lib\/.+\.(js|d\.ts)|bin\/floe-secrets\.js|package\.json|README\.md|LICENSE|CHANGELOG\.md)$/.test(p));
    expect(unexpected).toEqual([]);
    // Source maps are inline (the tsconfig's inlineSourceMap), so a stack trace points into the sources.
    const index = readFileSync(join(app, 'node_modules', name, 'lib/index.js'), 'utf8');
    expect(index).toContain('//# sourceMappingURL=data:application/json;base64,');
  });

  test("the app's tsconfig is the strict one cdk8s init writes", () => {
    const options = (JSON.parse(readFileSync(join(app, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> }).compilerOptions;
    expect(options).toMatchObject({ strict: true, noImplicitAny: true, module: 'CommonJS' });
    expect(options.skipLibCheck).toBeUndefined();
    expect(options.esModuleInterop).toBeUndefined();
  });

  test('the README example and every package type-check in the app', () => {
    // The app's own TypeScript, run directly (npx may add warnings of its own to the output).
    const result = spawnSync(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.'], { cwd: app, encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  }, 120_000);

  test('cdk8s synth writes the README example', () => {
    run('npx', ['cdk8s', 'synth'], app);
    const written = readdirSync(join(app, 'dist'));
    expect(written).toEqual(['sales.k8s.yaml']);
    const objects = parseAllDocuments(readFileSync(join(app, 'dist/sales.k8s.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(expect.arrayContaining(['Namespace/floe-sales', 'Job/orders-load']));
    expect(objects.find((o) => o.kind === 'Role')).toBeDefined();
  }, 120_000);

  test("cdk8s synth runs the installed validation plugin, with the README's ~/ kubeconfig", () => {
    // A cluster that is not there: the plugin must load, read ~/kube.yaml from $HOME, and report it could not check.
    const home = join(work, 'home');
    mkdirSync(home);
    writeFileSync(join(home, 'kube.yaml'), [
      'apiVersion: v1', 'kind: Config', 'current-context: nowhere',
      'clusters: [{ name: nowhere, cluster: { server: "https://127.0.0.1:1" } }]',
      'users: [{ name: nobody, user: {} }]',
      'contexts: [{ name: nowhere, context: { cluster: nowhere, user: nobody } }]', '',
    ].join('\n'));
    writeFileSync(join(app, 'manifest.yaml'), 'plugins:\n  secrets:\n    type: k8s\n    namespace: floe-sales\n');
    writeFileSync(join(app, 'cdk8s.yaml'), [
      'language: typescript', 'app: npx ts-node main.ts', 'validations:',
      '  - package: ./node_modules/@floe-secrets/cli', '    class: FloeSecretsValidation', `    version: ${VERSION}`,
      '    properties: { manifest: manifest.yaml, kubeconfig: ~/kube.yaml, context: nowhere }', '',
    ].join('\n'));
    try {
      const synth = spawnSync('npx', ['cdk8s', 'synth'], { cwd: app, env: { ...process.env, HOME: home }, encoding: 'utf8', timeout: 180_000 });
      const output = `${synth.stdout}${synth.stderr}`;
      expect(synth.status).not.toBe(0);
      expect(output).toContain('floe-secrets/could-not-check');
      expect(output).toContain('127.0.0.1:1');
      expect(output).not.toMatch(/could not load the cluster configuration/);
    } finally {
      writeFileSync(join(app, 'cdk8s.yaml'), 'language: typescript\napp: npx ts-node main.ts\n');
    }
  }, 240_000);

  test('the installed floe-secrets command answers --version and validate --help', () => {
    const bin = join(app, 'node_modules/.bin/floe-secrets');
    expect(run(bin, ['--version'], app).stdout).toBe(`floe-secrets ${VERSION}\n`);
    const help = run(bin, ['validate', '--help'], app).stdout;
    expect(help).toMatch(/validate/);
    expect(help).toMatch(/--manifest/);
    expect(help).toMatch(/--kubeconfig/);
    expect(help).toMatch(/--context/);
    expect(help).toMatch(/Examples:/);
  }, 60_000);
});
