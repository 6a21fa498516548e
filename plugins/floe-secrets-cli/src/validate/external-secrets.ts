import { VaultBackendConfig } from '@floe-secrets/core';
import { Access } from '../access-map/model';
import { ManifestDocument } from '../manifests';
import { CheckContext } from './checks';
import { describeScope, InfisicalScope, resolveScope, ScopeResolution } from './infisical';
import { backendReady, describe, groupBy, label, poolWithProgress, text } from './util';

const ESO = 'external-secrets.io';

/** The provider of a SecretStore, as far as validate reads it. */
type Store =
  | { readonly provider: 'vault'; readonly label: string; readonly mount?: string; readonly version: string }
  | { readonly provider: 'infisical'; readonly label: string; readonly scope: InfisicalScope }
  | { readonly provider: string; readonly label: string };

/** One remote key an ExternalSecret reads: `remoteRef` of a `data` item, or `extract` of a `dataFrom` item. */
interface Remote {
  readonly key: string;
  readonly property?: string;
  /** Whether every property becomes a key of the Secret (dataFrom extract). */
  readonly extract: boolean;
  readonly storeRef: any;
}

/**
 * Secrets written by the External Secrets Operator: the ExternalSecret writes every key its
 * workloads read, and each remote key (and property) it reads exists in manifest.yaml's backend,
 * when its SecretStore is one validate can read (a Vault KV v2 or Infisical provider that is
 * manifest.yaml's backend). One read per distinct remote secret or folder.
 */
export async function checkExternalSecrets(context: CheckContext): Promise<void> {
  const uses = context.references.filter((a) => a.secret && a.source?.kind === 'external-secrets' && a.source.resource);
  if (uses.length === 0) return;
  const byResource = groupBy(uses, (a) => a.source!.resource!);
  await poolWithProgress(context, 'ExternalSecrets', [...byResource.entries()], ([resource, readers]) => checkResource(context, resource, readers));
}

async function checkResource(context: CheckContext, resource: string, uses: Access[]): Promise<void> {
  const doc = context.documents.find((d) => resourceLabel(d) === resource);
  if (!doc) return;
  const clusterWide = doc.object.kind === 'ClusterExternalSecret';
  const spec = (clusterWide ? doc.object.spec?.externalSecretSpec : doc.object.spec) ?? {};
  const namespace = uses[0].namespace;
  const problem = (use: Access, reference: string, message: string, fix: string): void => {
    context.problems.push({ check: 'external-secrets', workload: label(use), reference: `${reference} (${resource})`, message, fix });
  };

  // What the Secret will hold: data keys, template keys, and the properties of extracted remote secrets.
  const remotes: Remote[] = [
    ...array(spec.data).flatMap((d): Remote[] => (text(d?.remoteRef?.key)
      ? [{ key: d.remoteRef.key, property: text(d.remoteRef.property), extract: false, storeRef: d.sourceRef?.storeRef ?? spec.secretStoreRef }]
      : [])),
    ...array(spec.dataFrom).flatMap((d): Remote[] => (text(d?.extract?.key)
      ? [{ key: d.extract.key, property: text(d.extract.property), extract: true, storeRef: d.sourceRef?.storeRef ?? spec.secretStoreRef }]
      : [])),
  ];
  const template = spec.target?.template;
  const templateKeys = Object.keys(template?.data ?? {});
  let written: Set<string> | undefined = new Set(array(spec.data).flatMap((d) => text(d?.secretKey) ?? []));
  if (array(template?.templateFrom).length > 0 || array(spec.dataFrom).some((d) => !text(d?.extract?.key))) written = undefined;
  else if (templateKeys.length > 0 && template?.mergePolicy !== 'Merge') written = new Set(templateKeys);
  else templateKeys.forEach((k) => written!.add(k));

  let read = false;
  for (const remote of remotes) {
    const store = findStore(context, namespace, remote.storeRef);
    const ref = `remote key ${remote.key}${remote.property ? ` property ${remote.property}` : ''}`;
    if (!store) {
      const named = `${text(remote.storeRef?.kind) ?? 'SecretStore'} ${text(remote.storeRef?.name) ?? '?'}`;
      context.notes.push(`${resource}: ${named} is neither in the input nor ${context.backend.manifestPath}'s secret_store; its remote keys were not checked`);
      if (remote.extract) written = undefined;
      continue;
    }
    const found = await readRemote(context, resource, store, remote, uses, problem);
    if (!found) {
      if (remote.extract) written = undefined;
      continue;
    }
    read = true;
    if (!found.exists) {
      for (const use of uses) {
        problem(use, ref, `${store.label} has no secret ${remote.key}: ESO would fail to sync Secret ${namespace}/${use.secret} (SecretSyncedError)`,
          `create ${remote.key} in the backend, or fix the remote key of ${resource}`);
      }
      continue;
    }
    const fields = found.fields;
    if (fields && remote.property && !fields.has(remote.property) && !fields.has(remote.property.split('.')[0])) {
      for (const use of uses) {
        problem(use, ref, `${store.label}: secret ${remote.key} has no property ${remote.property} (it has ${[...fields].sort().join(', ')})`,
          `add it (floe-secrets set ${remote.key}/${remote.property} < value-file), or fix remoteRef.property of ${resource}`);
      }
    }
    if (remote.extract && written) {
      if (fields) fields.forEach((f) => written!.add(f));
      else written = undefined;
    }
  }
  if (read) uses.forEach((u) => context.checked.add(`${u.namespace}/${u.secret}`));

  if (!written) return;
  for (const use of uses) {
    const missing = (use.keys ?? []).filter((k) => !written!.has(k));
    if (missing.length === 0) continue;
    problem(use, `${use.how} secret ${use.secret} key ${missing.join(', ')}`,
      `${resource} does not write key ${missing.join(', ')} into Secret ${namespace}/${use.secret} (it writes ${[...written].sort().join(', ') || 'nothing'})`,
      `add {secretKey: ${missing[0]}, remoteRef: {key: ..., property: ...}} to spec.data of ${resource}, or read a key it writes`);
  }
}

/**
 * Whether the remote key exists, and its field names where the backend tells them without values
 * (Vault; an Infisical secret's properties live inside its value). Undefined when not checked,
 * with a note or an error recorded.
 */
async function readRemote(
  context: CheckContext, resource: string, store: Store, remote: Remote, uses: Access[],
  problem: (use: Access, reference: string, message: string, fix: string) => void,
): Promise<{ readonly exists: boolean; readonly fields?: Set<string> } | undefined> {
  const { backend, reads, notes, errors } = context;
  if (store.provider !== 'vault' && store.provider !== 'infisical') {
    notes.push(`${resource}: ${store.label} uses the ${store.provider} provider; its remote keys are not checked in this version`);
    return undefined;
  }
  if (!await backendReady(context, store.provider, (why) => `${resource}: ${store.label} reads ${store.provider}; its remote keys were not checked: ${why}`)) {
    return undefined;
  }
  if ('scope' in store) {
    let resolved: ScopeResolution;
    try {
      resolved = await resolveScope(context, store.scope, store.label);
    } catch (error) {
      errors.push(`infisical: could not look up the project of ${describeScope(store.scope)}: ${describe(error)}`);
      return undefined;
    }
    if ('mismatch' in resolved) {
      for (const use of uses) {
        problem(use, `remote key ${remote.key}`, resolved.message, `point ${store.label}'s secretsScope at the ${resolved.mismatch} of ${backend.manifestPath}, or use another store`);
      }
      return undefined;
    }
    if ('outside' in resolved) {
      notes.push(resolved.outside);
      return undefined;
    }
    if (remote.extract) return undefined; // extract reads the properties of a JSON value: values, which validate never reads
    try {
      return { exists: (await reads.infisicalKeys(resolved.prefix, store.scope.recursive)).has(remote.key) };
    } catch (error) {
      errors.push(`infisical: could not list ${describeScope(store.scope)}: ${describe(error)}`);
      return undefined;
    }
  }
  const mount = (backend.config as VaultBackendConfig).mount;
  if ('mount' in store && store.mount !== undefined && store.mount !== mount) {
    notes.push(`${resource}: ${store.label} reads Vault mount ${store.mount}, not ${backend.manifestPath}'s mount ${mount}; not checked`);
    return undefined;
  }
  if ('version' in store && store.version !== 'v2') {
    notes.push(`${resource}: ${store.label} reads a KV ${store.version} engine; only KV v2 is checked`);
    return undefined;
  }
  // ESO puts the store's mount (and KV v2's data/) in front of a key that does not start with it.
  const path = remote.key.replace(new RegExp(`^${escape(mount)}/(data/)?`), '');
  try {
    const fields = await reads.vaultFields(path);
    return { exists: fields.size > 0, fields };
  } catch (error) {
    errors.push(`vault: could not read ${mount}/data/${path}: ${describe(error)}`);
    return undefined;
  }
}

/** The store `ref` names: from the input, or manifest.yaml's Vault secret_store; undefined when unknown. */
function findStore(context: CheckContext, namespace: string, ref: any): Store | undefined {
  const kind = text(ref?.kind) ?? 'SecretStore';
  const name = text(ref?.name);
  const storeLabel = `${kind} ${kind === 'SecretStore' ? `${namespace}/` : ''}${name ?? '?'}`;
  const doc = context.documents.find((d) => String(d.object.apiVersion).startsWith(`${ESO}/`) && d.object.kind === kind
    && d.object.metadata?.name === name && (kind !== 'SecretStore' || (d.object.metadata?.namespace ?? 'default') === namespace));
  const provider = doc?.object.spec?.provider;
  if (provider && typeof provider === 'object') {
    if (provider.vault) return { provider: 'vault', label: storeLabel, mount: text(provider.vault.path), version: text(provider.vault.version) ?? 'v2' };
    const scope = provider.infisical?.secretsScope;
    if (scope) {
      return {
        provider: 'infisical',
        label: storeLabel,
        scope: { projectSlug: text(scope.projectSlug), env: text(scope.environmentSlug), path: text(scope.secretsPath) ?? '/', recursive: scope.recursive === true },
      };
    }
    return { provider: Object.keys(provider)[0] ?? 'unknown', label: storeLabel };
  }
  const config = context.backend.config;
  if (config.type === 'vault' && config.secretStore && config.secretStore.name === name && config.secretStore.kind === kind) {
    return { provider: 'vault', label: `${storeLabel} (${context.backend.manifestPath}'s secret_store)`, version: 'v2' };
  }
  return undefined;
}

/** `Kind namespace/name`, or `ClusterExternalSecret name`: how the access map names a managing resource. */
function resourceLabel(doc: ManifestDocument): string {
  const o = doc.object;
  if (o.kind === 'ClusterExternalSecret') return `ClusterExternalSecret ${o.metadata?.name}`;
  return `${o.kind} ${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`;
}

function array(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

function escape(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
