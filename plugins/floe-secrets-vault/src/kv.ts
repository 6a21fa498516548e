import { ConnectionError, SecretsConfigError } from '@floe-secrets/core';
import { bodyOf, encodePath, errorsOf, field, statusOf, VaultHttp } from './http';
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
  readonly listLimit: number;
  readonly casRetries: number;
}

const PARALLEL = 8;

/**
 * The KV version 2 secrets engine: `<mount>/data/<path>` for values, `<mount>/metadata/<path>`
 * for listing and custom metadata. Every call goes through the session, which supplies the token
 * and handles re-login.
 */
export class KvV2 {
  readonly #http: VaultHttp;
  readonly #session: VaultSession;
  readonly #options: KvV2Options;

  public constructor(http: VaultHttp, session: VaultSession, options: KvV2Options) {
    this.#http = http;
    this.#session = session;
    this.#options = options;
  }

  /** Reads a secret's latest version. */
  public async read(path: string): Promise<CurrentSecret> {
    const { mount, plugin } = this.#options;
    try {
      const body = await this.#session.run((token) => this.#http.read(`${mount}/data/${encodePath(path)}`, { token }));
      const fields = field(body, 'data', 'data');
      const metadata = field(body, 'data', 'metadata');
      if (typeof metadata !== 'object' || metadata === null) {
        throw new SecretsConfigError(`${plugin}: the mount "${mount}" did not answer like a KV version 2 engine; enable kv-v2 there or set mount`, plugin);
      }
      return { fields: isObject(fields) ? fields : undefined, version: versionOf(metadata), customMetadata: customMetadataOf(metadata) };
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      // KV v2 answers a missing secret with 404 and `errors: []`; a deleted latest version also with 404, plus its metadata.
      // A 404 that carries an error message is a missing route: there is no KV engine at the mount.
      const metadata = field(bodyOf(error), 'data', 'metadata');
      if (!isObject(metadata) && errorsOf(error).length > 0) {
        throw new SecretsConfigError(`${plugin}: no KV version 2 engine answers at mount "${mount}" (HTTP 404); enable kv-v2 there or set mount`, plugin);
      }
      if (!isObject(metadata)) return { fields: undefined, version: 0, customMetadata: {} };
      return { fields: undefined, version: versionOf(metadata), customMetadata: customMetadataOf(metadata) };
    }
  }

  /**
   * Sets one field by read-modify-write: reads the latest version, writes all its fields with the
   * new one changed, and sends the read version as check-and-set (`options.cas`), so a concurrent
   * writer's change is never overwritten. On a check-and-set conflict it reads again, up to
   * `casRetries` more times. Metadata is merged into the secret's custom metadata, written only
   * when it changes.
   *
   * @throws ConnectionError when the secret kept changing for every attempt
   */
  public async write(path: string, name: string, value: string, metadata: { readonly [name: string]: string }): Promise<void> {
    const { mount, plugin, casRetries } = this.#options;
    let current: CurrentSecret | undefined;
    let deletedVersion: number | undefined;
    for (let attempt = 0; ; attempt++) {
      current = await this.read(path);
      const data = { ...current.fields, [name]: value };
      const cas = current.fields === undefined && deletedVersion !== undefined ? deletedVersion : current.version;
      try {
        await this.#session.run((token) => this.#http.write(`${mount}/data/${encodePath(path)}`, { options: { cas }, data }, { token }));
        break;
      } catch (error) {
        if (!isCasConflict(error)) throw error;
        // A secret whose latest version was deleted reads as 404; older Vaults send no version with it. Ask its metadata.
        if (current.fields === undefined) deletedVersion = await this.currentVersion(path);
        if (attempt >= casRetries) {
          throw new ConnectionError(
            `${plugin}: set "${path}/${name}" lost ${attempt + 1} check-and-set race(s) to concurrent writers of ${mount}/data/${path}; try again later`,
            plugin,
            `${path}/${name}`,
          );
        }
      }
    }
    const merged = { ...current.customMetadata, ...metadata };
    if (Object.keys(metadata).some((key) => current.customMetadata[key] !== metadata[key])) {
      await this.#session.run((token) => this.#http.write(`${mount}/metadata/${encodePath(path)}`, { custom_metadata: merged }, { token }));
    }
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
  public async list(prefix: string): Promise<string[]> {
    const { plugin, listLimit } = this.#options;
    const cut = prefix.lastIndexOf('/');
    const folder = prefix.slice(0, cut + 1);
    const partial = prefix.slice(cut + 1);
    const secrets: string[] = [];
    let visited = 0;
    let level = [folder];
    for (let depth = 0; level.length > 0; depth++) {
      const listed = await mapLimit(level, PARALLEL, (dir) => this.listFolder(dir));
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
      const fields = (await this.read(path)).fields ?? {};
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
  private async currentVersion(path: string): Promise<number | undefined> {
    const { mount } = this.#options;
    try {
      const version = field(await this.#session.run((token) => this.#http.read(`${mount}/metadata/${encodePath(path)}`, { token })), 'data', 'current_version');
      return typeof version === 'number' ? version : undefined;
    } catch (error) {
      const status = statusOf(error);
      if (status !== undefined && status < 500 && status !== 429) return undefined;
      throw error;
    }
  }

  /** The entries of one folder (`name` or `name/`), or none when it does not exist. */
  private async listFolder(folder: string): Promise<string[]> {
    const { mount } = this.#options;
    try {
      const keys = field(await this.#session.run((token) => this.#http.list(`${mount}/metadata/${encodePath(folder)}`, { token })), 'data', 'keys');
      return Array.isArray(keys) ? keys.filter((k): k is string => typeof k === 'string' && k !== '' && k !== '/') : [];
    } catch (error) {
      if (statusOf(error) === 404) return [];
      throw error;
    }
  }
}

function isObject(value: unknown): value is { readonly [name: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
  return statusOf(error) === 400 && errorsOf(error).some((message) => message.includes('check-and-set'));
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
