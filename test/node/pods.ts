import { createHash } from 'node:crypto';
import { TestCluster } from '../integration/cluster';
import { Manifest, podSpec } from '../util';

/** The kinds that run pods. */
export const WORKLOAD_KINDS = ['Job', 'CronJob', 'Deployment', 'StatefulSet', 'DaemonSet', 'Pod'];
const LONG_RUNNING = ['Deployment', 'StatefulSet', 'DaemonSet'];

/** The test cluster's busybox image (scripts/lib/kube-images.sh), with /bin/floe-probe. */
export const PROBE_IMAGE = 'busybox:1.35';

/** The sha256 of a value, as floe-probe reports it. */
export function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** One line of floe-probe's report. */
export type ProbeLine =
  | { env: string; set: boolean; sha256?: string }
  | { file: string; exists: boolean; mode?: string; uid?: number; gid?: number; readable?: boolean; sha256?: string }
  | { writable: string; ok: boolean }
  | { dbt: 'profiles' | 'write'; path?: string; dir?: string; cwd?: string; ok: boolean }
  | { uid: number; gid: number; groups: number[] };

/** Parses floe-probe's output (one JSON object a line); any other line fails the test. */
export function parseProbe(output: string): ProbeLine[] {
  return output.split('\n').filter((line) => line.trim() !== '').map((line) => {
    try {
      return JSON.parse(line) as ProbeLine;
    } catch {
      throw new Error(`floe-probe printed a line that is not JSON (${line.length} characters)`);
    }
  });
}

/** What one container must receive, as the synthesized manifest promises it. */
export interface Promised {
  /** Env var name to the sha256 of its value. */
  readonly env: Map<string, string>;
  /** File path to its sha256, mode and owner. */
  readonly files: Map<string, { sha256: string; mode: string; uid: number; gid: number }>;
  /** Directories the container may write. */
  readonly writable: string[];
  /** Whether the container is a dbt run (reads DBT_PROFILES_DIR). */
  readonly dbt: boolean;
}

/**
 * What each container of a workload must receive: every secretKeyRef and envFrom key, every key of
 * every secret volume at `<mountPath>/<key>` with the mode and owner the workload's
 * `floe.dev/secret-file-mode` annotation states, `/tmp`, the working directory and dbt's output
 * directories writable.
 *
 * @param values the value of each key of each Secret, by Secret name
 */
export function promisedTo(workload: Manifest, values: Map<string, Map<string, string>>): Map<string, Promised> {
  const pod = podSpec(workload);
  const stated = /^0([0-7]{3}) root:(\d+)$/.exec(workload.metadata.annotations?.['floe.dev/secret-file-mode'] ?? '');
  const valueOf = (secret: string, key: string): string => {
    const value = values.get(secret)?.get(key);
    if (value === undefined) throw new Error(`${workload.kind} ${workload.metadata.name} reads key ${key} of Secret ${secret}, which the test did not create`);
    return value;
  };
  const result = new Map<string, Promised>();
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const env = new Map<string, string>();
    for (const e of container.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) env.set(e.name, sha256(valueOf(ref.name, ref.key)));
    }
    for (const from of container.envFrom ?? []) {
      if (!from.secretRef) continue;
      for (const [key, value] of values.get(from.secretRef.name) ?? []) env.set(key, sha256(value));
    }
    const files = new Map<string, { sha256: string; mode: string; uid: number; gid: number }>();
    const writable: string[] = [];
    for (const mount of container.volumeMounts ?? []) {
      const volume = (pod.volumes ?? []).find((v: any) => v.name === mount.name);
      if (volume?.secret) {
        if (!stated) throw new Error(`${workload.kind} ${workload.metadata.name} mounts a Secret but states no floe.dev/secret-file-mode`);
        const keys: string[] = volume.secret.items?.map((i: any) => i.key) ?? [...(values.get(volume.secret.secretName)?.keys() ?? [])];
        for (const key of keys) {
          files.set(`${mount.mountPath}/${key}`, { sha256: sha256(valueOf(volume.secret.secretName, key)), mode: stated[1], uid: 0, gid: Number(stated[2]) });
        }
      } else if (volume?.emptyDir && !mount.readOnly) {
        writable.push(mount.mountPath);
      }
    }
    if (container.workingDir) writable.push(container.workingDir);
    const plain = (name: string) => container.env?.find((e: any) => e.name === name && e.value !== undefined)?.value as string | undefined;
    result.set(container.name, { env, files, writable: [...new Set(writable)].sort(), dbt: plain('DBT_PROFILES_DIR') !== undefined });
  }
  return result;
}

/** floe-probe's arguments for what a container was promised. */
export function probeArgs(promised: Promised): string[] {
  const args: string[] = [];
  if (promised.env.size > 0) args.push('env', ...[...promised.env.keys()].sort());
  if (promised.files.size > 0) args.push('file', ...[...promised.files.keys()].sort());
  if (promised.writable.length > 0) args.push('writable', ...promised.writable);
  if (promised.dbt) args.push('dbt');
  args.push('id');
  return args;
}

/** The report floe-probe gives when a container received exactly what it was promised. */
export function expectedReport(promised: Promised): ProbeLine[] {
  const lines: ProbeLine[] = [];
  for (const name of [...promised.env.keys()].sort()) lines.push({ env: name, set: true, sha256: promised.env.get(name)! });
  for (const path of [...promised.files.keys()].sort()) {
    const { sha256: digest, mode, uid, gid } = promised.files.get(path)!;
    lines.push({ file: path, exists: true, mode, uid, gid, readable: true, sha256: digest });
  }
  for (const dir of promised.writable) lines.push({ writable: dir, ok: true });
  return lines;
}

/**
 * The workload as the node can run it: the probe image (kept from the local cache), small requests
 * (the node has 2 cores), no health probes (busybox serves no endpoint). Everything the library
 * wrote about secrets (env, envFrom, volumes, mounts, security contexts, ServiceAccount) is kept as
 * is. Kubernetes 1.20 serves CronJob as batch/v1beta1, and refuses a StatefulSet's minReadySeconds.
 */
export function runnable(workload: Manifest): Manifest {
  const copy = JSON.parse(JSON.stringify(workload)) as Manifest;
  if (copy.kind === 'CronJob') copy.apiVersion = 'batch/v1beta1';
  if (copy.kind === 'StatefulSet' && copy.spec.minReadySeconds === 0) delete copy.spec.minReadySeconds;
  const pod = podSpec(copy);
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    container.image = PROBE_IMAGE;
    container.imagePullPolicy = 'IfNotPresent';
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) delete container[probe];
    container.resources = { ...container.resources, requests: { cpu: '10m', memory: '16Mi' } };
  }
  return copy;
}

/**
 * The workload as {@link runnable}, each container running floe-probe on what it was promised
 * (long-running kinds then sleep).
 */
export function forNode(workload: Manifest, promised: Map<string, Promised>): Manifest {
  const copy = runnable(workload);
  const pod = podSpec(copy);
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    container.command = ['floe-probe'];
    container.args = [...probeArgs(promised.get(container.name)!), ...(LONG_RUNNING.includes(copy.kind) ? ['sleep', '100000'] : [])];
  }
  return copy;
}

/** Polls `check` every `intervalMs` until it returns a value, or fails after `timeoutMs` with `what`. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 120_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((done) => setTimeout(done, intervalMs));
  }
}

/** The pods of a namespace whose labels match `selector`, as kubectl returns them. */
export function podsOf(cluster: TestCluster, namespace: string, selector: string): any[] {
  return JSON.parse(cluster.kubectlOk(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'json'])).items;
}

/** A container's logs (its floe-probe report). */
export function logsOf(cluster: TestCluster, namespace: string, pod: string, container: string): string {
  return cluster.kubectlOk(['logs', '-n', namespace, pod, '-c', container]);
}
