import { ConnectionError, SecretsConfigError } from '@floe-secrets/core';

/** The plugin's name, as errors carry it. */
export const NAME = 'keycloak';

/** One answer of Keycloak: its status and JSON body (an empty object when the body is no JSON object). */
export interface JsonAnswer {
  readonly status: number;
  readonly body: { readonly [field: string]: unknown };
}

/** What a request carries besides its URL. */
export interface RequestOptions {
  /** `GET` unless a form is sent. */
  readonly form?: URLSearchParams;
  /** The `Authorization` header value; never logged. */
  readonly authorization?: string;
  /** Cancels the request (health checks). */
  readonly signal?: AbortSignal;
}

/**
 * Sends one request to Keycloak with a timeout and returns the status and JSON body. Redirects are
 * refused (a bearer token must not follow one). Network failures and timeouts become a
 * ConnectionError naming `what` and the URL; bodies never reach a message.
 */
export async function requestJson(url: string, what: string, timeoutMs: number, options: RequestOptions = {}): Promise<JsonAnswer> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const headers: { [name: string]: string } = { accept: 'application/json' };
  if (options.authorization) headers.authorization = options.authorization;
  if (options.form) headers['content-type'] = 'application/x-www-form-urlencoded';
  let response: Response;
  try {
    response = await fetch(url, { method: options.form ? 'POST' : 'GET', headers, body: options.form, redirect: 'error', signal });
  } catch {
    const reason = timeout.aborted ? `timed out after ${timeoutMs} ms` : 'failed (connection refused, reset, or a redirect)';
    throw new ConnectionError(`${NAME}: ${what} at ${url} ${reason}; check serverUrl and that Keycloak is up`, NAME);
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  return { status: response.status, body: typeof body === 'object' && body !== null && !Array.isArray(body) ? body as JsonAnswer['body'] : {} };
}

/**
 * A JSON answer that must be 200: 404 means the realm or endpoint does not exist (a configuration
 * error), anything else that Keycloak could not serve it.
 */
export async function getJson(url: string, what: string, timeoutMs: number, signal?: AbortSignal): Promise<JsonAnswer['body']> {
  const answer = await requestJson(url, what, timeoutMs, { signal });
  if (answer.status === 404) {
    throw new SecretsConfigError(`${NAME}: ${what} at ${url} answered HTTP 404; check serverUrl and that the realm exists`, NAME);
  }
  if (answer.status !== 200) {
    throw new ConnectionError(`${NAME}: ${what} at ${url} answered HTTP ${answer.status}; check that Keycloak is up`, NAME);
  }
  return answer.body;
}

/** A string field of a JSON body, or undefined. */
export function stringField(body: { readonly [field: string]: unknown }, name: string): string | undefined {
  const value = body[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** An OAuth error code (`invalid_client`, ...) from a body, when it looks like one; safe to show. */
export function oauthError(body: { readonly [field: string]: unknown }): string | undefined {
  const code = stringField(body, 'error');
  return code !== undefined && /^[a-z_]{1,64}$/.test(code) ? code : undefined;
}
