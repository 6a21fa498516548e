import { IConstruct } from 'constructs';

/**
 * The error every floe-secrets construct throws for bad input. Its message names the construct
 * path or argument, the value received, what was expected, and the fix. It never carries a
 * secret value: the library never holds one.
 */
export class FloeSecretsError extends Error {
  public readonly name = 'FloeSecretsError';
}

/**
 * `<construct path>: <problem>; <fix>` in the library's one error style. Pass the path as a string
 * when the construct does not exist yet (its constructor is rejecting its own props).
 */
export function constructError(scope: IConstruct | string, problem: string, fix: string): FloeSecretsError {
  const path = typeof scope === 'string' ? scope : scope.node.path;
  return new FloeSecretsError(`${path}: ${problem}; ${fix}`);
}

/** The path a construct with `id` will have under `scope`. */
export function childPath(scope: IConstruct, id: string): string {
  return [scope.node.path, id].filter((part) => part).join('/');
}

/** The same error style for a function argument rather than a construct. */
export function argumentError(argument: string, problem: string, fix: string): FloeSecretsError {
  return new FloeSecretsError(`${argument}: ${problem}; ${fix}`);
}

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

/**
 * Checks a non-empty list of Secret keys.
 *
 * @throws naming `path`, the first bad key, and `emptyFix` or `keyFix`
 */
export function checkSecretKeys(path: string, keys: readonly string[], emptyFix: string, keyFix: string): void {
  if (keys.length === 0) throw constructError(path, 'keys is empty', emptyFix);
  for (const key of keys) {
    const problem = secretKeyProblem(key);
    if (problem) throw constructError(path, `key ${quote(key)} ${problem}`, keyFix);
  }
}

/** A C identifier: what Kubernetes accepts as an environment variable name from envFrom. */
export function isEnvVarName(value: string): boolean {
  return ENV_VAR_NAME.test(value);
}

/** `JSON.stringify` for quoting a received value in an error message. */
export function quote(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Octal form of a file mode, for messages and docs: 0o440 -> "0440". */
export function octal(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}

/** Runs `fn`, re-throwing a {@link FloeSecretsError} with `scope`'s path in front of its message. */
export function rethrowAt<T>(scope: IConstruct | string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof FloeSecretsError) {
      throw new FloeSecretsError(`${typeof scope === 'string' ? scope : scope.node.path}: ${error.message}`);
    }
    throw error;
  }
}

/** 8 hex digits of FNV-1a: a short, stable suffix for names that had to be shortened. */
export function shortHash(value: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}
