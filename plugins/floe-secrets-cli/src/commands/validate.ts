import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditLogger, FileAuditSink, loadPlatformManifest, SecretsError } from '@floe-secrets/core';
import { K8sSecretsPlugin } from '@floe-secrets/k8s';
import { analyzeAccess } from '../access-map/analyze';
import { auditDirectory, pluginFromManifest } from '../backend';
import { CliError, Command, ExitCode } from '../io';
import { readManifests } from '../manifests';
import { ClusterReader, InfisicalBackend, validateAll } from '../validate/checks';
import { unreachableReason } from '../validate/reachable';
import { renderReport } from '../validate/report';

const USAGE = 'floe-secrets validate [dir...] [--manifest manifest.yaml] [--json] [--kubeconfig FILE]';

/**
 * `floe-secrets validate [dir...]`: checks every secret reference of the synthesized YAML (default
 * `dist`) against the live cluster and backend: Secrets created outside the manifests exist with
 * their keys, operator CRDs are installed, Infisical holds the keys its InfisicalSecrets sync, and
 * RBAC grants get on what pods read and nothing broader. Key names only; values are never printed.
 * Exit 0 all good, 1 problems, 2 could not check.
 */
export const validate: Command = async (args, io) => {
  let values: { manifest?: string; json?: boolean; kubeconfig?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: {
        manifest: { type: 'string', short: 'm', default: 'manifest.yaml' },
        json: { type: 'boolean', default: false },
        kubeconfig: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    throw new CliError(`${(error as Error).message}\nusage: ${USAGE}`);
  }
  if (values.help) {
    io.stdout.write(`usage: ${USAGE}\n`);
    return ExitCode.OK;
  }
  const { documents, files } = readManifests(positionals.length > 0 ? positionals : ['dist'], io.cwd);
  const map = analyzeAccess(documents, files);
  const manifestPath = values.manifest as string;
  const manifest = loadPlatformManifest(join(io.cwd, manifestPath));
  const audit = new AuditLogger([new FileAuditSink({ directory: auditDirectory(io) })]);

  // The cluster: one plugin per namespace, key names only.
  const kubeconfig = values.kubeconfig ? resolve(io.cwd, values.kubeconfig) : undefined;
  const plugins = new Map<string, K8sSecretsPlugin>();
  const k8s = (namespace: string): K8sSecretsPlugin => {
    if (!plugins.has(namespace)) plugins.set(namespace, new K8sSecretsPlugin({ namespace, ...(kubeconfig ? { kubeconfig } : {}) }, { audit }));
    return plugins.get(namespace)!;
  };
  // Reachability first, by API discovery (each attempt bounded and its connection closed on timeout).
  const probe = k8s('default'); // a bad kubeconfig fails here, as itself
  try {
    await probe.hasApiResource('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews');
  } catch (error) {
    const why = error instanceof SecretsError ? `${error.name}: ${error.message}` : 'unexpected error';
    throw new CliError(`could not check: the Kubernetes cluster of ${kubeconfig ?? 'the default kubeconfig'} did not answer (${why})`);
  }
  const cluster: ClusterReader = {
    keysOf: async (namespace, name) => Object.keys(await k8s(namespace).getMultiKeySecret(name)), // values dropped here
    hasApiResource: (group, version, plural) => k8s('default').hasApiResource(group, version, plural),
  };

  const backend = manifest.plugins.secrets;
  let infisical: InfisicalBackend;
  const preflight: string[] = [];
  if (backend.type === 'infisical') {
    // First whether the address answers at all: a backend that never answers must not hold the process open.
    const unreachable = await unreachableReason(backend.siteUrl);
    if (unreachable) {
      preflight.push(`infisical: the backend of ${manifestPath} (${backend.siteUrl}) did not answer: ${unreachable}`);
      infisical = { skipped: `${backend.siteUrl} did not answer` };
    } else {
      const { plugin } = await pluginFromManifest(manifestPath, io);
      infisical = { plugin, projectId: backend.projectId, environment: backend.environment, secretsPath: backend.secretsPath };
    }
  } else {
    infisical = { skipped: `${manifestPath} configures the ${backend.type} backend, not infisical` };
  }

  const checked = await validateAll(documents, map, cluster, infisical);
  const result = { ...checked, errors: [...preflight, ...checked.errors] };
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ problems: result.problems, checked: result.checked, notes: result.notes, errors: result.errors }, null, 2)}\n`);
  } else {
    io.stdout.write(renderReport(result));
  }
  for (const error of result.errors) io.stderr.write(`floe-secrets validate: could not check: ${error}\n`);
  if (result.errors.length > 0) return ExitCode.ERROR;
  return result.problems.length > 0 ? ExitCode.PROBLEMS : ExitCode.OK;
};
