import { SecretsError, SecretsPlugin } from '@floe-secrets/core';
import { Access, AccessMap } from '../access-map/model';
import { ManifestDocument } from '../manifests';

/** One problem found: the workload (or resource) it is about, the reference, what is wrong and the fix. */
export interface Problem {
  /** `secret` (cluster Secret), `crd` (operator CRD), `infisical` (backend content), `rbac`. */
  readonly check: 'secret' | 'crd' | 'infisical' | 'rbac';
  /** `namespace/Kind/name` of the workload, or of the resource or binding when no workload is involved. */
  readonly workload: string;
  /** What it refers to, e.g. `env secret snowflake-credentials key password`. */
  readonly reference: string;
  readonly message: string;
  readonly fix: string;
}

/** What validate found. */
export interface ValidateResult {
  readonly problems: Problem[];
  /** Things not checked, and why. */
  readonly notes: string[];
  /** Checks that could not be done (unreachable or refusing backend): exit 2. */
  readonly errors: string[];
  readonly checked: { secrets: number; references: number; backendReads: number };
}

/** The live cluster, as validate needs it: key names only, never values. */
export interface ClusterReader {
  /** The key names of Secret `namespace/name` (empty when it does not exist). */
  keysOf(namespace: string, name: string): Promise<string[]>;
  hasApiResource(group: string, version: string, plural: string): Promise<boolean>;
}

/** The Infisical backend of manifest.yaml, or why check (c) is skipped. */
export type InfisicalBackend =
  | { readonly plugin: SecretsPlugin; readonly projectId?: string; readonly environment: string; readonly secretsPath: string }
  | { readonly skipped: string };

interface Operator {
  readonly name: string;
  readonly install: string;
}

const OPERATORS: { readonly [group: string]: Operator } = {
  'secrets.infisical.com': {
    name: 'the Infisical operator',
    install: 'helm repo add infisical-helm-charts https://dl.cloudsmith.io/public/infisical/helm-charts/helm/charts/ && '
      + 'helm install secrets-operator infisical-helm-charts/secrets-operator -n infisical-operator --create-namespace',
  },
  'external-secrets.io': {
    name: 'the External Secrets Operator',
    install: 'helm repo add external-secrets https://charts.external-secrets.io && '
      + 'helm install external-secrets external-secrets/external-secrets -n external-secrets --create-namespace',
  },
  'secrets.hashicorp.com': {
    name: 'the Vault Secrets Operator',
    install: 'helm repo add hashicorp https://helm.releases.hashicorp.com && '
      + 'helm install vault-secrets-operator hashicorp/vault-secrets-operator -n vault-secrets-operator-system --create-namespace',
  },
  'bitnami.com': {
    name: 'the Sealed Secrets controller',
    install: 'helm repo add sealed-secrets https://bitnami-labs.github.io/sealed-secrets && helm install sealed-secrets sealed-secrets/sealed-secrets -n kube-system',
  },
};

/** How many backend reads run at once. */
export const CONCURRENCY = 8;

/** Runs checks (a) to (d) on the input; reads each distinct Secret and Infisical scope once. */
export async function validateAll(
  documents: ManifestDocument[], map: AccessMap, cluster: ClusterReader, infisical: InfisicalBackend,
): Promise<ValidateResult> {
  const problems: Problem[] = [];
  const notes: string[] = [];
  const errors: string[] = [];
  const counts = { secrets: 0, backendReads: 0 };
  const references = map.accesses.filter((a) => a.workload !== undefined && a.how !== 'none' && !a.grant);

  await checkCrds(documents, cluster, problems, errors);
  await checkExternalSecrets(references, cluster, problems, errors, counts);
  await checkInfisical(documents, references, infisical, problems, notes, errors, counts);
  checkRbac(map, references, problems);

  for (const a of references) {
    const kind = a.source?.kind;
    if (kind === 'vault-agent') {
      notes.push(`${label(a)}: Vault Agent path ${a.vault?.path} is not checked against Vault in this version`);
    } else if (kind && !['external', 'infisical', 'manifest'].includes(kind)) {
      notes.push(`${label(a)}: secret ${a.secret} comes from ${a.source?.resource ?? kind} (${kind}); its backend content is not checked in this version`);
    }
  }
  const order = (p: Problem): string => `${p.workload}\u0000${p.check}\u0000${p.reference}\u0000${p.message}`;
  problems.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return {
    problems,
    notes: [...new Set(notes)],
    errors: [...new Set(errors)],
    checked: { secrets: counts.secrets, references: references.length, backendReads: counts.backendReads },
  };
}

// --- (b) operator CRDs ------------------------------------------------------------------------------

async function checkCrds(documents: ManifestDocument[], cluster: ClusterReader, problems: Problem[], errors: string[]): Promise<void> {
  const needed = new Map<string, { group: string; version: string; kind: string; resources: string[] }>();
  for (const doc of documents) {
    const apiVersion = String(doc.object.apiVersion);
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    if (!OPERATORS[group]) continue;
    const kind = String(doc.object.kind);
    const key = `${apiVersion} ${kind}`;
    const entry = needed.get(key) ?? { group, version: apiVersion.slice(slash + 1), kind, resources: [] };
    entry.resources.push(`${doc.object.metadata?.namespace ?? 'default'}/${kind}/${doc.object.metadata?.name ?? '?'}`);
    needed.set(key, entry);
  }
  await pool([...needed.values()], async (crd) => {
    let installed: boolean;
    try {
      installed = await cluster.hasApiResource(crd.group, crd.version, `${crd.kind.toLowerCase()}s`);
    } catch (error) {
      errors.push(`cluster: could not check the ${crd.group}/${crd.version} ${crd.kind} CRD: ${describe(error)}`);
      return;
    }
    if (installed) return;
    const operator = OPERATORS[crd.group];
    for (const resource of crd.resources) {
      problems.push({
        check: 'crd',
        workload: resource,
        reference: `${crd.group}/${crd.version} ${crd.kind}`,
        message: `${operator.name} is not installed (no ${crd.group}/${crd.version} ${crd.kind})`,
        fix: `install it with helm: ${operator.install}`,
      });
    }
  });
}

// --- (a) Secrets created outside the manifests --------------------------------------------------------

async function checkExternalSecrets(
  references: Access[], cluster: ClusterReader, problems: Problem[], errors: string[], counts: { secrets: number; backendReads: number },
): Promise<void> {
  const bySecret = groupBy(references.filter((a) => a.secret && a.source?.kind === 'external'), (a) => `${a.namespace}/${a.secret}`);
  await pool([...bySecret.entries()], async ([id, uses]) => {
    const [namespace, name] = [uses[0].namespace, uses[0].secret!];
    let keys: Set<string>;
    counts.backendReads++;
    try {
      keys = new Set(await cluster.keysOf(namespace, name));
    } catch (error) {
      errors.push(`cluster: could not read Secret ${id}: ${describe(error)}`);
      return;
    }
    counts.secrets++;
    for (const use of uses) {
      if (use.notes.includes('optional')) continue;
      if (keys.size === 0) {
        problems.push({
          check: 'secret',
          workload: label(use),
          reference: reference(use),
          message: `Secret ${id} does not exist in the cluster (or holds no keys); no resource in the input creates it`,
          fix: `create it: kubectl -n ${namespace} create secret generic ${name}${(use.keys ?? ['KEY']).map((k) => ` --from-file=${k}=...`).join('')}`,
        });
        continue;
      }
      for (const key of use.keys ?? []) {
        if (keys.has(key)) continue;
        problems.push({
          check: 'secret',
          workload: label(use),
          reference: `${use.how} secret ${name} key ${key}`,
          message: `Secret ${id} has no key ${key} (it has ${[...keys].sort().join(', ')})`,
          fix: `add key ${key} to Secret ${id} (kubectl -n ${namespace} edit secret ${name}), or change the reference to an existing key`,
        });
      }
    }
  });
}

// --- (c) Infisical-managed Secrets ---------------------------------------------------------------------

interface Scope {
  readonly project?: string;
  readonly projectId?: string;
  readonly env?: string;
  readonly path: string;
  readonly recursive: boolean;
}

async function checkInfisical(
  documents: ManifestDocument[], references: Access[], backend: InfisicalBackend,
  problems: Problem[], notes: string[], errors: string[], counts: { secrets: number; backendReads: number },
): Promise<void> {
  const uses = references.filter((a) => a.secret && a.source?.kind === 'infisical' && a.source.resource);
  if (uses.length === 0) return;
  if ('skipped' in backend) {
    notes.push(`Infisical-managed Secrets were not checked against Infisical: ${backend.skipped}`);
    return;
  }
  const health = await backend.plugin.healthCheck();
  if (health.state !== 'healthy') {
    errors.push(`infisical: the backend of manifest.yaml did not answer: ${health.message ?? 'unhealthy'}`);
    return;
  }
  // One listing per distinct scope; the Secrets it fills and the references to them.
  const scopes = new Map<string, { scope: Scope; resource: string; secrets: Set<string>; uses: Access[] }>();
  for (const use of uses) {
    const resource = use.source!.resource!;
    const doc = documents.find((d) => `${d.object.kind} ${d.object.metadata?.namespace ?? 'default'}/${d.object.metadata?.name}` === resource);
    const scope = doc ? scopeOf(doc.object.spec) : undefined;
    if (!scope) {
      notes.push(`${resource}: no secretsScope in its authentication; not checked against Infisical`);
      continue;
    }
    const key = JSON.stringify(scope);
    const entry = scopes.get(key) ?? { scope, resource, secrets: new Set<string>(), uses: [] };
    entry.secrets.add(`${use.namespace}/${use.secret}`);
    entry.uses.push(use);
    scopes.set(key, entry);
  }
  await pool([...scopes.values()], async ({ scope, resource, secrets, uses: scoped }) => {
    const where = `project ${scope.project ?? scope.projectId ?? '?'}, environment ${scope.env ?? '?'}, path ${scope.path}`;
    const perUse = (message: string, fix: string, keys?: (u: Access) => string[] | undefined): void => {
      for (const use of scoped) {
        const missing = keys ? keys(use) : [];
        if (keys && (missing === undefined || missing.length === 0)) continue;
        problems.push({
          check: 'infisical',
          workload: label(use),
          reference: `${use.how} secret ${use.secret}${missing && missing.length > 0 ? ` key ${missing.join(', ')}` : ''} (${resource})`,
          message: missing && missing.length > 0 ? `${message}: no key ${missing.join(', ')}` : message,
          fix,
        });
      }
    };
    if (scope.env !== backend.environment) {
      perUse(`${resource} reads environment ${scope.env ?? '(none)'}, but manifest.yaml's backend is environment ${backend.environment}`,
        `set envSlug of ${resource} to ${backend.environment} (re-synthesize from manifest.yaml), or point manifest.yaml at ${scope.env}`);
      return;
    }
    if (scope.projectId && backend.projectId && scope.projectId !== backend.projectId) {
      perUse(`${resource} reads project ${scope.projectId}, but manifest.yaml's backend is project ${backend.projectId}`,
        `set projectId of ${resource} to ${backend.projectId} (re-synthesize from manifest.yaml)`);
      return;
    }
    if (!scope.projectId && scope.project) {
      notes.push(`${resource} names project ${scope.project} by slug; it was listed in manifest.yaml's project ${backend.projectId ?? '?'}, assumed to be the same`);
    }
    const base = backend.secretsPath === '/' ? '/' : `${backend.secretsPath.replace(/\/+$/, '')}/`;
    const path = scope.path.replace(/\/+$/, '') || '/';
    if (!`${path}/`.startsWith(base) && path !== backend.secretsPath) {
      notes.push(`${resource}: path ${path} is outside manifest.yaml's secrets_path ${backend.secretsPath}; not checked`);
      return;
    }
    const prefix = `${path}/`.slice(base.length);
    let keys: Set<string>;
    counts.backendReads++;
    try {
      const listed = (await backend.plugin.listSecrets(prefix)).map((k) => k.slice(prefix.length));
      keys = new Set(scope.recursive ? listed.map((k) => k.slice(k.lastIndexOf('/') + 1)) : listed.filter((k) => !k.includes('/')));
    } catch (error) {
      errors.push(`infisical: could not list ${where}: ${describe(error)}`);
      return;
    }
    counts.secrets += secrets.size;
    if (keys.size === 0) {
      perUse(`Infisical has no secrets at ${where}: the operator would sync ${[...secrets].join(', ')} with no keys (wrong path, project or environment?)`,
        `fix secretsPath/projectSlug/envSlug of ${resource}, or create the secrets there (floe-secrets set ${prefix}<KEY> < value-file)`);
      return;
    }
    perUse(`Infisical ${where} lacks keys the workload reads`, `create them: floe-secrets set ${prefix}<KEY> < value-file, or fix the reference`,
      (use) => (use.keys ?? []).filter((k) => !keys.has(k)));
  });
}

function scopeOf(spec: any): Scope | undefined {
  const auth = spec?.authentication ?? {};
  for (const method of Object.keys(auth).sort()) {
    const s = auth[method]?.secretsScope;
    if (!s) continue;
    return {
      project: typeof s.projectSlug === 'string' ? s.projectSlug : undefined,
      projectId: typeof s.projectId === 'string' ? s.projectId : undefined,
      env: typeof s.envSlug === 'string' ? s.envSlug : undefined,
      path: typeof s.secretsPath === 'string' && s.secretsPath !== '' ? s.secretsPath : '/',
      recursive: s.recursive === true,
    };
  }
  return undefined;
}

// --- (d) RBAC ------------------------------------------------------------------------------------------

function checkRbac(map: AccessMap, references: Access[], problems: Problem[]): void {
  const seen = new Set<string>();
  for (const use of references) {
    if (!use.secret || use.principal.kind !== 'ServiceAccount') continue;
    const id = `${label(use)} ${use.secret}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const sa = use.principal;
    const granted = map.accesses.some((a) => a.grant && a.principal.kind === 'ServiceAccount' && a.principal.name === sa.name
      && a.principal.namespace === sa.namespace && (a.namespace === use.namespace || a.namespace === '*')
      && (a.secret === use.secret || a.secret === '*') && a.grant.verbs.some((v) => v === 'get' || v === '*'));
    if (granted) continue;
    problems.push({
      check: 'rbac',
      workload: label(use),
      reference: `ServiceAccount ${sa.namespace}/${sa.name} get secret ${use.secret}`,
      message: `no Role bound to ServiceAccount ${sa.namespace}/${sa.name} grants get on Secret ${use.namespace}/${use.secret}, which its pods read`,
      fix: `add a Role in ${use.namespace} with rule {apiGroups: [""], resources: [secrets], resourceNames: [${use.secret}], verbs: [get]} `
        + `and a RoleBinding of it to ServiceAccount ${sa.name}`,
    });
  }
  for (const finding of map.findings) {
    const binding = /^RoleBinding (.+)\/(.+)$/.exec(finding.binding);
    const cluster = /^ClusterRoleBinding (.+)$/.exec(finding.binding);
    problems.push({
      check: 'rbac',
      workload: binding ? `${binding[1]}/RoleBinding/${binding[2]}` : cluster ? `-/ClusterRoleBinding/${cluster[1]}` : finding.binding,
      reference: `${finding.role} ${finding.verbs.join(',')} on ${finding.resourceNames ? `secrets ${finding.resourceNames.join(', ')}` : 'all secrets'} in ${finding.scope}`,
      message: `over-broad secret access for ${finding.subjects.join(', ')}: ${finding.reasons.join('; ')}`,
      fix: 'grant only get, with resourceNames listing the Secrets the pods read, in a namespaced Role bound by a RoleBinding',
    });
  }
}

// --- helpers -------------------------------------------------------------------------------------------

function label(a: Access): string {
  const [kind, ...name] = (a.workload ?? '?/?').split('/');
  return `${a.namespace}/${kind}/${name.join('/')}`;
}

function reference(a: Access): string {
  return `${a.how} secret ${a.secret}${a.keys && a.keys.length > 0 ? ` key ${a.keys.join(', ')}` : ''}`;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) map.set(key(item), [...(map.get(key(item)) ?? []), item]);
  return map;
}

function describe(error: unknown): string {
  if (error instanceof SecretsError) return `${error.name}: ${error.message}`;
  return `${(error as Error)?.name ?? 'error'} (unexpected)`;
}

/** Runs `fn` over `items`, at most {@link CONCURRENCY} at a time. */
async function pool<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}
