import { SpanStatusCode, trace } from '@opentelemetry/api';
import { AuditLogger, IdentityAuditAction } from './audit';
import { ConnectionError, SecretsError } from './errors';
import { FLOE_API_VERSION, HealthStatus, PluginMetadata } from './plugin';
import { withTimeout } from './resilience';
import { MalformedTokenError } from './token-errors';

/**
 * The claims of a token whose signature, issuer, audience and validity period were verified.
 * The typed fields are read from the standard claims and Keycloak's usual ones; everything the
 * token carried is in {@link VerifiedClaims.raw}. The token itself is never kept.
 */
export interface VerifiedClaims {
  /** `sub`: who the token speaks for (a user id, or a service account's). */
  readonly subject: string;
  /** `iss`, exactly as trusted, e.g. `https://id.example.com/realms/sales`. */
  readonly issuer: string;
  /** The realm (tenant) the issuer belongs to, e.g. `sales`. */
  readonly realm: string;
  /** `aud`, always as a list. */
  readonly audience: readonly string[];
  /** `exp`. */
  readonly expiresAt: Date;
  /** `iat`, when present. */
  readonly issuedAt?: Date;
  /** The client the token was issued to: `azp`, else `client_id`. */
  readonly clientId?: string;
  /** `preferred_username`, when present. */
  readonly username?: string;
  /** `email`, when present. */
  readonly email?: string;
  /** Realm roles (Keycloak `realm_access.roles`), sorted. */
  readonly roles: readonly string[];
  /** Client roles by client (Keycloak `resource_access.<client>.roles`), each sorted. */
  readonly clientRoles: { readonly [client: string]: readonly string[] };
  /** `groups` (Keycloak's group membership mapper, e.g. `/floe/sales`), sorted. */
  readonly groups: readonly string[];
  /** `scope`, split on spaces. */
  readonly scopes: readonly string[];
  /** Every claim of the token, frozen. */
  readonly raw: { readonly [claim: string]: unknown };
}

/** What an identity provider's user info endpoint says about the token's subject. */
export interface UserInfo {
  /** `sub`. */
  readonly subject: string;
  /** The realm that answered. */
  readonly realm: string;
  /** `preferred_username`, when released. */
  readonly username?: string;
  /** `email`, when released. */
  readonly email?: string;
  /** `name`, when released. */
  readonly name?: string;
  /** `groups`, when released; sorted. */
  readonly groups: readonly string[];
  /** Every claim of the answer, frozen. */
  readonly raw: { readonly [claim: string]: unknown };
}

/** Options of {@link IdentityPlugin.getUserInfo}. */
export interface UserInfoOptions {
  /**
   * The realm to ask, for tokens that are not JWTs (opaque tokens carry no issuer).
   *
   * @default - the JWT's issuer; for an opaque token, the plugin's only realm
   */
  readonly realm?: string;
}

/** Options every identity plugin takes besides its provider configuration. */
export interface IdentityPluginOptions {
  /**
   * Where every validation, user info request and health check is recorded.
   *
   * @default - no audit log
   * @requirement REQ-140
   */
  readonly audit?: AuditLogger;
  /**
   * Time a health check may take before it reports unhealthy; the floe plugin contract asks for
   * 5 s at most.
   *
   * @default 4500
   * @requirement seed 004
   */
  readonly healthTimeoutMs?: number;
}

/** Tokens longer than this are refused unread: no identity provider issues them, and parsing them costs. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

const tracer = trace.getTracer('@floe-secrets/core');

/** What the audit log records of a verified token or user info answer. */
type Verified = { readonly subject: string; readonly realm: string };

/**
 * The IdentityPlugin contract with everything around the provider done once: a shape check of the
 * token before anything else, an OpenTelemetry span per call (never the token), an audit event per
 * attempt (subject and realm of verified tokens, never the token), a health check that never
 * throws and answers in time, and error mapping so that only {@link SecretsError}s escape: a
 * {@link TokenError} subclass for a refused token, ConnectionError when the provider cannot be
 * reached, SecretsConfigError for bad input.
 *
 * A provider implements the `backend*` methods.
 *
 * @requirement seed 004
 * @requirement Epic 7A
 */
export abstract class IdentityPlugin implements PluginMetadata {
  public abstract readonly name: string;
  public abstract readonly version: string;
  public readonly floeApiVersion: string = FLOE_API_VERSION;

  /** The identity the plugin acts as (its client id), for the audit log. */
  public abstract get requester(): string;

  private readonly options: IdentityPluginOptions;

  protected constructor(options: IdentityPluginOptions = {}) {
    this.options = options;
  }

  /**
   * Verifies `token` (signature, issuer, audience, `exp` and `nbf`) and returns its claims.
   *
   * @throws TokenError (a subclass per reason) when the token is refused
   * @throws ConnectionError when the issuer's keys are needed and cannot be fetched
   */
  public async validateToken(token: string): Promise<VerifiedClaims> {
    return this.call('validate-token', token, () => this.backendValidate(token));
  }

  /**
   * Asks the identity provider's user info endpoint about the token's subject.
   *
   * @throws TokenError when the provider refuses the token, ConnectionError when it cannot be reached
   */
  public async getUserInfo(token: string, options: UserInfoOptions = {}): Promise<UserInfo> {
    return this.call('userinfo', token, () => this.backendUserInfo(token, options));
  }

  /** Never throws, and answers within {@link IdentityPluginOptions.healthTimeoutMs} whatever the provider does. */
  public async healthCheck(): Promise<HealthStatus> {
    const started = Date.now();
    return tracer.startActiveSpan('floe.identity.health', { attributes: { 'floe.identity.plugin': this.name } }, async (span): Promise<HealthStatus> => {
      try {
        await withTimeout(this.options.healthTimeoutMs ?? 4_500, (signal) => this.backendHealth(signal));
        this.audit('health');
        return { state: 'healthy', durationMs: Date.now() - started };
      } catch (error) {
        const mapped = this.map(error, 'health');
        this.audit('health', undefined, mapped);
        span.setStatus({ code: SpanStatusCode.ERROR, message: mapped.name });
        return { state: 'unhealthy', message: `${mapped.name}: ${mapped.message}`, durationMs: Date.now() - started };
      } finally {
        span.end();
      }
    });
  }

  /** Verifies a token whose shape was checked: a string of at most {@link MAX_TOKEN_LENGTH} characters. */
  protected abstract backendValidate(token: string): Promise<VerifiedClaims>;
  /** Calls the user info endpoint with the token. */
  protected abstract backendUserInfo(token: string, options: UserInfoOptions): Promise<UserInfo>;
  /** Proves the provider answers with usable keys for every realm; throws otherwise. */
  protected abstract backendHealth(signal: AbortSignal): Promise<void>;

  private async call<T extends Verified>(action: IdentityAuditAction, token: string, fn: () => Promise<T>): Promise<T> {
    return tracer.startActiveSpan(`floe.identity.${action}`, { attributes: { 'floe.identity.plugin': this.name } }, async (span) => {
      try {
        if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
          const what = typeof token !== 'string' ? `a ${typeof token}` : `${token.length} characters`;
          throw new MalformedTokenError(`${this.name}: the token is ${what}; pass the compact JWT text (at most ${MAX_TOKEN_LENGTH} characters)`, this.name);
        }
        const value = await fn();
        span.setAttributes({ 'floe.identity.realm': value.realm });
        this.audit(action, value);
        return value;
      } catch (error) {
        const mapped = this.map(error, action);
        this.audit(action, undefined, mapped);
        span.setStatus({ code: SpanStatusCode.ERROR, message: mapped.name });
        throw mapped;
      } finally {
        span.end();
      }
    });
  }

  private map(error: unknown, action: IdentityAuditAction): SecretsError {
    if (error instanceof SecretsError) return error;
    const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : 'failed to reach the identity provider';
    return new ConnectionError(`${this.name}: ${action} ${reason}; check the provider address and that it is up`, this.name);
  }

  private audit(action: IdentityAuditAction, verified?: Verified, error?: SecretsError): void {
    this.options.audit?.record({
      requester: this.requester,
      action,
      plugin: this.name,
      ...(verified ? { subject: verified.subject, realm: verified.realm } : {}),
      outcome: error ? 'failure' : 'success',
      ...(error ? { errorClass: error.name } : {}),
    });
  }
}
