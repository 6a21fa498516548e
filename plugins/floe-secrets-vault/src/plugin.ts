import { readFileSync } from 'node:fs';
import {
  AuditAction,
  ConnectionError,
  HttpStatusError,
  KeyRules,
  parseConfig,
  PermissionError,
  PluginOptions,
  SecretsConfigError,
  SecretsError,
  SecretsPlugin,
  PluginCallAction,
  TransportError,
} from '@floe-secrets/core';
import { VaultConfig } from './config';
import { vaultConfigSchema } from './config-schema';
import {
  checkDatabasePath, checkLeaseId, DatabaseCredentials, DatabaseEngine, DEFAULT_DATABASE_MOUNT, LeaseAuditAction, LeaseInfo, LeaseRenewal,
} from './database';
import { errorsOf, field, isObject, NotVaultAnswer, statusOf, VaultHttp } from './http';
import { KvV2 } from './kv';
import { VaultSession } from './session';

/** This plugin's own version. */
export const VAULT_PLUGIN_VERSION = '0.1.0';

const NAME = 'vault';

/**
 * A floe SecretsPlugin for the HashiCorp Vault KV version 2 secrets engine, over Node's own
 * http/https (the core's BackendHttp; no Vault client library).
 *
 * **Vault versions.** Vault 1.8 or later with a KV version 2 mount. The setSecret metadata argument
 * needs Vault 1.9 or later (KV `custom_metadata`): Vault 1.8 accepts custom_metadata and silently
 * drops it, so against a Vault older than 1.9 (its sys/health `version`) the plugin writes the
 * value and does not send the metadata. Namespaces (`namespace`) are a Vault Enterprise / HCP
 * feature: Vault OSS ignores `X-Vault-Namespace`.
 *
 * **Mount.** Before its first call the plugin asks Vault what `mount` is
 * (`sys/internal/ui/mounts/<mount>`) and refuses a KV version 1 mount, another engine, or a path
 * inside another mount with a SecretsConfigError (health reports it): a KV version 1 mount would
 * take writes to `<mount>/data/...` as raw secrets of that name and has no check-and-set. Vault
 * answers 403 alike for a mount the token may not use and for one that does not exist, so the
 * PermissionError says "no access to mount X, or it does not exist" (with a root token: a
 * SecretsConfigError, "does not exist").
 *
 * **Keys.** A key is `<secret path>/<field>`: its last segment names a field of the KV v2 secret at
 * the path before it. `compute/snowflake/password` is field `password` of the secret
 * `<mount>/data/compute/snowflake`. A key needs at least two segments. Field values that are not
 * strings in Vault (numbers, booleans, objects written by other tools) read as `String()` /
 * JSON text; null reads as missing. A deleted or destroyed latest version reads as missing.
 *
 * **Writes** are read-modify-write with check-and-set: setting one field
 * keeps the secret's other fields and never overwrites a concurrent writer's change, so setSecret
 * needs `read` besides `create`/`update` on the data path. A lost check-and-set race is retried
 * after a random wait (full jitter) up to `casRetries` times within the call's time budget; ten
 * concurrent writers of one secret all succeed. The metadata argument of setSecret becomes the
 * secret's KV v2 `custom_metadata` (one map per secret, shared by its fields; written after the
 * value, needing `update` on the metadata path).
 *
 * **Lists** walk `<mount>/metadata/` folders and read each secret found for its field names, so
 * listing needs `list` on the metadata paths and `read` on the data paths.
 * Fields whose names hold `/` cannot be addressed by a key and are not listed.
 *
 * **Multi-key secrets.** getMultiKeySecret(name) returns every field of the secret at path `name`
 * (`snowflake` or `compute/snowflake`). A missing secret gives `{}`.
 *
 * **Auth** is a token, AppRole or Kubernetes; login tokens are renewed by logging in again before
 * their lease ends, and after a 403 that Vault confirms was caused by a dead token.
 *
 * **Trust boundary.** Every request goes to the configured address's origin only. A redirect to
 * another origin (a standby pointing elsewhere, a hostile proxy) is refused before anything is sent
 * there: a ConnectionError naming the redirect's host (never its path or query); a write that was
 * redirected reports failure. Same-origin redirects are followed. TLS is always verified
 * (`caCertFile` adds a private CA). No message, stack or printed form carries a token, a role or
 * secret id, a value or a response body.
 *
 * **What each fault becomes** (after the core's retries, within its time budget; health answers
 * `unhealthy` with the same message, within 5 s, and never throws):
 * - nothing listens: ConnectionError "connection refused by host:port" (retried);
 * - no answer, or an answer that never ends: ConnectionError "got no answer within N ms" (retried);
 *   the signal ends the request and its socket;
 * - connection reset mid-answer: ConnectionError "... was reset ..." (retried);
 * - TLS failure: ConnectionError naming the reason, e.g. a self-signed certificate (not retried);
 * - HTTP 500, 502, 503, 412: ConnectionError "the server answered HTTP 503 (retry after N s)"
 *   (retried, waiting at least Retry-After; "Vault is sealed" when it says so);
 * - HTTP 429: ConnectionError "rate limited: the server answered HTTP 429 (retry after N s)";
 * - HTTP 401/403: PermissionError naming the capability to grant (a 403 with a login token first
 *   checks the token is alive and logs in again once if it is not);
 * - an answer that is not Vault's (an HTML 404 from a proxy or a wrong URL, malformed JSON, JSON of
 *   another shape): ConnectionError "... answered HTTP 404 with an answer that is not Vault's
 *   (text/html)" (not retried). It is never read as a missing secret, an empty list or health;
 * - a cross-origin 301/307: ConnectionError naming the redirect's host (not retried);
 * - other 4xx (Vault's own JSON): SecretsConfigError.
 *
 * **Dynamic database credentials** (Vault's database secrets engine): {@link getDatabaseCredentials}
 * gives a new database user with its lease; {@link renewLease}, {@link revokeLease} and
 * {@link lookupLease} act on a lease. They follow the same rules (same origin only, retries within
 * the budget, re-login after a dead token, the errors above, an audit event per call with the
 * actions `creds`, `renew`, `revoke`, `lookup`, never a value in an error).
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
  readonly #database: DatabaseEngine;

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
    const { address, mount, namespace, listLimit, casRetries, requestTimeoutMs } = this.config;
    this.#http = new VaultHttp({ plugin: NAME, address, namespace, timeoutMs: requestTimeoutMs, ca });
    this.#session = new VaultSession(this.#http, this.config.auth, NAME);
    this.#kv = new KvV2(this.#http, this.#session, { plugin: NAME, mount, namespace, listLimit, casRetries });
    this.#database = new DatabaseEngine(this.#http, this.#session, NAME);
  }

  /**
   * New credentials for a role of Vault's database secrets engine (`GET <mount>/creds/<role>`):
   * Vault creates a database user and answers its name and password with a lease. The lease ends
   * after `leaseDurationSeconds` unless renewed, and with the Vault token that read it: revoking or
   * outliving that token revokes the lease and drops the user. Needs `read` on
   * `<mount>/creds/<role>`.
   *
   * Each call creates a user. A call retried after a lost answer may leave one more user, which
   * Vault drops when its lease ends.
   *
   * @param role the role, e.g. `readonly`
   * @param options.mount where the engine is mounted; @default "database"
   * @throws PermissionError (grant read on `<mount>/creds/<role>`), SecretsConfigError (no such
   * role or engine, a name that is no path segment), ConnectionError
   */
  public async getDatabaseCredentials(role: string, options: { readonly mount?: string } = {}): Promise<DatabaseCredentials> {
    const mount = options.mount ?? DEFAULT_DATABASE_MOUNT;
    const key = `${mount}/creds/${role}`;
    return this.call('creds', key, () => {
      checkDatabasePath(NAME, 'mount', mount);
      checkDatabasePath(NAME, 'role', role);
    }, (signal) => this.#database.creds(mount, role, signal));
  }

  /**
   * Renews a lease (`PUT sys/leases/renew`) by `incrementSeconds` from now (default: the role's
   * default TTL). Vault never lets a lease outlive its issue time plus the role's `max_ttl`: past
   * that it answers the time left instead, and `capped` says so. Vault's default policy grants
   * `update` on `sys/leases/renew`.
   *
   * @throws SecretsConfigError when Vault holds no such lease (expired, revoked), PermissionError, ConnectionError
   */
  public async renewLease(leaseId: string, incrementSeconds?: number): Promise<LeaseRenewal> {
    return this.call('renew', leaseId, () => {
      checkLeaseId(NAME, leaseId);
      if (incrementSeconds !== undefined && (!Number.isInteger(incrementSeconds) || incrementSeconds < 0)) {
        throw new SecretsConfigError(`${NAME}: increment ${incrementSeconds} is not a whole number of seconds; pass e.g. 3600, or nothing for the role's default TTL`, NAME, leaseId);
      }
    }, (signal) => this.#database.renew(leaseId, incrementSeconds, signal));
  }

  /**
   * Revokes a lease now (`PUT sys/leases/revoke`): Vault runs the role's revocation statements, so
   * the database user is dropped. Vault answers a lease it does not hold (expired, revoked, never
   * issued) exactly as a revoked one, so this resolves for those too; {@link lookupLease} tells
   * them apart. Any token whose policy grants `update` on `sys/leases/revoke` may revoke any lease;
   * Vault's default policy does not grant it.
   *
   * @throws PermissionError, SecretsConfigError (not a lease id), ConnectionError
   */
  public async revokeLease(leaseId: string): Promise<void> {
    await this.call('revoke', leaseId, () => checkLeaseId(NAME, leaseId), (signal) => this.#database.revoke(leaseId, signal));
  }

  /**
   * What Vault says about a lease (`PUT sys/leases/lookup`): issue and expiry time, last renewal,
   * TTL left; undefined when Vault holds no such lease. Vault's default policy grants `update` on
   * `sys/leases/lookup`.
   *
   * @throws PermissionError, SecretsConfigError (not a lease id), ConnectionError
   */
  public async lookupLease(leaseId: string): Promise<LeaseInfo | undefined> {
    return this.call('lookup', leaseId, () => checkLeaseId(NAME, leaseId), (signal) => this.#database.lookup(leaseId, signal));
  }

  /** Ends idle connections to Vault. Optional: idle connections never keep the process alive. */
  public close(): void {
    this.#http.close();
  }

  /** `token/<accessor>`, `approle/<role name>` or `kubernetes/<role>`; never a credential. */
  public get requester(): string {
    return this.#session.requester;
  }

  /** How many times the plugin logged in (AppRole, Kubernetes). */
  public get logins(): number {
    return this.#session.logins;
  }

  protected async backendGet(key: string, signal: AbortSignal): Promise<string | undefined> {
    const { path, name } = this.split(key);
    const fields = (await this.#kv.read(path, signal)).fields;
    return fields === undefined ? undefined : text(fields[name]);
  }

  protected async backendSet(key: string, value: string, metadata: { readonly [name: string]: string }, signal: AbortSignal): Promise<void> {
    const { path, name } = this.split(key);
    await this.#kv.write(path, name, value, metadata, signal);
  }

  protected async backendList(prefix: string, signal: AbortSignal): Promise<string[]> {
    return this.#kv.list(prefix, signal);
  }

  protected async backendGetMulti(name: string, signal: AbortSignal): Promise<{ [key: string]: string }> {
    const fields = (await this.#kv.read(name, signal)).fields ?? {};
    const result: { [key: string]: string } = {};
    for (const [key, value] of Object.entries(fields)) {
      const converted = text(value);
      if (converted !== undefined) result[key] = converted;
    }
    return result;
  }

  /**
   * sys/health says initialized and unsealed (standbys count as healthy), the token is accepted
   * (lookup-self), and the mount is a KV version 2 engine the token may use.
   */
  protected async backendHealth(signal: AbortSignal): Promise<void> {
    let health: unknown;
    try {
      health = await this.#http.read('sys/health?standbyok=true&perfstandbyok=true', { namespaced: false, signal });
    } catch (error) {
      // Sealed (503) and uninitialized (501) Vaults answer their health JSON with these statuses.
      const json = error instanceof HttpStatusError ? error.json() : undefined;
      if (!isObject(json) || typeof json.sealed !== 'boolean' || typeof json.initialized !== 'boolean') throw error;
      health = json;
    }
    if (field(health, 'initialized') !== true || field(health, 'sealed') !== false) {
      if (field(health, 'sealed') !== true && field(health, 'initialized') !== false) throw this.#http.notVault();
      const why = field(health, 'sealed') === true ? 'is sealed' : 'is not initialized';
      throw new ConnectionError(`${NAME}: ${this.config.address} ${why}; unseal it, or check the address`, NAME);
    }
    const data = field(await this.#session.run(signal, (token) => this.#http.read('auth/token/lookup-self', { token, signal })), 'data');
    if (!isObject(data)) throw this.#http.notVault();
    await this.#kv.checkMount(signal);
  }

  protected classify(error: unknown, action: PluginCallAction, key: string | undefined): SecretsError | 'transient' {
    if (error instanceof SecretsError) return error;
    const what = key === undefined ? action : `${action} ${JSON.stringify(key)}`;
    // An answer that is not Vault's, a certificate that is not trusted, an oversized answer: retrying changes nothing.
    if (error instanceof NotVaultAnswer || (error instanceof TransportError && (error.failure === 'tls' || error.failure === 'too-large'))) {
      return new ConnectionError(`${NAME}: ${what} failed: ${error.summary}`, NAME, key);
    }
    if (isLeaseAction(action)) {
      // creds' key is `<mount>/creds/<role>`; the other lease calls take a lease id.
      const mount = action === 'creds' && key !== undefined ? key.slice(0, key.lastIndexOf('/creds/')) : undefined;
      return this.#database.refusal(error, action, key ?? '', mount) ?? 'transient';
    }
    const status = statusOf(error);
    if (status === undefined || status === 412 || status === 429 || status >= 500) return 'transient';
    if (status === 401 || status === 403) {
      return new PermissionError(`${NAME}: ${what} was denied (HTTP ${status}); ${this.grantHint(action, key)}`, NAME, key);
    }
    return new SecretsConfigError(`${NAME}: ${what} was refused (HTTP ${status}); check the mount "${this.config.mount}" is a KV version 2 engine and the key`, NAME, key);
  }

  /** The core's summary, plus what Vault's statuses mean: 429 is a rate limit, 503 "Vault is sealed" a sealed Vault. */
  protected transientSummary(error: unknown): string {
    const summary = super.transientSummary(error);
    if (statusOf(error) === 429) return `rate limited: ${summary}`;
    if (statusOf(error) === 503 && (errorsOf(error) ?? []).includes('Vault is sealed')) return `${summary}: Vault is sealed; unseal it`;
    return summary;
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

/** Whether a call is one of the lease calls (dynamic credentials), which Vault answers with its own errors. */
function isLeaseAction(action: PluginCallAction): action is LeaseAuditAction {
  return action === 'creds' || action === 'renew' || action === 'revoke' || action === 'lookup';
}
