import { SecretsConfigError } from '@floe-secrets/core';
import { isFolderName } from './config';

/**
 * Where a key lives in Infisical.
 *
 * The mapping: keys are `/`-separated and relative to the configured base
 * `secretPath`; the last segment is the Infisical secret name, the segments before it are folders.
 *
 * | secretPath           | key                  | folder                         | secret name |
 * |----------------------|----------------------|--------------------------------|-------------|
 * | `/`                  | `password`           | `/`                            | `password`  |
 * | `/compute`           | `snowflake/password` | `/compute/snowflake`           | `password`  |
 * | `/compute/snowflake` | `password`           | `/compute/snowflake`           | `password`  |
 * | `/catalog`           | `polaris/prod/token` | `/catalog/polaris/prod`        | `token`     |
 *
 * A multi-key secret (`getMultiKeySecret(name)`) is the folder `<secretPath>/<name>`: its secret
 * names are the keys of the returned map.
 *
 * @requirement REQ-132 scoping
 */
export interface SecretLocation {
  /** The absolute folder path, e.g. `/compute/snowflake`. */
  readonly folder: string;
  /** The secret's name inside the folder, e.g. `password`. */
  readonly name: string;
}

/** `base` + `relative` folder segments, as an absolute path without a trailing `/`. */
export function joinFolder(base: string, relative: string): string {
  if (relative === '') return base;
  return base === '/' ? `/${relative}` : `${base}/${relative}`;
}

/**
 * The folder and secret name of `key` (already checked by the core: no leading `/`, no empty,
 * `.` or `..` segment).
 *
 * @throws SecretsConfigError when a folder segment is not a valid Infisical folder name, or the
 * secret name holds white space
 */
export function locate(plugin: string, base: string, key: string): SecretLocation {
  const segments = key.split('/');
  const name = segments.pop() as string;
  const bad = segments.find((segment) => !isFolderName(segment));
  if (bad !== undefined) {
    throw new SecretsConfigError(
      `${plugin}: key ${JSON.stringify(key)} has folder segment ${JSON.stringify(bad)}, which Infisical does not allow; use letters, digits, "-" and "_" in folder names`,
      plugin,
      key,
    );
  }
  if (/\s/.test(name)) {
    throw new SecretsConfigError(`${plugin}: key ${JSON.stringify(key)} holds white space in the secret name, which Infisical does not allow; remove it`, plugin, key);
  }
  return { folder: joinFolder(base, segments.join('/')), name };
}

/**
 * The key of secret `name` found in `folder`, or undefined when the folder is outside `base` or
 * the name cannot be written as a key.
 */
export function keyOf(base: string, folder: string, name: string): string | undefined {
  const normalized = folder.length > 1 ? folder.replace(/\/+$/, '') : folder;
  if (name === '' || name.includes('/')) return undefined;
  if (normalized === base) return name;
  const prefix = base === '/' ? '/' : `${base}/`;
  if (!normalized.startsWith(prefix)) return undefined;
  return `${normalized.slice(prefix.length)}/${name}`;
}

/**
 * The folder to list for `prefix`: the part up to its last `/` (a whole folder path), or
 * undefined when that part cannot be a folder, so that nothing can match.
 */
export function listFolder(base: string, prefix: string): string | undefined {
  const cut = prefix.lastIndexOf('/');
  const relative = cut < 0 ? '' : prefix.slice(0, cut);
  if (relative !== '' && relative.split('/').some((segment) => !isFolderName(segment))) return undefined;
  return joinFolder(base, relative);
}
