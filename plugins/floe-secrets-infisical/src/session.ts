import { ConnectionError, PermissionError, SecretsConfigError } from '@floe-secrets/core';
import { InfisicalSDK } from '@infisical/sdk';
import { ResolvedInfisicalConfig } from './config';
import { httpStatus, isTokenRejected } from './errors';

const PLUGIN = 'infisical';

/**
 * One logged-in `@infisical/sdk` client (Universal Auth) with token renewal.
 *
 * - Logs in on first use (`POST /api/v1/auth/universal-auth/login`), once for all concurrent callers.
 * - Logs in again before the access token expires: Infisical access tokens are JWTs whose `exp`
 *   is the token TTL; the session renews at `exp` minus a fifth of the lifetime (at most 10 s).
 *   The SDK's login returns no `expiresIn`, so a token without a readable `exp` is used until refused.
 * - When the server refuses the token anyway (401, or 403 `TokenError`: revoked, expired by the
 *   server-side TTL, clock skew), logs in again once and repeats the request once.
 *
 * Renewal is a fresh login rather than `POST /api/v1/auth/token/renew`, which cannot outlive the
 * token's max TTL. Each login counts as one use of the client secret: give the identity's client
 * secret no small "number of uses" limit.
 *
 * The SDK object, and with it the access token, live in ES private fields: `util.inspect` and
 * `JSON.stringify` of the session or the plugin never reach them.
 */
export class InfisicalSession {
  readonly #sdk: InfisicalSDK;
  readonly #config: ResolvedInfisicalConfig;
  /** When to log in again (ms since epoch); undefined before the first login and after a refusal. */
  #refreshAt: number | undefined;
  #tokenGeneration = 0;
  #login: Promise<void> | undefined;
  #logins = 0;

  public constructor(config: ResolvedInfisicalConfig) {
    this.#config = config;
    this.#sdk = new InfisicalSDK({ siteUrl: config.siteUrl });
  }

  /** How many logins this session made (first login and renewals). */
  public get logins(): number {
    return this.#logins;
  }

  /**
   * Runs `fn` with a logged-in SDK; on a refused token, logs in again and runs it once more.
   * Checks `signal` before each request, so a timed-out attempt sends nothing further.
   */
  public async call<T>(signal: AbortSignal, fn: (sdk: InfisicalSDK) => Promise<T>): Promise<T> {
    await this.#ensureToken(signal);
    const generation = this.#tokenGeneration;
    try {
      return await fn(this.#sdk);
    } catch (error) {
      if (!isTokenRejected(error)) throw error;
      if (generation === this.#tokenGeneration) this.#refreshAt = undefined;
      await this.#ensureToken(signal);
      return fn(this.#sdk);
    }
  }

  async #ensureToken(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#refreshAt !== undefined && Date.now() < this.#refreshAt) return;
    if (this.#login === undefined) {
      const login: Promise<void> = this.#doLogin().finally(() => {
        if (this.#login === login) this.#login = undefined;
      });
      // Callers may all have timed out; the login must not become an unhandled rejection.
      void login.catch(() => undefined);
      this.#login = login;
    }
    await this.#login;
    signal.throwIfAborted();
  }

  async #doLogin(): Promise<void> {
    try {
      await this.#sdk.auth().universalAuth.login({ clientId: this.#config.clientId, clientSecret: this.#config.clientSecret.reveal() });
    } catch (error) {
      throw this.#loginError(error);
    }
    const token = this.#sdk.auth().getAccessToken();
    if (!token) {
      throw new ConnectionError(`${PLUGIN}: ${this.#config.siteUrl} answered the universal-auth login, but with no access token; check that siteUrl is an Infisical instance`, PLUGIN);
    }
    this.#logins++;
    this.#tokenGeneration++;
    this.#refreshAt = refreshTime(token, Date.now());
  }

  /** A refused login as a clear SecretsError; transient failures (network, 5xx, 429) as they are. */
  #loginError(error: unknown): unknown {
    const status = httpStatus(error);
    const who = `client id ${JSON.stringify(this.#config.clientId)}`;
    if (status === 401 || status === 403) {
      return new PermissionError(
        `${PLUGIN}: universal-auth login as ${who} was refused (HTTP ${status}); check clientId and clientSecret, ` +
          'and that the client secret is not revoked, expired or out of uses, and that this address is in its trusted IPs',
        PLUGIN,
      );
    }
    if (status === 404 || status === 405) {
      return new SecretsConfigError(
        `${PLUGIN}: ${this.#config.siteUrl} answered HTTP ${status} to the universal-auth login; check that siteUrl is the Infisical instance address, without "/api"`,
        PLUGIN,
      );
    }
    if (status === 400 || status === 422) {
      return new SecretsConfigError(`${PLUGIN}: the universal-auth login as ${who} was rejected as malformed (HTTP ${status}); check clientId and clientSecret`, PLUGIN);
    }
    return error;
  }
}

/** When to renew a token: its JWT `exp` minus a fifth of its lifetime (at most 10 s); never when unreadable. */
export function refreshTime(token: string | null, now: number): number {
  const payload = jwtPayload(token);
  if (typeof payload?.exp !== 'number') return Number.POSITIVE_INFINITY;
  const expires = payload.exp * 1000;
  const lifetime = typeof payload.iat === 'number' ? expires - payload.iat * 1000 : expires - now;
  return expires - Math.min(10_000, Math.max(0, lifetime) / 5);
}

function jwtPayload(token: string | null): { exp?: unknown; iat?: unknown } | undefined {
  const part = token?.split('.')[1];
  if (part === undefined) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null ? payload : undefined;
  } catch {
    return undefined;
  }
}
