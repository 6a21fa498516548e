import { inspect } from 'node:util';
import {
  AuditAction, BackendHttp, ConnectionError, DEFAULT_RETRY_POLICY, HttpStatusError, KeyRules, PermissionError, PluginOptions,
  SecretsConfigError, SecretsError, SecretsPlugin, TransportError, withTimeout,
} from '@floe-secrets/core';
import { field, InfisicalApi, kind, ProjectInfo, ProjectRef, ProjectScope, serverMessage } from './api';
import { ReadCache } from './cache';
import { isFolderName, parseInfisicalConfig, ResolvedInfisicalConfig } from './config';
import { joinFolder, keyOf, listFolder, locate, SecretLocation } from './paths';

/** This plugin's own version. */
export const PLUGIN_VERSION = '0.2.0';

/** A secret as the v3 raw API returns it; only the fields read here. */
interface RawSecret {
  readonly secretKey?: unknown;
  readonly secretValue?: unknown;
  readonly secretValueHidden?: unknown;
  readonly secretPath?: unknown;
}

const VERBS: { readonly [action in AuditAction]: string } = {
  'get': 'read secrets',
  'get-multi': 'read secrets',
  'set': 'create and edit secrets',
  'list': 'read (describe) secrets',
  'health': 'read (describe) secrets',
};

/**
 * The Infisical secrets backend: Infisical's HTTP API with Universal Auth, on Infisical
 * Cloud or a self-hosted instance, scoped to one project, environment and base folder.
 *
 * - Keys map to folders and secret names as documented on {@link SecretLocation}: `snowflake/password`
 *   under `secretPath: '/compute'` is secret `password` in folder `/compute/snowflake`.
 * - The project (by id or slug) and the environment are looked up once, on first use: an unknown
 *   project or environment is a SecretsConfigError naming it (Infisical itself answers a read in an
 *   unknown environment exactly as a missing folder).
 * - Reads are cached in memory for `cacheTtlMs` (default 30 s), misses included; a write through
 *   this plugin drops the key's entry. Every call is still audited by the core, cached or not.
 * - A get returns the secret's own value: Infisical expands `${KEY}` references in it on the server
 *   (unless `expandSecretReferences: false`), but a get does not look into secret imports, so a key
 *   that exists only through an import reads as missing.
 * - `setSecret` updates the secret, creates it when missing, and creates its folder when missing.
 *   Metadata is stored as the secret's comment, `k1=v1, k2=v2`. Infisical trims leading and
 *   trailing white space from values (a final newline is kept). A write counts as done only when
 *   Infisical answers with the written secret.
 * - `getMultiKeySecret(name)` is every secret of folder `<secretPath>/<name>`.
 * - Tokens are renewed at the TTL the login states; after a refusal, one clean login and one
 *   repeat.
 *
 * Faults (each call is bounded by the core's retry policy; only the four SecretsErrors escape):
 * - refused, reset, DNS failures, no answer, 5xx and 408: retried with backoff, then ConnectionError
 *   saying which (refused, reset, "answered HTTP 502", "got no answer within N ms").
 * - Rate limits (HTTP 429, and HTTP 500 with `Retry-After`, which is how Infisical's production
 *   servers answer past about 40 requests a minute per route): Retry-After is honoured within the
 *   call's time budget; when it does not fit, ConnectionError saying the call was rate limited.
 * - TLS failures (self-signed, unknown CA, wrong host): ConnectionError naming the reason, not retried.
 * - A redirect to another origin: ConnectionError naming its host; nothing is sent there.
 * - 401/403: PermissionError (after one clean re-login for a refused token). A recursive list that
 *   answers `[]` is confirmed by a plain list, since Infisical answers an identity without read
 *   permission with 403 to a plain list but `[]` to a recursive one.
 * - A 404 means missing only when it is Infisical's JSON error; any other 404 (an HTML page from a
 *   proxy or a wrong siteUrl) is a ConnectionError, and health is unhealthy.
 * - An answer that is not JSON, or JSON of the wrong shape: ConnectionError (never quoting it).
 * No message carries a response body, a token, the client secret or a value.
 *
 * @requirement REQ-132
 */
export class InfisicalSecretsPlugin extends SecretsPlugin {
  public readonly name = 'infisical';
  public readonly version = PLUGIN_VERSION;
  /** The parsed configuration; the client secret is a `Masked` and never prints. */
  public readonly config: Readonly<ResolvedInfisicalConfig>;
  protected readonly keyRules: KeyRules = { allowSlash: true };
  readonly #api: InfisicalApi;
  readonly #cache: ReadCache;
  readonly #lookupTimeoutMs: number;

  /**
   * @param config an {@link InfisicalSecretsPluginConfig}, as plain data (e.g. from the platform manifest)
   * @param options audit log, retry policy and health timeout
   * @throws SecretsConfigError listing every configuration problem, never quoting a credential
   */
  public constructor(config: unknown, options?: PluginOptions) {
    super(options);
    this.config = parseInfisicalConfig(config);
    this.#api = new InfisicalApi(this.config, new BackendHttp({ plugin: this.name, baseUrl: this.config.siteUrl }));
    this.#cache = new ReadCache(this.config.cacheTtlMs);
    this.#lookupTimeoutMs = options?.retry?.totalTimeoutMs ?? DEFAULT_RETRY_POLICY.totalTimeoutMs;
  }

  /** The machine identity's client id: who the audit log says acted. */
  public get requester(): string {
    return this.config.clientId;
  }

  /** How many universal-auth logins this plugin made (the first one and each renewal). */
  public get logins(): number {
    return this.#api.logins;
  }

  /**
   * Where `key` lives: its folder and secret name (see {@link SecretLocation}).
   *
   * @throws SecretsConfigError when the key cannot name an Infisical secret
   */
  public locate(key: string): SecretLocation {
    return locate(this.name, this.config.secretPath, key);
  }

  /** Drops the cached read of `key`, or every cached read. */
  public invalidate(key?: string): void {
    if (key === undefined) this.#cache.clear();
    else this.#cache.invalidate(key);
  }

  /** What `JSON.stringify` shows: identifiers only, never the client secret, a token or a value. */
  public toJSON(): { [field: string]: string | number } {
    const { siteUrl, projectId, projectSlug, environment, secretPath, cacheTtlMs } = this.config;
    return {
      name: this.name,
      version: this.version,
      floeApiVersion: this.floeApiVersion,
      requester: this.requester,
      siteUrl,
      ...(projectId !== undefined ? { projectId } : {}),
      ...(projectSlug !== undefined ? { projectSlug } : {}),
      environment,
      secretPath,
      cacheTtlMs,
    };
  }

  /** What `util.inspect` and `console.log` show: the same as {@link InfisicalSecretsPlugin.toJSON}. */
  public [inspect.custom](): string {
    return `InfisicalSecretsPlugin ${inspect(this.toJSON())}`;
  }

  /**
   * The configured project as Infisical knows it (its id and slug), looked up once.
   *
   * @throws SecretsError when it cannot be looked up, or the project or environment does not exist
   */
  public async project(): Promise<ProjectScope> {
    return this.#lookup((signal) => this.#api.project(signal));
  }

  /**
   * Any project this identity can see, by id or slug (e.g. the one an operator resource names);
   * undefined when Infisical knows no such project. Not cached, not audited (no secret is read).
   *
   * @throws PermissionError when the identity may not read it; ConnectionError when Infisical does not answer
   */
  public async findProject(ref: ProjectRef): Promise<ProjectInfo | undefined> {
    return this.#lookup((signal) => this.#api.findProject(signal, ref));
  }

  /** Ends idle connections to Infisical (they never keep a process alive; this frees them at once). */
  public close(): void {
    this.#api.close();
  }

  protected async backendGet(key: string, signal: AbortSignal): Promise<string | undefined> {
    const { folder, name } = this.locate(key);
    const cached = this.#cache.get(key);
    if (cached) return cached.value;
    const generation = this.#cache.generation;
    const project = await this.#api.project(signal);
    let json: unknown;
    try {
      json = await this.#api.call(signal, {
        method: 'GET',
        path: `/api/v3/secrets/raw/${encodeURIComponent(name)}`,
        query: {
          workspaceId: project.id,
          environment: this.config.environment,
          secretPath: folder,
          expandSecretReferences: String(this.config.expandSecretReferences),
          viewSecretValue: 'true',
        },
      });
    } catch (error) {
      if (!isMissing(error)) throw error;
      this.#cache.set(key, undefined, generation);
      return undefined;
    }
    const value = this.#valueOf(field(json, 'secret') as RawSecret | undefined, 'get', key);
    this.#cache.set(key, value, generation);
    return value;
  }

  protected async backendSet(key: string, value: string, metadata: { readonly [name: string]: string }, signal: AbortSignal): Promise<void> {
    const location = this.locate(key);
    const project = await this.#api.project(signal);
    const entries = Object.entries(metadata).sort(([a], [b]) => a.localeCompare(b));
    const fields = {
      workspaceId: project.id,
      environment: this.config.environment,
      secretPath: location.folder,
      secretValue: value,
      ...(entries.length > 0 ? { secretComment: entries.map(([k, v]) => `${k}=${v}`).join(', ') } : {}),
    };
    this.#cache.invalidate(key);
    try {
      let result: unknown;
      try {
        result = await this.#write('PATCH', location, fields, signal);
      } catch (error) {
        if (!isMissing(error)) throw error;
        result = await this.#create(location, fields, signal);
      }
      this.#checkWritten(result, key, location.name);
    } finally {
      this.#cache.invalidate(key);
    }
  }

  protected async backendList(prefix: string, signal: AbortSignal): Promise<string[]> {
    const folder = listFolder(this.config.secretPath, prefix);
    if (folder === undefined) return [];
    const secrets = await this.#listFolder(folder, true, false, signal, 'list', prefix);
    // Infisical answers a recursive list with [] where the identity may not read; a plain list says 403.
    if (secrets.length === 0) await this.#listFolder(folder, false, false, signal, 'list', prefix);
    const keys = new Set<string>();
    for (const secret of secrets) {
      if (typeof secret.secretKey !== 'string') continue;
      const key = keyOf(this.config.secretPath, typeof secret.secretPath === 'string' ? secret.secretPath : folder, secret.secretKey);
      if (key !== undefined) keys.add(key);
    }
    return [...keys];
  }

  protected async backendGetMulti(name: string, signal: AbortSignal): Promise<{ [key: string]: string }> {
    if (!isFolderName(name)) {
      throw new SecretsConfigError(`${this.name}: multi-key secret ${JSON.stringify(name)} is not a valid Infisical folder name; use letters, digits, "-" and "_"`, this.name, name);
    }
    const folder = joinFolder(this.config.secretPath, name);
    const generation = this.#cache.generation;
    const secrets = await this.#listFolder(folder, false, true, signal, 'get-multi', name);
    const result: { [key: string]: string } = {};
    for (const secret of secrets) {
      if (typeof secret.secretKey !== 'string') continue;
      if (typeof secret.secretPath === 'string' && keyOf(folder, secret.secretPath, secret.secretKey) !== secret.secretKey) continue;
      const value = this.#valueOf(secret, 'get-multi', name);
      Object.defineProperty(result, secret.secretKey, { value, enumerable: true, writable: true, configurable: true });
      this.#cache.set(`${name}/${secret.secretKey}`, value, generation);
    }
    return result;
  }

  /**
   * Proves the address, the credentials, the project and environment (looked up, not assumed) and
   * the right to read the base folder (a plain list, which Infisical refuses with 403 without it).
   */
  protected async backendHealth(signal: AbortSignal): Promise<void> {
    await this.#api.project(signal);
    await this.#listFolder(this.config.secretPath, false, false, signal, 'health', undefined);
  }

  protected classify(error: unknown, action: AuditAction, key: string | undefined): SecretsError | 'transient' {
    if (error instanceof SecretsError) return error;
    const what = key === undefined || key === '' ? action : `${action} ${JSON.stringify(key)}`;
    if (error instanceof TransportError) {
      if (error.failure === 'tls') return new ConnectionError(`${this.name}: ${what} failed: ${error.summary}`, this.name, key);
      return 'transient';
    }
    if (!(error instanceof HttpStatusError)) return 'transient';
    const { status } = error;
    if (status === 408 || status === 429 || status >= 500) return 'transient';
    if (!error.isJson) {
      return new ConnectionError(
        `${this.name}: ${what} got HTTP ${status} with a body that is not JSON${kind(error)} from ${this.config.siteUrl}: not the Infisical API (a proxy, or a wrong siteUrl?); check siteUrl`,
        this.name,
        key,
      );
    }
    const scope = `${this.#project()}, environment ${this.config.environment}, path ${this.config.secretPath}`;
    if (status === 401 || status === 403) {
      return new PermissionError(
        `${this.name}: ${what} was refused (HTTP ${status}): machine identity ${this.requester} may not ${VERBS[action]} in ${scope}; ` +
          'give it a project role that allows it, or use an identity that has one',
        this.name,
        key,
      );
    }
    if (status === 400 || status === 404 || status === 409 || status === 422) {
      return new SecretsConfigError(`${this.name}: ${what} was rejected by Infisical as invalid (HTTP ${status}); check the key and the configuration`, this.name, key);
    }
    return new ConnectionError(`${this.name}: ${what} got an unexpected answer (HTTP ${status}) from ${this.config.siteUrl}; check siteUrl`, this.name, key);
  }

  protected transientSummary(error: unknown): string {
    if (error instanceof HttpStatusError && (error.status === 429 || (error.status === 500 && error.retryAfterMs !== undefined))) {
      const wait = error.retryAfterMs === undefined ? '' : `, retry after ${Math.ceil(error.retryAfterMs / 1000)} s`;
      return `rate limited by Infisical (HTTP ${error.status}${wait}), longer than this call may wait; ` +
        'spread the requests out (Infisical allows about 40 a minute per route and identity on its cloud) or raise the retry policy\'s totalTimeoutMs';
    }
    return super.transientSummary(error);
  }

  async #lookup<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await withTimeout(this.#lookupTimeoutMs, fn);
    } catch (error) {
      const classified = this.classify(error, 'health', undefined);
      if (classified !== 'transient') throw classified;
      throw new ConnectionError(`${this.name}: the project lookup failed: ${this.transientSummary(error)}`, this.name);
    }
  }

  #project(): string {
    return this.config.projectId !== undefined ? `project ${this.config.projectId}` : `project ${this.config.projectSlug}`;
  }

  /** PATCH (update) or POST (create) one secret. */
  #write(method: 'PATCH' | 'POST', location: SecretLocation, fields: object, signal: AbortSignal): Promise<unknown> {
    return this.#api.call(signal, { method, path: `/api/v3/secrets/raw/${encodeURIComponent(location.name)}`, body: fields });
  }

  /** A write is done only when Infisical answers with the secret (or opened a change request). */
  #checkWritten(result: unknown, key: string, name: string): void {
    if (field(result, 'approval') !== undefined) {
      throw new PermissionError(
        `${this.name}: set ${JSON.stringify(key)} opened a change request instead of writing: environment ${this.config.environment} ` +
          'has a change-approval policy; approve the request in Infisical, or exempt this machine identity from the policy',
        this.name,
        key,
      );
    }
    if (field(field(result, 'secret'), 'secretKey') !== name) throw this.#notInfisical('set', key);
  }

  /** Creates the secret; creates its folder first when Infisical says it is missing. */
  async #create(location: SecretLocation, fields: { readonly workspaceId: string }, signal: AbortSignal): Promise<unknown> {
    try {
      return await this.#write('POST', location, fields, signal);
    } catch (error) {
      // Created meanwhile by someone else.
      if (error instanceof HttpStatusError && error.isJson && error.status === 400 && /already exist/i.test(serverMessage(error))) {
        return this.#write('PATCH', location, fields, signal);
      }
      if (!isMissing(error) || location.folder === '/') throw error;
    }
    const cut = location.folder.lastIndexOf('/');
    const created = await this.#api.call(signal, {
      method: 'POST',
      path: '/api/v1/folders',
      body: {
        workspaceId: fields.workspaceId,
        environment: this.config.environment,
        path: cut === 0 ? '/' : location.folder.slice(0, cut),
        name: location.folder.slice(cut + 1),
      },
    });
    if (typeof field(created, 'folder') !== 'object') throw this.#notInfisical('set', location.name);
    return this.#write('POST', location, fields, signal);
  }

  /** The secrets of `folder` (a missing folder: none). */
  async #listFolder(
    folder: string, recursive: boolean, values: boolean, signal: AbortSignal, action: AuditAction, key: string | undefined,
  ): Promise<RawSecret[]> {
    const project = await this.#api.project(signal);
    let response: unknown;
    try {
      response = await this.#api.call(signal, {
        method: 'GET',
        path: '/api/v3/secrets/raw',
        query: {
          workspaceId: project.id,
          environment: this.config.environment,
          secretPath: folder,
          recursive: String(recursive),
          viewSecretValue: String(values),
          expandSecretReferences: String(values && this.config.expandSecretReferences),
          include_imports: 'false',
        },
      });
    } catch (error) {
      if (!isMissing(error)) throw error;
      return [];
    }
    const secrets = field(response, 'secrets');
    if (!Array.isArray(secrets)) throw this.#notInfisical(action, key);
    return secrets.filter((s): s is RawSecret => typeof s === 'object' && s !== null);
  }

  /** The value of a secret as returned by Infisical. */
  #valueOf(secret: RawSecret | undefined, action: AuditAction, key: string): string {
    if (typeof secret !== 'object' || secret === null || typeof secret.secretValue !== 'string') throw this.#notInfisical(action, key);
    if (secret.secretValueHidden === true) {
      throw new PermissionError(
        `${this.name}: ${action} ${JSON.stringify(key)}: machine identity ${this.requester} may see the secret but not read its value; grant it "Read Value" on secrets`,
        this.name,
        key,
      );
    }
    return secret.secretValue;
  }

  #notInfisical(action: AuditAction, key: string | undefined): ConnectionError {
    const what = key === undefined ? action : `${action} ${JSON.stringify(key)}`;
    return new ConnectionError(`${this.name}: ${what}: ${this.config.siteUrl} answered, but not as the Infisical API does; check siteUrl`, this.name, key);
  }
}

/**
 * Whether an error is Infisical's own "not found" for a secret or folder: HTTP 404 with Infisical's
 * JSON error body. A 404 from anything else (an HTML page) is not.
 */
function isMissing(error: unknown): boolean {
  return error instanceof HttpStatusError && error.status === 404 && error.isJson && typeof field(error.json(), 'message') === 'string';
}
