import { inspect } from 'node:util';
import {
  AuditAction, ConnectionError, KeyRules, PermissionError, PluginOptions, SecretsConfigError, SecretsError, SecretsPlugin,
} from '@floe-secrets/core';
import { InfisicalSDK } from '@infisical/sdk';
import { ReadCache } from './cache';
import { isFolderName, parseInfisicalConfig, ResolvedInfisicalConfig } from './config';
import { httpStatus, isAlreadyExists, isScopeNotFound, isTransient } from './errors';
import { joinFolder, keyOf, listFolder, locate, SecretLocation } from './paths';
import { InfisicalSession } from './session';

/** This plugin's own version. */
export const PLUGIN_VERSION = '0.1.0';

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
 * The Infisical secrets backend (REQ-132): the official `@infisical/sdk` (v5) with Universal Auth,
 * on Infisical Cloud or a self-hosted instance, scoped to one project, environment and base folder.
 *
 * - Keys map to folders and secret names as documented on {@link SecretLocation}: `snowflake/password`
 *   under `secretPath: '/compute'` is secret `password` in folder `/compute/snowflake`.
 * - Reads are cached in memory for `cacheTtlMs` (default 30 s), misses included; a write through
 *   this plugin drops the key's entry. Every call is still audited by the core, cached or not.
 * - `setSecret` updates the secret, creates it when missing, and creates its folder when missing.
 *   Metadata is stored as the secret's comment, `k1=v1, k2=v2`. Infisical trims leading and
 *   trailing white space from values (a final newline is kept).
 * - `getMultiKeySecret(name)` is every secret of folder `<secretPath>/<name>`.
 * - The access token is renewed by logging in again before it expires, or once after a refusal.
 * - Rate limits (HTTP 429, retried by the SDK itself; HTTP 500 "Rate limit exceeded"), 5xx,
 *   network failures and timeouts are `transient`: the core retries them with backoff and raises
 *   ConnectionError when its policy gives up. 401/403 raise PermissionError; a missing secret is
 *   `undefined`. No response body ever reaches an error message.
 *
 * The SDK cannot take an AbortSignal: the core bounds every attempt with its own timeout, and the
 * plugin checks the signal before each further request of a multi-request operation. A request
 * already sent is not cancelled: after a network failure the SDK keeps retrying it in the background
 * (1 s, 2 s, 4 s, 8 s; each fetch up to 10 s) even when the core has given up, so a short-lived
 * process may stay up that long after a ConnectionError.
 */
export class InfisicalSecretsPlugin extends SecretsPlugin {
  public readonly name = 'infisical';
  public readonly version = PLUGIN_VERSION;
  /** The parsed configuration; the client secret is a `Masked` and never prints. */
  public readonly config: Readonly<ResolvedInfisicalConfig>;
  protected readonly keyRules: KeyRules = { allowSlash: true };
  readonly #session: InfisicalSession;
  readonly #cache: ReadCache;

  /**
   * @param config an {@link InfisicalSecretsPluginConfig}, as plain data (e.g. from the platform manifest)
   * @param options audit log, retry policy and health timeout
   * @throws SecretsConfigError listing every configuration problem, never quoting a credential
   */
  public constructor(config: unknown, options?: PluginOptions) {
    super(options);
    this.config = parseInfisicalConfig(config);
    this.#session = new InfisicalSession(this.config);
    this.#cache = new ReadCache(this.config.cacheTtlMs);
  }

  /** The machine identity's client id: who the audit log says acted. */
  public get requester(): string {
    return this.config.clientId;
  }

  /** How many universal-auth logins this plugin made (the first one and each renewal). */
  public get logins(): number {
    return this.#session.logins;
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
    const { siteUrl, projectId, environment, secretPath, cacheTtlMs } = this.config;
    return {
      name: this.name,
      version: this.version,
      floeApiVersion: this.floeApiVersion,
      requester: this.requester,
      siteUrl,
      projectId,
      environment,
      secretPath,
      cacheTtlMs,
    };
  }

  /** What `util.inspect` and `console.log` show: the same as {@link InfisicalSecretsPlugin.toJSON}. */
  public [inspect.custom](): string {
    return `InfisicalSecretsPlugin ${inspect(this.toJSON())}`;
  }

  protected async backendGet(key: string, signal: AbortSignal): Promise<string | undefined> {
    const { folder, name } = this.locate(key);
    const cached = this.#cache.get(key);
    if (cached) return cached.value;
    const generation = this.#cache.generation;
    let secret: RawSecret;
    try {
      secret = await this.#session.call(signal, (sdk) => sdk.secrets().getSecret({
        projectId: this.config.projectId,
        environment: this.config.environment,
        secretPath: folder,
        secretName: name,
        expandSecretReferences: this.config.expandSecretReferences,
        viewSecretValue: true,
      }));
    } catch (error) {
      if (httpStatus(error) !== 404 || isScopeNotFound(error)) throw error;
      this.#cache.set(key, undefined, generation);
      return undefined;
    }
    const value = this.#valueOf(secret, 'get', key);
    this.#cache.set(key, value, generation);
    return value;
  }

  protected async backendSet(key: string, value: string, metadata: { readonly [name: string]: string }, signal: AbortSignal): Promise<void> {
    const { folder, name } = this.locate(key);
    const entries = Object.entries(metadata).sort(([a], [b]) => a.localeCompare(b));
    const fields = {
      projectId: this.config.projectId,
      environment: this.config.environment,
      secretPath: folder,
      secretValue: value,
      ...(entries.length > 0 ? { secretComment: entries.map(([k, v]) => `${k}=${v}`).join(', ') } : {}),
    };
    this.#cache.invalidate(key);
    try {
      let result: unknown;
      try {
        result = await this.#session.call(signal, (sdk) => sdk.secrets().updateSecret(name, fields));
      } catch (error) {
        if (httpStatus(error) !== 404 || isScopeNotFound(error)) throw error;
        result = await this.#create({ folder, name }, fields, signal);
      }
      if (typeof result === 'object' && result !== null && 'approval' in result) {
        throw new PermissionError(
          `${this.name}: set ${JSON.stringify(key)} opened a change request instead of writing: environment ${this.config.environment} ` +
            'has a change-approval policy; approve the request in Infisical, or exempt this machine identity from the policy',
          this.name,
          key,
        );
      }
    } finally {
      this.#cache.invalidate(key);
    }
  }

  protected async backendList(prefix: string, signal: AbortSignal): Promise<string[]> {
    const folder = listFolder(this.config.secretPath, prefix);
    if (folder === undefined) return [];
    const secrets = await this.#listFolder(folder, true, false, signal, 'list', prefix);
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

  protected async backendHealth(signal: AbortSignal): Promise<void> {
    // Lists the base folder without values: proves the address, the credentials and the scope.
    await this.#listFolder(this.config.secretPath, false, false, signal, 'health', undefined);
  }

  protected classify(error: unknown, action: AuditAction, key: string | undefined): SecretsError | 'transient' {
    if (error instanceof SecretsError) return error;
    if (isTransient(error)) return 'transient';
    const status = httpStatus(error) as number;
    const what = key === undefined || key === '' ? action : `${action} ${JSON.stringify(key)}`;
    const scope = `project ${this.config.projectId}, environment ${this.config.environment}, path ${this.config.secretPath}`;
    if (status === 401 || status === 403) {
      return new PermissionError(
        `${this.name}: ${what} was refused (HTTP ${status}): machine identity ${this.requester} may not ${VERBS[action]} in ${scope}; ` +
          'give it a project role that allows it, or use an identity that has one',
        this.name,
        key,
      );
    }
    if (isScopeNotFound(error)) {
      return new SecretsConfigError(`${this.name}: ${what}: Infisical knows no ${scope} (HTTP 404); check projectId and environment`, this.name, key);
    }
    if (status === 400 || status === 404 || status === 409 || status === 422) {
      return new SecretsConfigError(`${this.name}: ${what} was rejected by Infisical as invalid (HTTP ${status}); check the key and the configuration`, this.name, key);
    }
    return new ConnectionError(`${this.name}: ${what} got an unexpected answer (HTTP ${status}) from ${this.config.siteUrl}; check siteUrl`, this.name, key);
  }

  /** Creates the secret; creates its folder first when Infisical says it is missing. */
  async #create(location: SecretLocation, fields: Parameters<ReturnType<InfisicalSDK['secrets']>['createSecret']>[1], signal: AbortSignal): Promise<unknown> {
    const create = (): Promise<unknown> => this.#session.call(signal, (sdk) => sdk.secrets().createSecret(location.name, fields));
    const update = (): Promise<unknown> => this.#session.call(signal, (sdk) => sdk.secrets().updateSecret(location.name, fields));
    try {
      return await create();
    } catch (error) {
      if (isAlreadyExists(error)) return update(); // created meanwhile by someone else
      if (httpStatus(error) !== 404 || isScopeNotFound(error) || location.folder === '/') throw error;
    }
    const cut = location.folder.lastIndexOf('/');
    await this.#session.call(signal, (sdk) => sdk.folders().create({
      projectId: this.config.projectId,
      environment: this.config.environment,
      path: cut === 0 ? '/' : location.folder.slice(0, cut),
      name: location.folder.slice(cut + 1),
    }));
    return create();
  }

  /** The secrets of `folder` (404: none). */
  async #listFolder(
    folder: string, recursive: boolean, values: boolean, signal: AbortSignal, action: AuditAction, key: string | undefined,
  ): Promise<RawSecret[]> {
    let response: unknown;
    try {
      response = await this.#session.call(signal, (sdk) => sdk.secrets().listSecrets({
        projectId: this.config.projectId,
        environment: this.config.environment,
        secretPath: folder,
        recursive,
        viewSecretValue: values,
        expandSecretReferences: values && this.config.expandSecretReferences,
        includeImports: false,
      }));
    } catch (error) {
      if (httpStatus(error) !== 404 || isScopeNotFound(error)) throw error;
      return [];
    }
    const secrets = (response as { secrets?: unknown } | undefined)?.secrets;
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
