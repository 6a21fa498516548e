import { readFileSync } from 'node:fs';
import { DependencyType, JsonFile, javascript, TextFile, typescript, YamlFile } from 'projen';

/** One version for every package of the repository, kept in sync here (see CHANGELOG.md). */
const VERSION = '0.1.0';
const KEYWORDS = ['cdk8s', 'kubernetes', 'secrets', 'rbac', 'infisical', 'vault', 'external-secrets', 'dbt', 'gitops'];
/** What every package needs of Node.js: the plugins load ES modules with require() (Node 20.19+). */
const ENGINES = { node: '>= 20.19.0' };

// A plain TypeScript project rather than projen's jsii ConstructLibraryCdk8s: the library uses
// discriminated unions and generic helpers that jsii cannot express, and it targets TypeScript
// users of cdk8s only.
const project = new typescript.TypeScriptProject({
  name: 'floe-secrets',
  description: 'cdk8s constructs and runtime plugins that give the floe data platform safe secrets on Kubernetes',
  license: 'Apache-2.0',
  copyrightOwner: 'floe secrets authors',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  minNodeVersion: '20.19.0',
  typescriptVersion: '~5.9.0',
  deps: [`@floe-secrets/core@${VERSION}`, 'yaml@^2.8.0'],
  // A construct library uses the app's single copy of cdk8s, constructs and cdk8s-plus.
  peerDeps: ['cdk8s@^2.70.0', 'cdk8s-plus-28@^2.5.0', 'constructs@^10.4.0'],
  // The dev copies stay on the latest compatible versions (projen would pin them to the minimum).
  peerDependencyOptions: { pinnedDevDependency: false },
  keywords: KEYWORDS,
  // oidc-provider 8 (not 9, which supports Node 22+ only): the OpenID Provider the Keycloak plugin's tests run on loopback.
  devDeps: ['cdk8s@^2.70.0', 'cdk8s-plus-28@^2.5.0', 'constructs@^10.4.0', 'oidc-provider@^8.8.1', 'cdk8s-cli@^2.200.0', '@opentelemetry/sdk-trace-base@^2.0.0', '@opentelemetry/context-async-hooks@^2.0.0', 'typedoc@^0.28.0', 'typedoc-plugin-markdown@^4.9.0'],
  github: false,
  release: false,
  package: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  sampleCode: false,
  jestOptions: {
    jestVersion: '^29',
    // `jest --ci`: snapshots are never written implicitly; `npx projen test:update` does that on purpose.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    passWithNoTests: false,
    junitReporting: false,
    coverageText: true,
    jestConfig: {
      testTimeout: 30_000,
      // Two suites at a time: most of the suite waits on servers, subprocesses and pods, so two
      // workers halve its wall time on 2 cores (jest's default there is one).
      maxWorkers: 2,
      // README snippets import the package by its published name.
      moduleNameMapper: {
        '^floe-secrets$': '<rootDir>/src/index.ts',
        // Identity plugins first: the general pattern below would also match their names.
        '^@floe-secrets/identity-([a-z0-9-]+)$': '<rootDir>/plugins/floe-identity-$1/src/index.ts',
        '^@floe-secrets/([a-z0-9-]+)$': '<rootDir>/plugins/floe-secrets-$1/src/index.ts',
      },
      collectCoverageFrom: ['src/**/*.ts', '!src/imports/**', 'plugins/*/src/**/*.ts'],
      testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/plugins/*/test/**/*.test.ts'],
      coveragePathIgnorePatterns: ['/node_modules/', '/src/imports/', '/test/', '/examples/'],
      coverageReporters: ['text-summary', 'lcov'],
      coverageThreshold: { lines: 80, statements: 80, functions: 80, branches: 75 },
    },
  },
  tsconfig: { compilerOptions: { skipLibCheck: true } },
  tsconfigDev: {
    include: ['../src/**/*.ts', '../examples/**/*.ts', '../bench/**/*.ts', '../plugins/*/src/**/*.ts', '../plugins/*/test/**/*.ts'],
    // README snippets and plugins import the packages by their published names.
    compilerOptions: {
      // Library declaration files (client-node's isomorphic-ws) are not ours to type-check.
      skipLibCheck: true,
      baseUrl: '..',
      paths: {
        'floe-secrets': ['src/index.ts'],
        '@floe-secrets/identity-*': ['plugins/floe-identity-*/src/index.ts'],
        '@floe-secrets/*': ['plugins/floe-secrets-*/src/index.ts'],
        // A package-exports subpath, which node10 resolution cannot see (jest resolves it at run time).
        'cdk8s-cli/plugins': ['node_modules/cdk8s-cli/lib/plugins/index.d.ts'],
      },
    },
  },
  eslintOptions: {
    dirs: ['src', 'plugins'],
    devdirs: ['test', 'examples', 'bench'],
    ignorePatterns: ['src/imports/**', 'node_modules/**', 'lib/**', 'plugins/*/lib/**', 'dist/**', 'coverage/**', 'bench/out/**'],
    // The dev tsconfig covers src, test, examples and bench.
    tsconfigPath: './test/tsconfig.json',
    // Lint during a test run reports; it never rewrites files.
    commandOptions: { fix: false },
  },
  gitignore: ['/dist/', '/cdk8s.out/', '/coverage/', '/bench/out/'],
});

// eslint-import-resolver-typescript 4 (which projen's eslint adds unpinned) needs unrs-resolver's
// native bindings, one optional package per platform; the registry mirror serves only linux-x64, so
// npm cannot lock the others and `npm ci` refuses the lockfile. Version 3.6 resolves in plain JavaScript.
project.deps.addDependency('eslint-import-resolver-typescript@~3.6.3', DependencyType.BUILD);

// File modes are bit masks (0o400 | 0o440): bitwise operators are the clear way to say so.
project.eslint?.addRules({ 'no-bitwise': 'off' });
// examples/ and bench/ have no tsconfig of their own: parse everything with the dev tsconfig,
// which includes them, rather than with the nearest tsconfig.json that projectService would pick.
const eslintrc = project.tryFindObjectFile('.eslintrc.json');
eslintrc?.addDeletionOverride('parserOptions.projectService');
eslintrc?.addOverride('parserOptions.project', ['./test/tsconfig.json', './projenrc/tsconfig.json']);

// Runtime plugins (REQ-131..134, REQ-140): one npm workspace package per backend, each with only
// the dependencies it needs, found at run time by name (see plugins/floe-secrets-core discovery).
interface PluginPackage {
  readonly name: string;
  readonly description: string;
  readonly deps: Record<string, string>;
  /**
   * The floe entry-point group the package belongs to (seed 004: plugins/floe-secrets-* and
   * plugins/floe-identity-*). It sets the directory `plugins/floe-<group>-<name>`, the npm name
   * (`@floe-secrets/<name>`, or `@floe-secrets/identity-<name>` for identity plugins) and, with
   * `provides`, the package.json key discovery reads, `"floe": { "<group>": { ... } }`.
   */
  readonly group?: 'secrets' | 'identity';
  readonly provides?: string;
  readonly exportName?: string;
  readonly bin?: Record<string, string>;
}
const PLUGINS: PluginPackage[] = [
  {
    name: 'core',
    description: 'The floe SecretsPlugin and IdentityPlugin contracts (errors, masked config, audit log, retries, tracing, discovery, compliance suites, secret access by token) and the platform manifest',
    deps: { 'zod': '^4.1.0', 'yaml': '^2.8.0', '@opentelemetry/api': '^1.9.0' },
  },
  {
    name: 'k8s',
    description: 'floe SecretsPlugin for Kubernetes Secrets',
    deps: { '@floe-secrets/core': VERSION, '@kubernetes/client-node': '^1.4.0', 'zod': '^4.1.0' },
    provides: 'k8s',
    exportName: 'K8sSecretsPlugin',
  },
  {
    name: 'infisical',
    description: 'floe SecretsPlugin for Infisical',
    deps: { '@floe-secrets/core': VERSION, 'zod': '^4.1.0' },
    provides: 'infisical',
    exportName: 'InfisicalSecretsPlugin',
  },
  {
    name: 'vault',
    description: 'floe SecretsPlugin for HashiCorp Vault KV v2',
    deps: { '@floe-secrets/core': VERSION, 'zod': '^4.1.0' },
    provides: 'vault',
    exportName: 'VaultSecretsPlugin',
  },
  {
    name: 'keycloak',
    group: 'identity',
    description: 'floe IdentityPlugin for Keycloak: OIDC access-token validation with cached JWKS, realm-based multi-tenancy',
    deps: { '@floe-secrets/core': VERSION, 'jose': '^6.1.0', 'zod': '^4.1.0' },
    provides: 'keycloak',
    exportName: 'KeycloakIdentityPlugin',
  },
  {
    name: 'cli',
    description: 'floe-secrets: validate manifests against live backends, read and write secrets, scan for plaintext credentials, map who can read what',
    deps: {
      '@floe-secrets/core': VERSION,
      '@floe-secrets/k8s': VERSION,
      '@floe-secrets/infisical': VERSION,
      '@floe-secrets/vault': VERSION,
      '@floe-secrets/identity-keycloak': VERSION,
      'yaml': '^2.8.0',
      // commander 14: 15 needs Node 22.12+.
      'commander': '^14.0.0',
    },
    // A committed shim, so that npm links the command at install time, before lib/ is built.
    bin: { 'floe-secrets': 'bin/floe-secrets.js' },
  },
];
const pluginDir = (plugin: PluginPackage): string => `plugins/floe-${plugin.group ?? 'secrets'}-${plugin.name}`;
const pluginPackageName = (plugin: PluginPackage): string =>
  `@floe-secrets/${plugin.group === 'identity' ? 'identity-' : ''}${plugin.name}`;
project.package.addField('workspaces', PLUGINS.map(pluginDir));
project.package.addVersion(VERSION);
// The published library: compiled code, declarations, README, LICENSE and CHANGELOG, nothing else.
project.package.addField('files', ['lib/**/*.js', 'lib/**/*.d.ts', 'README.md', 'LICENSE', 'CHANGELOG.md']);
project.package.setScript('prepack', 'npx projen compile');
const compilePlugins = project.addTask('compile:plugins', { description: 'build every plugin package into its lib/' });
for (const plugin of PLUGINS) {
  new JsonFile(project, `${pluginDir(plugin)}/package.json`, {
    obj: {
      name: pluginPackageName(plugin),
      version: VERSION,
      description: plugin.description,
      keywords: KEYWORDS,
      license: 'Apache-2.0',
      engines: ENGINES,
      main: 'lib/index.js',
      types: 'lib/index.d.ts',
      // Only what a user needs: the compiled code (with declarations and inline source maps), README, LICENSE.
      files: ['lib/**/*.js', 'lib/**/*.d.ts', ...(plugin.bin ? ['bin/'] : []), 'README.md', 'LICENSE'],
      scripts: { prepack: 'tsc -p .' },
      dependencies: plugin.deps,
      ...(plugin.bin ? { bin: plugin.bin } : {}),
      // The Node counterpart of the `floe.secrets` / `floe.identity` entry-point groups: what discovery looks for.
      ...(plugin.provides ? { floe: { [plugin.group ?? 'secrets']: { [plugin.provides]: plugin.exportName } } } : {}),
    },
  });
  new JsonFile(project, `${pluginDir(plugin)}/tsconfig.json`, {
    obj: {
      extends: '../../tsconfig.json',
      compilerOptions: { rootDir: 'src', outDir: 'lib' },
      include: ['src/**/*.ts'],
    },
  });
  new TextFile(project, `${pluginDir(plugin)}/LICENSE`, { lines: readFileSync('LICENSE', 'utf8').replace(/\n$/, '').split('\n') });
  // In dependency order: PLUGINS lists core first and the CLI after the plugins it uses.
  compilePlugins.exec(`tsc -p ${pluginDir(plugin)}`);
}
project.gitignore.exclude('/plugins/*/lib/');

// Plugin sources may import only their own package's dependencies; their tests also use the root
// dev dependencies (jest, the OpenTelemetry SDK, the test cluster).
project.eslint?.addOverride({
  files: ['plugins/*/test/**/*.ts', 'bench/**/*.ts'],
  rules: {
    'import/no-extraneous-dependencies': ['error', {
      devDependencies: true,
      packageDir: ['.', ...PLUGINS.map(pluginDir)],
    }],
  },
});

// The test suite starts its own kube-apiserver, and a single-node cluster that runs real pods; make
// sure they are built (cached outside the repo) first.
project.testTask.prependSpawn(compilePlugins);
project.testTask.prependExec('bash scripts/test-tools.sh');
project.testTask.prependExec('bash scripts/kube-cluster.sh provision');


// Typed classes for the operator CRDs, generated into src/imports/ by `npx projen import` and committed
// like any cdk8s import. The CRDs are pinned by release, URL and sha256 in projenrc/crd-pins.ts, never
// copied here: projenrc/crds.ts takes them from FLOE_CRDS_DIR or downloads them into a cache outside the
// repository, verifies them and gives cdk8s import their paths.
const crdImports = [
  ['infisicalsecrets', 'infisical/secrets.infisical.com_infisicalsecrets.yaml'],
  ['infisicalconnections', 'infisical/secrets.infisical.com_infisicalconnections.yaml'],
  ['infisicalauths', 'infisical/secrets.infisical.com_infisicalauths.yaml'],
  ['infisicalstaticsecrets', 'infisical/secrets.infisical.com_infisicalstaticsecrets.yaml'],
  ['externalsecrets', 'external-secrets/external-secrets.io_externalsecrets.yaml'],
].map(([module, file]) => `${module}:=${file}`);
project.addTask('import', {
  description: 'generate src/imports/ from the pinned operator CRDs (projenrc/crd-pins.ts), taken from FLOE_CRDS_DIR or downloaded',
  exec: `ts-node --transpile-only --project projenrc/tsconfig.json projenrc/crds.ts import ${crdImports.join(' ')}`,
});

// cdk8s synth of the example GitOps app writes dist/.
new YamlFile(project, 'cdk8s.yaml', {
  obj: {
    language: 'typescript',
    // The library uses @floe-secrets/core, which ts-node loads from its built lib/.
    app: 'npx tsc -p plugins/floe-secrets-core && npx ts-node --project test/tsconfig.json examples/main.ts',
    output: 'dist',
  },
});
project.addTask('bench', {
  description: 'benchmarks (see bench/README.md): synth against hand-written cdk8s-plus-28, then runtime-plugin latency',
  steps: [
    { spawn: 'compile:plugins' },
    { exec: 'ts-node --transpile-only --project test/tsconfig.json bench/run.ts' },
    { exec: "jest --ci --coverage=false --testMatch '<rootDir>/bench/*.bench.ts'" },
  ],
});
// The API reference: typedoc.json writes docs/api/ from the JSDoc of every package, emptying it
// first, and fails on a warning such as a broken {@link}; test/api-docs.test.ts fails when the
// committed copy is stale.
project.addTask('docs', {
  description: 'generate the API reference in docs/api/ from the JSDoc (typedoc.json)',
  exec: 'typedoc',
});
project.addTask('synth', {
  description: 'synthesize the example GitOps app into dist/',
  exec: 'cdk8s synth',
});

project.synth();
