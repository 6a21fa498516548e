import { Masked } from '@floe-secrets/core';
import nodeVault from 'node-vault';

/** What one request carries besides its path and body. */
export interface CallOptions {
  /** The token for `X-Vault-Token`; absent for unauthenticated endpoints (sys/health, logins). */
  readonly token?: Masked;
  /**
   * Whether to send `X-Vault-Namespace` (when a namespace is configured).
   *
   * @default true
   */
  readonly namespaced?: boolean;
}

/** The JSON body of a Vault answer; Vault always answers objects. */
export type VaultBody = { readonly [field: string]: unknown };

/**
 * The plugin's only door to Vault: a node-vault client (axios underneath) with its environment
 * fallbacks and debug output switched off. The token never lives on the client: each call passes it
 * as a header, so no object the plugin holds carries it in the clear. Errors are node-vault's:
 * `ApiResponseError` with `response.statusCode` for any HTTP status but 200/204, plain axios errors
 * (no status) for network failures and timeouts.
 */
export class VaultHttp {
  readonly #client: nodeVault.client;
  readonly #namespace: string | undefined;

  public constructor(address: string, namespace: string | undefined, timeoutMs: number, ca?: Buffer) {
    this.#namespace = namespace;
    const options = {
      endpoint: address,
      // node-vault's LIST verb is not an HTTP method every proxy accepts; Vault takes GET ?list=true alike.
      noCustomHTTPVerbs: true,
      // node-vault's debug output includes request bodies, that is secret values (CR-005).
      debug: () => undefined,
      // Overrides VAULT_SKIP_VERIFY: TLS is always verified.
      rpDefaults: { strictSSL: true },
      requestOptions: { timeout: timeoutMs, ...(ca ? { ca } : {}) },
    };
    this.#client = nodeVault(options as nodeVault.VaultOptions);
    // node-vault falls back to VAULT_TOKEN, VAULT_NAMESPACE and VAULT_PREFIX; this plugin is configured by its config only.
    const client = this.#client as unknown as { token: string; namespace: string; pathPrefix: string };
    client.token = '';
    client.namespace = '';
    client.pathPrefix = '';
  }

  /** GET `/v1/<path>`. */
  public async read(path: string, options: CallOptions = {}): Promise<VaultBody> {
    return asBody(await this.#client.read(path, this.requestOptions(options)));
  }

  /** POST `/v1/<path>` with a JSON body. */
  public async write(path: string, body: object, options: CallOptions = {}): Promise<VaultBody> {
    return asBody(await this.#client.write(path, body, this.requestOptions(options)));
  }

  /** LIST `/v1/<path>` (sent as `GET ?list=1`). */
  public async list(path: string, options: CallOptions = {}): Promise<VaultBody> {
    return asBody(await this.#client.list(path, this.requestOptions(options)));
  }

  private requestOptions(options: CallOptions): { headers: { [name: string]: string } } {
    const headers: { [name: string]: string } = {};
    if (options.token) headers['X-Vault-Token'] = options.token.reveal();
    if (this.#namespace && options.namespaced !== false) headers['X-Vault-Namespace'] = this.#namespace;
    return { headers };
  }
}

function asBody(body: unknown): VaultBody {
  return typeof body === 'object' && body !== null ? body as VaultBody : {};
}

/** The HTTP status of a node-vault error, or undefined for network failures, timeouts and anything else. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { response?: { statusCode?: unknown } } | null)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The body of a node-vault error. For decisions only (a CAS conflict, a deleted version): never
 * copy it into a message or a log, it may hold a value.
 */
export function bodyOf(error: unknown): VaultBody {
  return asBody((error as { response?: { body?: unknown } } | null)?.response?.body);
}

/** The `errors` strings of a Vault error body (for decisions only, as {@link bodyOf}). */
export function errorsOf(error: unknown): string[] {
  const errors = bodyOf(error).errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : [];
}

/** A nested object field, or undefined. */
export function field(body: unknown, ...path: string[]): unknown {
  let at: unknown = body;
  for (const name of path) {
    if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined;
    at = (at as { [name: string]: unknown })[name];
  }
  return at;
}

/** Encodes each segment of a Vault path, so `?`, `#`, `%` and spaces in keys reach Vault as written. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
