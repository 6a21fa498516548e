import * as http from 'node:http';
import * as https from 'node:https';
import { ConnectionError, SecretsConfigError } from './errors';

/** What a backend answered when its body could not be read as JSON. */
export const NOT_JSON: unique symbol = Symbol('not JSON');

/** The largest answer read by default (16 MiB); a longer one fails as a {@link TransportError}. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** How many same-origin redirects one request follows. */
const MAX_REDIRECTS = 3;

/** An error whose message is safe to show: it names what failed, never a body, header, value or credential. */
export interface DescribedFailure {
  /** A clause such as `connection refused by 127.0.0.1:8200` or `the server answered HTTP 503 (retry after 30 s)`. */
  readonly summary: string;
  /** How long the server asked the client to wait (Retry-After), when it did. */
  readonly retryAfterMs?: number;
}

/** Why a request got no usable answer. */
export type TransportFailure = 'refused' | 'reset' | 'dns' | 'tls' | 'too-large' | 'network';

/**
 * A request that got no HTTP answer (refused, reset, DNS, TLS) or an answer too large to read.
 * Its message is built from the target's host and the error code only.
 */
export class TransportError extends Error implements DescribedFailure {
  public readonly summary: string;

  public constructor(public readonly failure: TransportFailure, summary: string, public readonly code?: string) {
    super(summary);
    this.name = 'TransportError';
    this.summary = summary;
  }
}

/**
 * A non-2xx HTTP answer. The parsed body is kept in a private field for decisions (a missing
 * secret, a conflict) and never printed: `util.inspect`, `JSON.stringify` and the message show the
 * status, the content type and Retry-After only.
 */
export class HttpStatusError extends Error implements DescribedFailure {
  readonly #json: unknown;
  public readonly summary: string;

  public constructor(
    public readonly status: number,
    /** The media type without parameters, e.g. `application/json`, `text/html`; empty when absent. */
    public readonly contentType: string,
    json: unknown,
    public readonly retryAfterMs?: number,
  ) {
    const wait = retryAfterMs === undefined ? '' : ` (retry after ${Math.ceil(retryAfterMs / 1000)} s)`;
    const summary = `the server answered HTTP ${status}${wait}`;
    super(summary);
    this.name = 'HttpStatusError';
    this.summary = summary;
    this.#json = json;
  }

  /** The body as JSON, or {@link NOT_JSON} when it was not JSON (an HTML error page, a proxy's text). For decisions only. */
  public json(): unknown {
    return this.#json;
  }

  /** Whether the body was JSON: a proxy or a wrong URL answers with HTML or text. */
  public get isJson(): boolean {
    return this.#json !== NOT_JSON;
  }
}

/** One answer with a 2xx status. */
export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  /** The body as JSON; {@link NOT_JSON} when empty or not JSON. */
  readonly json: unknown;
}

/** One request. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path and query after the base URL's path, starting with `/`; the caller encodes it. */
  readonly path: string;
  /** Extra headers (credentials among them); never logged. */
  readonly headers?: { readonly [name: string]: string };
  /** A body, sent as JSON. */
  readonly body?: unknown;
  /** Ends the request (and its socket) when aborted. */
  readonly signal: AbortSignal;
}

/** Options of {@link BackendHttp}. */
export interface BackendHttpOptions {
  /** The plugin's name, for messages. */
  readonly plugin: string;
  /** The configured base URL, e.g. `https://vault.example.com:8200` or `https://infisical.example.com`. */
  readonly baseUrl: string;
  /** CA certificates (PEM) trusted besides the system's, for a private CA. */
  readonly ca?: Buffer;
  /** @default DEFAULT_MAX_RESPONSE_BYTES */
  readonly maxResponseBytes?: number;
}

/**
 * The one door from a plugin to its backend, over Node's own http/https:
 *
 * - **Origin pinning.** Requests go to the configured origin only. A redirect to another origin
 *   (scheme, host or port) is refused with a ConnectionError naming the redirect's host, never its
 *   path or query; nothing is sent there. Same-origin redirects are followed (at most 3): 307/308
 *   with their method and body, 301/302/303 for GET only.
 * - **Bounded.** The caller's AbortSignal ends the request and its socket; answers longer than
 *   `maxResponseBytes` are cut off as an error. Idle keep-alive sockets do not keep a process alive
 *   and {@link BackendHttp.close} ends them.
 * - **Safe errors.** Failures become {@link TransportError} (refused, reset, DNS, TLS with its
 *   reason) or {@link HttpStatusError} (status, content type, Retry-After). Neither message quotes a
 *   body, a header or the request. JSON that does not parse is {@link NOT_JSON}, never an error
 *   quoting the text.
 * - **TLS** is always verified (environment overrides such as NODE_TLS_REJECT_UNAUTHORIZED aside).
 */
export class BackendHttp {
  readonly #plugin: string;
  readonly #base: URL;
  readonly #agent: http.Agent;
  readonly #maxBytes: number;

  public constructor(options: BackendHttpOptions) {
    this.#plugin = options.plugin;
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new SecretsConfigError(`${options.plugin}: the backend address is not a URL`, options.plugin);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new SecretsConfigError(`${options.plugin}: the backend address must be an http(s) URL, not ${base.protocol}`, options.plugin);
    }
    if (base.username !== '' || base.password !== '') {
      throw new SecretsConfigError(`${options.plugin}: the backend address must not hold a user name or password`, options.plugin);
    }
    this.#base = base;
    this.#maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.#agent = base.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: 16, ...(options.ca ? { ca: options.ca } : {}) })
      : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** The configured origin, e.g. `https://vault.example.com:8200`. */
  public get origin(): string {
    return this.#base.origin;
  }

  /** Ends every idle connection. */
  public close(): void {
    this.#agent.destroy();
  }

  /**
   * Sends one request.
   *
   * @returns the answer when its status is 2xx
   * @throws HttpStatusError for any other status; TransportError when no answer came;
   * ConnectionError for a redirect to another origin or too many redirects; the signal's reason
   * when aborted
   */
  public async request(req: HttpRequest): Promise<HttpAnswer> {
    const basePath = this.#base.pathname.replace(/\/+$/, '');
    let url = new URL(`${this.#base.origin}${basePath}${req.path}`);
    let method: string = req.method;
    let body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body), 'utf8');
    for (let hops = 0; ; hops++) {
      const answer = await this.once(url, method, req.headers ?? {}, body, req.signal);
      if (answer.location === undefined) return this.settle(answer);
      const target = this.redirectTarget(url, answer.status, answer.location);
      if (hops >= MAX_REDIRECTS) {
        throw new ConnectionError(`${this.#plugin}: ${this.#base.origin} redirected more than ${MAX_REDIRECTS} times; point the address at the server itself`, this.#plugin);
      }
      if (answer.status === 301 || answer.status === 302 || answer.status === 303) {
        if (method !== 'GET') {
          throw new ConnectionError(
            `${this.#plugin}: ${this.#base.origin} answered a ${method} with a redirect (HTTP ${answer.status}) that would drop the request body; point the address at the server itself`,
            this.#plugin,
          );
        }
      }
      url = target;
      method = answer.status === 303 ? 'GET' : method;
      body = answer.status === 303 ? undefined : body;
    }
  }

  private redirectTarget(from: URL, status: number, location: string): URL {
    let target: URL;
    try {
      target = new URL(location, from);
    } catch {
      throw new ConnectionError(`${this.#plugin}: ${this.#base.origin} answered a redirect (HTTP ${status}) to an address that is not a URL; refused`, this.#plugin);
    }
    if (target.origin !== this.#base.origin) {
      throw new ConnectionError(
        `${this.#plugin}: ${this.#base.origin} answered with a redirect (HTTP ${status}) to another host, ${target.host || '(none)'}; refused: ` +
          `credentials and values are sent to ${this.#base.origin} only. Set the address to the server that answers itself`,
        this.#plugin,
      );
    }
    return target;
  }

  private settle(answer: RawAnswer): HttpAnswer {
    const json = parseJsonBody(answer.body, answer.contentType);
    if (answer.status >= 200 && answer.status < 300) return { status: answer.status, contentType: answer.contentType, json };
    throw new HttpStatusError(answer.status, answer.contentType, json, answer.retryAfterMs);
  }

  private once(
    url: URL, method: string, headers: { readonly [name: string]: string }, body: Buffer | undefined, signal: AbortSignal,
  ): Promise<RawAnswer> {
    signal.throwIfAborted();
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<RawAnswer>((resolve, reject) => {
      const request = lib.request(url, {
        method,
        agent: this.#agent,
        signal,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
          ...headers,
        },
      }, (response) => {
        const status = response.statusCode ?? 0;
        const contentType = String(response.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        const location = status >= 300 && status < 400 && typeof response.headers.location === 'string' ? response.headers.location : undefined;
        const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.#maxBytes) {
            reject(new TransportError('too-large', `the answer from ${url.host} is larger than ${this.#maxBytes} bytes`));
            request.destroy();
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => resolve({ status, contentType, location, retryAfterMs, body: Buffer.concat(chunks) }));
        response.on('error', (error) => reject(this.transportError(error, url, signal)));
        response.on('aborted', () => reject(new TransportError('reset', `the connection to ${url.host} was reset in the middle of the answer`)));
      });
      request.on('error', (error) => reject(this.transportError(error, url, signal)));
      request.end(body);
    });
  }

  private transportError(error: Error, url: URL, signal: AbortSignal): Error {
    if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new TransportError('network', `the request to ${url.host} was aborted`);
    const code = (error as { code?: unknown }).code;
    const name = typeof code === 'string' ? code : 'unknown';
    return describeSocketError(name, url.host);
  }
}

interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly location: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly body: Buffer;
}

const TLS_REASONS: { readonly [code: string]: string } = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server\'s certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server\'s certificate chain ends in a self-signed CA that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server\'s certificate is signed by a CA that is not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server\'s certificate is signed by a CA that is not trusted',
  CERT_HAS_EXPIRED: 'the server\'s certificate has expired',
  CERT_NOT_YET_VALID: 'the server\'s certificate is not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server\'s certificate does not name this host',
  EPROTO: 'the server does not speak TLS on this port',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the server does not speak TLS on this port',
};

/** What a TLS error code means, e.g. "the server's certificate is self-signed"; undefined when the code is no TLS error. */
export function tlsReason(code: string): string | undefined {
  return TLS_REASONS[code] ?? (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') ? 'the TLS handshake failed' : undefined);
}

/** A socket error code as a TransportError whose message names the host and the reason only. */
function describeSocketError(code: string, host: string): TransportError {
  const tls = tlsReason(code);
  if (tls !== undefined) {
    return new TransportError('tls', `TLS with ${host} failed: ${tls} (${code}); trust its CA (the plugin's CA option or NODE_EXTRA_CA_CERTS) or fix the certificate`, code);
  }
  switch (code) {
    case 'ECONNREFUSED':
      return new TransportError('refused', `connection refused by ${host}: nothing listens there`, code);
    case 'ECONNRESET':
    case 'EPIPE':
      return new TransportError('reset', `the connection to ${host} was reset before the answer was complete`, code);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TransportError('dns', `the host name of ${host} does not resolve`, code);
    default:
      return new TransportError('network', `the request to ${host} failed (${code})`, code);
  }
}

/** Retry-After as milliseconds: delta seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(header: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A body as JSON, or {@link NOT_JSON} when it is empty, of another media type, or does not parse (never an error quoting it). */
export function parseJsonBody(body: Buffer, contentType: string): unknown {
  if (body.length === 0) return NOT_JSON;
  if (contentType !== '' && contentType !== 'application/json' && !contentType.endsWith('+json')) return NOT_JSON;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    // The parser's message quotes the input, which may hold a value: it is dropped.
    return NOT_JSON;
  }
}

/** Whether `error` carries a safe {@link DescribedFailure.summary}. */
export function isDescribedFailure(error: unknown): error is Error & DescribedFailure {
  return error instanceof TransportError || error instanceof HttpStatusError;
}
