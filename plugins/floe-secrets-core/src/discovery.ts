import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SecretsConfigError } from './errors';
import type { IdentityPlugin } from './identity';
import { FLOE_API_VERSION, SecretsPlugin } from './plugin';

/** A plugin class as discovery finds it: constructed from its config object. */
export type SecretsPluginClass = new (config: any, options?: any) => SecretsPlugin;

/** An identity plugin class as discovery finds it: constructed from its config object. */
export type IdentityPluginClass = new (config: any, options?: any) => IdentityPlugin;

/**
 * The entry-point groups discovery reads from package.json `"floe"`: `secrets` and `identity`.
 *
 * @requirement seed 001 (`secrets`)
 * @requirement seed 004 (`identity`)
 */
export type PluginGroup = 'secrets' | 'identity';

/** Where a plugin was found. */
export interface DiscoveredPlugin {
  /** The name callers use, e.g. `k8s`. */
  readonly name: string;
  /** The npm package that provides it. */
  readonly packageName: string;
  /** The exported class name. */
  readonly exportName: string;
}

/**
 * Plugins of `group` declared by installed packages: the Node counterpart of the `floe.secrets` and
 * `floe.identity` entry-point groups. A package declares its plugins in its package.json,
 * `"floe": { "<group>": { "<name>": "<ExportedClass>" } }`, and discovery finds it in every
 * node_modules directory Node would search from `fromDir`. Third-party packages register
 * themselves the same way.
 */
export function discoverPlugins(group: PluginGroup, fromDir: string = process.cwd()): DiscoveredPlugin[] {
  const found = new Map<string, DiscoveredPlugin>();
  for (const modules of nodeModulesDirs(fromDir)) {
    for (const packageDir of packageDirs(modules)) {
      let manifest: any;
      try {
        manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
      } catch {
        continue;
      }
      const declared = manifest?.floe?.[group];
      if (typeof declared !== 'object' || declared === null) continue;
      for (const [name, exportName] of Object.entries(declared)) {
        if (typeof exportName === 'string' && !found.has(name)) found.set(name, { name, packageName: manifest.name, exportName });
      }
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** The `floe.secrets` plugins installed: {@link discoverPlugins} of group `secrets`. */
export function discoverSecretsPlugins(fromDir: string = process.cwd()): DiscoveredPlugin[] {
  return discoverPlugins('secrets', fromDir);
}

/** The `floe.identity` plugins installed: {@link discoverPlugins} of group `identity`. */
export function discoverIdentityPlugins(fromDir: string = process.cwd()): DiscoveredPlugin[] {
  return discoverPlugins('identity', fromDir);
}

/**
 * Loads the secrets plugin called `name` and constructs it with `config`.
 *
 * @throws SecretsConfigError when no installed package provides it, or when it needs a newer floe
 * plugin API than this host implements
 */
export function loadSecretsPlugin(name: string, config: unknown, options?: unknown, fromDir: string = process.cwd()): SecretsPlugin {
  return loadPlugin<SecretsPlugin>('secrets', name, config, options, fromDir);
}

/**
 * Loads the identity plugin called `name` (e.g. `keycloak`) and constructs it with `config`.
 *
 * @throws SecretsConfigError when no installed package provides it, or when it needs a newer floe
 * plugin API than this host implements
 */
export function loadIdentityPlugin(name: string, config: unknown, options?: unknown, fromDir: string = process.cwd()): IdentityPlugin {
  return loadPlugin<IdentityPlugin>('identity', name, config, options, fromDir);
}

function loadPlugin<T extends { readonly name: string; readonly floeApiVersion: string }>(
  group: PluginGroup, name: string, config: unknown, options: unknown, fromDir: string,
): T {
  const discovered = discoverPlugins(group, fromDir);
  const entry = discovered.find((p) => p.name === name);
  if (!entry) {
    const example = group === 'identity' ? `@floe-secrets/identity-${name}` : `@floe-secrets/${name}`;
    throw new SecretsConfigError(
      `no ${group} plugin named ${JSON.stringify(name)} is installed (found: ${discovered.map((p) => p.name).join(', ') || 'none'}); ` +
        `install the package that provides it, e.g. npm install ${example}`,
      name,
    );
  }
  const load = createRequire(join(fromDir, 'package.json'));
  const pluginClass = (load(entry.packageName) as { [exportName: string]: new (config: unknown, options?: unknown) => T })[entry.exportName];
  if (typeof pluginClass !== 'function') {
    throw new SecretsConfigError(`${entry.packageName} declares plugin ${name} as ${entry.exportName}, but exports no such class; fix its package.json "floe.${group}"`, name);
  }
  const plugin = new pluginClass(config, options);
  checkApiVersion(plugin);
  return plugin;
}

/**
 * Refuses a plugin that needs a floe API this host does not implement: another major version, or
 * a newer minor one.
 *
 * @throws SecretsConfigError naming both versions
 */
export function checkApiVersion(plugin: { readonly name: string; readonly floeApiVersion: string }, host: string = FLOE_API_VERSION): void {
  const [hostMajor, hostMinor] = host.split('.').map(Number);
  const match = /^(\d+)\.(\d+)$/.exec(plugin.floeApiVersion);
  const supported = match !== null && Number(match[1]) === hostMajor && Number(match[2]) <= hostMinor;
  if (!supported) {
    throw new SecretsConfigError(
      `plugin ${plugin.name} needs floe plugin API ${plugin.floeApiVersion}, but this host implements ${host}; ` +
        'install a plugin version built for this host, or upgrade the host',
      plugin.name,
    );
  }
}

function nodeModulesDirs(fromDir: string): string[] {
  const dirs: string[] = [];
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules');
    if (existsSync(candidate)) dirs.push(candidate);
    if (dirname(dir) === dir) return dirs;
  }
}

function packageDirs(modules: string): string[] {
  const dirs: string[] = [];
  for (const entry of readdirSync(modules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      for (const scoped of readdirSync(join(modules, entry))) dirs.push(join(modules, entry, scoped));
    } else {
      dirs.push(join(modules, entry));
    }
  }
  return dirs;
}
