import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { AuditLogger, FileTooLargeError, formatBytes, loadPlatformManifest, readTextFileCapped, SecretsError, SecretsPlugin } from '@floe-secrets/core';
import { K8sSecretsPlugin } from '@floe-secrets/k8s';
import { analyzeAccess } from '../access-map/analyze';
import { backendPlugin, openAuditSink } from '../backend';
import { CliError, CliIO } from '../io';
import { readManifests } from '../manifests';
import { ClusterReader, ProgressSink } from './backends';
import { validateAll, ValidateResult } from './checks';
import { NO_PROGRESS } from './progress';
import { unreachableReason } from './reachable';

/**
 * The largest kubeconfig `--kubeconfig` may name (4 MiB: hundreds of clusters with embedded
 * certificates). The Kubernetes client reads the file whole; a device such as /dev/zero would
 * never end.
 */
export const MAX_KUBECONFIG_BYTES = 4 * 1024 * 1024;

/** Refuses a kubeconfig over {@link MAX_KUBECONFIG_BYTES}; any other read problem is reported by the Kubernetes plugin. */
function checkKubeconfigSize(path: string, given: string): void {
  // A FIFO or socket is refused unopened: opening a FIFO waits for a writer.
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isFIFO() || stat?.isSocket()) throw new CliError(`--kubeconfig ${given} is a ${stat.isFIFO() ? 'FIFO' : 'socket'}, not a file; pass a kubeconfig file, e.g. ~/.kube/config`);
  try {
    readTextFileCapped(path, MAX_KUBECONFIG_BYTES);
  } catch (error) {
    if (error instanceof FileTooLargeError) {
      throw new CliError(`--kubeconfig ${given} is larger than ${formatBytes(MAX_KUBECONFIG_BYTES)}; pass a kubeconfig file, e.g. ~/.kube/config`);
    }
  }
}

/** What to validate, and against what. */
export interface ValidationOptions {
  /** Files or directories of synthesized YAML. */
  readonly paths: readonly string[];
  /** The platform manifest, relative to `io.cwd`. */
  readonly manifestPath: string;
  /** A kubeconfig file; default: the default kubeconfig. */
  readonly kubeconfig?: string;
  /** The kubeconfig context; default: its current context. */
  readonly context?: string;
  /** Where to read the environment and working directory from. */
  readonly io: CliIO;
  /** Where progress goes; default: nowhere. */
  readonly progress?: ProgressSink;
}

/**
 * Checks every secret reference of the YAML against the live cluster and backend; shared by
 * `floe-secrets validate` and the cdk8s validation plugin.
 *
 * @throws CliError when the cluster cannot be reached at all or the input cannot be read
 */
export async function runValidation(options: ValidationOptions): Promise<ValidateResult> {
  const io = options.io;
  // The plain-YAML reader plan uses: what cdk8s writes, read about ten times faster; anything else
  // (and every problem) is read by the yaml library, so documents, errors and warnings are the same.
  const { documents, files, warnings } = readManifests([...options.paths], io.cwd, { fast: true });
  const map = analyzeAccess(documents, files);
  const manifestPath = options.manifestPath;
  const manifest = loadPlatformManifest(resolve(io.cwd, manifestPath));
  const kubeconfig = options.kubeconfig ? resolve(io.cwd, options.kubeconfig) : undefined;
  if (kubeconfig) checkKubeconfigSize(kubeconfig, options.kubeconfig!);
  const context = options.context;
  const where = { ...(kubeconfig ? { kubeconfig } : {}), ...(context ? { context } : {}) };
  const audit = new AuditLogger([openAuditSink(io)]);

  // The cluster: one plugin per namespace, key names only.
  const plugins = new Map<string, K8sSecretsPlugin>();
  const k8s = (namespace: string): K8sSecretsPlugin => {
    if (!plugins.has(namespace)) plugins.set(namespace, new K8sSecretsPlugin({ namespace, ...where }, { audit }));
    return plugins.get(namespace)!;
  };
  // Reachability first, by API discovery (each attempt bounded and its connection closed on timeout).
  const probe = k8s('default'); // a bad kubeconfig fails here, as itself
  try {
    await probe.hasApiResource('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews');
  } catch (error) {
    const why = error instanceof SecretsError ? `${error.name}: ${error.message}` : 'unexpected error';
    const which = `${context ? `context ${context} of ` : ''}${kubeconfig ?? 'the default kubeconfig'}`;
    throw new CliError(`could not check: the Kubernetes cluster of ${which} did not answer (${why})`);
  }
  const cluster: ClusterReader = {
    keysOf: async (namespace, name) => Object.keys(await k8s(namespace).getMultiKeySecret(name)), // values dropped here
    hasApiResource: (group, version, plural) => k8s('default').hasApiResource(group, version, plural),
  };

  // The backend of manifest.yaml. First whether its address answers at all: a backend that never
  // answers must not hold the process open.
  const config = manifest.plugins.secrets;
  const preflight: string[] = [];
  let plugin: SecretsPlugin | undefined;
  let unavailable: string | undefined;
  if (config.type !== 'k8s') {
    const address = config.type === 'infisical' ? config.siteUrl : config.address;
    const unreachable = await unreachableReason(address);
    if (unreachable) {
      preflight.push(`${config.type}: the backend of ${manifestPath} (${address}) did not answer: ${unreachable}`);
      unavailable = `${address} did not answer`;
    } else {
      // Key names only, in CI as much as at a desk: no personal access token is asked for.
      plugin = await backendPlugin(manifest, manifestPath, io, { authenticate: false, ...where });
    }
  }
  const backend = { manifestPath, config, ...(plugin ? { plugin } : {}), ...(unavailable ? { unavailable } : {}) };
  const checked = await validateAll(documents, map, cluster, backend, options.progress ?? NO_PROGRESS);
  const doubtful = warnings.map((warning) => `doubtful YAML, read anyway: ${warning}`);
  return { ...checked, notes: [...doubtful, ...checked.notes], errors: [...preflight, ...checked.errors] };
}
