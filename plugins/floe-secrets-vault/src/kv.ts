import { ConnectionError, PermissionError, SecretsConfigError } from '@floe-secrets/core';
import { bodyOf, encodePath, errorsOf, field, isObject, statusOf, VaultHttp } from './http';
import { VaultSession } from './session';

/** One secret's state as a read-modify-write needs it. */
export interface CurrentSecret {
  /** The fields of the latest version, or undefined when there is none (never written, or deleted). */
  readonly fields: { readonly [field: string]: unknown } | undefined;
  /** The latest version number (0 when never written): the check-and-set value of the next write. */
  readonly version: number;
  /** The secret's custom metadata. */
  readonly customMetadata: { readonly [name: string]: string };
}

/** What {@link KvV2} needs from the plugin. */
export interface KvV2Options {
  readonly plugin: string;
  readonly mount: string;
  readonly namespace: string | undefined;
  readonly listLimit: number;
  readonly casRetries: number;
}

const PARALLEL = 8;
/** Check-and-set backoff: full jitter over 20 ms doubling per lost race, at most 500 ms per wait. */
const CAS_BASE_DELAY_MS = 20;
const CAS_MAX_DELAY_MS = 500;

/**
 * The KV version 2 secrets engine: `<mount>/data/<path>` for values, `<mount>/metadata/<path>`
 * for listing and custom metadata. Every call goes through the session, which supplies the token
 * and handles re-login, and takes the caller's AbortSignal.
 *
 * Before its first call it asks Vault what the mount is (`sys/internal/ui/mounts/<mount>`, which
 * Vault answers to any token that may do something under the mount) and refuses anything but KV
 * version 2 with a SecretsConfigError: a KV version 1 mount would take a KV v2 write to
 * `<mount>/data/...` as a raw secret of that name and has no check-and-set. Vault answers that
 * call with 403 both for a mount the token may not use and for a mount that does not exist (it
 * does not tell which, so that mounts cannot be probed); the error says so.
 *
 * Only Vault's own answers count: a missing secret is a 404 with `{"errors":[]}` or, for a deleted
 * or destroyed latest version, a 404 with that version's metadata. Any other answer (a proxy's HTML
 * page, JSON of another shape) is a ConnectionError saying the answer was not Vault's, never
 * "missing" or "empty".
 */
export class KvV2 {
  readonly #http: VaultHttp;
  readonly #session: VaultSession;
  readonly #options: KvV2Options;
  #mountChecked = false;
  #customMetadata: boolean | undefined;

  public constructor(http: VaultHttp, session: VaultSession, options: KvV2Options) {
    this.#http = http;
    this.#session = session;
    this.#options = options;
  }

  /**
   * Makes sure the mount is a KV version 2 engine the token may use; asks Vault once per plugin.
   *
   * @throws SecretsConfigError for a KV version 1 mount, another engine, a path inside another mount,
   * or (for a root token) a mount that does not exist; PermissionError when Vault refuses to say
   */
  public async checkMount(signal: AbortSignal): Promise<void> {
    if (this.#mountChecked) return;
    const { mount, plugin } = this.#options;
    let info: unknown;
    try {
      info = field(await this.#session.run(signal, (token) => this.#http.read(`sys/internal/ui/mounts/${encodePath(mount)}`, { token, signal })), 'data');
    } catch (error) {
      if (statusOf(error) !== 403) throw error;
      const where = this.#options.namespace ? ` in namespace "${this.#options.namespace}"` : '';
      if (this.#session.isRoot) {
        throw new SecretsConfigError(`${plugin}: the mount "${mount}"${where} does not exist; enable KV version 2 there (vault secrets enable -path=${mount} kv-v2) or set mount`, plugin);
      }
      if (!(await this.#session.currentTokenAlive(signal))) {
        throw new PermissionError(`${plugin}: Vault refused the token of ${this.#session.requester} (expired, revoked or unknown); give the plugin a valid token`, plugin);
      }
      throw new PermissionError(
        `${plugin}: no access to mount "${mount}"${where}, or it does not exist (Vault answers 403 to both); check mount, ` +
          `and grant ${this.#session.requester} capabilities on ${mount}/data/... and ${mount}/metadata/...`,
        plugin,
      );
    }
    if (!isObject(info) || typeof info.type !== 'string') throw this.#http.notVault();
    if (info.type !== 'kv' && info.type !== 'generic') {
      throw new SecretsConfigError(`${plugin}: the mount "${mount}" is a ${JSON.stringify(info.type)} secrets engine, not KV; set mount to a KV version 2 mount`, plugin);
    }
    if (typeof info.path === 'string' && info.path !== `${mount}/`) {
      throw new SecretsConfigError(`${plugin}: "${mount}" is not a mount but a path inside the mount "${info.path.replace(/\/$/, '')}"; set mount to that`, plugin);
    }
    if (field(info, 'options', 'version') !== '2') {
      throw new SecretsConfigError(
        `${plugin}: the mount "${mount}" is a KV version 1 engine; this plugin needs KV version 2 (versions and check-and-set): ` +
          `upgrade it with "vault kv enable-versioning ${mount}" or set mount to a KV version 2 mount`,
        plugin,
      );
    }
    this.#mountChecked = true;
  }

  /** Reads a secret's latest version. */
  public async read(path: string, signal: AbortSignal): Promise<CurrentSecret> {
    const { mount, plugin } = this.#options;
    await this.checkMount(signal);
    try {
      const body = await this.#session.run(signal, (token) => this.#http.read(`${mount}/data/${encodePath(path)}`, { token, signal }));
      const fields = field(body, 'data', 'data');
      const metadata = field(body, 'data', 'metadata');
      if (!isObject(metadata) || (fields !== null && !isObject(fields))) throw this.#http.notVault();
      return { fields: isObject(fields) ? fields : undefined, version: versionOf(metadata), customMetadata: customMetadataOf(metadata) };
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      // KV v2 answers a missing secret with 404 and `errors: []`; a deleted or destroyed latest version with 404 and its metadata.
      const metadata = field(bodyOf(error), 'data', 'metadata');
      if (isObject(metadata)) return { fields: undefined, version: versionOf(metadata), customMetadata: customMetadataOf(metadata) };
      const errors = errorsOf(error);
      if (errors !== undefined && errors.length === 0) return { fields: undefined, version: 0, customMetadata: {} };
      // A 404 that carries an error message is a missing route: there is no KV engine at the mount.
      throw new SecretsConfigError(`${plugin}: no KV version 2 engine answers at mount "${mount}" (HTTP 404); enable kv-v2 there or set mount`, plugin);
    }
  }

  /**
   * Sets one field by read-modify-write: reads the latest version, writes all its fields with the
   * new one changed, and sends the read version as check-and-set (`options.cas`), so a concurrent
   * writer's change is never overwritten. On a check-and-set conflict it waits (full jitter: a
   * random time up to 20 ms doubling per lost race, at most 500 ms), reads again and retries, up to
   * `casRetries` more times and within the call's time budget (its signal). Metadata is merged into
   * the secret's custom metadata, written only when it changes, and only to Vault 1.9 or later
   * (older Vaults answer 204 and drop it, so it is not sent: the value is written, the metadata is
   * not stored).
   *
   * @throws ConnectionError when the secret kept changing for every attempt
   */
  public async write(path: string, name: string, value: string, metadata: { readonly [name: string]: string }, signal: AbortSignal): Promise<void> {
    const { mount, plugin, casRetries } = this.#options;
    const keepMetadata = Object.keys(metadata).length > 0 && await this.customMetadataSupported(signal);
    let current: CurrentSecret | undefined;
    let deletedVersion: number | undefined;
    for (let attempt = 0; ; attempt++) {
      current = await this.read(path, signal);
      const data = { ...current.fields, [name]: value };
      const cas = current.fields === undefined && deletedVersion !== undefined ? deletedVersion : current.version;
      try {
        const answer = await this.#session.run(signal, (token) => this.#http.write(`${mount}/data/${encodePath(path)}`, { options: { cas }, data }, { token, signal }));
        // KV v2 answers a write with the new version's metadata; anything else did not store a version.
        if (typeof field(answer, 'data', 'version') !== 'number') throw this.#http.notVault();
        break;
      } catch (error) {
        if (!isCasConflict(error)) throw error;
        // A secret whose latest version was deleted reads as 404; older Vaults send no version with it. Ask its metadata.
        if (current.fields === undefined) deletedVersion = await this.currentVersion(path, signal);
        if (attempt >= casRetries) {
          throw new ConnectionError(
            `${plugin}: set "${path}/${name}" lost ${attempt + 1} check-and-set race(s) to concurrent writers of ${mount}/data/${path}; try again later`,
            plugin,
            `${path}/${name}`,
          );
        }
        await sleep(Math.floor(Math.random() * Math.min(CAS_MAX_DELAY_MS, CAS_BASE_DELAY_MS * 2 ** attempt)), signal);
      }
    }
    if (!keepMetadata) return;
    const merged = { ...current.customMetadata, ...metadata };
    if (Object.keys(metadata).some((key) => current.customMetadata[key] !== metadata[key])) {
      await this.#session.run(signal, (token) => this.#http.write(`${mount}/metadata/${encodePath(path)}`, { custom_metadata: merged }, { token, signal }));
    }
  }

  /** Whether Vault keeps KV v2 `custom_metadata`: 1.9 and later (sys/health `version`; asked once). Unknown versions count as yes. */
  private async customMetadataSupported(signal: AbortSignal): Promise<boolean> {
    if (this.#customMetadata !== undefined) return this.#customMetadata;
    let version: unknown;
    try {
      version = field(await this.#http.read('sys/health?standbyok=true&perfstandbyok=true', { namespaced: false, signal }), 'version');
    } catch (error) {
      // A sealed or standby Vault answers its health with another status, still with the version.
      version = field(bodyOf(error), 'version');
      if (version === undefined) throw error;
    }
    const match = typeof version === 'string' ? /^(\d+)\.(\d+)\./.exec(version) : null;
    this.#customMetadata = match === null || Number(match[1]) > 1 || (Number(match[1]) === 1 && Number(match[2]) >= 9);
    return this.#customMetadata;
  }

  /**
   * The keys `<secret path>/<field>` that may start with `prefix`: lists the folder the prefix ends
   * in, keeps the entries its last partial segment selects, walks their sub-folders breadth first,
   * and reads each secret found for its field names. The secret named by the folder itself
   * (`a/b` for prefix `a/b/...`) is read too, since its fields' keys start with `a/b/`; when it is
   * missing or not readable it is skipped, since the caller asked about the folder. Every other
   * refusal fails the call.
   *
   * @throws SecretsConfigError when more than `listLimit` folders and secrets lie under the prefix
   */
  public async list(prefix: string, signal: AbortSignal): Promise<string[]> {
    const { plugin, listLimit } = this.#options;
    await this.checkMount(signal);
    const cut = prefix.lastIndexOf('/');
    const folder = prefix.slice(0, cut + 1);
    const partial = prefix.slice(cut + 1);
    const secrets: string[] = [];
    let visited = 0;
    let level = [folder];
    for (let depth = 0; level.length > 0; depth++) {
      const listed = await mapLimit(level, PARALLEL, (dir) => this.listFolder(dir, signal));
      const next: string[] = [];
      listed.forEach((entries, i) => {
        for (const entry of entries) {
          if (depth === 0 && !entry.startsWith(partial)) continue;
          if (++visited > listLimit) {
            throw new SecretsConfigError(
              `${plugin}: listing "${prefix}" visits more than ${listLimit} folders and secrets; pass a longer prefix or raise listLimit`,
              plugin,
              prefix,
            );
          }
          (entry.endsWith('/') ? next : secrets).push(`${level[i]}${entry}`);
        }
      });
      level = next;
    }
    const keysOf = async (path: string): Promise<string[]> => {
      const fields = (await this.read(path, signal)).fields ?? {};
      return Object.keys(fields).filter((name) => name !== '' && !name.includes('/')).map((name) => `${path}/${name}`);
    };
    const own = folder === '' ? [] : await keysOf(folder.slice(0, -1)).catch((error: unknown) => {
      const status = statusOf(error);
      if (status === 403 || status === 404) return [];
      throw error;
    });
    return [...own, ...(await mapLimit(secrets, PARALLEL, keysOf)).flat()];
  }

  /** The current version from the secret's metadata; undefined when that cannot be read. */
  private async currentVersion(path: string, signal: AbortSignal): Promise<number | undefined> {
    const { mount } = this.#options;
    try {
      const version = field(await this.#session.run(signal, (token) => this.#http.read(`${mount}/metadata/${encodePath(path)}`, { token, signal })), 'data', 'current_version');
      return typeof version === 'number' ? version : undefined;
    } catch (error) {
      const status = statusOf(error);
      if (status !== undefined && status < 500 && status !== 429) return undefined;
      throw error;
    }
  }

  /** The entries of one folder (`name` or `name/`), or none when it does not exist. */
  private async listFolder(folder: string, signal: AbortSignal): Promise<string[]> {
    const { mount } = this.#options;
    let keys: unknown;
    try {
      keys = field(await this.#session.run(signal, (token) => this.#http.list(`${mount}/metadata/${encodePath(folder)}`, { token, signal })), 'data', 'keys');
    } catch (error) {
      // An empty or missing folder: 404 with `errors: []`. Any other 404 is not an empty list.
      if (statusOf(error) === 404 && errorsOf(error)?.length === 0) return [];
      throw error;
    }
    if (!Array.isArray(keys)) throw this.#http.notVault();
    return keys.filter((k): k is string => typeof k === 'string' && k !== '' && k !== '/');
  }
}

function versionOf(metadata: unknown): number {
  const version = field(metadata, 'version');
  return typeof version === 'number' && Number.isInteger(version) && version >= 0 ? version : 0;
}

function customMetadataOf(metadata: unknown): { [name: string]: string } {
  const custom = field(metadata, 'custom_metadata');
  if (!isObject(custom)) return {};
  return Object.fromEntries(Object.entries(custom).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** Vault's answer to a write whose `options.cas` is not the current version. */
function isCasConflict(error: unknown): boolean {
  return statusOf(error) === 400 && (errorsOf(error) ?? []).some((message) => message.includes('check-and-set'));
}

/** Waits `ms`, or rejects with the signal's reason when it fires first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
