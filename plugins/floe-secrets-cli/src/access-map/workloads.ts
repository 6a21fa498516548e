import { VaultInjection } from './model';
import { arr, K8sObject, record, str } from './objects';

const VAULT = 'vault.hashicorp.com/';

/**
 * Whether a Vault API path gives dynamic credentials with a lease (`<engine mount>/creds/<role>`,
 * e.g. `database/creds/app-readwrite`) rather than a stored secret.
 */
export function isDynamicCredentialsPath(path: string): boolean {
  return /^(.+\/)?[^/]+\/creds\/[^/*]+$/.test(path) && !/\/(data|metadata)\//.test(path);
}

/** Workload kinds whose pods receive secrets, with the API groups they live in. */
export const WORKLOAD_GROUPS: { readonly [kind: string]: readonly string[] } = {
  Pod: [''],
  Deployment: ['apps', 'extensions'],
  StatefulSet: ['apps'],
  DaemonSet: ['apps', 'extensions'],
  ReplicaSet: ['apps', 'extensions'],
  ReplicationController: [''],
  Job: ['batch'],
  CronJob: ['batch'],
};

/** A Secret a workload's pods receive, and how. */
interface SecretUse {
  readonly secret: string;
  readonly how: 'env' | 'envFrom' | 'file';
  /** undefined: all keys. */
  keys: Set<string> | undefined;
  readonly notes: Set<string>;
  /** For `file`: where its volumes are mounted in the containers. */
  readonly mountPaths: Set<string>;
}

/** What a workload's pods receive: Secrets (env, envFrom, files) and Vault Agent injections. */
export interface Workload {
  readonly ref: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly tokenMounted: boolean;
  readonly uses: SecretUse[];
  readonly vault: Array<VaultInjection & { keys?: string[] }>;
}

/** Reads the pod template of a workload; undefined when it has none. */
export function readWorkload(x: K8sObject, serviceAccounts: Map<string, K8sObject>): Workload | undefined {
  const template = x.kind === 'Pod' ? x.o : x.kind === 'CronJob' ? x.o.spec?.jobTemplate?.spec?.template : x.o.spec?.template;
  if (!template || typeof template !== 'object') return undefined;
  const spec = template.spec ?? {};
  const annotations = record(template.metadata?.annotations);
  const serviceAccount = str(spec.serviceAccountName) ?? str(spec.serviceAccount) ?? 'default';
  const saObject = serviceAccounts.get(`${x.namespace}/${serviceAccount}`);
  const automount = spec.automountServiceAccountToken ?? saObject?.o.automountServiceAccountToken ?? true;

  const uses: SecretUse[] = [];
  const use = (secret: string | undefined, how: SecretUse['how'], keys: string[] | undefined, notes: string[], mountPaths: string[] = []) => {
    if (!secret) return;
    let entry = uses.find((u) => u.secret === secret && u.how === how);
    if (!entry) {
      entry = { secret, how, keys: new Set<string>(), notes: new Set<string>(), mountPaths: new Set<string>() };
      uses.push(entry);
    }
    if (keys === undefined) entry.keys = undefined;
    else keys.forEach((k) => entry!.keys?.add(k));
    notes.forEach((n) => entry!.notes.add(n));
    mountPaths.forEach((m) => entry!.mountPaths.add(m));
  };
  const containers = [...arr(spec.initContainers), ...arr(spec.containers), ...arr(spec.ephemeralContainers)];
  for (const container of containers) {
    for (const env of arr(container?.env)) {
      const ref = env?.valueFrom?.secretKeyRef;
      if (ref) use(str(ref.name), 'env', str(ref.key) ? [str(ref.key)!] : [], ref.optional === true ? ['optional'] : []);
    }
    for (const envFrom of arr(container?.envFrom)) {
      const ref = envFrom?.secretRef;
      if (!ref) continue;
      const notes = [...(str(envFrom.prefix) ? [`prefix ${str(envFrom.prefix)}`] : []), ...(ref.optional === true ? ['optional'] : [])];
      use(str(ref.name), 'envFrom', undefined, notes);
    }
  }
  const mountsOf = (volume: string): string[] => containers.flatMap((c) =>
    arr(c?.volumeMounts).filter((m) => str(m?.name) === volume).flatMap((m) => str(m?.mountPath) ?? []));
  for (const volume of arr(spec.volumes)) {
    const volumeName = str(volume?.name) ?? '';
    const mounts = mountsOf(volumeName);
    const mountNotes = mounts.length > 0 ? [`mounted at ${[...new Set(mounts)].join(', ')}`] : ['volume not mounted by any container'];
    const secretVolume = volume?.secret;
    if (secretVolume) {
      const items = arr(secretVolume.items).flatMap((i) => str(i?.key) ?? []);
      use(str(secretVolume.secretName), 'file', items.length > 0 ? items : undefined,
        [...mountNotes, ...(secretVolume.optional === true ? ['optional'] : [])], mounts);
    }
    for (const projected of arr(volume?.projected?.sources)) {
      const source = projected?.secret;
      if (!source) continue;
      const items = arr(source.items).flatMap((i) => str(i?.key) ?? []);
      use(str(source.name), 'file', items.length > 0 ? items : undefined, [...mountNotes, 'projected volume', ...(source.optional === true ? ['optional'] : [])], mounts);
    }
  }

  return {
    ref: `${x.kind}/${x.name}`,
    namespace: x.namespace,
    serviceAccount,
    tokenMounted: automount !== false,
    uses,
    vault: readVaultAnnotations(annotations),
  };
}

function readVaultAnnotations(annotations: { [key: string]: any }): Array<VaultInjection & { keys?: string[] }> {
  const active = String(annotations[`${VAULT}agent-inject`] ?? '').toLowerCase() === 'true';
  const role = str(annotations[`${VAULT}role`]);
  const defaultDir = str(annotations[`${VAULT}secret-volume-path`]) ?? '/vault/secrets';
  const byPath = new Map<string, { files: string[]; keys: Set<string> }>();
  for (const key of Object.keys(annotations).sort()) {
    const match = /^vault\.hashicorp\.com\/agent-inject-secret-(.+)$/.exec(key);
    const path = str(annotations[key]);
    if (!match || !path) continue;
    const name = match[1];
    const file = str(annotations[`${VAULT}agent-inject-file-${name}`]) ?? name;
    const dir = str(annotations[`${VAULT}secret-volume-path-${name}`]) ?? defaultDir;
    const entry = byPath.get(path) ?? { files: [], keys: new Set<string>() };
    entry.files.push(file.startsWith('/') ? file : `${dir.replace(/\/+$/, '')}/${file}`);
    // Only key names are taken from the template, never anything else it holds.
    const template = str(annotations[`${VAULT}agent-inject-template-${name}`]) ?? '';
    for (const m of template.matchAll(/index\s+\.Data(?:\.data)?\s+"([^"\s]+)"/g)) entry.keys.add(m[1]);
    for (const m of template.matchAll(/\.Data(?:\.data)?\.([A-Za-z_][A-Za-z0-9_]*)/g)) if (m[1] !== 'data') entry.keys.add(m[1]);
    byPath.set(path, entry);
  }
  return [...byPath.entries()].map(([path, entry]) => ({
    ...(role ? { role } : {}),
    path,
    files: entry.files,
    active,
    ...(entry.keys.size > 0 ? { keys: [...entry.keys].sort() } : {}),
  }));
}
