import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  BackendHttp,
  ComplianceTarget,
  compliancePrefix,
  describeSecretsPluginCompliance,
  NOT_JSON,
  PluginOptions,
  SecretsPlugin,
} from '@floe-secrets/core';
import { VaultSecretsPlugin } from '../src';
import { VaultTestServer } from './vault-test-server';

/*
 * The core's compliance suite, unchanged, against:
 * (a) the local VaultTestServer, once with token auth and once with AppRole in a namespace;
 * (b) a real Vault when VAULT_ADDR and VAULT_TOKEN are set (optionally VAULT_NAMESPACE, VAULT_KV_MOUNT
 *     (default secret), VAULT_CACERT (a PEM file for a private CA) and VAULT_DENIED_TOKEN, a token that
 *     may not touch the keys; without it a child token with only the `default` policy is created for the
 *     unauthorized case). The run writes under $FLOE_COMPLIANCE_PREFIX (default `floe-compliance/`),
 *     below a random name of its own, and deletes what it wrote (every version and the metadata).
 */

let started: Promise<VaultTestServer> | undefined;
const server = async (): Promise<VaultTestServer> => (started ??= VaultTestServer.start());
afterAll(async () => {
  if (started) await (await started).close();
});

const run = randomBytes(4).toString('hex');
const base = compliancePrefix();
const keyOf = (prefix: string) => (suffix: string) => `${prefix}${suffix}/value`;

test('FLOE_COMPLIANCE_PREFIX sets where a compliance run writes; anything but a relative path ending in "/" is refused', () => {
  expect(compliancePrefix('floe-compliance/', {})).toBe('floe-compliance/');
  expect(compliancePrefix('floe-compliance/', { FLOE_COMPLIANCE_PREFIX: 'ci/team-a/' })).toBe('ci/team-a/');
  for (const bad of ['', '/abs/', 'no-slash', 'a/../b/', './x/', 'a//b/', 'a b/']) {
    expect(() => compliancePrefix('floe-compliance/', { FLOE_COMPLIANCE_PREFIX: bad })).toThrow(/FLOE_COMPLIANCE_PREFIX must be a relative path/);
  }
});

function localTarget(mode: 'token' | 'approle'): ComplianceTarget {
  const prefix = `${base}${run}-${mode}/`;
  const namespace = mode === 'approle' ? 'team-a' : undefined;
  const configFor = async (allowed: boolean): Promise<object> => {
    const vault = await server();
    const suffix = allowed ? 'rw' : 'elsewhere';
    vault.setPolicy(`${mode}-rw`, { [`secret/data/${base}*`]: ['create', 'read', 'update'], [`secret/metadata/${base}*`]: ['list', 'read', 'create', 'update'] });
    vault.setPolicy(`${mode}-elsewhere`, { 'secret/data/elsewhere/*': ['create', 'read', 'update'], 'secret/metadata/elsewhere/*': ['list'] });
    if (mode === 'token') {
      return { address: vault.address, auth: { method: 'token', token: vault.createToken({ policies: [`${mode}-${suffix}`] }).token } };
    }
    vault.addKvMount('secret', 'team-a');
    const roleId = randomBytes(8).toString('hex');
    const secretId = randomBytes(16).toString('hex');
    vault.addAppRole({ name: `floe-${suffix}`, roleId, secretId, policies: [`${mode}-${suffix}`], namespace: 'team-a' });
    return { address: vault.address, namespace, auth: { method: 'approle', roleId, secretId } };
  };
  return {
    name: `vault (local VaultTestServer, ${mode === 'token' ? 'token' : 'AppRole in namespace team-a'})`,
    key: keyOf(prefix),
    prefix,
    plugin: async (options: PluginOptions) => new VaultSecretsPlugin(await configFor(true), options),
    unauthorizedPlugin: async (options: PluginOptions) => new VaultSecretsPlugin(await configFor(false), options),
    unreachablePlugin: async (address: string, options: PluginOptions) =>
      new VaultSecretsPlugin({ address: `http://${address}`, namespace, auth: { method: 'token', token: randomBytes(8).toString('hex') } }, options),
  };
}

describeSecretsPluginCompliance(localTarget('token'));
describeSecretsPluginCompliance(localTarget('approle'));

const { VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_DENIED_TOKEN, VAULT_CACERT } = process.env;
const VAULT_KV_MOUNT = process.env.VAULT_KV_MOUNT ?? 'secret';

if (VAULT_ADDR && VAULT_TOKEN) {
  const prefix = `${base}${run}/`;
  const admin = new BackendHttp({ plugin: 'vault-compliance', baseUrl: VAULT_ADDR, ...(VAULT_CACERT ? { ca: readFileSync(VAULT_CACERT) } : {}) });
  const adminCall = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: object): Promise<unknown> => {
    const headers = { 'X-Vault-Token': VAULT_TOKEN, ...(VAULT_NAMESPACE ? { 'X-Vault-Namespace': VAULT_NAMESPACE } : {}) };
    const answer = await admin.request({ method, path: `/v1/${path}`, headers, body, signal: AbortSignal.timeout(10_000) });
    return answer.json === NOT_JSON ? undefined : answer.json;
  };
  const config = {
    address: VAULT_ADDR,
    mount: VAULT_KV_MOUNT,
    ...(VAULT_NAMESPACE ? { namespace: VAULT_NAMESPACE } : {}),
    ...(VAULT_CACERT ? { caCertFile: VAULT_CACERT } : {}),
  };
  let denied: Promise<string> | undefined;
  // A child token with only the default policy, which grants nothing on KV.
  const deniedToken = async (): Promise<string> => VAULT_DENIED_TOKEN ?? (denied ??= adminCall('POST', 'auth/token/create', {
    policies: ['default'], ttl: '15m', display_name: 'floe-compliance-denied',
  }).then((answer) => (answer as { auth: { client_token: string } }).auth.client_token));
  const target: ComplianceTarget = {
    name: `vault (real Vault at ${VAULT_ADDR}, under ${prefix})`,
    key: keyOf(prefix),
    prefix,
    plugin: async (options: PluginOptions): Promise<SecretsPlugin> => new VaultSecretsPlugin({ ...config, auth: { method: 'token', token: VAULT_TOKEN } }, options),
    unauthorizedPlugin: async (options: PluginOptions) => new VaultSecretsPlugin({ ...config, auth: { method: 'token', token: await deniedToken() } }, options),
    unreachablePlugin: async (address: string, options: PluginOptions) =>
      new VaultSecretsPlugin({ ...config, address: `http://${address}`, auth: { method: 'token', token: 'unused' } }, options),
  };
  describeSecretsPluginCompliance(target);

  // Removes what the run wrote (every version and the metadata) under its prefix.
  afterAll(async () => {
    const walk = async (folder: string): Promise<string[]> => {
      const answer = await adminCall('GET', `${VAULT_KV_MOUNT}/metadata/${folder}?list=true`).catch(() => undefined);
      const keys = (answer as { data?: { keys?: unknown } } | undefined)?.data?.keys;
      const names = Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string') : [];
      const nested = await Promise.all(names.map((k) => (k.endsWith('/') ? walk(`${folder}${k}`) : Promise.resolve([`${folder}${k}`]))));
      return nested.flat();
    };
    for (const path of await walk(prefix)) await adminCall('DELETE', `${VAULT_KV_MOUNT}/metadata/${path}`).catch(() => undefined);
    admin.close();
  });
} else {
  process.stdout.write('vault compliance against a real Vault: not configured (set VAULT_ADDR and VAULT_TOKEN, optionally VAULT_DENIED_TOKEN, VAULT_NAMESPACE, VAULT_KV_MOUNT, VAULT_CACERT, FLOE_COMPLIANCE_PREFIX)\n');
}
