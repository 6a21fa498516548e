import { SecretSource } from './model';
import { arr, K8sObject, record, str } from './objects';

/** The source of a Secret that no resource of the input manages. */
export const EXTERNAL_SOURCE: SecretSource = { kind: 'external', backend: 'external (created outside the manifests)', paths: [] };

/** The resources that fill each Secret (`namespace/name`; namespace `*` for every namespace), as sources. */
export function collectSources(objects: K8sObject[]): Map<string, SecretSource[]> {
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

/** The source that tells most about a Secret: a managing resource before a copy of the Secret. */
export function pickSource(candidates: SecretSource[] | undefined): SecretSource {
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
export function collectDeclaredKeys(objects: K8sObject[]): Map<string, Set<string>> {
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
