import { InfisicalBackendConfig } from '@floe-secrets/core';
import { ProjectRef } from '@floe-secrets/infisical';
import { CheckContext } from './checks';
import { backendReady, describe, groupBy, label, poolWithProgress, text } from './util';
import { Access } from '../access-map/model';

/** A folder of one Infisical project and environment, as a resource of the input names it. */
export interface InfisicalScope {
  readonly projectSlug?: string;
  readonly projectId?: string;
  readonly env?: string;
  readonly path: string;
  readonly recursive: boolean;
}

/** What a scope means for manifest.yaml's Infisical backend. */
export type ScopeResolution =
  /** Another environment or project than the backend's (or a project Infisical does not know): every read would come back empty. */
  | { readonly mismatch: 'environment' | 'project'; readonly message: string; readonly field?: 'projectSlug' | 'projectId'; readonly expected?: string }
  /** Outside the backend's secrets_path: the CLI's identity is not scoped to read it. */
  | { readonly outside: string }
  /** The folder, relative to secrets_path, to list. */
  | { readonly prefix: string };

/**
 * Where `scope` lies for the backend: the folder to list, or why it cannot be listed. The
 * environment must be the backend's, and the project (by slug or id) is looked up in Infisical:
 * it must exist and be the backend's project.
 *
 * @throws SecretsError when Infisical cannot be asked about the project
 */
export async function resolveScope(context: CheckContext, scope: InfisicalScope, resource: string): Promise<ScopeResolution> {
  const config = context.backend.config as InfisicalBackendConfig;
  const manifestPath = context.backend.manifestPath;
  if (scope.env !== config.environment) {
    return { mismatch: 'environment', message: `${resource} reads environment ${scope.env ?? '(none)'}, but ${manifestPath}'s backend is environment ${config.environment}` };
  }
  const ref: ProjectRef | undefined = scope.projectId ? { id: scope.projectId } : scope.projectSlug ? { slug: scope.projectSlug } : undefined;
  if (ref !== undefined) {
    const [named, own] = await Promise.all([context.reads.infisicalProject(ref), context.reads.infisicalProject()]);
    const what = ref.id !== undefined ? `project id ${ref.id}` : `project ${ref.slug}`;
    const expected = own?.slug !== undefined ? { field: 'projectSlug' as const, expected: own.slug } : own ? { field: 'projectId' as const, expected: own.id } : {};
    if (named === undefined) {
      return { mismatch: 'project', message: `${resource} reads ${what}, which Infisical does not know (or the CLI's machine identity may not see)`, ...expected };
    }
    if (own !== undefined && named.id !== own.id) {
      return { mismatch: 'project', message: `${resource} reads ${what}, but ${manifestPath}'s backend is project ${own.slug ?? own.id}`, ...expected };
    }
  }
  const base = config.secretsPath === '/' ? '/' : `${config.secretsPath.replace(/\/+$/, '')}/`;
  const path = scope.path.replace(/\/+$/, '') || '/';
  if (!`${path}/`.startsWith(base) && path !== config.secretsPath) {
    return { outside: `${resource}: path ${path} is outside ${manifestPath}'s secrets_path ${config.secretsPath}; not checked` };
  }
  return { prefix: `${path}/`.slice(base.length) };
}

/** `project p, environment e, path /x`. */
export function describeScope(scope: InfisicalScope): string {
  return `project ${scope.projectSlug ?? scope.projectId ?? '?'}, environment ${scope.env ?? '?'}, path ${scope.path}`;
}

/** The fields of each operator resource kind that set a scope, for the fixes. */
const FIELDS = {
  InfisicalSecret: { path: 'secretsPath', env: 'envSlug', project: 'projectSlug', where: '' },
  InfisicalStaticSecret: { path: 'secretPath', env: 'environmentSlug', project: 'projectSlug', where: ' (its sources)' },
} as const;

/**
 * Secrets synced by the Infisical operator (InfisicalSecret, InfisicalStaticSecret): each scope
 * they read exists in manifest.yaml's Infisical, in its environment and project, and holds every
 * key the workloads read. One listing per distinct folder.
 */
export async function checkInfisical(context: CheckContext): Promise<void> {
  const uses = context.references.filter((a) => a.secret && (a.source?.kind === 'infisical' || a.source?.kind === 'infisical-static') && a.source.resource);
  if (uses.length === 0) return;
  if (!await backendReady(context, 'infisical', (why) => `Infisical-managed Secrets were not checked against Infisical: ${why}`)) return;
  const byResource = groupBy(uses, (a) => a.source!.resource!);
  await poolWithProgress(context, 'Infisical folders', [...byResource.entries()], ([resource, scoped]) => checkResource(context, resource, scoped));
}

async function checkResource(context: CheckContext, resource: string, uses: Access[]): Promise<void> {
  const config = context.backend.config as InfisicalBackendConfig;
  const doc = context.documents.find((d) => `${d.object.kind} ${d.object.metadata?.namespace ?? 'default'}/${d.object.metadata?.name}` === resource);
  const kind = doc?.object.kind === 'InfisicalStaticSecret' ? 'InfisicalStaticSecret' : 'InfisicalSecret';
  const fields = FIELDS[kind];
  const scopes = doc ? scopesOf(kind, doc.object.spec) : [];
  if (scopes.length === 0) {
    context.notes.push(`${resource}: ${kind === 'InfisicalSecret' ? 'no secretsScope in its authentication' : 'no sources'}; not checked against Infisical`);
    return;
  }
  const problem = (message: string, fix: string, use: Access, missing: string[] = []): void => {
    context.problems.push({
      check: 'infisical',
      workload: label(use),
      reference: `${use.how} secret ${use.secret}${missing.length > 0 ? ` key ${missing.join(', ')}` : ''} (${resource})`,
      message: missing.length > 0 ? `${message}: no key ${missing.join(', ')}` : message,
      fix,
    });
  };
  const keys = new Set<string>();
  const listed: InfisicalScope[] = [];
  const prefixes: string[] = [];
  for (const scope of scopes) {
    let resolved: ScopeResolution;
    try {
      resolved = await resolveScope(context, scope, resource);
    } catch (error) {
      context.errors.push(`infisical: could not look up the project of ${describeScope(scope)}: ${describe(error)}`);
      return;
    }
    if ('mismatch' in resolved) {
      const [field, value] = resolved.mismatch === 'environment'
        ? [fields.env, config.environment]
        : [resolved.field ?? fields.project, resolved.expected ?? config.projectSlug ?? config.projectId];
      for (const use of uses) problem(resolved.message, `set ${field} of ${resource}${fields.where} to ${value} (re-synthesize from ${context.backend.manifestPath})`, use);
      return;
    }
    if ('outside' in resolved) {
      context.notes.push(resolved.outside);
      continue;
    }
    try {
      (await context.reads.infisicalKeys(resolved.prefix, scope.recursive)).forEach((k) => keys.add(k));
    } catch (error) {
      context.errors.push(`infisical: could not list ${describeScope(scope)}: ${describe(error)}`);
      return;
    }
    listed.push(scope);
    prefixes.push(resolved.prefix);
  }
  if (listed.length === 0) return;
  const secrets = [...new Set(uses.map((u) => `${u.namespace}/${u.secret}`))];
  secrets.forEach((s) => context.checked.add(s));
  const where = listed.map(describeScope).join('; ');
  if (keys.size === 0) {
    for (const use of uses) {
      problem(`Infisical has no secrets at ${where}: the operator would sync ${secrets.join(', ')} with no keys (wrong path, project or environment?)`,
        `fix ${fields.path}/${fields.project}/${fields.env} of ${resource}${fields.where}, or create the secrets there (floe-secrets set ${prefixes[0]}<KEY> < value-file)`, use);
    }
    return;
  }
  for (const use of uses) {
    const missing = (use.keys ?? []).filter((k) => !keys.has(k));
    if (missing.length > 0) problem(`Infisical ${where} lacks keys the workload reads`, `create them: floe-secrets set ${prefixes[0]}<KEY> < value-file, or fix the reference`, use, missing);
  }
}

/** The scopes an operator resource reads: an InfisicalSecret's secretsScope, an InfisicalStaticSecret's sources. */
function scopesOf(kind: 'InfisicalSecret' | 'InfisicalStaticSecret', spec: any): InfisicalScope[] {
  const scope = (s: any, env: unknown, path: unknown): InfisicalScope => ({
    projectSlug: text(s.projectSlug),
    projectId: text(s.projectId),
    env: text(env),
    path: text(path) ?? '/',
    recursive: s.recursive === true,
  });
  if (kind === 'InfisicalStaticSecret') {
    return (Array.isArray(spec?.sources) ? spec.sources : []).filter((s: any) => s && typeof s === 'object').map((s: any) => scope(s, s.environmentSlug, s.secretPath));
  }
  const auth = spec?.authentication ?? {};
  for (const method of Object.keys(auth).sort()) {
    const s = auth[method]?.secretsScope;
    if (s && typeof s === 'object') return [scope(s, s.envSlug, s.secretsPath)];
  }
  return [];
}
