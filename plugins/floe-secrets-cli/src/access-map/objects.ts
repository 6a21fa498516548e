import { ManifestDocument } from '../manifests';

/** A Kubernetes object of the input, with the fields every reader needs. */
export interface K8sObject {
  readonly doc: ManifestDocument;
  readonly o: any;
  readonly kind: string;
  readonly group: string;
  readonly name: string;
  readonly namespace: string;
}

/** Reads the identity of a document (default namespace `default`; `generateName*` when unnamed). */
export function toObject(doc: ManifestDocument): K8sObject {
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

/** A non-empty string (numbers and booleans as text), or undefined. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** The value when it is an array, else an empty one. */
export function arr(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

/** The value when it is a plain object, else an empty one. */
export function record(value: unknown): { [key: string]: any } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as { [key: string]: any } : {};
}

/** The label every object of a floe domain carries. */
export const DOMAIN_LABEL = 'floe.dev/domain';

/** The domains of the input's namespaces: the floe.dev/domain label of their objects, else `x` of `floe-x`, else the namespace. */
export function domainResolver(objects: K8sObject[]): { readonly of: (namespace: string) => string; readonly all: ReadonlySet<string> } {
  const byNamespace = new Map<string, string>();
  for (const x of objects) {
    const domain = str(x.o.metadata?.labels?.[DOMAIN_LABEL]);
    if (!domain) continue;
    const namespace = x.kind === 'Namespace' && x.group === '' ? x.name : x.namespace;
    if (!byNamespace.has(namespace)) byNamespace.set(namespace, domain);
  }
  return {
    of: (namespace) => byNamespace.get(namespace) ?? (namespace.startsWith('floe-') ? namespace.slice('floe-'.length) : namespace),
    all: new Set(byNamespace.values()),
  };
}

/** Items grouped by `key`, in first-seen order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = map.get(k);
    if (group) group.push(item);
    else map.set(k, [item]);
  }
  return map;
}
