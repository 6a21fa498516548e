import { VaultBackendConfig } from '@floe-secrets/core';
import { CheckContext } from './checks';
import { backendReady, describe, groupBy, label, poolWithProgress } from './util';
import { Access } from '../access-map/model';
import { isDynamicCredentialsPath } from '../access-map/workloads';

/**
 * Where a Vault API path lies in manifest.yaml's KV v2 mount: the secret path to read, a problem
 * (the mount's path without its `data/` segment), or undefined when the path is not in the mount.
 */
export function kvPath(apiPath: string, mount: string): { readonly secret: string } | { readonly withoutData: string } | undefined {
  const path = apiPath.replace(/^\/+/, '');
  if (path.startsWith(`${mount}/data/`)) return { secret: path.slice(mount.length + '/data/'.length) };
  if (path.startsWith(`${mount}/`)) return { withoutData: path.slice(mount.length + 1) };
  return undefined;
}

/**
 * Vault Agent injections: each secret path the agent renders exists in manifest.yaml's Vault, in its
 * KV v2 mount, and holds every field the templates read. One read per distinct path. Vault has no
 * call that lists a secret's field names without their values: the values are dropped in the reader.
 */
export async function checkVaultAgent(context: CheckContext): Promise<void> {
  const uses = context.references.filter((a) => a.how === 'vault-agent' && a.vault?.active);
  if (uses.length === 0) return;
  if (!await backendReady(context, 'vault', (why) => `Vault Agent paths were not checked against Vault: ${why}`)) return;
  const mount = (context.backend.config as VaultBackendConfig).mount;
  const byPath = groupBy(uses, (a) => a.vault!.path);
  // Dynamic credentials are made when the agent asks: nothing to read before deploy (nor to count as a read).
  const dynamic = [...byPath.entries()].filter(([path]) => !kvPath(path, mount) && isDynamicCredentialsPath(path));
  for (const [path, injected] of dynamic) {
    context.notes.push(`${injected.map(label).join(', ')}: the Vault Agent asks ${path} for dynamic credentials when the pod starts; not checked before deploy`);
    byPath.delete(path);
  }
  await poolWithProgress(context, 'Vault secrets of Vault Agent injections', [...byPath.entries()], ([path, injected]) => checkPath(context, mount, path, injected));
}

async function checkPath(context: CheckContext, mount: string, path: string, uses: Access[]): Promise<void> {
  const problem = (use: Access, message: string, fix: string, missing: string[] = []): void => {
    context.problems.push({
      check: 'vault',
      workload: label(use),
      reference: `vault-agent ${path}${missing.length > 0 ? ` field ${missing.join(', ')}` : ''} (files ${use.vault!.files.join(', ')})`,
      message,
      fix,
    });
  };
  const where = kvPath(path, mount);
  if (!where) {
    context.notes.push(`${uses.map(label).join(', ')}: Vault Agent path ${path} is not in ${context.backend.manifestPath}'s KV v2 mount ${mount}; not checked`);
    return;
  }
  if ('withoutData' in where) {
    for (const use of uses) {
      problem(use, `the Vault Agent reads ${path}, but ${mount} is a KV version 2 mount: its secrets are read at ${mount}/data/<path>, so the agent would get nothing`,
        `write the path as ${mount}/data/${where.withoutData} in vault.hashicorp.com/agent-inject-secret-* and in the template`);
    }
    return;
  }
  if (where.secret === '' || where.secret.endsWith('/') || where.secret.includes('//')) {
    // Vault answers a data path ending in "/" with 500 "could not find version data": the agent would render nothing.
    const clean = where.secret.split('/').filter((s) => s !== '').join('/');
    for (const use of uses) {
      problem(use, `the Vault Agent reads ${path}, which is not a secret path (an empty segment or a trailing "/"): Vault answers it with an error and the pod would not start`,
        clean === '' ? 'name the secret after data/ in vault.hashicorp.com/agent-inject-secret-*' : `write the path as ${mount}/data/${clean} in vault.hashicorp.com/agent-inject-secret-* and in the template`);
    }
    return;
  }
  let fields: Set<string>;
  try {
    fields = await context.reads.vaultFields(where.secret);
  } catch (error) {
    context.errors.push(`vault: could not read ${path}: ${describe(error)}`);
    return;
  }
  context.checked.add(`vault ${path}`);
  for (const use of uses) {
    if (fields.size === 0) {
      problem(use, `Vault has no secret at ${path}: the agent would not render ${use.vault!.files.join(', ')} and the pod would not start`,
        `write it: floe-secrets set ${where.secret}/<field> < value-file (or vault kv put -mount=${mount} ${where.secret} ...), or fix the path`);
      continue;
    }
    const missing = (use.keys ?? []).filter((k) => !fields.has(k));
    if (missing.length === 0) continue;
    problem(use, `Vault secret ${path} has no field ${missing.join(', ')} (it has ${[...fields].sort().join(', ')})`,
      `add it: floe-secrets set ${where.secret}/${missing[0]} < value-file, or read an existing field in the agent template`, missing);
  }
}
