import { VaultBackendConfig } from '@floe-secrets/core';
import { arr, domainResolver, K8sObject, record, str, toObject } from '../access-map/objects';
import { clean } from '../access-map/render';
import { readWorkload, WORKLOAD_GROUPS } from '../access-map/workloads';
import { ManifestDocument } from '../manifests';
import { GrantedCapability, PathUser, VaultPlan, VaultRole } from './model';

const VAULT = 'vault.hashicorp.com/';
const ESO = 'external-secrets.io';
/** ESO's generators, among them VaultDynamicSecret (dynamic credentials such as `database/creds/<role>`). */
const GENERATORS = 'generators.external-secrets.io';
/** The path of Vault's Kubernetes auth method, unless an object names another (the injector's and ESO's default too). */
export const DEFAULT_AUTH_MOUNT = 'kubernetes';

/**
 * What the Vault Agent workloads and the ExternalSecrets reading through a Vault store of the input
 * need from Vault: one role (and policy of the same name) per Vault namespace and role name, with
 * the ServiceAccounts that log in with it and the ACL paths they read. Names and paths only: a
 * value is never read.
 *
 * Dynamic credentials count as reads: a Vault Agent path `<mount>/creds/<role>` (no `data/`; not
 * flagged as a KV path) and the `spec.path` of a `VaultDynamicSecret` generator an ExternalSecret's
 * dataFrom names get `read`, for the agent's role or the generator's own
 * (`spec.provider.auth.kubernetes`). Their leases end when they expire and when the token that read
 * them is revoked, which needs no capability; revoking one by hand needs `update` on
 * `sys/leases/revoke`, which the README says and no role gets.
 *
 * The manifest's Vault backend contributes its KV v2 `mount` (a Vault Agent path under it without
 * `data/` is remarked: Vault would refuse it) and its `vault_namespace` (the Vault namespace of an
 * object that names none, as the library writes it on every object when the manifest has one).
 */
export function planVaultPolicies(documents: ManifestDocument[], backend: VaultBackendConfig): VaultPlan {
  const objects = documents.map(toObject);
  const plan: VaultPlan = { roles: new Map(), remarks: [], problems: [], counts: { agentWorkloads: 0, externalSecrets: 0 } };
  const domainOf = domainResolver(objects).of;
  const defaultNamespace = trimSlashes(backend.vaultNamespace ?? '');

  const grant = (where: Where, user: PathUser, serviceAccount: string, path: string, capability: GrantedCapability): void => {
    const key = `${where.vaultNamespace}|${where.role}`;
    let role = plan.roles.get(key);
    if (role && role.authMount !== where.authMount) {
      plan.problems.push({
        what: user.label,
        problem: `logs in with Vault role ${where.role} at auth/${where.authMount}, but the same role name is used at auth/${role.authMount}${nsLabel(where.vaultNamespace)}: one policy cannot be written for both`,
        fix: 'give the roles of the two auth methods different names',
      });
      return;
    }
    if (!role) {
      role = {
        vaultNamespace: where.vaultNamespace,
        authMount: where.authMount,
        name: where.role,
        serviceAccounts: new Set(),
        paths: new Map(),
        domains: new Set(),
      };
      plan.roles.set(key, role);
    }
    role.serviceAccounts.add(serviceAccount);
    role.domains.add(user.domain);
    const entry = role.paths.get(path) ?? { path, capabilities: new Set<GrantedCapability>(), users: new Map<string, PathUser>() };
    entry.capabilities.add(capability);
    entry.users.set(user.label, user);
    role.paths.set(path, entry);
  };

  /** Checks role, namespace, mount and path; a problem instead when Vault cannot take them as they are. */
  const checked = (what: string, where: Where, paths: string[]): boolean => {
    const bad = [
      ...(isName(where.role) ? [] : [`Vault role "${clip(where.role)}" is not a role name Vault accepts (letters, digits, "_", "-" and ".")`]),
      ...(isSegments(where.vaultNamespace, true) ? [] : [`Vault namespace "${clip(where.vaultNamespace)}" is not a namespace path`]),
      ...(isSegments(where.authMount, false) ? [] : [`auth path "${clip(where.authMount)}" is not an auth method path`]),
      ...paths.flatMap((p) => (literalPathProblem(p) ? [`Vault path "${clip(p)}" ${literalPathProblem(p)}`] : [])),
    ];
    for (const problem of bad) plan.problems.push({ what, problem, fix: 'correct it in the construct or manifest that writes it; no policy is written for it' });
    return bad.length === 0;
  };

  // --- Vault Agent injector: pod template annotations ---------------------------------------------------
  const serviceAccounts = new Map<string, K8sObject>();
  for (const sa of objects.filter((x) => x.kind === 'ServiceAccount' && x.group === '')) serviceAccounts.set(`${sa.namespace}/${sa.name}`, sa);
  for (const x of objects) {
    if (!WORKLOAD_GROUPS[x.kind]?.includes(x.group)) continue;
    const workload = readWorkload(x, serviceAccounts);
    if (!workload || workload.vault.length === 0) continue;
    const label = `${x.kind} ${x.namespace}/${x.name}`;
    if (!workload.vault.some((v) => v.active)) {
      plan.remarks.push({ kind: 'note', message: `${label} has Vault Agent annotations but vault.hashicorp.com/agent-inject is not "true": the injector skips it, and so does this command` });
      continue;
    }
    plan.counts.agentWorkloads++;
    const annotations = record(podTemplate(x)?.metadata?.annotations);
    const role = str(annotations[`${VAULT}role`]);
    if (!role) {
      plan.problems.push({ what: label, problem: 'has Vault Agent annotations but no vault.hashicorp.com/role: the agent cannot log in', fix: 'set vault.hashicorp.com/role (VaultSecretSource\'s role)' });
      continue;
    }
    const where: Where = {
      role,
      vaultNamespace: trimSlashes(str(annotations[`${VAULT}namespace`]) ?? defaultNamespace),
      authMount: trimSlashes(str(annotations[`${VAULT}auth-path`]) ?? DEFAULT_AUTH_MOUNT).replace(/^auth\//, ''),
    };
    const user: PathUser = { label: `${label} (Vault Agent)`, domain: domainOf(x.namespace) };
    const serviceAccount = `${x.namespace}/${workload.serviceAccount}`;
    const paths = agentPaths(annotations, label, plan);
    if (!checked(label, where, paths)) continue;
    if (workload.serviceAccount === 'default') {
      plan.remarks.push({ kind: 'default-service-account', message: `${label} runs as ServiceAccount default: every pod of namespace ${x.namespace} that runs as default can log in with Vault role ${role}; give the workload a ServiceAccount of its own` });
    }
    for (const path of paths) {
      kvVersionRemark(path, backend.mount, label, plan);
      grant(where, user, serviceAccount, path, 'read');
    }
  }

  // --- External Secrets Operator: ExternalSecrets through a Vault store ---------------------------------
  const stores = new Map<string, K8sObject>();
  const generators = new Map<string, K8sObject>();
  for (const x of objects) {
    if (x.group === GENERATORS && x.kind === 'VaultDynamicSecret') generators.set(`${x.namespace}/${x.name}`, x);
    if (x.group !== ESO) continue;
    if (x.kind === 'SecretStore') stores.set(`SecretStore ${x.namespace}/${x.name}`, x);
    if (x.kind === 'ClusterSecretStore') stores.set(`ClusterSecretStore ${x.name}`, x);
  }
  const missing = new Map<string, Set<string>>();
  const unusable = new Map<string, { users: Set<string>; problem: string; fix: string }>();
  for (const x of objects) {
    if (x.group !== ESO) continue;
    if (x.kind === 'ClusterExternalSecret') {
      plan.remarks.push({ kind: 'note', message: `ClusterExternalSecret ${x.name} is not read (the namespaces of the ExternalSecrets it makes are not in the input): pass those ExternalSecrets (kubectl get externalsecrets -A -o yaml) to cover them` });
      continue;
    }
    if (x.kind !== 'ExternalSecret') continue;
    const label = `ExternalSecret ${x.namespace}/${x.name}`;
    const spec = x.o.spec ?? {};
    // A generator makes values itself: no store is read.
    const item = (d: any, reads: (d: any) => EsoRead[]) => ({
      storeRef: d?.sourceRef?.storeRef ?? spec.secretStoreRef,
      reads: d?.sourceRef?.generatorRef ? [] : reads(d),
    });
    const items = [...arr(spec.data).map((d) => item(d, dataRead)), ...arr(spec.dataFrom).map((d) => item(d, dataFromRead))];
    let counted = false;
    for (const ref of arr(spec.dataFrom).map((d) => d?.sourceRef?.generatorRef).filter((r) => r && str(r.kind) === 'VaultDynamicSecret')) {
      const generatorKey = `${x.namespace}/${str(ref.name) ?? ''}`;
      const generator = generators.get(generatorKey);
      if (!generator) {
        const key = `VaultDynamicSecret ${generatorKey}`;
        missing.set(key, (missing.get(key) ?? new Set<string>()).add(label));
        continue;
      }
      if (!counted) plan.counts.externalSecrets++;
      counted = true;
      generatorGrant(generator, label);
    }
    for (const { storeRef, reads } of items) {
      if (reads.length === 0) continue;
      const kind = str(storeRef?.kind) ?? 'SecretStore';
      const name = str(storeRef?.name);
      if (!name) {
        plan.problems.push({ what: label, problem: 'names no store (spec.secretStoreRef.name)', fix: 'name the SecretStore or ClusterSecretStore it reads through' });
        continue;
      }
      const storeKey = kind === 'ClusterSecretStore' ? `ClusterSecretStore ${name}` : `SecretStore ${x.namespace}/${name}`;
      const store = stores.get(storeKey);
      if (!store) {
        missing.set(storeKey, (missing.get(storeKey) ?? new Set<string>()).add(label));
        continue;
      }
      const vault = store.o.spec?.provider?.vault;
      if (!vault || typeof vault !== 'object') continue; // another provider: not Vault's business
      if (!counted) plan.counts.externalSecrets++;
      counted = true;
      const kubernetes = vault.auth?.kubernetes;
      const storeProblem = (problem: string, fix: string) => {
        const entry = unusable.get(storeKey) ?? { users: new Set<string>(), problem, fix };
        unusable.set(storeKey, entry);
        entry.users.add(label);
      };
      if (!kubernetes || typeof kubernetes !== 'object') {
        const methods = Object.keys(record(vault.auth)).sort();
        storeProblem(`logs in to Vault with ${methods.length > 0 ? methods.join(', ') : 'no auth method'}, not the Kubernetes auth method: there is no role to bind`, 'use spec.provider.vault.auth.kubernetes (VaultSecretStore does), or write this store\'s policy yourself');
        continue;
      }
      const role = str(kubernetes.role);
      if (!role) {
        storeProblem('has no spec.provider.vault.auth.kubernetes.role', 'set the Vault role the store logs in with, e.g. floe-<domain>');
        continue;
      }
      const saName = str(kubernetes.serviceAccountRef?.name);
      if (!saName) {
        storeProblem(kubernetes.secretRef
          ? 'logs in with a token kept in a Secret (auth.kubernetes.secretRef): which ServiceAccount it belongs to is not in the store'
          : 'names no ServiceAccount (auth.kubernetes.serviceAccountRef)', 'log in as a ServiceAccount of the store\'s own: auth.kubernetes.serviceAccountRef.name (VaultSecretStore does)');
        continue;
      }
      // A SecretStore's ServiceAccount is in the store's namespace; a ClusterSecretStore's in the one it names, else the ExternalSecret's.
      const saNamespace = store.kind === 'SecretStore' ? store.namespace : str(kubernetes.serviceAccountRef?.namespace) ?? x.namespace;
      const where: Where = {
        role,
        vaultNamespace: trimSlashes(str(vault.namespace) ?? defaultNamespace),
        authMount: trimSlashes(str(kubernetes.mountPath) ?? DEFAULT_AUTH_MOUNT),
      };
      const version = str(vault.version) === 'v1' ? 'v1' : 'v2';
      const mount = str(vault.path) ? trimSlashes(str(vault.path)!) : undefined;
      const grants = reads.flatMap((read) => esoGrants(read, mount, version, `${label} (${storeKey})`, plan));
      if (!checked(label, where, grants.map((g) => g.path))) continue;
      const user: PathUser = { label: `${label} (${storeKey})`, domain: domainOf(x.namespace) };
      for (const g of grants) grant(where, user, `${saNamespace}/${saName}`, g.path, g.capability);
    }
  }
  for (const [store, users] of [...missing].sort(([a], [b]) => compare(a, b))) {
    if (store.startsWith('VaultDynamicSecret ')) {
      plan.problems.push({
        what: store,
        problem: `is the generator of ${[...users].sort().join(', ')} but is not in the input: its Vault role, path and ServiceAccount are unknown, so no policy is written for ${users.size === 1 ? 'it' : 'them'}`,
        fix: 'pass the file that defines the generator as another path',
      });
      continue;
    }
    plan.problems.push({
      what: store,
      problem: `is read by ${[...users].sort().join(', ')} but is not in the input: its Vault role, KV mount and ServiceAccount are unknown, so no policy is written for ${users.size === 1 ? 'it' : 'them'}`,
      fix: 'pass the file that defines the store as another path (e.g. floe-secrets vault-policies dist platform/stores.yaml -o vault); a store of another provider needs no Vault policy',
    });
  }
  for (const [store, { users, problem, fix }] of [...unusable].sort(([a], [b]) => compare(a, b))) {
    plan.problems.push({ what: store, problem: `${problem} (read by ${[...users].sort().join(', ')})`, fix });
  }

  sharingRemarks(plan);
  return plan;

  /** A VaultDynamicSecret generator: `read` on its spec.path for the role it logs in with, bound to its ServiceAccount. */
  function generatorGrant(generator: K8sObject, esLabel: string): void {
    const label = `VaultDynamicSecret ${generator.namespace}/${generator.name}`;
    const gspec = generator.o.spec ?? {};
    const path = trimSlashes(str(gspec.path) ?? '');
    const method = (str(gspec.method) ?? 'GET').toUpperCase();
    if (method !== 'GET') {
      plan.problems.push({ what: label, problem: `calls ${path} with ${method}, which needs update, not read`, fix: 'grant it yourself in a policy of its own: this command grants reads only' });
      return;
    }
    const kubernetes = gspec.provider?.auth?.kubernetes;
    const role = str(kubernetes?.role);
    const saName = str(kubernetes?.serviceAccountRef?.name);
    if (!role || !saName) {
      plan.problems.push({
        what: label,
        problem: role ? 'names no ServiceAccount (spec.provider.auth.kubernetes.serviceAccountRef)' : 'logs in without a Kubernetes auth role (spec.provider.auth.kubernetes.role)',
        fix: 'log in with the Kubernetes auth method as a ServiceAccount of the generator\'s own: spec.provider.auth.kubernetes.role and serviceAccountRef.name',
      });
      return;
    }
    const where: Where = {
      role,
      vaultNamespace: trimSlashes(str(gspec.provider?.namespace) ?? defaultNamespace),
      authMount: trimSlashes(str(kubernetes.mountPath) ?? DEFAULT_AUTH_MOUNT),
    };
    if (!checked(label, where, [path])) return;
    grant(where, { label: `${esLabel} (${label})`, domain: domainOf(generator.namespace) }, `${generator.namespace}/${saName}`, path, 'read');
  }
}

/** Where a role lives. */
interface Where {
  readonly role: string;
  readonly vaultNamespace: string;
  readonly authMount: string;
}

/** The pod template of a workload object. */
function podTemplate(x: K8sObject): any {
  return x.kind === 'Pod' ? x.o : x.kind === 'CronJob' ? x.o.spec?.jobTemplate?.spec?.template : x.o.spec?.template;
}

/**
 * The Vault paths the agent reads for a pod: each `agent-inject-secret-<name>` path, or, when
 * `agent-inject-template-<name>` is given, the paths of its `secret "..."` calls (the injector renders
 * the template instead of the default one, so the template decides what is read).
 */
function agentPaths(annotations: { [key: string]: any }, label: string, plan: VaultPlan): string[] {
  const paths = new Set<string>();
  for (const key of Object.keys(annotations).sort()) {
    const match = /^vault\.hashicorp\.com\/agent-inject-secret-(.+)$/.exec(key);
    const path = str(annotations[key]);
    if (!match || !path) continue;
    const name = match[1];
    const template = str(annotations[`${VAULT}agent-inject-template-${name}`]);
    if (str(annotations[`${VAULT}agent-inject-template-file-${name}`])) {
      plan.remarks.push({ kind: 'note', message: `${label}: the template of ${name} is a file in the pod, which this command cannot read: granted ${trimSlashes(path)}, the annotation's path` });
    }
    if (template === undefined) {
      paths.add(trimSlashes(path));
      continue;
    }
    const calls = [...template.matchAll(/\bsecret\s+"([^"]+)"((?:\s+"[^"]*")*)/g)];
    if (calls.length === 0) {
      plan.remarks.push({ kind: 'note', message: `${label}: the template of ${name} calls no secret "...": granted ${trimSlashes(path)}, the annotation's path` });
      paths.add(trimSlashes(path));
    }
    for (const call of calls) {
      if (call[2].trim() !== '') {
        plan.problems.push({ what: label, problem: `the template of ${name} writes to ${trimSlashes(call[1])} (secret with parameters), which needs update, not read`, fix: 'grant it yourself in a policy of its own: this command grants reads only' });
        continue;
      }
      paths.add(trimSlashes(call[1]));
    }
  }
  return [...paths];
}

/** A Vault Agent path under the manifest's KV v2 mount but without `data/`: Vault answers it with nothing the agent can use. */
function kvVersionRemark(path: string, mount: string, label: string, plan: VaultPlan): void {
  const prefix = `${trimSlashes(mount)}/`;
  if (!path.startsWith(prefix) || path.startsWith(`${prefix}data/`)) return;
  plan.remarks.push({
    kind: 'kv-version',
    message: `${label} reads ${path}, under the manifest's KV v2 mount ${trimSlashes(mount)} but without data/ (the KV v1 form): KV v2 serves values at ${prefix}data/${path.slice(prefix.length)}; the policy grants the path as the agent asks for it`,
  });
}

/** What one ExternalSecret item asks the store for. */
type EsoRead = { kind: 'key'; key: string; metadata: boolean } | { kind: 'find'; path?: string; tags: boolean };

function dataRead(item: any): EsoRead[] {
  const key = str(item?.remoteRef?.key);
  return key ? [{ kind: 'key', key, metadata: str(item.remoteRef.metadataPolicy) === 'Fetch' }] : [];
}

function dataFromRead(item: any): EsoRead[] {
  const reads: EsoRead[] = [];
  const key = str(item?.extract?.key);
  if (key) reads.push({ kind: 'key', key, metadata: str(item.extract.metadataPolicy) === 'Fetch' });
  if (item?.find && typeof item.find === 'object') {
    const path = str(item.find.path);
    reads.push({ kind: 'find', ...(path ? { path: trimSlashes(path) } : {}), tags: Object.keys(record(item.find.tags)).length > 0 });
  }
  return reads;
}

/**
 * The ACL paths ESO's Vault provider requests for one read, as it builds them: a key is read at
 * `<mount>/data/<key>` (KV v2; `<mount>/<key>` for v1), a `mount/`, `mount/data/` prefix of the key
 * dropped; metadataPolicy Fetch also reads `<mount>/metadata/<key>`; `find` lists
 * `<mount>/metadata/<path>/` recursively (list), reads the custom metadata of each secret when it
 * filters by tags, and reads every secret it keeps.
 */
function esoGrants(read: EsoRead, mount: string | undefined, version: 'v1' | 'v2', label: string, plan: VaultPlan): Array<{ path: string; capability: GrantedCapability }> {
  if (read.kind === 'key') {
    const data = esoPath(read.key, mount, version);
    const grants: Array<{ path: string; capability: GrantedCapability }> = [{ path: data, capability: 'read' }];
    if (read.metadata && version === 'v2') grants.push({ path: data.replace(/^(.*?)\/data\//, '$1/metadata/'), capability: 'read' });
    return grants;
  }
  if (!mount) {
    plan.problems.push({ what: label, problem: 'uses dataFrom.find through a store without spec.provider.vault.path, which ESO cannot list', fix: 'set the store\'s path (the KV mount)' });
    return [];
  }
  if (read.path === undefined) {
    plan.remarks.push({ kind: 'broad-find', message: `${label} uses dataFrom.find without a path: it lists and reads the whole mount ${mount}; give find.path the folder it needs` });
  }
  const folder = read.path === undefined ? '' : `${read.path}/`;
  if (version === 'v1') return [{ path: `${mount}/${folder}*`, capability: 'list' }, { path: `${mount}/${folder}*`, capability: 'read' }];
  return [
    { path: `${mount}/metadata/${folder}*`, capability: 'list' },
    ...(read.tags ? [{ path: `${mount}/metadata/${folder}*`, capability: 'read' as const }] : []),
    { path: `${mount}/data/${folder}*`, capability: 'read' },
  ];
}

/** ESO's path for a key (its `buildPath`). */
export function esoPath(key: string, mount: string | undefined, version: 'v1' | 'v2'): string {
  let out = trimSlashes(key);
  if (mount !== undefined) {
    if (out.startsWith(`${mount}/`)) {
      out = out.slice(mount.length + 1);
      if (version === 'v2' && out.startsWith('data/')) out = out.slice('data/'.length);
    }
    return version === 'v2' ? `${mount}/data/${out}` : `${mount}/${out}`;
  }
  if (version === 'v2' && !out.includes('/data/')) {
    const [first, ...rest] = out.split('/');
    return [first, 'data', ...rest].join('/');
  }
  return out;
}

/** Paths read by several domains, roles used by several domains, and bindings that admit more than the ServiceAccounts listed. */
function sharingRemarks(plan: VaultPlan): void {
  const roles = [...plan.roles.values()].sort(compareRoles);
  const byPath = new Map<string, { domains: Set<string>; roles: Set<string> }>();
  for (const role of roles) {
    for (const entry of role.paths.values()) {
      const key = `${role.vaultNamespace}|${entry.path}`;
      const shared = byPath.get(key) ?? { domains: new Set<string>(), roles: new Set<string>() };
      for (const user of entry.users.values()) shared.domains.add(user.domain);
      shared.roles.add(role.name);
      byPath.set(key, shared);
    }
  }
  for (const [key, shared] of [...byPath].sort(([a], [b]) => compare(a, b))) {
    if (shared.domains.size < 2) continue;
    const [namespace, path] = [key.slice(0, key.indexOf('|')), key.slice(key.indexOf('|') + 1)];
    plan.remarks.push({
      kind: 'shared-path',
      message: `${path}${nsLabel(namespace)} is read by domains ${[...shared.domains].sort().join(', ')} (roles ${[...shared.roles].sort().join(', ')}): a secret of one domain should not be readable by another; give each domain its own path`,
    });
  }
  for (const role of roles) {
    if (role.domains.size > 1) {
      plan.remarks.push({
        kind: 'shared-role',
        message: `Vault role ${role.name}${nsLabel(role.vaultNamespace)} is used by domains ${[...role.domains].sort().join(', ')}: each of its ServiceAccounts can read the paths of all; give each domain a role of its own`,
      });
    }
    const names = new Set([...role.serviceAccounts].map((sa) => sa.slice(sa.indexOf('/') + 1)));
    const namespaces = new Set([...role.serviceAccounts].map((sa) => sa.slice(0, sa.indexOf('/'))));
    const extra = [...namespaces].sort().flatMap((ns) => [...names].sort().map((name) => `${ns}/${name}`)).filter((sa) => !role.serviceAccounts.has(sa));
    if (extra.length > 0) {
      plan.remarks.push({
        kind: 'broad-binding',
        message: `Vault role ${role.name}${nsLabel(role.vaultNamespace)} binds ${names.size} ServiceAccount names in ${namespaces.size} namespaces, which Vault matches in any combination: it also admits ${extra.join(', ')}; give each namespace a role of its own`,
      });
    }
  }
}

/** Why Vault would not match `path` literally in a policy, or undefined when it would. */
function literalPathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  // A trailing * is added by this command for find; anything else glob-like would widen the grant.
  const body = path.endsWith('/*') ? path.slice(0, -2) : path;
  if (/[\u0000-\u0020"\\{}\u007f]/.test(body)) return 'holds a space, quote, backslash, brace or control character';
  if (body.includes('*')) return 'holds "*", which Vault reads as a glob';
  const segments = body.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return 'has an empty, "." or ".." segment';
  if (segments.includes('+')) return 'has a "+" segment, which Vault reads as a wildcard';
  return undefined;
}

/** A Vault role or policy name: letters, digits, `_`, `-`, `.`, not only dots. */
export function isName(name: string): boolean {
  return /^[A-Za-z0-9_.-]{1,128}$/.test(name) && !/^\.+$/.test(name);
}

/** A path of names (Vault namespace or auth mount), `''` allowed when `emptyOk`. */
function isSegments(path: string, emptyOk: boolean): boolean {
  if (path === '') return emptyOk;
  return path.split('/').every(isName);
}

function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}

/** ` in Vault namespace x`, or nothing for the root namespace. */
export function nsLabel(namespace: string): string {
  return namespace === '' ? '' : ` in Vault namespace ${namespace}`;
}

/** At most 80 characters of a name for a message, control characters replaced. */
function clip(text: string): string {
  const cleaned = clean(text);
  return cleaned.length > 80 ? `${cleaned.slice(0, 77)}...` : cleaned;
}

/** Code-unit order, the same on every machine (not the locale's). */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** By Vault namespace, then role name. */
export function compareRoles(a: VaultRole, b: VaultRole): number {
  return compare(a.vaultNamespace, b.vaultNamespace) || compare(a.name, b.name);
}
