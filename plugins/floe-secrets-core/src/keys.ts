import { SecretsConfigError } from './errors';

/** What a backend accepts as a secret key. */
export interface KeyRules {
  /** Whether `/` may appear inside the key (path-like keys such as `compute/snowflake/password`). */
  readonly allowSlash: boolean;
}

/**
 * Checks a secret key before anything is sent: a non-empty string, no leading `/`, no `.` or `..`
 * segment, no empty segment, no control characters.
 *
 * @throws SecretsConfigError naming the argument, the key (keys are names, never values) and the fix
 */
export function checkKey(plugin: string, key: unknown, rules: KeyRules, argument = 'key'): string {
  if (typeof key !== 'string') {
    throw new SecretsConfigError(`${plugin}: ${argument} must be a string, got ${typeof key}; pass the secret's key, e.g. "database/password"`, plugin);
  }
  const problem = keyProblem(key, rules);
  if (problem) throw new SecretsConfigError(`${plugin}: ${argument} ${JSON.stringify(key)} ${problem}`, plugin, key);
  return key;
}

function keyProblem(key: string, rules: KeyRules): string | undefined {
  if (key.length === 0) return 'is empty; pass the secret\'s key, e.g. "database/password"';
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'holds a control character; use printable characters only';
  if (key.startsWith('/')) return 'starts with "/"; write it relative, e.g. "database/password"';
  const segments = key.split('/');
  if (!rules.allowSlash && segments.length > 1) return 'holds "/", which this backend does not allow in keys; use <secret>/<key> where the plugin documents it';
  if (segments.some((s) => s === '..' || s === '.')) return 'has a "." or ".." segment; name the secret directly';
  if (segments.some((s) => s === '')) return 'has an empty segment ("//" or a trailing "/"); remove it';
  return undefined;
}

/**
 * Checks a value before it is sent.
 *
 * @throws SecretsConfigError that names the key and the type, never the value
 */
export function checkValue(plugin: string, key: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new SecretsConfigError(`${plugin}: the value for ${JSON.stringify(key)} must be a string, got ${value === null ? 'null' : typeof value}; convert it before storing`, plugin, key);
  }
  return value;
}
