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
  const agent = vaultAgentFiles(workload, values);
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const env = new Map<string, string>();
    // What the Vault Agent writes, in every container; the floe wrapper exports its env files.
    const injected = new Map(agent.map((f) => [f.path, { sha256: sha256(f.content), mode: f.mode.slice(1), uid: f.uid, gid: f.gid }]));
    for (const file of wrappedEnvFiles(container)) {
      const written = agent.find((f) => f.path === file);
      if (!written) throw new Error(`${workload.kind} ${workload.metadata.name} exports ${file}, which no Vault Agent annotation writes`);
      for (const [name, value] of parseEnvFile(written.content)) env.set(name, sha256(value));
    }
    for (const e of container.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) env.set(e.name, sha256(valueOf(ref.name, ref.key)));
    }
    for (const from of container.envFrom ?? []) {
      if (!from.secretRef) continue;
      for (const [key, value] of values.get(from.secretRef.name) ?? []) env.set(key, sha256(value));
    }
    const files = new Map<string, { sha256: string; mode: string; uid: number; gid: number }>(injected);
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
export function forNode(workload: Manifest, promised: Map<string, Promised>, values: Map<string, Map<string, string>> = new Map()): Manifest {
  const copy = runnable(workload);
  const pod = podSpec(copy);
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const probe = ['floe-probe', ...probeArgs(promised.get(container.name)!), ...(LONG_RUNNING.includes(copy.kind) ? ['sleep', '100000'] : [])];
    // The floe wrapper (/bin/sh -c <script> floe-run <command...>) stays: it runs floe-probe instead.
    const wrapped = container.command?.[0] === '/bin/sh' && container.command[3] === 'floe-run';
    container.command = wrapped ? [...container.command.slice(0, 4), ...probe] : [probe[0]];
    container.args = wrapped ? undefined : probe.slice(1);
  }
  emulateVaultAgent(copy, values);
  return copy;
}

/** The test's stand-in values of Vault secrets: by `vault:<path>`, each field a random value made on first use. */
function vaultValue(values: Map<string, Map<string, string>>, path: string, field: string): string {
  const key = `vault:${path}`;
  if (!values.has(key)) values.set(key, new Map());
  const fields = values.get(key)!;
  if (!fields.has(field)) fields.set(field, `v${createHash('sha256').update(`${Math.random()}`).digest('hex').slice(0, 20)}`);
  return fields.get(field)!;
}

/** A file the Vault Agent would write into the pod: its path, content (the template rendered with the test's values), mode and owner. */
interface AgentFile {
  readonly path: string;
  readonly content: string;
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
}

/** The files the Vault Agent Injector's annotations on `workload`'s pods ask for, rendered with the test's values. */
export function vaultAgentFiles(workload: Manifest, values: Map<string, Map<string, string>>): AgentFile[] {
  const template = (workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template : workload.spec.template) ?? { metadata: workload.metadata };
  const a: { [key: string]: string } = template.metadata?.annotations ?? {};
  const P = 'vault.hashicorp.com/';
  if (a[`${P}agent-inject`] !== 'true') return [];
  const uid = Number(a[`${P}agent-run-as-user`] ?? 100);
  const gid = Number(a[`${P}agent-run-as-group`] ?? 1000);
  return Object.keys(a).filter((k) => k.startsWith(`${P}agent-inject-secret-`)).sort().map((k) => {
    const id = k.slice(`${P}agent-inject-secret-`.length);
    const path = a[k];
    const body = a[`${P}agent-inject-template-${id}`] ?? '';
    // The templates the library writes: `{{- with secret "<path>" -}}…{{- end }}` around `.Data.<field>` or `index .Data.data "<field>"`.
    const inner = /^\{\{- with secret "[^"]+" -\}\}([\s\S]*?)\{\{- end \}\}$/.exec(body);
    if (!inner) throw new Error(`${workload.kind} ${workload.metadata.name}: template ${id} is not of a shape this test renders`);
    const content = inner[1]
      .replace(/\{\{ index \.Data\.data "([^"]+)" \}\}/g, (_, field: string) => vaultValue(values, path, field))
      .replace(/\{\{ \.Data\.([A-Za-z_]+) \}\}/g, (_, field: string) => vaultValue(values, path, field))
      .replace(/\s+$/, ''); // `{{- end }}` trims the whitespace before it
    if (content.includes('{{')) throw new Error(`${workload.kind} ${workload.metadata.name}: template ${id} has parts this test does not render`);
    const dir = a[`${P}secret-volume-path-${id}`] ?? '/vault/secrets';
    return { path: `${dir}/${a[`${P}agent-inject-file-${id}`] ?? id}`, content, mode: a[`${P}agent-inject-perms-${id}`] ?? '0644', uid, gid };
  });
}

/** The env files a container's floe wrapper exports (`set -a; . '<file>'; set +a`). */
function wrappedEnvFiles(container: any): string[] {
  if (container.command?.[0] !== '/bin/sh' || container.command[3] !== 'floe-run') return [];
  return [...String(container.command[2]).matchAll(/set -a; \. '([^']+)'; set \+a/g)].map((m) => m[1]);
}

/** `NAME='value'` lines, as sh reads them. */
function parseEnvFile(content: string): Array<[string, string]> {
  return content.split('\n').filter((l) => l !== '').map((line) => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)='([^']*)'$/.exec(line);
    if (!m) throw new Error('an env file line is not NAME=\'value\'');
    return [m[1], m[2]];
  });
}

/**
 * Stands in for the Vault Agent Injector, which does not run on the test node: an init container
 * writes the files its annotations ask for (rendered with the test's values, with their mode and
 * owner) into an emptyDir at each secret volume path of every container; with `agent-enable-quit`,
 * a sidecar `vault-agent` listens on port 8200 (as the agent's listener) and exits on the first
 * request, logging it: the pod completes only when the main container asks it to quit.
 */
function emulateVaultAgent(workload: Manifest, values: Map<string, Map<string, string>>): void {
  const files = vaultAgentFiles(workload, values);
  if (files.length === 0) return;
  const pod = podSpec(workload);
  const a = (workload.kind === 'CronJob' ? workload.spec.jobTemplate.spec.template : workload.spec.template).metadata.annotations;
  const dirs = [...new Set(files.map((f) => f.path.slice(0, f.path.lastIndexOf('/'))))];
  const mounts = dirs.map((dir, i) => ({ name: `vault-agent-${i}`, mountPath: dir }));
  pod.volumes = [...(pod.volumes ?? []), ...mounts.map((m) => ({ name: m.name, emptyDir: { medium: 'Memory' } }))];
  for (const container of pod.containers) {
    container.volumeMounts = [...(container.volumeMounts ?? []), ...mounts.map((m) => ({ ...m, readOnly: true }))];
  }
  const script = files.map((f) => `printf '%s' '${f.content.replace(/'/g, "'\\''")}' > '${f.path}' && chmod ${f.mode} '${f.path}'`).join(' && ');
  const agent = { image: PROBE_IMAGE, imagePullPolicy: 'IfNotPresent', securityContext: { runAsUser: files[0].uid, runAsGroup: files[0].gid, allowPrivilegeEscalation: false } };
  const init = { ...agent, name: 'vault-agent-init', command: ['sh', '-c', script], volumeMounts: mounts };
  pod.initContainers = [init, ...(pod.initContainers ?? [])];
  if (a['vault.hashicorp.com/agent-enable-quit'] === 'true') {
    const port = a['vault.hashicorp.com/agent-cache-listener-port'] ?? '8200';
    pod.containers.push({ ...agent, name: 'vault-agent', command: ['sh', '-c', `printf 'HTTP/1.1 204 No Content\\r\\nConnection: close\\r\\n\\r\\n' | nc -l -p ${port}`] });
  }
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
