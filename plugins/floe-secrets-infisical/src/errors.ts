/**
 * Reading the errors of `@infisical/sdk` v5.
 *
 * The SDK calls the HTTP API with the global `fetch`. A non-2xx answer becomes
 * `InfisicalSDKRequestError` whose only structured trace of the status is its message,
 * `[URL=<url>] [Method=<METHOD>] [StatusCode=<n>] <server message>`, or, when the body carries no
 * string `message` (e.g. a 422 validation failure), `InfisicalSDKError("Request failed with status <n>")`.
 * Network failures, TLS failures and the SDK's own 10 s fetch timeout become `InfisicalSDKError`
 * with the fetch error's message and no status. The SDK itself retries thrown fetch errors and
 * HTTP 429 four times (1 s, 2 s, 4 s, 8 s); it never retries 5xx.
 *
 * These helpers only read the status and the server's message for classification. Neither is ever
 * copied into an error this plugin raises: a response body may echo a value.
 */

const REQUEST_ERROR = /^\[URL=[^\s\]]*\] \[Method=[A-Z]+\] \[StatusCode=(\d{3})\] ?([\s\S]*)$/;
const PLAIN_STATUS = /^Request failed with status (\d{3})$/;

/** The HTTP status of a failed SDK call, or undefined when no answer came (network, timeout). */
export function httpStatus(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'InfisicalSDKRequestError') {
    const match = REQUEST_ERROR.exec(error.message);
    return match ? Number(match[1]) : undefined;
  }
  if (error.name === 'InfisicalSDKError') {
    const match = PLAIN_STATUS.exec(error.message);
    return match ? Number(match[1]) : undefined;
  }
  return undefined;
}

/** The server's `message` of a failed SDK call, for matching only; empty when there is none. */
export function serverMessage(error: unknown): string {
  if (!(error instanceof Error) || error.name !== 'InfisicalSDKRequestError') return '';
  return REQUEST_ERROR.exec(error.message)?.[2] ?? '';
}

/**
 * Whether the server refused the access token itself, so that a fresh login may help: 401
 * (revoked, or expired by its TTL), or 403 `TokenError` ("Your token has expired. Please
 * re-authenticate.", malformed token, bad signature).
 */
export function isTokenRejected(error: unknown): boolean {
  const status = httpStatus(error);
  if (status === 401) return true;
  return status === 403 && /token|re-?authenticate|signature|jwt/i.test(serverMessage(error));
}

/** Whether a retry may succeed: no answer, a timeout, 408, 429, any 5xx (HTTP 500 "Rate limit exceeded" included). */
export function isTransient(error: unknown): boolean {
  const status = httpStatus(error);
  if (status === undefined) return true;
  return status === 408 || status === 429 || status >= 500;
}

/** A 404 about the project or environment rather than a folder or secret: the configuration is wrong. */
export function isScopeNotFound(error: unknown): boolean {
  return httpStatus(error) === 404 && /^(project|environment|workspace)\b/i.test(serverMessage(error));
}

/** A 400 "already exists" answer to a create. */
export function isAlreadyExists(error: unknown): boolean {
  return httpStatus(error) === 400 && /already exist/i.test(serverMessage(error));
}
