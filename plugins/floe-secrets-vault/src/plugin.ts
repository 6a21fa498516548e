import { readFileSync } from 'node:fs';
import {
  AuditAction,
  ConnectionError,
  KeyRules,
  parseConfig,
  PermissionError,
  PluginOptions,
  SecretsConfigError,
  SecretsError,
  SecretsPlugin,
} from '@floe-secrets/core';
import { VaultConfig, vaultConfigSchema } from './config';
import { field, statusOf, VaultHttp } from './http';
import { KvV2 } from './kv';
import { VaultSession } from './session';

/** This plugin's own version. */
export const VAULT_PLUGIN_VERSION = '0.1.0';

const NAME = 'vault';

/**
 * A floe SecretsPlugin for the HashiCorp Vault KV version 2 secrets engine, through node-vault.
 *
 * **Keys.** A key is `<secret path>/<field>`: its last segment names a field of the KV v2 secret at
 * the path before it. `compute/snowflake/password` is field `password` of the secret
 * `<mount>/data/compute/snowflake`. A key needs at least two segments. Field values that are not
 * strings in Vault (numbers, booleans, objects written by other tools) read as `String()` /
 * JSON text; null reads as missing.
 *
 * **Writes** are read-modify-write with check-and-set (see {@link KvV2.write}): setting one field
 * keeps the secret's other fields and never overwrites a concurrent writer's change, so setSecret
 * needs `read` besides `create`/`update` on the data path. The metadata argument of setSecret
 * becomes the secret's KV v2 `custom_metadata` (one map per secret, shared by its fields; written
 * after the value, needing `update` on the metadata path).
 *
 * **Lists** walk `<mount>/metadata/` folders and read each secret found for its field names, so
 * listing needs `list` on the metadata paths and `read` on the data paths; see {@link KvV2.list}.
 * Fields whose names hold `/` cannot be addressed by a key and are not listed.
 *
 * **Multi-key secrets.** getMultiKeySecret(name) returns every field of the secret at path `name`
 * (`snowflake` or `compute/snowflake`). A missing secret gives `{}`.
 *
 * **Auth** is a token, AppRole or Kubernetes; login tokens are renewed by logging in again before
 * their lease ends, and after a 403 that Vault confirms was caused by a dead token; see
 * {@link VaultSession}.
 *
 * **Errors.** 401/403 become PermissionError; 404 on a read is a missing secret (undefined);
 * network failures, timeouts, 412, 429 and 5xx are transient (retried, then ConnectionError); other
 * 4xx become SecretsConfigError. No message carries a response body, a value or a credential.
 *
 * **Timeouts.** node-vault does not take an AbortSignal, so each request is bounded by
 * `requestTimeoutMs` (axios) while the core's retry policy bounds each attempt; an attempt the core
 * gave up on may keep its socket until `requestTimeoutMs`. Keep it at or below the attempt timeout.
 */
export class VaultSecretsPlugin extends SecretsPlugin {
  public readonly name = NAME;
  public readonly version = VAULT_PLUGIN_VERSION;
  /** The parsed configuration; its credentials are masked. */
  public readonly config: Readonly<VaultConfig>;
  protected readonly keyRules: KeyRules = { allowSlash: true };
  readonly #http: VaultHttp;
  readonly #session: VaultSession;
  readonly #kv: KvV2;

  /**
   * @param config a {@link VaultSecretsPluginConfig}; plain data, as discovery passes it
   * @throws SecretsConfigError naming every invalid field (never its value), or an unreadable caCertFile
   */
  public constructor(config: unknown, options?: PluginOptions) {
    super(options);
    this.config = parseConfig(NAME, vaultConfigSchema, config);
    Object.freeze(this.config.auth);
    let ca: Buffer | undefined;
    if (this.config.caCertFile !== undefined) {
      try {
        ca = readFileSync(this.config.caCertFile);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        throw new SecretsConfigError(`${NAME}: cannot read caCertFile ${this.config.caCertFile} (${typeof code === 'string' ? code : 'unreadable'}); point it at a PEM file`, NAME);
      }
    }
    this.#http = new VaultHttp(this.config.address.replace(/\/+$/, ''), this.config.namespace, this.config.requestTimeoutMs, ca);
    this.#session = new VaultSession(this.#http, this.config.auth, NAME);
    const { mount, listLimit, casRetries } = this.config;
    this.#kv = new KvV2(this.#http, this.#session, { plugin: NAME, mount, listLimit, casRetries });
  }

  /** `token/<accessor>`, `approle/<role name>` or `kubernetes/<role>`; never a credential. */
  public get requester(): string {
    return this.#session.requester;
  }

  /** How many times the plugin logged in (AppRole, Kubernetes). */
  public get logins(): number {
    return this.#session.logins;
  }

  protected async backendGet(key: string): Promise<string | undefined> {
    const { path, name } = this.split(key);
    const fields = (await this.#kv.read(path)).fields;
    return fields === undefined ? undefined : text(fields[name]);
  }

  protected async backendSet(key: string, value: string, metadata: { readonly [name: string]: string }): Promise<void> {
    const { path, name } = this.split(key);
    await this.#kv.write(path, name, value, metadata);
  }

  protected async backendList(prefix: string): Promise<string[]> {
    return this.#kv.list(prefix);
  }

  protected async backendGetMulti(name: string): Promise<{ [key: string]: string }> {
    const fields = (await this.#kv.read(name)).fields ?? {};
    const result: { [key: string]: string } = {};
    for (const [key, value] of Object.entries(fields)) {
      const converted = text(value);
      if (converted !== undefined) result[key] = converted;
    }
    return result;
  }

  /** sys/health says initialized and unsealed (standbys count as healthy), and the token is accepted (lookup-self). */
  protected async backendHealth(): Promise<void> {
    const health = await this.#http.read('sys/health?standbyok=true&perfstandbyok=true', { namespaced: false });
    if (field(health, 'initialized') !== true || field(health, 'sealed') !== false) {
      const why = field(health, 'sealed') === true ? 'is sealed' : field(health, 'initialized') === false ? 'is not initialized' : 'did not answer like Vault';
      throw new ConnectionError(`${NAME}: ${this.config.address} ${why}; unseal it, or check the address`, NAME);
    }
    await this.#session.run((token) => this.#http.read('auth/token/lookup-self', { token }));
  }

  protected classify(error: unknown, action: AuditAction, key: string | undefined): SecretsError | 'transient' {
    if (error instanceof SecretsError) return error;
    const status = statusOf(error);
    if (status === undefined || status === 412 || status === 429 || status >= 500) return 'transient';
    const what = key === undefined ? action : `${action} ${JSON.stringify(key)}`;
    if (status === 401 || status === 403) {
      return new PermissionError(`${NAME}: ${what} was denied (HTTP ${status}); ${this.grantHint(action, key)}`, NAME, key);
    }
    return new SecretsConfigError(`${NAME}: ${what} was refused (HTTP ${status}); check the mount "${this.config.mount}" is a KV version 2 engine and the key`, NAME, key);
  }

  private grantHint(action: AuditAction, key: string | undefined): string {
    const mount = this.config.mount;
    const who = this.requester;
    if (action === 'list') return `grant ${who} "list" on ${mount}/metadata/${key ?? ''}* and "read" on ${mount}/data/${key ?? ''}*`;
    if (action === 'health') return `check the credentials of ${who}`;
    const path = key === undefined ? '' : action === 'get-multi' ? key : key.slice(0, Math.max(0, key.lastIndexOf('/')));
    const capability = action === 'set' ? '"create", "update" and "read"' : '"read"';
    return `grant ${who} ${capability} on ${mount}/data/${path}, or check its token has not expired`;
  }

  private split(key: string): { path: string; name: string } {
    const cut = key.lastIndexOf('/');
    if (cut <= 0) {
      throw new SecretsConfigError(
        `${NAME}: key ${JSON.stringify(key)} names no field; write it as "<secret path>/<field>", e.g. "compute/snowflake/password"`,
        NAME,
        key,
      );
    }
    return { path: key.slice(0, cut), name: key.slice(cut + 1) };
  }
}

/** A field value as a string: strings as they are, numbers and booleans via String, objects as JSON; null as missing. */
function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
