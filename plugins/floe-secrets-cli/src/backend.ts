import { accessSync, constants } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import {
  AuditLogger, CredentialRef, DOMAIN_NAMESPACE_PREFIX, dnsLabelProblem, FileAuditSink, loadPlatformManifest, MAX_DOMAIN_NAME_LENGTH,
  PlatformManifest, PluginOptions, SecretsPlugin,
} from '@floe-secrets/core';
import { InfisicalSecretsPlugin } from '@floe-secrets/infisical';
import { K8sSecretsPlugin } from '@floe-secrets/k8s';
import { VaultSecretsPlugin } from '@floe-secrets/vault';
import { describeFsError } from './fs-errors';
import { authenticate, authorize } from './identity';
import { CliError, CliIO } from './io';

/** Where the CLI writes its audit log unless FLOE_SECRETS_AUDIT_DIR says otherwise. */
export function auditDirectory(io: CliIO): string {
  return io.env.FLOE_SECRETS_AUDIT_DIR ?? join(io.env.HOME ?? io.cwd, '.local', 'state', 'floe-secrets', 'audit');
}

/**
 * The CLI's audit log, where every command is recorded, in {@link auditDirectory}, created if
 * missing. Checked before any backend call: an audit sink that cannot write drops events silently.
 *
 * @throws CliError saying what is wrong with the directory (a file, not writable) and how to fix it
 * @requirement REQ-140
 */
export function openAuditSink(io: CliIO): FileAuditSink {
  const directory = auditDirectory(io);
  const where = io.env.FLOE_SECRETS_AUDIT_DIR !== undefined ? `the audit directory ${JSON.stringify(directory)} (FLOE_SECRETS_AUDIT_DIR)` : `the audit directory ${directory}`;
  const fix = 'set FLOE_SECRETS_AUDIT_DIR to a directory you can write (it is created if missing): every command is recorded there';
  if (directory === '') throw new CliError(`FLOE_SECRETS_AUDIT_DIR is empty; ${fix}, or unset it for ~/.local/state/floe-secrets/audit`);
  try {
    const sink = new FileAuditSink({ directory });
    accessSync(directory, constants.W_OK);
    return sink;
  } catch (error) {
    throw new CliError(`${where} ${auditDirectoryProblem(error)}; ${fix}`);
  }
}

function auditDirectoryProblem(error: unknown): string {
  switch ((error as NodeJS.ErrnoException)?.code) {
    case 'EEXIST': return 'is a file, not a directory';
    case 'ENOTDIR': return 'cannot be created: a part of its path is a file, not a directory';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS': return 'cannot be written (permission denied)';
    default: return `cannot be created or written (${describeFsError(error)})`;
  }
}

/** Who may use the backend, and where. */
export interface BackendAccess {
  /**
   * With the k8s backend: use the Secrets of namespace `floe-<domain>` instead of the manifest's
   * namespace. Must be a domain of the manifest.
   */
  readonly domain?: string;
  /**
   * Whether the caller must present an access token when the manifest configures
   * `plugins.identity` (every command that reads or writes values; not `health` or `validate`).
   *
   * @default true
   */
  readonly authenticate?: boolean;
  /**
   * The kubeconfig file (relative to the working directory) through which the k8s backend, and
   * `{ secret_ref }` credentials, are read, as kubectl's `--kubeconfig`.
   *
   * @default - $KUBECONFIG, else ~/.kube/config (in a pod: its service account)
   */
  readonly kubeconfig?: string;
  /**
   * The kubeconfig context, as kubectl's `--context`; one the kubeconfig does not have is an error
   * that lists those it has.
   *
   * @default - the kubeconfig's current context
   */
  readonly context?: string;
}

/** The K8s plugin's settings for where the cluster is: `access`'s kubeconfig and context. */
function clusterOf(access: BackendAccess, io: CliIO): { kubeconfig?: string; context?: string } {
  return {
    ...(access.kubeconfig !== undefined ? { kubeconfig: resolvePath(io.cwd, access.kubeconfig) } : {}),
    ...(access.context !== undefined ? { context: access.context } : {}),
  };
}

/**
 * The secrets plugin of the backend that `manifest.yaml` configures, with the CLI's audit log,
 * where every command is recorded. Credentials come from the references in the manifest:
 * `{ env: NAME }` from the environment, `{ secret_ref }` from a Kubernetes Secret through the
 * kubeconfig.
 *
 * When the manifest configures `plugins.identity`, the caller's access token is validated first
 * (see {@link authenticate}); every audit event then names its subject (`onBehalfOf`), and with
 * the k8s backend the namespace must be a `floe-<domain>` namespace the token grants.
 *
 * @throws CliError when the manifest is missing or invalid, a credential cannot be resolved, or the
 * caller's token is missing, refused or does not grant the domain
 * @requirement REQ-140
 */
export async function pluginFromManifest(
  manifestPath: string, io: CliIO, access: BackendAccess = {},
): Promise<SecretsPlugin> {
  return backendPlugin(loadPlatformManifest(resolvePath(io.cwd, manifestPath)), manifestPath, io, access);
}

/** {@link pluginFromManifest} for a manifest already loaded from `manifestPath`. */
export async function backendPlugin(manifest: PlatformManifest, manifestPath: string, io: CliIO, access: BackendAccess = {}): Promise<SecretsPlugin> {
  if (access.domain !== undefined) checkDomain(access.domain, manifest, manifestPath);
  const sinks = [openAuditSink(io)];
  const identity = manifest.plugins.identity;
  const caller = identity && access.authenticate !== false ? await authenticate(identity, manifestPath, io, new AuditLogger(sinks)) : undefined;
  const options: PluginOptions = { audit: new AuditLogger(sinks, caller?.claims.subject) };
  const backend = manifest.plugins.secrets;
  if (backend.type === 'k8s') {
    const namespace = access.domain !== undefined ? `${DOMAIN_NAMESPACE_PREFIX}${access.domain}` : backend.namespace;
    if (caller) authorize(caller, namespace);
    return new K8sSecretsPlugin({ namespace, ...clusterOf(access, io) }, options);
  }
  if (access.domain !== undefined) {
    throw new CliError(`--domain picks the namespace ${DOMAIN_NAMESPACE_PREFIX}<domain> of the k8s backend; ${manifestPath} configures the ${backend.type} backend, whose keys are paths: leave --domain out`);
  }
  if (backend.type === 'infisical') {
    const auth = backend.auth;
    if (auth.method !== 'universal-auth' || !auth.clientId || !auth.clientSecret) {
      throw new CliError('the CLI logs in to Infisical with Universal Auth: set plugins.secrets.auth.client_id and client_secret (references) in the manifest');
    }
    return new InfisicalSecretsPlugin({
      siteUrl: backend.siteUrl,
      // A slug is resolved to the project's id by the plugin, once.
      ...(backend.projectId !== undefined ? { projectId: backend.projectId } : { projectSlug: backend.projectSlug }),
      environment: backend.environment,
      secretPath: backend.secretsPath,
      clientId: await resolve(auth.clientId, 'plugins.secrets.auth.client_id', io, access),
      clientSecret: await resolve(auth.clientSecret, 'plugins.secrets.auth.client_secret', io, access),
    }, options);
  }
  const auth = backend.authMethod === 'token'
    ? { method: 'token', token: await resolve(backend.token!, 'plugins.secrets.token', io, access) }
    : backend.authMethod === 'approle'
      ? {
        method: 'approle',
        roleId: await resolve(backend.roleId!, 'plugins.secrets.role_id', io, access),
        secretId: await resolve(backend.secretId!, 'plugins.secrets.secret_id', io, access),
      }
      : { method: 'kubernetes', role: backend.role! };
  const config = { address: backend.address, namespace: backend.vaultNamespace, mount: backend.mount, auth };
  return new VaultSecretsPlugin(config, options);
}

async function resolve(ref: CredentialRef, where: string, io: CliIO, access: BackendAccess): Promise<string> {
  if ('env' in ref) {
    const value = io.env[ref.env];
    if (!value) throw new CliError(`${where} refers to the environment variable ${ref.env}, which is not set; export it first`);
    return value;
  }
  const { name, namespace, key } = ref.secretRef;
  const value = await new K8sSecretsPlugin({ namespace, ...clusterOf(access, io) }).getSecret(`${name}/${key}`);
  if (value === undefined) throw new CliError(`${where} refers to key ${key} of Secret ${namespace}/${name}, which does not exist`);
  return value;
}

/** A `--domain` must be a domain name, and one the manifest declares when it declares any. */
function checkDomain(domain: string, manifest: PlatformManifest, manifestPath: string): void {
  const problem = dnsLabelProblem(domain, MAX_DOMAIN_NAME_LENGTH);
  if (problem) throw new CliError(`--domain ${JSON.stringify(domain)} ${problem}; give a domain of ${manifestPath}, e.g. "sales"`);
  const declared = manifest.domains.map((d) => d.name);
  if (declared.length > 0 && !declared.includes(domain)) {
    throw new CliError(`--domain ${domain} is not a domain of ${manifestPath} (it declares ${declared.join(', ')}); pick one of those, or declare it there`);
  }
}

/** The Vault backend of `--manifest`, with the CLI's audit log (and the caller's token when the manifest configures identity). */
export async function vaultBackend(manifest: string, io: CliIO, command: string): Promise<VaultSecretsPlugin> {
  const plugin = await pluginFromManifest(manifest, io);
  if (!(plugin instanceof VaultSecretsPlugin)) {
    throw new CliError(`${command} needs the vault backend (Vault's database secrets engine); ${manifest} configures the ${plugin.name} backend; pass the manifest of a Vault platform with --manifest`);
  }
  return plugin;
}
