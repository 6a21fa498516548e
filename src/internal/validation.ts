import { quote, secretKeyProblem } from '@floe-secrets/core';
import { IConstruct } from 'constructs';

export { dnsLabelProblem, dnsSubdomainProblem, isEnvVarName, quote, secretKeyProblem } from '@floe-secrets/core';

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
