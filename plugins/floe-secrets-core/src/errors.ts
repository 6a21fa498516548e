/**
 * The only errors a secrets plugin lets escape. None carries a secret value, a token, a response
 * body or an internal stack: messages name the plugin, the action and the key.
 *
 * @requirement seed 001 CR-004
 */
export class SecretsError extends Error {
  public constructor(
    message: string,
    /** The plugin that failed, e.g. `k8s`. */
    public readonly plugin: string,
    /** The key the call was about, when there is one. */
    public readonly key?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The backend refused: the caller lacks permission (HTTP 401/403, RBAC forbidden). */
export class PermissionError extends SecretsError {}

/** The backend could not be reached: refused, timed out, TLS failure, or a server error. */
export class ConnectionError extends SecretsError {}

/** Bad input or configuration, found before anything was sent to the backend. */
export class SecretsConfigError extends SecretsError {}

/** The backend does not support the operation (e.g. multi-key secrets); callers may test for it. */
export class NotImplementedError extends SecretsError {}
