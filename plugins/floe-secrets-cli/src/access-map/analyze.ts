import { ManifestDocument } from '../manifests';
import { Access, AccessMap, Finding, Grant, Principal, principalLabel, SecretInfo, SecretSource, VaultInjection } from './model';

/** The source of a Secret that no resource of the input manages. */
export const EXTERNAL_SOURCE: SecretSource = { kind: 'external', backend: 'external (created outside the manifests)', paths: [] };

const READ_VERBS = ['get', 'list', 'watch', '*'];
const RBAC_GROUP = 'rbac.authorization.k8s.io';
const VAULT = 'vault.hashicorp.com/';

/** Workload kinds whose pods receive secrets, with the API groups they live in. */
const WORKLOAD_GROUPS: { readonly [kind: string]: readonly string[] } = {
  Pod: [''],
  Deployment: ['apps', 'extensions'],
  StatefulSet: ['apps'],
  DaemonSet: ['apps', 'extensions'],
  ReplicaSet: ['apps', 'extensions'],
  ReplicationController: [''],
  Job: ['batch'],
  CronJob: ['batch'],
};

/** Built-in ClusterRoles that are usually not in the manifests, as far as secrets are concerned. */
const BUILT_IN_CLUSTER_ROLES: { readonly [name: string]: any[] } = {
  'cluster-admin': [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
  'admin': [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }],
  'edit': [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }],
  'view': [],
};

/** Groups every service account or user is in: a grant to them is a grant to everyone. */
const EVERYONE_GROUPS: { readonly [name: string]: string } = {
  'system:authenticated': 'every authenticated user',
  'system:unauthenticated': 'anonymous requests',
  'system:serviceaccounts': 'every service account of the cluster',
};

interface K8sObject {
  readonly doc: ManifestDocument;
  readonly o: any;
  readonly kind: string;
  readonly group: string;
  readonly name: string;
  readonly namespace: string;
}

interface SecretUse {
  readonly secret: string;
  readonly how: 'env' | 'envFrom' | 'file';
  /** undefined: all keys. */
  keys: Set<string> | undefined;
  readonly notes: Set<string>;
}

interface Workload {
  readonly ref: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly tokenMounted: boolean;
  readonly uses: SecretUse[];
  readonly vault: Array<VaultInjection & { keys?: string[] }>;
}

/** Builds the access map of a set of Kubernetes objects: reads names, keys and metadata, never values. */
export function analyzeAccess(documents: ManifestDocument[], files: string[] = []): AccessMap {
  const objects = documents.map(toObject);
  const warnings: string[] = [];
  const accesses: Access[] = [];
  const findings: Finding[] = [];

  const sources = collectSources(objects);
  const declaredKeys = collectDeclaredKeys(objects);
  const sourceOf = (namespace: string, name: string): SecretSource =>
    pickSource(sources.get(`${namespace}/${name}`) ?? sources.get(`*/${name}`));

  // --- workloads: what the kubelet gives their pods ---------------------------------------------------
  const serviceAccounts = new Map<string, K8sObject>();
  for (const sa of objects.filter((x) => x.kind === 'ServiceAccount' && x.group === '')) serviceAccounts.set(`${sa.namespace}/${sa.name}`, sa);
  const workloads = objects.filter((x) => WORKLOAD_GROUPS[x.kind]?.includes(x.group)).flatMap((x) => {
    const workload = readWorkload(x, serviceAccounts);
    return workload ? [workload] : [];
  });
  for (const workload of workloads) {
    const principal: Principal = { kind: 'ServiceAccount', name: workload.serviceAccount, namespace: workload.namespace };
    for (const use of workload.uses) {
      accesses.push({
        namespace: workload.namespace,
        principal,
        workload: workload.ref,
        secret: use.secret,
        how: use.how,
        keys: use.keys ? [...use.keys].sort() : undefined,
        source: sourceOf(workload.namespace, use.secret),
        overBroad: [],
        notes: [...use.notes],
      });
    }
    for (const injection of workload.vault) {
      const { keys, ...vault } = injection;
      accesses.push({
        namespace: workload.namespace,
        principal,
        workload: workload.ref,
        how: 'vault-agent',
        keys,
        source: { kind: 'vault-agent', backend: `vault ${vault.path}`, paths: [vault.path] },
        vault,
        overBroad: [],
        notes: [
          ...(vault.role ? [`vault role ${vault.role}`] : ['no vault.hashicorp.com/role']),
          `files ${vault.files.join(', ')}`,
          'no Kubernetes Secret',
          ...(vault.active ? [] : ['inactive: vault.hashicorp.com/agent-inject is not "true"']),
        ],
      });
    }
  }

  // --- RBAC: what the API server lets them read -----------------------------------------------------
  const roles = new Map<string, K8sObject>();
  const clusterRoles = new Map<string, K8sObject>();
  for (const x of objects.filter((o) => o.group === RBAC_GROUP)) {
    if (x.kind === 'Role') roles.set(`${x.namespace}/${x.name}`, x);
    if (x.kind === 'ClusterRole') clusterRoles.set(x.name, x);
  }
  const tokenNote = (principal: Principal): string[] => {
    if (principal.kind !== 'ServiceAccount') return [];
    const using = workloads.filter((w) => w.namespace === principal.namespace && w.serviceAccount === principal.name);
    if (using.length === 0) return ['no workload in the input runs as it'];
    const mounted = using.filter((w) => w.tokenMounted).map((w) => w.ref);
    return mounted.length === 0 ? ['API token not mounted in its pods'] : [`API token mounted in ${mounted.join(', ')}`];
  };

  for (const binding of objects.filter((x) => x.group === RBAC_GROUP && (x.kind === 'RoleBinding' || x.kind === 'ClusterRoleBinding'))) {
    const clusterWide = binding.kind === 'ClusterRoleBinding';
    const bindingLabel = clusterWide ? `ClusterRoleBinding ${binding.name}` : `RoleBinding ${binding.namespace}/${binding.name}`;
    const refKind = str(binding.o.roleRef?.kind) ?? 'ClusterRole';
    const refName = str(binding.o.roleRef?.name) ?? '';
    let rules: any[] | undefined;
    let roleLabel: string;
    if (refKind === 'Role') {
      roleLabel = `Role ${binding.namespace}/${refName}`;
      if (clusterWide) {
        warnings.push(`${bindingLabel} refers to a Role (${refName}); Kubernetes rejects that, so it grants nothing`);
        continue;
      }
      const role = roles.get(`${binding.namespace}/${refName}`);
      rules = role ? arr(role.o.rules) : undefined;
    } else {
      roleLabel = `ClusterRole ${refName}`;
      rules = clusterRoleRules(refName, clusterRoles);
    }
    if (!rules) {
      warnings.push(`${bindingLabel} refers to ${roleLabel}, which is not in the input: its grants could not be checked`);
      continue;
    }
    const subjects = arr(binding.o.subjects).flatMap((s): Principal[] => {
      const kind = str(s?.kind);
      const name = str(s?.name);
      if (!name) return [];
      if (kind === 'ServiceAccount') return [{ kind, name, namespace: str(s.namespace) ?? (clusterWide ? 'default' : binding.namespace) }];
      if (kind === 'User' || kind === 'Group') return [{ kind, name }];
      warnings.push(`${bindingLabel} has a subject of unknown kind ${JSON.stringify(kind ?? '')}: ignored`);
      return [];
    });
    if (subjects.length === 0) continue;
    for (const rule of rules) {
      const read = secretRead(rule);
      if (!read) continue;
      const scope = clusterWide ? '*' : binding.namespace;
      const reasons: string[] = [];
      for (const verb of read.verbs) if (verb !== 'get') reasons.push(`verb ${verb}`);
      if (!read.resourceNames) reasons.push(clusterWide ? 'all secrets of all namespaces' : 'all secrets of the namespace');
      if (clusterWide) reasons.push('cluster-wide (ClusterRoleBinding)');
      if (read.wildcardResources) reasons.push('resources: *');
      for (const subject of subjects) {
        const everyone = subject.kind === 'Group' ? everyoneGroup(subject.name) : undefined;
        if (everyone && !reasons.includes(`granted to ${everyone}`)) reasons.push(`granted to ${everyone}`);
      }
      const grant: Grant = { binding: bindingLabel, role: roleLabel, verbs: read.verbs, resourceNames: read.resourceNames };
      if (reasons.length > 0) {
        findings.push({
          binding: bindingLabel,
          role: roleLabel,
          subjects: subjects.map(principalLabel),
          scope: clusterWide ? 'all namespaces' : `namespace ${binding.namespace}`,
          verbs: read.verbs,
          resourceNames: read.resourceNames,
          reasons,
        });
      }
      for (const subject of subjects) {
        const everyone = subject.kind === 'Group' ? everyoneGroup(subject.name) : undefined;
        for (const secret of read.resourceNames ?? ['*']) {
          accesses.push({
            namespace: scope,
            principal: subject,
            secret,
            how: `rbac-${read.verbs.join(',')}`,
            source: secret === '*' ? undefined : sourceOf(scope, secret),
            grant,
            overBroad: reasons,
            notes: [
              `via ${roleLabel}`,
              ...(secret === '*' ? [clusterWide ? 'every secret of every namespace' : `every secret of ${scope}`] : []),
              ...(everyone ? [`this group is ${everyone}`] : []),
              ...tokenNote(subject),
            ],
          });
        }
      }
    }
  }
  findings.push(...aggregationFindings(clusterRoles));

  // --- service accounts with no access at all ------------------------------------------------------
  for (const sa of serviceAccounts.values()) {
    if (accesses.some((a) => a.principal.kind === 'ServiceAccount' && a.principal.namespace === sa.namespace && a.principal.name === sa.name)) continue;
    accesses.push({
      namespace: sa.namespace,
      principal: { kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace },
      how: 'none',
      overBroad: [],
      notes: ['no secret access found in the input'],
    });
  }

  accesses.sort(compareAccess);
  return {
    files,
    accesses,
    secrets: collectSecrets(accesses, sources, declaredKeys, sourceOf),
    findings,
    warnings,
  };
}

function toObject(doc: ManifestDocument): K8sObject {
  const o = doc.object;
  const apiVersion = String(o.apiVersion);
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return {
    doc,
    o,
    kind: String(o.kind),
    group,
    name: str(o.metadata?.name) ?? `${str(o.metadata?.generateName) ?? ''}*`,
    namespace: str(o.metadata?.namespace) ?? 'default',
  };
}

// --- sources -----------------------------------------------------------------------------------------

function collectSources(objects: K8sObject[]): Map<string, SecretSource[]> {
  const sources = new Map<string, SecretSource[]>();
  const add = (namespace: string, name: string | undefined, source: SecretSource) => {
    if (!name) return;
    const key = `${namespace}/${name}`;
    sources.set(key, [...(sources.get(key) ?? []), source]);
  };
  for (const x of objects) {
    const floeSource = str(x.o.metadata?.annotations?.['floe.dev/source']);
    const base = { resource: `${x.kind} ${x.namespace}/${x.name}`, file: x.doc.file, ...(floeSource ? { floeSource } : {}) };
    if (x.group === 'secrets.infisical.com' && x.kind === 'InfisicalSecret') {
      const paths = infisicalPaths(x.o.spec);
      const source: SecretSource = { ...base, kind: 'infisical', backend: `infisical ${paths.join(', ') || '(scope not set)'}`, paths };
      const refs = [...arr(x.o.spec?.managedKubeSecretReferences), ...(x.o.spec?.managedSecretReference ? [x.o.spec.managedSecretReference] : [])];
      for (const ref of refs) add(str(ref?.secretNamespace) ?? x.namespace, str(ref?.secretName), source);
    } else if (x.group === 'secrets.infisical.com' && x.kind === 'InfisicalStaticSecret') {
      const paths = arr(x.o.spec?.sources).map((s) =>
        `${str(s?.projectSlug) ?? str(s?.projectId) ?? '?'}/${str(s?.environmentSlug) ?? '?'}:${str(s?.secretPath) ?? '/'}`);
      const source: SecretSource = { ...base, kind: 'infisical-static', backend: `infisical ${paths.join(', ') || '(no sources)'}`, paths };
      for (const target of arr(x.o.spec?.targets)) {
        if ((str(target?.kind) ?? 'Secret') !== 'Secret') continue;
        add(str(target?.namespace) ?? x.namespace, str(target?.name), source);
      }
    } else if (x.group === 'external-secrets.io' && x.kind === 'ExternalSecret') {
      add(x.namespace, str(x.o.spec?.target?.name) ?? x.name, { ...base, kind: 'external-secrets', ...esoBackend(x.o.spec) });
    } else if (x.group === 'external-secrets.io' && x.kind === 'ClusterExternalSecret') {
      const spec = x.o.spec?.externalSecretSpec;
      const name = str(spec?.target?.name) ?? str(x.o.spec?.externalSecretName) ?? x.name;
      const namespaces = arr(x.o.spec?.namespaces).map(String);
      const source: SecretSource = { ...base, resource: `ClusterExternalSecret ${x.name}`, kind: 'external-secrets', ...esoBackend(spec) };
      for (const namespace of namespaces.length > 0 ? namespaces : ['*']) add(namespace, name, source);
    } else if (x.group === 'secrets.hashicorp.com' && /^Vault(Static|Dynamic|PKI)Secret$/.test(x.kind)) {
      const mount = str(x.o.spec?.mount);
      const path = [mount, str(x.o.spec?.path) ?? str(x.o.spec?.role)].filter((p) => p).join('/');
      add(x.namespace, str(x.o.spec?.destination?.name), { ...base, kind: 'vault-secrets-operator', backend: `vault ${path || '?'}`, paths: [path] });
    } else if (x.group === 'bitnami.com' && x.kind === 'SealedSecret') {
      const template = x.o.spec?.template?.metadata;
      add(str(template?.namespace) ?? x.namespace, str(template?.name) ?? x.name,
        { ...base, kind: 'sealed-secrets', backend: 'sealed-secrets (encrypted in the manifests)', paths: [] });
    } else if (x.group === '' && x.kind === 'Secret') {
      const type = str(x.o.type);
      const saToken = type === 'kubernetes.io/service-account-token' ? str(x.o.metadata?.annotations?.['kubernetes.io/service-account.name']) : undefined;
      add(x.namespace, x.name, {
        ...base,
        kind: 'manifest',
        backend: saToken ? `API token of service account ${saToken}` : `Secret in the manifests (${x.doc.file})`,
        paths: [],
      });
    }
  }
  return sources;
}

function pickSource(candidates: SecretSource[] | undefined): SecretSource {
  if (!candidates || candidates.length === 0) return EXTERNAL_SOURCE;
  // A managing resource says more than a copy of the Secret itself (e.g. kubectl get output).
  return candidates.find((s) => s.kind !== 'manifest') ?? candidates[0];
}

function infisicalPaths(spec: any): string[] {
  const auth = spec?.authentication ?? {};
  const paths: string[] = [];
  for (const method of Object.keys(auth).sort()) {
    const scope = auth[method]?.secretsScope;
    if (scope) {
      const project = str(scope.projectSlug) ?? str(scope.projectId) ?? '?';
      paths.push(`${project}/${str(scope.envSlug) ?? '?'}:${str(scope.secretsPath) ?? '/'}${scope.recursive === true ? ' (recursive)' : ''}`);
    } else if (method === 'serviceAccount' && auth[method]) {
      paths.push(`${str(auth[method].projectId) ?? '?'}/${str(auth[method].environmentName) ?? '?'}:/`);
    }
  }
  return [...new Set(paths)];
}

function esoBackend(spec: any): { backend: string; paths: string[] } {
  const store = spec?.secretStoreRef;
  const storeLabel = (ref: any) => `${str(ref?.kind) ?? 'SecretStore'}/${str(ref?.name) ?? '?'}`;
  const paths: string[] = [];
  const stores = new Set<string>();
  if (store) stores.add(storeLabel(store));
  for (const item of arr(spec?.data)) {
    const key = str(item?.remoteRef?.key);
    if (item?.sourceRef?.storeRef) stores.add(storeLabel(item.sourceRef.storeRef));
    if (key) paths.push(`${key}${str(item.remoteRef.property) ? `#${str(item.remoteRef.property)}` : ''}`);
  }
  for (const item of arr(spec?.dataFrom)) {
    if (item?.sourceRef?.storeRef) stores.add(storeLabel(item.sourceRef.storeRef));
    const extract = str(item?.extract?.key);
    if (extract) paths.push(`${extract} (all properties)`);
    const find = item?.find;
    if (find) {
      const parts = [str(find.path) ? `path=${str(find.path)}` : '', str(find.name?.regexp) ? `name=${str(find.name.regexp)}` : '',
        find.tags && typeof find.tags === 'object' ? `tags=${Object.keys(find.tags).sort().join('+')}` : ''].filter((p) => p);
      paths.push(`find ${parts.join(' ') || '(all)'}`);
    }
    const generator = item?.sourceRef?.generatorRef;
    if (generator) paths.push(`generator ${str(generator.kind) ?? '?'}/${str(generator.name) ?? '?'}`);
  }
  const unique = [...new Set(paths)];
  return { backend: `external-secrets ${[...stores].join(', ') || '(no store)'}: ${unique.join(', ') || '(no data)'}`, paths: unique };
}

/** Key names declared by the input for each Secret (`namespace/name`): never values. */
function collectDeclaredKeys(objects: K8sObject[]): Map<string, Set<string>> {
  const keys = new Map<string, Set<string>>();
  const add = (namespace: string, name: string | undefined, names: string[]) => {
    if (!name) return;
    const key = `${namespace}/${name}`;
    const set = keys.get(key) ?? new Set<string>();
    names.forEach((n) => set.add(n));
    keys.set(key, set);
  };
  for (const x of objects) {
    if (x.group === '' && x.kind === 'Secret') {
      add(x.namespace, x.name, [...Object.keys(record(x.o.data)), ...Object.keys(record(x.o.stringData))]);
    } else if (x.group === 'external-secrets.io' && x.kind === 'ExternalSecret') {
      add(x.namespace, str(x.o.spec?.target?.name) ?? x.name, arr(x.o.spec?.data).flatMap((d) => str(d?.secretKey) ?? []));
    } else if (x.group === 'bitnami.com' && x.kind === 'SealedSecret') {
      const template = x.o.spec?.template?.metadata;
      add(str(template?.namespace) ?? x.namespace, str(template?.name) ?? x.name, Object.keys(record(x.o.spec?.encryptedData)));
    }
  }
  return keys;
}

// --- workloads ---------------------------------------------------------------------------------------

function readWorkload(x: K8sObject, serviceAccounts: Map<string, K8sObject>): Workload | undefined {
  const template = x.kind === 'Pod' ? x.o : x.kind === 'CronJob' ? x.o.spec?.jobTemplate?.spec?.template : x.o.spec?.template;
  if (!template || typeof template !== 'object') return undefined;
  const spec = template.spec ?? {};
  const annotations = record(template.metadata?.annotations);
  const serviceAccount = str(spec.serviceAccountName) ?? str(spec.serviceAccount) ?? 'default';
  const saObject = serviceAccounts.get(`${x.namespace}/${serviceAccount}`);
  const automount = spec.automountServiceAccountToken ?? saObject?.o.automountServiceAccountToken ?? true;

  const uses: SecretUse[] = [];
  const use = (secret: string | undefined, how: SecretUse['how'], keys: string[] | undefined, notes: string[]) => {
    if (!secret) return;
    let entry = uses.find((u) => u.secret === secret && u.how === how);
    if (!entry) {
      entry = { secret, how, keys: new Set<string>(), notes: new Set<string>() };
      uses.push(entry);
    }
    if (keys === undefined) entry.keys = undefined;
    else keys.forEach((k) => entry!.keys?.add(k));
    notes.forEach((n) => entry!.notes.add(n));
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
        [...mountNotes, ...(secretVolume.optional === true ? ['optional'] : [])]);
    }
    for (const projected of arr(volume?.projected?.sources)) {
      const source = projected?.secret;
      if (!source) continue;
      const items = arr(source.items).flatMap((i) => str(i?.key) ?? []);
      use(str(source.name), 'file', items.length > 0 ? items : undefined, [...mountNotes, 'projected volume', ...(source.optional === true ? ['optional'] : [])]);
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

// --- RBAC --------------------------------------------------------------------------------------------

function clusterRoleRules(name: string, clusterRoles: Map<string, K8sObject>): any[] | undefined {
  const role = clusterRoles.get(name);
  const builtIn = BUILT_IN_CLUSTER_ROLES[name];
  if (!role && !builtIn) return undefined;
  const rules = role ? [...arr(role.o.rules)] : [...builtIn];
  const selectors = role ? arr(role.o.aggregationRule?.clusterRoleSelectors) : [];
  if (!role && (name === 'admin' || name === 'edit' || name === 'view')) {
    selectors.push({ matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${name}`]: 'true' } });
  }
  if (selectors.length > 0) {
    for (const other of clusterRoles.values()) {
      if (other !== role && selectors.some((s) => matchesSelector(record(other.o.metadata?.labels), s))) rules.push(...arr(other.o.rules));
    }
  }
  return rules;
}

/** ClusterRoles that add secret reads to the built-in `view` role, which many subjects hold and which reads no secrets. */
function aggregationFindings(clusterRoles: Map<string, K8sObject>): Finding[] {
  const findings: Finding[] = [];
  if (clusterRoles.has('view')) return findings; // a custom role named view is checked like any other
  for (const role of clusterRoles.values()) {
    if (String(record(role.o.metadata?.labels)['rbac.authorization.k8s.io/aggregate-to-view']) !== 'true') continue;
    for (const rule of arr(role.o.rules)) {
      const read = secretRead(rule);
      if (!read) continue;
      findings.push({
        binding: 'aggregation into the built-in ClusterRole view',
        role: `ClusterRole ${role.name}`,
        subjects: ['everyone bound to view'],
        scope: 'wherever view is bound',
        verbs: read.verbs,
        resourceNames: read.resourceNames,
        reasons: [`adds secret ${read.verbs.join(',')} to the built-in ClusterRole view`],
      });
    }
  }
  return findings;
}

function matchesSelector(labels: { [key: string]: any }, selector: any): boolean {
  const matchLabels = record(selector?.matchLabels);
  if (!Object.keys(matchLabels).every((k) => String(labels[k]) === String(matchLabels[k]) && k in labels)) return false;
  return arr(selector?.matchExpressions).every((e) => {
    const key = String(e?.key);
    const values = arr(e?.values).map(String);
    switch (e?.operator) {
      case 'In': return key in labels && values.includes(String(labels[key]));
      case 'NotIn': return !(key in labels) || !values.includes(String(labels[key]));
      case 'Exists': return key in labels;
      case 'DoesNotExist': return !(key in labels);
      default: return false;
    }
  });
}

/** What an RBAC rule lets one read of secrets, or undefined when it does not. */
function secretRead(rule: any): { verbs: string[]; resourceNames?: string[]; wildcardResources: boolean } | undefined {
  const apiGroups = rule?.apiGroups === undefined ? [''] : arr(rule.apiGroups).map(String);
  const resources = arr(rule?.resources).map(String);
  if (!apiGroups.some((g) => g === '' || g === '*')) return undefined;
  if (!resources.some((r) => r === 'secrets' || r === '*')) return undefined;
  const verbs = [...new Set(arr(rule?.verbs).map(String).filter((v) => READ_VERBS.includes(v)))];
  if (verbs.length === 0) return undefined;
  verbs.sort((a, b) => READ_VERBS.indexOf(a) - READ_VERBS.indexOf(b));
  const names = arr(rule?.resourceNames).map(String);
  return { verbs, resourceNames: names.length > 0 ? names : undefined, wildcardResources: !resources.includes('secrets') };
}

function everyoneGroup(name: string): string | undefined {
  if (EVERYONE_GROUPS[name]) return EVERYONE_GROUPS[name];
  const match = /^system:serviceaccounts:(.+)$/.exec(name);
  return match ? `every service account of namespace ${match[1]}` : undefined;
}

// --- secrets -----------------------------------------------------------------------------------------

function collectSecrets(
  accesses: Access[],
  sources: Map<string, SecretSource[]>,
  declaredKeys: Map<string, Set<string>>,
  sourceOf: (namespace: string, name: string) => SecretSource,
): SecretInfo[] {
  const names = new Set<string>();
  for (const key of sources.keys()) if (!key.startsWith('*/')) names.add(key);
  for (const key of declaredKeys.keys()) names.add(key);
  for (const a of accesses) if (a.secret && a.secret !== '*' && a.namespace !== '*') names.add(`${a.namespace}/${a.secret}`);
  return [...names].sort().map((key) => {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const keys = new Set(declaredKeys.get(key) ?? []);
    const readers = new Map<string, Set<string>>();
    for (const a of accesses) {
      const matches = (a.secret === name && (a.namespace === namespace || a.namespace === '*'))
        || (a.secret === '*' && (a.namespace === namespace || a.namespace === '*'));
      if (!matches) continue;
      if (a.secret === name) a.keys?.forEach((k) => keys.add(k));
      const label = principalLabel(a.principal);
      readers.set(label, (readers.get(label) ?? new Set<string>()).add(a.how));
    }
    const own = sources.get(key) ?? [];
    const found = own.length > 0 ? own : sources.get(`*/${name}`) ?? [];
    return {
      namespace,
      name,
      sources: found.length > 0 ? found : [sourceOf(namespace, name)],
      keys: [...keys].sort(),
      readBy: [...readers.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([label, hows]) => `${label} (${[...hows].sort().join(', ')})`),
    };
  });
}

function compareAccess(a: Access, b: Access): number {
  const key = (x: Access) => [x.namespace, principalLabel(x.principal), x.workload ?? '', x.secret ?? '', x.how];
  const ka = key(a);
  const kb = key(b);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
  }
  return 0;
}

// --- helpers -----------------------------------------------------------------------------------------

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function arr(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

function record(value: unknown): { [key: string]: any } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as { [key: string]: any } : {};
}
