import { join, resolve as resolvePath } from 'node:path';
import {
  AuditLogger, CredentialRef, FileAuditSink, loadPlatformManifest, PlatformManifest, PluginOptions, SecretsPlugin,
} from '@floe-secrets/core';
import { InfisicalSecretsPlugin } from '@floe-secrets/infisical';
import { K8sSecretsPlugin } from '@floe-secrets/k8s';
import { VaultSecretsPlugin } from '@floe-secrets/vault';
import { CliError, CliIO } from './io';

/** Where the CLI writes its audit log unless FLOE_SECRETS_AUDIT_DIR says otherwise. */
export function auditDirectory(io: CliIO): string {
  return io.env.FLOE_SECRETS_AUDIT_DIR ?? join(io.env.HOME ?? io.cwd, '.local', 'state', 'floe-secrets', 'audit');
}

/**
 * The secrets plugin of the backend that `manifest.yaml` configures, with the CLI's audit log
 * (REQ-140: every command is recorded). Credentials come from the references in the manifest:
 * `{ env: NAME }` from the environment, `{ secret_ref }` from a Kubernetes Secret through the
 * kubeconfig.
 *
 * @throws CliError when the manifest is missing or invalid, or a credential cannot be resolved
 */
export async function pluginFromManifest(manifestPath: string, io: CliIO): Promise<{ plugin: SecretsPlugin; manifest: PlatformManifest }> {
  const manifest = loadPlatformManifest(resolvePath(io.cwd, manifestPath));
  const options: PluginOptions = { audit: new AuditLogger([new FileAuditSink({ directory: auditDirectory(io) })]) };
  const backend = manifest.plugins.secrets;
  if (backend.type === 'k8s') return { manifest, plugin: new K8sSecretsPlugin({ namespace: backend.namespace }, options) };
  if (backend.type === 'infisical') {
    const auth = backend.auth;
    if (auth.method !== 'universal-auth' || !auth.clientId || !auth.clientSecret) {
      throw new CliError('the CLI logs in to Infisical with Universal Auth: set plugins.secrets.auth.client_id and client_secret (references) in the manifest');
    }
    if (!backend.projectId) throw new CliError('the Infisical API needs the project id: set plugins.secrets.project_id in the manifest');
    const plugin = new InfisicalSecretsPlugin({
      siteUrl: backend.siteUrl,
      projectId: backend.projectId,
      environment: backend.environment,
      secretPath: backend.secretsPath,
      clientId: await resolve(auth.clientId, 'plugins.secrets.auth.client_id', io),
      clientSecret: await resolve(auth.clientSecret, 'plugins.secrets.auth.client_secret', io),
    }, options);
    return { manifest, plugin };
  }
  const auth = backend.authMethod === 'token'
    ? { method: 'token', token: await resolve(backend.token!, 'plugins.secrets.token', io) }
    : backend.authMethod === 'approle'
      ? {
        method: 'approle',
        roleId: await resolve(backend.roleId!, 'plugins.secrets.role_id', io),
        secretId: await resolve(backend.secretId!, 'plugins.secrets.secret_id', io),
      }
      : { method: 'kubernetes', role: backend.role! };
  const config = { address: backend.address, namespace: backend.vaultNamespace, mount: backend.mount, auth };
  return { manifest, plugin: new VaultSecretsPlugin(config, options) };
}

async function resolve(ref: CredentialRef, where: string, io: CliIO): Promise<string> {
  if ('env' in ref) {
    const value = io.env[ref.env];
    if (!value) throw new CliError(`${where} refers to the environment variable ${ref.env}, which is not set; export it first`);
    return value;
  }
  const { name, namespace, key } = ref.secretRef;
  const value = await new K8sSecretsPlugin({ namespace }).getSecret(`${name}/${key}`);
  if (value === undefined) throw new CliError(`${where} refers to key ${key} of Secret ${namespace}/${name}, which does not exist`);
  return value;
}
