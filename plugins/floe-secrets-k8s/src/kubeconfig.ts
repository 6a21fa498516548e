import { existsSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { FileTooLargeError, formatBytes, quote, readTextFileCapped, SecretsConfigError } from '@floe-secrets/core';
import type * as K8s from '@kubernetes/client-node';

/**
 * The largest kubeconfig read (4 MiB, as the CLI's `--kubeconfig`): hundreds of clusters with
 * embedded certificates. A larger file is refused from its size; a device such as /dev/zero is
 * read up to the cap and refused when it goes on.
 */
export const MAX_KUBECONFIG_BYTES = 4 * 1024 * 1024;

const FIX = 'set kubeconfig (or $KUBECONFIG) to a kubeconfig file';

/**
 * Loads into `kc` the kubeconfig `file`, or, with none, what `kubectl` would load: each file of
 * `$KUBECONFIG` (merged, the first one winning), else `~/.kube/config` when it exists, else the
 * client's fallbacks (in-cluster service account, localhost:8080). Like `loadFromFile`, relative
 * certificate and key paths are taken from the kubeconfig's folder; unlike it, every file is read
 * with {@link readKubeconfig}, so that no kubeconfig path hangs the plugin.
 *
 * @throws SecretsConfigError when a kubeconfig is a directory, a FIFO or socket, or larger than {@link MAX_KUBECONFIG_BYTES}
 * @throws the filesystem's or the YAML parser's error for any other problem
 */
export function loadKubeconfig(k8s: typeof K8s, kc: K8s.KubeConfig, file: string | undefined): void {
  const files = file !== undefined ? [file] : defaultKubeconfigFiles(k8s);
  if (files.length === 0) {
    kc.loadFromDefault(); // no kubeconfig file: the client's fallbacks, which read none
    return;
  }
  const [first, ...more] = files;
  loadFile(kc, first);
  for (const next of more) {
    const other = new k8s.KubeConfig();
    loadFile(other, next);
    kc.mergeConfig(other);
  }
}

/**
 * The text of the kubeconfig at `path`, read with a cap of {@link MAX_KUBECONFIG_BYTES}. A
 * directory, FIFO or socket is refused without opening it (opening a FIFO waits for a writer).
 * Errors name the path, never what the file holds.
 *
 * @throws SecretsConfigError when `path` is a directory, a FIFO or socket, or larger than the cap
 * @throws the filesystem's error (with its `code`) when it cannot be read
 */
export function readKubeconfig(path: string): string {
  const stat = statSync(path);
  if (stat.isDirectory()) throw new SecretsConfigError(`k8s: kubeconfig ${quote(path)} is a directory; ${FIX}`, 'k8s');
  if (stat.isFIFO() || stat.isSocket()) {
    throw new SecretsConfigError(`k8s: kubeconfig ${quote(path)} is a ${stat.isFIFO() ? 'FIFO' : 'socket'}, not a file; ${FIX}`, 'k8s');
  }
  try {
    return readTextFileCapped(path, MAX_KUBECONFIG_BYTES);
  } catch (error) {
    if (!(error instanceof FileTooLargeError)) throw error;
    throw new SecretsConfigError(`k8s: kubeconfig ${quote(path)} is larger than ${formatBytes(MAX_KUBECONFIG_BYTES)}; ${FIX}`, 'k8s');
  }
}

/** The files `loadFromDefault` would read: those of `$KUBECONFIG`, else `~/.kube/config` when it exists. */
function defaultKubeconfigFiles(k8s: typeof K8s): string[] {
  const listed = (process.env.KUBECONFIG ?? '').split(delimiter).filter((name) => name.length > 0);
  if (listed.length > 0) return listed;
  const home = k8s.findHomeDir();
  const config = home ? join(home, '.kube', 'config') : undefined;
  return config !== undefined && existsSync(config) ? [config] : [];
}

function loadFile(kc: K8s.KubeConfig, file: string): void {
  kc.loadFromString(readKubeconfig(file));
  kc.makePathsAbsolute(dirname(file));
}
