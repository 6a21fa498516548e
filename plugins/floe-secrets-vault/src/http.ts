import { BackendHttp, HttpStatusError, Masked, TransportError } from '@floe-secrets/core';

/** What one request carries besides its path and body. */
export interface CallOptions {
  /** Ends the request and its socket: the core's per-attempt signal. */
  readonly signal: AbortSignal;
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

/** Options of {@link VaultHttp}. */
export interface VaultHttpOptions {
  readonly plugin: string;
  /** The configured address, e.g. `https://vault.example.com:8200`. */
  readonly address: string;
  readonly namespace: string | undefined;
  /** Upper bound of each request, besides the caller's signal. */
  readonly timeoutMs: number;
  /** PEM CA certificates for a Vault behind a private CA (caCertFile). */
  readonly ca?: Buffer;
}

/**
 * An answer that did not come from Vault: a 2xx whose body is not a JSON object of the expected
 * shape (malformed JSON, a proxy's page), or an error status whose body is not Vault's JSON error
 * (an HTML 404 from a proxy or a wrong URL). Its message names the origin, the status and the
 * content type only, never the body.
 */
export class NotVaultAnswer extends Error {
  public readonly summary: string;

  public constructor(origin: string, public readonly status: number, contentType: string) {
    const summary = `${origin} answered HTTP ${status} with an answer that is not Vault's (${contentType || 'no content type'}); ` +
      'check the address points at Vault itself, not at a proxy or another server';
    super(summary);
    this.name = 'NotVaultAnswer';
    this.summary = summary;
  }
}

/**
 * The plugin's only door to Vault: the core's {@link BackendHttp} (node:http/https) with Vault's
 * headers. Requests go to the configured origin only: a redirect to another origin (a standby
 * pointing at an active node elsewhere, a hostile proxy) is refused as a ConnectionError naming
 * the redirect's host, so no token, role id, secret id or value is ever sent there; same-origin
 * redirects are followed. Every request ends when the caller's signal fires or after `timeoutMs`.
 * The token never lives on the client: each call passes it as a header.
 *
 * Errors: `HttpStatusError` (status, Retry-After, JSON body for decisions only) for Vault's own
 * error answers, {@link NotVaultAnswer} for answers that are not Vault's, `TransportError` for no
 * answer (refused, reset, TLS with its reason), ConnectionError for a cross-origin redirect.
 */
export class VaultHttp {
  readonly #http: BackendHttp;
  readonly #namespace: string | undefined;
  readonly #timeoutMs: number;

  public constructor(options: VaultHttpOptions) {
    this.#http = new BackendHttp({ plugin: options.plugin, baseUrl: options.address, ...(options.ca ? { ca: options.ca } : {}) });
    this.#namespace = options.namespace;
    this.#timeoutMs = options.timeoutMs;
  }

  /** The configured origin. */
  public get origin(): string {
    return this.#http.origin;
  }

  /** GET `/v1/<path>`. */
  public async read(path: string, options: CallOptions): Promise<VaultBody> {
    return this.send('GET', path, undefined, options);
  }

  /** POST `/v1/<path>` with a JSON body; a 204 answers `{}`. */
  public async write(path: string, body: object, options: CallOptions): Promise<VaultBody> {
    return this.send('POST', path, body, options);
  }

  /** LIST `/v1/<path>`, sent as `GET ?list=true` (not every proxy passes the LIST verb; Vault takes both). */
  public async list(path: string, options: CallOptions): Promise<VaultBody> {
    return this.send('GET', `${path}?list=true`, undefined, options);
  }

  /** A {@link NotVaultAnswer} for a 200 of the wrong shape, for callers that check what they read. */
  public notVault(status = 200, contentType = 'application/json'): NotVaultAnswer {
    return new NotVaultAnswer(this.origin, status, contentType);
  }

  /** Ends idle keep-alive connections (they never keep the process alive anyway). */
  public close(): void {
    this.#http.close();
  }

  private async send(method: 'GET' | 'POST', path: string, body: object | undefined, options: CallOptions): Promise<VaultBody> {
    const headers: { [name: string]: string } = {};
    if (options.token) headers['X-Vault-Token'] = options.token.reveal();
    if (this.#namespace && options.namespaced !== false) headers['X-Vault-Namespace'] = this.#namespace;
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let answer;
    try {
      answer = await this.#http.request({ method, path: `/v1/${path}`, headers, body, signal: AbortSignal.any([options.signal, timeout]) });
    } catch (error) {
      if (timeout.aborted && !options.signal.aborted) {
        throw new TransportError('network', `got no answer from ${new URL(this.origin).host} within ${this.#timeoutMs} ms (requestTimeoutMs)`);
      }
      // 401/403/429 keep their meaning whoever answered; any other 4xx that is not Vault's JSON is not Vault speaking.
      if (error instanceof HttpStatusError && error.status >= 400 && error.status < 500 && !KEPT.includes(error.status) && !isVaultError(error)) {
        throw new NotVaultAnswer(this.origin, error.status, error.contentType);
      }
      throw error;
    }
    if (answer.status === 204) return {};
    if (!isObject(answer.json)) throw new NotVaultAnswer(this.origin, answer.status, answer.contentType);
    return answer.json;
  }
}

/** Statuses that mean the same whoever answered them: denied, rate limited. */
const KEPT = [401, 403, 429];

/** Whether an error answer has Vault's shape: a JSON object with `errors: string[]`, or (a deleted KV v2 version) `data`. */
function isVaultError(error: HttpStatusError): boolean {
  const json = error.json();
  if (!isObject(json)) return false;
  const errors = json.errors;
  if (Array.isArray(errors)) return errors.every((e) => typeof e === 'string');
  return isObject(json.data);
}

/** The HTTP status of a Vault error answer, or undefined for no answer, a refused redirect, an answer that is not Vault's. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof HttpStatusError ? error.status : undefined;
}

/**
 * The JSON body of a Vault error answer, `{}` when there is none. For decisions only (a CAS
 * conflict, a deleted version): never copy it into a message or a log, it may hold a value.
 */
export function bodyOf(error: unknown): VaultBody {
  const json = error instanceof HttpStatusError ? error.json() : undefined;
  return isObject(json) ? json : {};
}

/** The `errors` strings of a Vault error body (for decisions only, as {@link bodyOf}); undefined when it has none. */
export function errorsOf(error: unknown): string[] | undefined {
  const errors = bodyOf(error).errors;
  return Array.isArray(errors) ? errors.filter((e): e is string => typeof e === 'string') : undefined;
}

/** A nested object field, or undefined. */
export function field(body: unknown, ...path: string[]): unknown {
  let at: unknown = body;
  for (const name of path) {
    if (!isObject(at)) return undefined;
    at = at[name];
  }
  return at;
}

/** Whether `value` is a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is { readonly [name: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Encodes each segment of a Vault path, so `?`, `#`, `%` and spaces in keys reach Vault as written. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
