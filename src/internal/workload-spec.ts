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
  return isContainerResources(resources) ? fromContainerResources(resources) : resources;
}

/**
 * Checked resources with each quantity written as the API server stores it (see
 * {@link canonicalQuantity}), so `Size.gibibytes(2)` is `2Gi`, not `2048Mi`.
 */
export function canonicalResources(resources: k8s.ResourceRequirements): k8s.ResourceRequirements {
  const written = (quantity: k8s.Quantity) => {
    const text = canonicalQuantity(quantity);
    return text === undefined ? quantity : k8s.Quantity.fromString(text);
  };
  const canonical = (list: { [name: string]: k8s.Quantity } | undefined) =>
    list && Object.fromEntries(Object.entries(list).map(([name, quantity]) => [name, written(quantity)]));
  return { ...resources, requests: canonical(resources.requests), limits: canonical(resources.limits) };
}

function fromContainerResources(resources: kplus.ContainerResources): k8s.ResourceRequirements {
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

/** The decimal SI suffixes by power of ten. */
const DECIMAL_SUFFIXES = new Map<string, number>([['n', -9], ['u', -6], ['m', -3], ['', 0], ['k', 3], ['M', 6], ['G', 9], ['T', 12], ['P', 15], ['E', 18]]);
/** The binary SI suffixes by power of 1024. */
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
const QUANTITY = /^\+?([0-9]+)?(?:\.([0-9]*))?(?:([eE][+-]?[0-9]+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/;

/** A quantity as written: `digits × 10^exponent × 1024^binary`, and its format. */
interface ParsedQuantity {
  readonly digits: bigint;
  readonly exponent: number;
  readonly binary: number;
  readonly format: 'DecimalSI' | 'BinarySI' | 'DecimalExponent';
}

function parseQuantityText(value: unknown): ParsedQuantity | undefined {
  const raw = isRecord(value) && 'value' in value ? value.value : value;
  const text = typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? String(raw) : raw;
  if (typeof text !== 'string') return undefined;
  const match = QUANTITY.exec(text);
  if (!match || (match[1] === undefined && !match[2])) return undefined;
  const [, whole = '', fraction = '', power, suffix = ''] = match;
  const digits = BigInt(`${whole}${fraction}` || '0');
  if (power !== undefined) return { digits, exponent: Number(power.slice(1)) - fraction.length, binary: 0, format: 'DecimalExponent' };
  const binary = BINARY_SUFFIXES.indexOf(suffix);
  if (binary > 0) return { digits, exponent: -fraction.length, binary, format: 'BinarySI' };
  return { digits, exponent: DECIMAL_SUFFIXES.get(suffix)! - fraction.length, binary: 0, format: 'DecimalSI' };
}

/**
 * The amount a Kubernetes quantity (`500m`, `1.5`, `512Mi`, `1e3`) stands for, or undefined when
 * the apiserver would refuse it.
 */
export function parseQuantity(value: unknown): number | undefined {
  const parsed = parseQuantityText(value);
  return parsed && Number(parsed.digits) * 10 ** parsed.exponent * 1024 ** parsed.binary;
}

/**
 * A resource quantity written as the API server stores it in a resource list (requests, limits),
 * so that what the library writes is what the server keeps and Argo CD sees no difference (the
 * server rewrites other forms, a diff that never syncs away: argoproj/argo-cd#21135). As
 * k8s.io/apimachinery does: rounded up to thousandths (`4.5m` is `5m`), then `1` for `1000m`, `2Gi`
 * for `2048Mi`, `500m` for `0.5`, `1536` for `1.5Ki` (a binary amount under 1024 or with a fraction
 * is written in decimal SI); otherwise in the format it was given in (decimal SI, binary SI or
 * `e` exponent), with the largest suffix that leaves a whole number. Undefined for what is not a
 * quantity, and for amounts beyond the suffixes, which are left as given.
 */
export function canonicalQuantity(value: unknown): string | undefined {
  const parsed = parseQuantityText(value);
  if (parsed === undefined) return undefined;
  let digits = parsed.digits * 1024n ** BigInt(parsed.binary);
  let exponent = parsed.exponent;
  if (exponent < -3) {
    const divisor = 10n ** BigInt(-3 - exponent);
    digits = (digits + divisor - 1n) / divisor;
    exponent = -3;
  }
  if (digits === 0n) return '0';
  let format = parsed.format;
  if (format === 'BinarySI') {
    const scale = 10n ** BigInt(Math.abs(exponent));
    const whole = exponent >= 0 ? digits * scale : digits % scale === 0n ? digits / scale : undefined;
    if (whole === undefined || whole < 1024n) {
      format = 'DecimalSI';
    } else {
      let power = 0;
      let amount = whole;
      while (amount % 1024n === 0n) {
        amount /= 1024n;
        power++;
      }
      return power < BINARY_SUFFIXES.length ? `${amount}${BINARY_SUFFIXES[power]}` : undefined;
    }
  }
  while (digits % 10n === 0n) {
    digits /= 10n;
    exponent++;
  }
  const step = ((exponent % 3) + 3) % 3; // lower the exponent to a multiple of three
  digits *= 10n ** BigInt(step);
  exponent -= step;
  if (format === 'DecimalExponent') return exponent === 0 ? `${digits}` : `${digits}e${exponent}`;
  const suffix = [...DECIMAL_SUFFIXES].find(([, power]) => power === exponent)?.[0];
  return suffix === undefined ? undefined : `${digits}${suffix}`;
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
