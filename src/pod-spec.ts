import { k8s } from 'cdk8s-plus-28';
import { argumentError, dnsSubdomainProblem, octal, quote, secretKeyProblem, shortHash } from './internal/validation';
import { SecretReference } from './secret-reference';

/**
 * Pod-spec fragments for secret injection, usable without any construct.
 * {@link SecretMountedJob} builds its pods from these same functions.
 *
 * @requirement seed 001 `generate_pod_env_spec`
 * @requirement REQ-131 `inject_env_vars` and `generate_secret_mounts`
 */

/**
 * Directory under which each secret is mounted: `/run/secrets/<secret-name>/`.
 *
 * @requirement REQ-137
 */
export const SECRET_MOUNT_ROOT = '/run/secrets';

/** Default user and group of a workload's container, and its pod's fsGroup. */
export const DEFAULT_RUN_AS_USER = 10001;

/** Default file mode of mounted secret files; see {@link SecretMountedJobProps.fileMode}. */
export const DEFAULT_SECRET_FILE_MODE = 0o400;

/** `{ envFrom: [{ secretRef: { name } }] }`: every key of the Secret as an env var. */
export function secretEnvFromSpec(secretName: string): { envFrom: k8s.EnvFromSource[] } {
  checkSecretName(secretName);
  return { envFrom: [{ secretRef: { name: secretName } }] };
}

/**
 * `{ env: [...] }` with one `secretKeyRef` entry per reference. Given an array, each env var is
 * named by {@link SecretReference.envVarName}; given a record, the record keys are the names.
 */
export function secretEnvSpec(references: readonly SecretReference[] | { readonly [envVar: string]: SecretReference }): { env: k8s.EnvVar[] } {
  const entries: Array<[string, SecretReference]> = Array.isArray(references)
    ? references.map((ref) => [ref.envVarName, ref])
    : Object.entries(references);
  const seen = new Map<string, SecretReference>();
  for (const [name, ref] of entries) {
    const previous = seen.get(name);
    if (previous) {
      throw argumentError(
        'references',
        `${previous} and ${ref} both map to env var ${quote(name)}`,
        'give one of them an explicit env var name',
      );
    }
    seen.set(name, ref);
  }
  return { env: entries.map(([name, ref]) => ref.toEnvVar(name)) };
}

/** Options of {@link secretMountsSpec}. */
export interface SecretMountOptions {
  /**
   * The keys to project as files; each becomes `<mountPath>/<key>`.
   *
   * @default - every key of the Secret
   */
  readonly keys?: string[];

  /**
   * The directory the files appear in.
   *
   * @default `/run/secrets/<secret-name>`
   */
  readonly mountPath?: string;

  /**
   * File mode of each file, before the kubelet adds group read for `fsGroup`.
   *
   * @default 0o400
   */
  readonly mode?: number;

  /**
   * The volume name.
   *
   * @default `secret-<secret-name>` (dots become dashes; shortened with a hash past 63 characters)
   */
  readonly volumeName?: string;
}

/**
 * `{ volumes, volumeMounts }` that mount a Secret read-only as files. The whole directory is
 * mounted, never a `subPath`, so the kubelet refreshes the files when the Secret changes.
 */
export function secretMountsSpec(secretName: string, options: SecretMountOptions = {}): { volumes: k8s.Volume[]; volumeMounts: k8s.VolumeMount[] } {
  checkSecretName(secretName);
  const mode = options.mode ?? DEFAULT_SECRET_FILE_MODE;
  checkFileMode('mode', mode);
  const mountPath = options.mountPath ?? `${SECRET_MOUNT_ROOT}/${secretName}`;
  checkMountPath('mountPath', mountPath);
  const keys = options.keys;
  if (keys !== undefined) {
    if (keys.length === 0) throw argumentError('keys', 'is empty', 'omit keys to mount every key, or list at least one');
    for (const key of keys) {
      const problem = secretKeyProblem(key);
      if (problem) throw argumentError('keys', `${quote(key)} ${problem}`, 'pass the keys as stored in the Secret');
    }
  }
  const volumeName = options.volumeName ?? secretVolumeName(secretName);
  return {
    volumes: [
      {
        name: volumeName,
        secret: {
          secretName,
          defaultMode: mode,
          ...(keys ? { items: [...keys].sort().map((key) => ({ key, path: key })) } : {}),
        },
      },
    ],
    volumeMounts: [{ name: volumeName, mountPath, readOnly: true }],
  };
}

/**
 * Checks a secret file mode: an integer in 0..0o777 with no permission for others.
 *
 * @throws naming `argument`, the mode in octal, and the fix
 */
export function checkFileMode(argument: string, mode: number): void {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw argumentError(argument, `${quote(mode)} is not a file mode (an integer from 0 to 0o777)`, 'pass an octal literal such as 0o400');
  }
  if ((mode & 0o007) !== 0) {
    throw argumentError(
      argument,
      `${octal(mode)} gives other users access to secret files`,
      `clear the last octal digit, e.g. ${octal(mode & 0o770)}; the container reads the files through its group`,
    );
  }
}

/**
 * Checks a mount path: absolute, normalized, and not over the ServiceAccount token directory.
 *
 * @throws naming `argument`, the path and the fix
 */
export function checkMountPath(argument: string, path: string): void {
  if (!isNormalizedAbsoluteDir(path)) {
    throw argumentError(argument, `${quote(path)} is not a normalized absolute directory`, 'use a path such as "/run/secrets/db-creds"');
  }
  for (const reserved of ['/run/secrets/kubernetes.io', '/var/run/secrets/kubernetes.io']) {
    if (overlaps(path, reserved)) {
      throw argumentError(argument, `${quote(path)} overlaps ${reserved}, where Kubernetes mounts the ServiceAccount token`, 'mount the secret elsewhere');
    }
  }
}

/** Whether `path` is an absolute directory other than "/", without "." or ".." parts, empty parts or a trailing "/". */
export function isNormalizedAbsoluteDir(path: string): boolean {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  return path.startsWith('/') && !parts.includes('..') && `/${parts.join('/')}` === path && parts.length > 0;
}

/** Whether one of two absolute directories contains (or equals) the other. */
export function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** `secret-<name>` as a DNS-1123 label. */
export function secretVolumeName(secretName: string): string {
  const name = `secret-${secretName.replace(/\./g, '-')}`;
  if (name.length <= 63) return name;
  return `${name.slice(0, 54).replace(/-+$/, '')}-${shortHash(secretName)}`;
}

function checkSecretName(secretName: string): void {
  const problem = dnsSubdomainProblem(secretName);
  if (problem) throw argumentError('secretName', `${quote(secretName)} ${problem}`, 'pass the Secret name, e.g. "db-creds"');
}
