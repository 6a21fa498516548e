import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { isRecord } from './runtime-props';
import { dnsSubdomainProblem } from './validation';

/**
 * The container requests and limits a workload gets when it sets none: the amounts of
 * cdk8s-plus-28's own container defaults, written in the canonical form the API server stores
 * (`1`, not `1000m`; `2Gi`, not `2048Mi`). The server rewrites any other form, which Argo CD then
 * shows as a difference that never syncs away (argoproj/argo-cd#21135 for StatefulSets).
 */
export const DEFAULT_RESOURCES: k8s.ResourceRequirements = {
  requests: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('512Mi') },
  limits: { cpu: k8s.Quantity.fromString('1500m'), memory: k8s.Quantity.fromString('2Gi') },
};

/** The value of `app.kubernetes.io/managed-by` on every workload the library makes. */
export const MANAGED_BY = 'floe-secrets';

/** Whether `resources` is in cdk8s-plus form (`cpu`, `memory`, `ephemeralStorage`) rather than Kubernetes form. */
export function isContainerResources(resources: k8s.ResourceRequirements | kplus.ContainerResources): resources is kplus.ContainerResources {
  return ['cpu', 'memory', 'ephemeralStorage'].some((key) => key in resources);
}

/** `resources` in Kubernetes form: cdk8s-plus form is converted as cdk8s-plus converts it (cpu as given, sizes in Mi). */
export function toResourceRequirements(resources: k8s.ResourceRequirements | kplus.ContainerResources): k8s.ResourceRequirements {
  if (!isContainerResources(resources)) return resources;
  const requests: { [name: string]: k8s.Quantity } = {};
  const limits: { [name: string]: k8s.Quantity } = {};
  const put = (into: { [name: string]: k8s.Quantity }, name: string, value: string | undefined) => {
    if (value !== undefined) into[name] = k8s.Quantity.fromString(value);
  };
  put(requests, 'cpu', resources.cpu?.request?.amount);
  put(limits, 'cpu', resources.cpu?.limit?.amount);
  put(requests, 'memory', mebibytes(resources.memory?.request));
  put(limits, 'memory', mebibytes(resources.memory?.limit));
  put(requests, 'ephemeral-storage', mebibytes(resources.ephemeralStorage?.request));
  put(limits, 'ephemeral-storage', mebibytes(resources.ephemeralStorage?.limit));
  return {
    requests: Object.keys(requests).length > 0 ? requests : undefined,
    limits: Object.keys(limits).length > 0 ? limits : undefined,
  };
}

function mebibytes(size: { toMebibytes(): number } | undefined): string | undefined {
  return size === undefined ? undefined : `${size.toMebibytes()}Mi`;
}

const QUANTITY_SUFFIXES = new Map<string, number>([
  ['m', 1e-3], ['', 1], ['k', 1e3], ['M', 1e6], ['G', 1e9], ['T', 1e12], ['P', 1e15], ['E', 1e18],
  ['Ki', 2 ** 10], ['Mi', 2 ** 20], ['Gi', 2 ** 30], ['Ti', 2 ** 40], ['Pi', 2 ** 50], ['Ei', 2 ** 60],
]);

/**
 * The amount a Kubernetes quantity (`500m`, `1.5`, `512Mi`, `1e3`) stands for, or undefined when
 * the apiserver would refuse it.
 */
export function parseQuantity(value: unknown): number | undefined {
  const text = isRecord(value) && 'value' in value ? value.value : value;
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? text : undefined;
  if (typeof text !== 'string') return undefined;
  const match = /^\+?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:([eE][+-]?[0-9]+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(text);
  if (!match) return undefined;
  const base = Number(match[1]);
  if (match[2] !== undefined) return base * 10 ** Number(match[2].slice(1));
  return base * QUANTITY_SUFFIXES.get(match[3] ?? '')!;
}

/** The text of a quantity for messages (quantities are never secret). */
export function quantityText(value: unknown): string {
  const text = isRecord(value) && 'value' in value ? value.value : value;
  return typeof text === 'string' || typeof text === 'number' ? String(text) : typeof text;
}

/**
 * Why the apiserver would refuse `key` as a label or annotation key, or undefined: an optional
 * DNS-subdomain prefix and "/", then a name of at most 63 characters of letters, digits, "-", "_"
 * and ".", starting and ending with a letter or digit.
 */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && dnsSubdomainProblem(prefix)) return `has prefix ${JSON.stringify(prefix)}, which is not a DNS subdomain`;
  if (name.length === 0 || name.length > 63) return 'must have a name part of 1 to 63 characters';
  if (!/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name)) {
    return 'must be letters, digits, "-", "_" and ".", starting and ending with a letter or digit (after an optional "prefix/")';
  }
  return undefined;
}

/** Why the apiserver would refuse `value` as a label value, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return `is ${value.length} characters long (at most 63)`;
  if (value !== '' && !/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(value)) {
    return 'must be empty or letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
  }
  return undefined;
}
