import * as http from 'node:http';
import * as https from 'node:https';
import { inspect } from 'node:util';
import { ConnectionError, NOT_JSON, parseJsonBody, parseRetryAfter, PermissionError, SecretsConfigError, tlsReason } from '@floe-secrets/core';
import type * as K8s from '@kubernetes/client-node';
import { AuthKind } from './auth-kind';

/** The largest answer read (32 MiB): a longer one is cut off as an error instead of filling memory. */
const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** What a request is for, to name it in errors: `what` like `get "db/password"`, and the key. */
export interface Target {
  readonly what: string;
  readonly key?: string;
}

/** One answer that was not a redirect. */
export interface RawAnswer {
  readonly status: number;
  /** The media type without parameters, lowercase; empty when absent. */
  readonly contentType: string;
  /** The body as JSON, or {@link NOT_JSON}. */
  readonly json: unknown;
  /** Retry-After in milliseconds, when the server sent one. */
  readonly retryAfterMs?: number;
}

/** ConnectionErrors worth another attempt (refused, reset, 5xx, 429, a conflict): the plugin's classify says `transient`. */
const retryable = new WeakSet<Error>();

/** Whether `error` is a failure another attempt may not see (see {@link KubeApi}). */
export function isRetryable(error: unknown): boolean {
  return error instanceof Error && retryable.has(error);
}

/**
 * A ConnectionError that the plugin's retries try again. `retryAfterMs` (a server's Retry-After)
 * is kept as a non-enumerable property, which the core's retry loop honours when it knows it.
 */
export function retryableConnectionError(message: string, key: string | undefined, retryAfterMs?: number): ConnectionError {
  const error = new ConnectionError(message, 'k8s', key);
  retryable.add(error);
  if (retryAfterMs !== undefined) Object.defineProperty(error, 'retryAfterMs', { value: retryAfterMs, enumerable: false });
  return error;
}

/**
 * A non-2xx answer that is the apiserver's own JSON `Status` (kind `Status`): only these say
 * "not found", "conflict" or "forbidden". The message holds the status and reason only.
 */
export class ApiStatusError extends Error {
  public constructor(
    public readonly status: number,
    /** The Status reason, e.g. `NotFound`, `Conflict`, `Forbidden`. */
    public readonly reason: string,
    /** `details.kind`: the resource the Status is about, e.g. `secrets`, `namespaces`. */
    public readonly detailsKind: string | undefined,
    /** `details.name`: the name of the object the Status is about. */
    public readonly detailsName: string | undefined,
  ) {
    super(`the apiserver answered HTTP ${status} ${reason}`);
    this.name = 'ApiStatusError';
  }
}

/** Whether `hostname` (as in a URL) is this machine. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/**
 * The plugin's one door to the apiserver: Node's own http/https with the kubeconfig's TLS settings
 * and credentials (applied per request, so exec plugins and token files refresh).
 *
 * - Requests go to the kubeconfig's server only. The apiserver never redirects its API, so any
 *   redirect is refused as a ConnectionError naming the redirect's host (never its path or
 *   query), and nothing is sent there: not the token, not a value.
 * - Plain http is refused for any host but this machine (the token would cross the network in clear).
 * - The caller's AbortSignal ends a request and its socket; answers over 32 MiB are cut off.
 * - Every failure is a ConnectionError, PermissionError or SecretsConfigError whose message names
 *   the host, the status and the reason, never a body, a header or a credential; or an
 *   {@link ApiStatusError} for the apiserver's own Status answers, for the caller to decide.
 * - The KubeConfig is held in a private field: nothing reachable from this object prints it.
 */
export class KubeApi {
  readonly #kc: K8s.KubeConfig;
  readonly #base: URL;
  readonly #agent: http.Agent;
  readonly #proxied: boolean;
  /** @kubernetes/client-node 1.x refuses plain http unless the cluster sets insecure-skip-tls-verify. */
  readonly #plainHttpRefused: boolean;
  /** The server as printed: origin and path, never user info or query. */
  readonly #server: string;
  readonly #identity: string;
  readonly #auth: AuthKind;

  public constructor(kc: K8s.KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) {
      throw new SecretsConfigError('k8s: no cluster in the kubeconfig; set kubeconfig (or $KUBECONFIG) to a file with a current context', 'k8s');
    }
    let base: URL;
    try {
      base = new URL(cluster.server);
    } catch {
      throw new SecretsConfigError(`k8s: the server of kubeconfig cluster ${JSON.stringify(cluster.name)} is not a URL; write it like "https://10.0.0.1:6443"`, 'k8s');
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new SecretsConfigError(`k8s: the server of kubeconfig cluster ${JSON.stringify(cluster.name)} must be an https URL, not ${base.protocol}`, 'k8s');
    }
    if (base.username !== '' || base.password !== '') {
      throw new SecretsConfigError(
        `k8s: the server of kubeconfig cluster ${JSON.stringify(cluster.name)} holds a user name or password; remove it and put credentials in the kubeconfig user`, 'k8s');
    }
    if (base.protocol === 'http:' && !isLoopback(base.hostname)) {
      throw new SecretsConfigError(
        `k8s: the server of kubeconfig cluster ${JSON.stringify(cluster.name)} is plain http to ${base.host}: credentials would cross the network in clear; use https`, 'k8s');
    }
    this.#kc = kc;
    this.#base = base;
    this.#server = `${base.origin}${base.pathname.replace(/\/+$/, '')}`;
    this.#proxied = cluster.proxyUrl !== undefined && cluster.proxyUrl !== '';
    this.#plainHttpRefused = base.protocol === 'http:' && !cluster.skipTLSVerify;
    this.#agent = base.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 16 }) : new http.Agent({ keepAlive: true, maxSockets: 16 });
    const user = kc.getCurrentUser();
    this.#identity = user?.name ?? 'unknown';
    this.#auth = authKind(user);
  }

  /** The kubeconfig's server, e.g. `https://10.0.0.1:6443`. */
  public get server(): string {
    return this.#server;
  }

  /** The kubeconfig user's name, e.g. `system:serviceaccount:floe-jobs:writer`. */
  public get identity(): string {
    return this.#identity;
  }

  /** The kind of credential the kubeconfig user has. */
  public get auth(): AuthKind {
    return this.#auth;
  }

  /**
   * A request whose answer must be 2xx JSON.
   *
   * @returns the parsed body
   * @throws ApiStatusError for the apiserver's own Status answers (404, 409, 403, 422...);
   * PermissionError for 401 and a 403 that is not the apiserver's; ConnectionError otherwise
   */
  public async request(method: 'GET' | 'POST' | 'PUT', path: string, body: unknown, signal: AbortSignal, target: Target): Promise<unknown> {
    return this.settle(await this.send(method, path, body, signal, target), target);
  }

  /**
   * The body of a 2xx JSON answer.
   *
   * @throws as {@link KubeApi.request}
   */
  public settle(answer: RawAnswer, target: Target): unknown {
    const { status, contentType, json } = answer;
    const fail = (summary: string): string => `k8s: ${target.what} failed: ${summary}`;
    if (status >= 200 && status < 300) {
      if (json === NOT_JSON) throw new ConnectionError(fail(`${this.host} answered HTTP ${status} with ${describeBody(contentType)}, not JSON; ${NOT_APISERVER}`), 'k8s', target.key);
      return json;
    }
    const wait = answer.retryAfterMs === undefined ? '' : ` (retry after ${Math.ceil(answer.retryAfterMs / 1000)} s)`;
    if (status === 429) throw retryableConnectionError(fail(`rate limited: the server answered HTTP 429${wait}`), target.key, answer.retryAfterMs);
    if (status >= 500) throw retryableConnectionError(fail(`the server answered HTTP ${status}${wait}`), target.key, answer.retryAfterMs);
    if (status === 401) {
      throw new PermissionError(
        fail(`the cluster did not accept the credentials of kubeconfig user ${this.#identity} (${this.#auth}, HTTP 401); renew them in the kubeconfig`), 'k8s', target.key);
    }
    const statusObject = apiStatus(json, status);
    if (statusObject) throw statusObject;
    if (status === 403) {
      throw new PermissionError(fail(`${this.host} refused it (HTTP 403) with ${describeBody(contentType)}, not the apiserver's JSON Status; ${NOT_APISERVER}`), 'k8s', target.key);
    }
    throw new ConnectionError(fail(`${this.host} answered HTTP ${status} with ${describeBody(contentType)}, not the apiserver's JSON Status; ${NOT_APISERVER}`), 'k8s', target.key);
  }

  /**
   * One request, any status but a redirect.
   *
   * @throws ConnectionError for a redirect, no answer (refused, reset, TLS...) or an answer too large;
   * SecretsConfigError when the kubeconfig's credentials cannot be applied; the signal's reason when aborted
   */
  public async send(method: 'GET' | 'POST' | 'PUT', path: string, body: unknown, signal: AbortSignal, target: Target): Promise<RawAnswer> {
    signal.throwIfAborted();
    if (this.#plainHttpRefused) {
      throw new SecretsConfigError(
        `k8s: ${target.what} failed: the kubeconfig's server ${this.#server} is plain http, which @kubernetes/client-node accepts only when the cluster ` +
          'sets insecure-skip-tls-verify: true (and http://localhost:8080 is what it assumes when it finds no kubeconfig: set kubeconfig or $KUBECONFIG)',
        'k8s', target.key);
    }
    const options: https.RequestOptions = {};
    try {
      await this.#kc.applyToHTTPSOptions(options);
    } catch {
      // The error may quote an exec plugin's output or a file's content: only its existence is told.
      throw new SecretsConfigError(
        `k8s: ${target.what} failed: could not apply the credentials of kubeconfig user ${this.#identity} (${this.#auth}); check that user and cluster in the kubeconfig`,
        'k8s', target.key);
    }
    signal.throwIfAborted();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const url = new URL(`${this.#base.origin}${this.#base.pathname.replace(/\/+$/, '')}${path}`);
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise<RawAnswer>((resolve, reject) => {
      const fail = (error: Error): void => reject(signal.aborted ? signal.reason : error);
      const request = lib.request(url, {
        method,
        signal,
        agent: this.#proxied ? options.agent : this.#agent,
        ...pick(options, ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized', 'auth']),
        headers: {
          ...(options.headers as { [name: string]: string }),
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      }, (response) => {
        const status = response.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          response.destroy();
          request.destroy();
          fail(this.redirectRefused(status, response.headers.location, target));
          return;
        }
        const contentType = String(response.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            request.destroy();
            fail(new ConnectionError(`k8s: ${target.what} failed: the answer from ${this.host} is larger than ${MAX_ANSWER_BYTES} bytes`, 'k8s', target.key));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          if (!response.complete) return;
          resolve({ status, contentType, json: parseJsonBody(Buffer.concat(chunks), contentType), retryAfterMs });
        });
        response.on('error', (error) => fail(this.socketError(error, target)));
        response.on('aborted', () => fail(this.socketError(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), target)));
      });
      request.on('error', (error) => fail(this.socketError(error, target)));
      request.end(payload);
    });
  }

  /** Safe facts only. */
  public toJSON(): { server: string; user: string; auth: AuthKind } {
    return { server: this.#server, user: this.#identity, auth: this.#auth };
  }

  public [inspect.custom](): string {
    return `KubeApi ${inspect(this.toJSON(), { breakLength: Infinity })}`;
  }

  private get host(): string {
    return this.#base.host;
  }

  private redirectRefused(status: number, location: string | undefined, target: Target): ConnectionError {
    let to: URL | undefined;
    try {
      to = location === undefined ? undefined : new URL(location, this.#base);
    } catch {
      to = undefined;
    }
    const where = to === undefined
      ? 'an address that is not a URL'
      : to.origin === this.#base.origin ? 'the same server' : `another host, ${to.host || '(none)'}`;
    return new ConnectionError(
      `k8s: ${target.what} failed: ${this.host} answered with a redirect (HTTP ${status}) to ${where}; refused: the apiserver never redirects its API, ` +
        `and credentials and values go to ${this.#base.origin} only. Point the kubeconfig's server at the apiserver itself`,
      'k8s', target.key);
  }

  private socketError(error: Error, target: Target): ConnectionError {
    const raw = (error as { code?: unknown }).code;
    const code = typeof raw === 'string' ? raw : 'unknown';
    const fail = (summary: string): string => `k8s: ${target.what} failed: ${summary}`;
    const tls = tlsReason(code);
    if (tls !== undefined) {
      return new ConnectionError(
        fail(`TLS: ${tls} (${code}) at ${this.host}; put the server's CA in the kubeconfig (certificate-authority-data) or fix its certificate`), 'k8s', target.key);
    }
    switch (code) {
      case 'ECONNREFUSED':
        return retryableConnectionError(fail(`connection refused by ${this.host}; check the kubeconfig's server address and that the apiserver is up`), target.key);
      case 'ECONNRESET':
      case 'EPIPE':
        return retryableConnectionError(fail(`the connection to ${this.host} was reset before the answer was complete`), target.key);
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return retryableConnectionError(fail(`the host name of ${this.host} does not resolve; check the kubeconfig's server address`), target.key);
      default:
        return retryableConnectionError(fail(`the request to ${this.host} failed (${code})`), target.key);
    }
  }
}

const NOT_APISERVER = 'a proxy or a wrong address answered, not the apiserver: check the kubeconfig\'s server';

function describeBody(contentType: string): string {
  return contentType === '' ? 'a body of no content type' : contentType;
}

/** Kubernetes' StatusReasons (k8s.io/apimachinery metav1.StatusReason). */
const STATUS_REASONS = new Set([
  'Unauthorized', 'Forbidden', 'NotFound', 'AlreadyExists', 'Conflict', 'Gone', 'Invalid', 'ServerTimeout', 'StoreReadError', 'Timeout',
  'TooManyRequests', 'BadRequest', 'MethodNotAllowed', 'NotAcceptable', 'RequestEntityTooLarge', 'UnsupportedMediaType', 'InternalError',
  'Expired', 'ServiceUnavailable',
]);

/** The apiserver's own Status answer (`kind: Status` with the same code), as an error; undefined for anything else. */
function apiStatus(json: unknown, status: number): ApiStatusError | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const s = json as { kind?: unknown; code?: unknown; reason?: unknown; details?: { kind?: unknown; name?: unknown } };
  if (s.kind !== 'Status' || (s.code !== undefined && s.code !== status)) return undefined;
  // The reason and details are the server's words: the reason (which messages show) only when it is
  // one of Kubernetes' own StatusReasons, the details (compared, never shown) when they look like names.
  const word = (v: unknown, pattern: RegExp): string | undefined => (typeof v === 'string' && pattern.test(v) ? v : undefined);
  return new ApiStatusError(
    status,
    typeof s.reason === 'string' && STATUS_REASONS.has(s.reason) ? s.reason : 'Unknown',
    word(s.details?.kind, /^[a-z0-9.-]{1,253}$/),
    word(s.details?.name, /^[a-z0-9.-]{1,253}$/),
  );
}


function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out;
}

function authKind(user: K8s.User | null | undefined): AuthKind {
  if (!user) return 'none';
  if (user.token) return 'bearer token';
  if (user.exec) return 'exec plugin';
  if (user.authProvider) return (user.authProvider as { name?: unknown }).name === 'tokenFile' ? 'token file' : 'auth provider';
  if (user.certData || user.certFile) return 'client certificate';
  if (user.username) return 'basic';
  return 'none';
}
