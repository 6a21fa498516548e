/**
 * Kubernetes naming rules and the floe domain naming convention, shared by the construct library,
 * the platform manifest and the runtime plugins. Each check returns a problem or undefined.
 */

/**
 * Prefix of every domain namespace: domain `sales` lives in namespace `floe-sales`.
 *
 * @requirement REQ-139
 */
export const DOMAIN_NAMESPACE_PREFIX = 'floe-';

/** The longest domain name whose namespace `floe-<domain>` still fits a 63-character label. */
export const MAX_DOMAIN_NAME_LENGTH = 63 - DOMAIN_NAMESPACE_PREFIX.length;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Kubernetes' IsDNS1123Label, as a message or undefined when valid. */
export function dnsLabelProblem(value: string, maxLength = 63): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > maxLength) return `is ${value.length} characters long (at most ${maxLength})`;
  if (!DNS1123_LABEL.test(value)) {
    return 'is not a DNS-1123 label (lower-case letters, digits and "-", starting and ending with a letter or digit)';
  }
  return undefined;
}

/** Kubernetes' IsDNS1123Subdomain (the rule for Secret, ConfigMap and ServiceAccount names). */
export function dnsSubdomainProblem(value: string, maxLength = 253): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > maxLength) return `is ${value.length} characters long (at most ${maxLength})`;
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return 'is not a DNS-1123 subdomain (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit)';
  }
  return undefined;
}

/** Kubernetes' IsConfigMapKey, which Secret data keys follow. */
export function secretKeyProblem(value: string): string | undefined {
  if (value.length === 0) return 'is empty';
  if (value.length > 253) return `is ${value.length} characters long (at most 253)`;
  if (!SECRET_KEY.test(value)) return 'may only hold letters, digits, "-", "_" and "."';
  if (value === '.' || value === '..' || value.startsWith('..')) return 'may not be "." or "..", nor start with ".."';
  return undefined;
}

/** A C identifier: what Kubernetes accepts as an environment variable name from envFrom. */
export function isEnvVarName(value: string): boolean {
  return ENV_VAR_NAME.test(value);
}

/**
 * A received value quoted for an error message: JSON for strings, numbers, lists and maps, and
 * `NaN`, `Infinity`, `-Infinity` and `undefined` as themselves (JSON would print `null` or nothing).
 * Never pass it a secret value.
 */
export function quote(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint' || typeof value === 'symbol' || typeof value === 'function') return `a ${typeof value}`;
  return JSON.stringify(value) ?? String(value);
}
