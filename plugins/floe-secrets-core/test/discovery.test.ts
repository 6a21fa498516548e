import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { checkApiVersion, discoverSecretsPlugins, loadSecretsPlugin, Masked, parseConfig, SameShape, SecretsConfigError } from '../src';

const ROOT = resolve(__dirname, '../../..');

describe('discovery (the floe.secrets entry-point group)', () => {
  test('finds the workspace plugins by name without the caller importing them', () => {
    const names = discoverSecretsPlugins(ROOT).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['infisical', 'k8s', 'vault']));
    expect(discoverSecretsPlugins(ROOT).find((p) => p.name === 'k8s')).toEqual({ name: 'k8s', packageName: '@floe-secrets/k8s', exportName: 'K8sSecretsPlugin' });
  });

  describe('third-party plugins', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'floe-discovery-'));
      writeFileSync(join(dir, 'package.json'), '{"name":"host"}');
      const write = (pkg: string, apiVersion: string) => {
        mkdirSync(join(dir, 'node_modules', pkg), { recursive: true });
        writeFileSync(join(dir, 'node_modules', pkg, 'package.json'), JSON.stringify({ name: pkg, main: 'index.js', floe: { secrets: { [pkg]: 'Plugin' } } }));
        writeFileSync(join(dir, 'node_modules', pkg, 'index.js'),
          `exports.Plugin = class { constructor(config) { this.name = '${pkg}'; this.floeApiVersion = '${apiVersion}'; this.config = config; } };`);
      };
      write('acme-secrets', '1.0');
      write('future-secrets', '2.0');
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    test('register themselves in their package.json and load by name', () => {
      expect(discoverSecretsPlugins(dir).map((p) => p.name)).toEqual(['acme-secrets', 'future-secrets']);
      const plugin = loadSecretsPlugin('acme-secrets', { region: 'eu' }, undefined, dir) as unknown as { name: string; config: unknown };
      expect(plugin.name).toBe('acme-secrets');
      expect(plugin.config).toEqual({ region: 'eu' });
    });

    test('a plugin for an API version the host does not support is refused', () => {
      expect(() => loadSecretsPlugin('future-secrets', {}, undefined, dir)).toThrow(
        'plugin future-secrets needs floe plugin API 2.0, but this host implements 1.0; install a plugin version built for this host, or upgrade the host',
      );
    });

    test('an unknown name lists what is installed', () => {
      expect(() => loadSecretsPlugin('gcp', {}, undefined, dir)).toThrow(
        'no secrets plugin named "gcp" is installed (found: acme-secrets, future-secrets); install the package that provides it, e.g. npm install @floe-secrets/gcp',
      );
    });
  });

  test.each([['1.0', true], ['1.1', false], ['0.9', false], ['2.0', false], ['one', false]])('host 1.0 and plugin API %s: supported=%s', (version, ok) => {
    const check = () => checkApiVersion({ name: 'p', floeApiVersion: version }, '1.0');
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow(SecretsConfigError);
  });
});

describe('plugin configuration (CR-003)', () => {
  const schema = z.strictObject({ url: z.string().url(), token: z.string().min(1).transform((value) => new Masked(value)) });

  test('parses into a frozen object with masked credentials', () => {
    const config = parseConfig('x', schema, { url: 'https://vault.example', token: 'tok-123456' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(config.token.reveal()).toBe('tok-123456');
    expect(JSON.stringify(config)).not.toContain('tok-123456');
  });

  test('lists every problem by field, never quoting a value', () => {
    const error = (() => {
      try {
        parseConfig('x', schema, { url: 'not a url', token: 12345678, extra: 'leak-me' });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SecretsConfigError);
    expect(error!.message).toMatch(/^x: invalid configuration:\n {2}/);
    expect(error!.message).toContain('(config): unknown field(s) extra; remove them');
    expect(error!.message).toContain('token: expected string; set it');
    expect(error!.message).toMatch(/url: /);
    expect(error!.message).not.toMatch(/leak-me|12345678|not a url/);
  });
});

describe('SameShape (the compile-time check of a plugin schema against its documented interfaces)', () => {
  interface Documented { readonly region?: string; readonly auth: { readonly method: 'token'; readonly token: Masked } | { readonly method: 'none' } }

  test('holds for the same fields whatever their readonly modifiers', () => {
    const same: SameShape<{ region?: string; auth: { method: 'token'; token: Masked } | { method: 'none' } }, Documented> = true;
    expect(same).toBe(true);
  });

  test('fails for a field added, missing, made required or changed in type, at any depth', () => {
    const added: SameShape<{ region?: string; zone?: string; auth: { method: 'none' } | { method: 'token'; token: Masked } }, Documented> = false;
    const missing: SameShape<{ auth: { method: 'none' } | { method: 'token'; token: Masked } }, Documented> = false;
    const required: SameShape<{ region: string; auth: { method: 'none' } | { method: 'token'; token: Masked } }, Documented> = false;
    const nested: SameShape<{ region?: string; auth: { method: 'none' } | { method: 'token'; token: string } }, Documented> = false;
    expect([added, missing, required, nested]).toEqual([false, false, false, false]);
  });
});
