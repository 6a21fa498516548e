import { randomBytes } from 'node:crypto';
import { ComplianceTarget, describeSecretsPluginCompliance, PluginOptions, SecretsPlugin } from '@floe-secrets/core';
import nodeVault from 'node-vault';
import { VaultSecretsPlugin } from '../src';
import { VaultTestServer } from './vault-test-server';

/*
 * The core's compliance suite, unchanged, against:
 * (a) the local VaultTestServer, once with token auth and once with AppRole in a namespace;
 * (b) a real Vault when VAULT_ADDR and VAULT_TOKEN are set (optionally VAULT_NAMESPACE, VAULT_KV_MOUNT
 *     (default secret) and VAULT_DENIED_TOKEN, a token that may not touch the keys; without it a child
 *     token with only the `default` policy is created for the unauthorized case).
 */

let started: Promise<VaultTestServer> | undefined;
const server = async (): Promise<VaultTestServer> => (started ??= VaultTestServer.start());
afterAll(async () => {
  if (started) await (await started).close();
});

const run = randomBytes(4).toString('hex');
const keyOf = (prefix: string) => (suffix: string) => `${prefix}${suffix}/value`;

function localTarget(mode: 'token' | 'approle'): ComplianceTarget {
  const prefix = `floe-compliance/${run}-${mode}/`;
  const namespace = mode === 'approle' ? 'team-a' : undefined;
  const configFor = async (allowed: boolean): Promise<object> => {
    const vault = await server();
    const suffix = allowed ? 'rw' : 'elsewhere';
    vault.setPolicy(`${mode}-rw`, { 'secret/data/floe-compliance/*': ['create', 'read', 'update'], 'secret/metadata/floe-compliance/*': ['list', 'read', 'create', 'update'] });
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

const { VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_DENIED_TOKEN } = process.env;
const VAULT_KV_MOUNT = process.env.VAULT_KV_MOUNT ?? 'secret';

if (VAULT_ADDR && VAULT_TOKEN) {
  const prefix = `floe-compliance/${run}/`;
  const admin = nodeVault({ endpoint: VAULT_ADDR, token: VAULT_TOKEN, namespace: VAULT_NAMESPACE, noCustomHTTPVerbs: true });
  const base = { address: VAULT_ADDR, mount: VAULT_KV_MOUNT, ...(VAULT_NAMESPACE ? { namespace: VAULT_NAMESPACE } : {}) };
  let denied: Promise<string> | undefined;
  // A child token with only the default policy, which grants nothing on KV. (node-vault's tokenCreate would switch admin to it.)
  const deniedToken = async (): Promise<string> => VAULT_DENIED_TOKEN ?? (denied ??= admin
    .write('auth/token/create', { policies: ['default'], ttl: '15m', display_name: 'floe-compliance-denied' })
    .then((answer: { auth: { client_token: string } }) => answer.auth.client_token));
  const target: ComplianceTarget = {
    name: `vault (real Vault at ${VAULT_ADDR})`,
    key: keyOf(prefix),
    prefix,
    plugin: async (options: PluginOptions): Promise<SecretsPlugin> => new VaultSecretsPlugin({ ...base, auth: { method: 'token', token: VAULT_TOKEN } }, options),
    unauthorizedPlugin: async (options: PluginOptions) => new VaultSecretsPlugin({ ...base, auth: { method: 'token', token: await deniedToken() } }, options),
    unreachablePlugin: async (address: string, options: PluginOptions) =>
      new VaultSecretsPlugin({ ...base, address: `http://${address}`, auth: { method: 'token', token: 'unused' } }, options),
  };
  describeSecretsPluginCompliance(target);

  // Removes what the run wrote (every version and the metadata) under its prefix.
  afterAll(async () => {
    const walk = async (folder: string): Promise<string[]> => {
      const answer = await admin.list(`${VAULT_KV_MOUNT}/metadata/${folder}`).catch(() => ({ data: { keys: [] } }));
      const keys: string[] = answer?.data?.keys ?? [];
      const nested = await Promise.all(keys.map((k) => (k.endsWith('/') ? walk(`${folder}${k}`) : Promise.resolve([`${folder}${k}`]))));
      return nested.flat();
    };
    for (const path of await walk(prefix)) await admin.delete(`${VAULT_KV_MOUNT}/metadata/${path}`).catch(() => undefined);
  });
} else {
  process.stdout.write('vault compliance against a real Vault: not configured (set VAULT_ADDR and VAULT_TOKEN, optionally VAULT_DENIED_TOKEN, VAULT_NAMESPACE, VAULT_KV_MOUNT)\n');
}
