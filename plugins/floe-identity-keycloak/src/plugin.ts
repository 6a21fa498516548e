import {
  ConnectionError, DisallowedAlgorithmError, IdentityPlugin, IdentityPluginOptions, MalformedTokenError, Masked, parseConfig, PermissionError,
  SecretsConfigError, TokenRejectedError, UserInfo, UserInfoOptions, VerifiedClaims, WrongIssuerError,
} from '@floe-secrets/core';
import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import { deepFreeze, shown, tokenError, toVerifiedClaims } from './claims';
import { KeycloakConfig } from './config';
import { keycloakConfigSchema } from './config-schema';
import { NAME, oauthError, requestJson, stringField } from './http';
import { jose } from './jose';
import { RealmKeys } from './realm-keys';

/** This plugin's own version. */
export const KEYCLOAK_PLUGIN_VERSION = '0.1.0';

/** Options of a {@link KeycloakIdentityPlugin} besides its configuration. */
export interface KeycloakPluginOptions extends IdentityPluginOptions {
  /**
   * The clock: token validity and key freshness are judged against it.
   *
   * @default - the system clock
   */
  readonly now?: () => Date;
}

/** A service account token is fetched again this long before it expires. */
const SERVICE_TOKEN_MARGIN_MS = 30_000;

/**
 * A floe IdentityPlugin for Keycloak: validates OIDC access tokens locally
 * against each realm's published keys, with jose doing the cryptography.
 *
 * **Realms.** Each configured realm is a tenant with its own issuer `<serverUrl>/realms/<realm>` and
 * its own keys. A token is matched to its realm by its `iss` before anything else; a token of any
 * other issuer is refused without a request, so no one can make the plugin fetch keys from a
 * server of their choosing.
 *
 * **Checks.** The header's algorithm must be one of `algorithms` (asymmetric only; `none` and HMAC
 * are refused before any key is looked up). Then the signature with the realm's key for the
 * token's `kid`, `iss` exactly, `aud` containing one of `audience`, `exp` (required) and `nbf`
 * within `clockToleranceSeconds`, and a `sub`. Keycloak ID and refresh tokens (claim `typ` other
 * than `Bearer`) are refused: only access tokens authorize calls.
 *
 * **Keys** come from OIDC discovery and are cached per realm, fresh for `jwksCacheTtlSeconds`
 * (default 1 h), refreshed on an unknown `kid` at most once per `jwksRefreshCooldownSeconds`; see
 * {@link RealmKeys}. A warm validation makes no request.
 *
 * **User info** is asked of the realm's `userinfo_endpoint` with the token.
 *
 * **Service account.** With `serviceAccount` configured, {@link KeycloakIdentityPlugin.getServiceAccountToken}
 * gives a client credentials token for Keycloak's admin REST API, and healthCheck proves the
 * credentials.
 *
 * **Errors.** A refused token is a TokenError subclass (TokenExpiredError, WrongAudienceError, ...);
 * Keycloak unreachable is a ConnectionError; a bad configuration a SecretsConfigError. No message
 * carries a token, a signature or the client secret.
 *
 * @requirement seed 004
 * @requirement ADR-0024
 */
export class KeycloakIdentityPlugin extends IdentityPlugin {
  public readonly name = NAME;
  public readonly version = KEYCLOAK_PLUGIN_VERSION;
  /** The parsed configuration; the client secret is masked. */
  public readonly config: Readonly<KeycloakConfig>;
  readonly #byIssuer = new Map<string, RealmKeys>();
  readonly #byName = new Map<string, RealmKeys>();
  readonly #now: () => Date;
  #serviceToken: { readonly token: Masked; readonly expiresAt: number } | undefined;

  /**
   * @param config a {@link KeycloakIdentityPluginConfig}; plain data, as discovery passes it
   * @throws SecretsConfigError naming every invalid field (never its value)
   */
  public constructor(config: unknown, options: KeycloakPluginOptions = {}) {
    super(options);
    this.config = parseConfig(NAME, keycloakConfigSchema, config);
    deepFreeze(this.config);
    this.#now = options.now ?? (() => new Date());
    const settings = {
      ttlMs: this.config.jwksCacheTtlSeconds * 1000,
      cooldownMs: this.config.jwksRefreshCooldownSeconds * 1000,
      timeoutMs: this.config.requestTimeoutMs,
      allowInsecureHttp: this.config.allowInsecureHttp,
      now: () => this.#now().getTime(),
    };
    const serviceRealm = this.config.serviceAccount?.realm;
    for (const realm of new Set([...this.config.realms, ...(serviceRealm ? [serviceRealm] : [])])) {
      const keys = new RealmKeys(realm, this.issuerOf(realm), settings);
      this.#byName.set(realm, keys);
      if (this.config.realms.includes(realm)) this.#byIssuer.set(keys.issuer, keys);
    }
  }

  /** The service account's client id, else the first audience: who the plugin is to Keycloak. */
  public get requester(): string {
    return this.config.serviceAccount?.clientId ?? this.config.audience[0];
  }

  /** The issuer (`iss`) of a realm's tokens: `<serverUrl>/realms/<realm>`. */
  public issuerOf(realm: string): string {
    return `${this.config.serverUrl}/realms/${realm}`;
  }

  /**
   * A client credentials token of the service account, for Keycloak's admin REST API
   * (`Authorization: Bearer <token.reveal()>` on `<serverUrl>/admin/realms/<realm>/...`). Cached
   * until shortly before it expires.
   *
   * @throws SecretsConfigError when no serviceAccount is configured
   * @throws PermissionError when Keycloak refuses the client's credentials
   * @throws ConnectionError when Keycloak cannot be reached
   */
  public async getServiceAccountToken(): Promise<Masked> {
    const now = this.#now().getTime();
    if (this.#serviceToken && this.#serviceToken.expiresAt - SERVICE_TOKEN_MARGIN_MS > now) return this.#serviceToken.token;
    this.#serviceToken = await this.fetchServiceToken();
    return this.#serviceToken.token;
  }

  protected async backendValidate(token: string): Promise<VerifiedClaims> {
    let header: ProtectedHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = jose.decodeProtectedHeader(token);
      unverified = jose.decodeJwt(token);
    } catch {
      throw new MalformedTokenError(`${NAME}: the token is not a signed JWT (three base64url parts with a JSON header and claims); send the access token`, NAME);
    }
    const algorithms: readonly string[] = this.config.algorithms;
    if (typeof header.alg !== 'string' || !algorithms.includes(header.alg)) {
      const why = typeof header.alg === 'string' && /^(none|HS\d+)$/i.test(header.alg) ? ' (unsigned and HMAC tokens are always refused)' : '';
      throw new DisallowedAlgorithmError(
        `${NAME}: the token is signed with ${shown(header.alg)}${why}; accepted: ${algorithms.join(', ')} (configure algorithms to match the realm's keys)`,
        NAME,
      );
    }
    const realm = typeof unverified.iss === 'string' ? this.#byIssuer.get(unverified.iss) : undefined;
    if (!realm) {
      throw new WrongIssuerError(
        `${NAME}: the token names issuer ${shown(unverified.iss)}, which is not a trusted realm (${[...this.#byIssuer.keys()].join(', ')}); ` +
          'get a token from one of them, or add its realm to realms',
        NAME,
      );
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(token, realm.key, {
        issuer: realm.issuer,
        audience: [...this.config.audience],
        algorithms: [...algorithms],
        clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['exp'],
        currentDate: this.#now(),
      }));
    } catch (error) {
      const { audience, clockToleranceSeconds } = this.config;
      throw tokenError(error, { realm: realm.realm, audience, clockToleranceSeconds, payload: unverified });
    }
    if (typeof payload.typ === 'string' && payload.typ.toLowerCase() !== 'bearer') {
      throw new MalformedTokenError(`${NAME}: the token of realm ${realm.realm} is a Keycloak ${shown(payload.typ)} token, not an access token; send the access token`, NAME);
    }
    return toVerifiedClaims(payload, realm.realm);
  }

  protected async backendUserInfo(token: string, options: UserInfoOptions): Promise<UserInfo> {
    const { realm, subject } = this.realmForUserInfo(token, options);
    const endpoint = (await realm.endpoints()).userinfoEndpoint;
    if (endpoint === undefined) {
      throw new SecretsConfigError(`${NAME}: realm ${realm.realm} advertises no userinfo_endpoint; check that ${realm.issuer} is a Keycloak realm`, NAME);
    }
    const answer = await requestJson(endpoint, `the user info of realm ${realm.realm}`, this.config.requestTimeoutMs, { authorization: `Bearer ${token}` });
    if (answer.status === 401 || answer.status === 403) {
      throw new TokenRejectedError(
        `${NAME}: realm ${realm.realm} refused the token at its user info endpoint (HTTP ${answer.status}): ` +
          'it expired, was revoked, or is no access token of this realm with scope openid; get a new token',
        NAME,
      );
    }
    if (answer.status !== 200) {
      throw new ConnectionError(`${NAME}: the user info endpoint of realm ${realm.realm} answered HTTP ${answer.status}; check that Keycloak is up`, NAME);
    }
    const sub = stringField(answer.body, 'sub');
    if (sub === undefined || (subject !== undefined && sub !== subject)) {
      // OpenID Connect Core 5.3.2: a user info answer for another subject must not be used.
      throw new TokenRejectedError(`${NAME}: realm ${realm.realm} answered user info ${sub === undefined ? 'without a subject' : "for another subject than the token's"}; do not use it`, NAME);
    }
    const optional = (claim: string) => (stringField(answer.body, claim) !== undefined ? { [claim === 'preferred_username' ? 'username' : claim]: stringField(answer.body, claim) } : {});
    const groups = answer.body.groups;
    return Object.freeze({
      subject: sub,
      realm: realm.realm,
      ...optional('preferred_username'),
      ...optional('email'),
      ...optional('name'),
      groups: Object.freeze(Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string').sort() : []),
      raw: deepFreeze({ ...answer.body }),
    });
  }

  protected async backendHealth(signal: AbortSignal): Promise<void> {
    await Promise.all(this.config.realms.map((realm) => this.#byName.get(realm)!.check(signal)));
    if (this.config.serviceAccount) this.#serviceToken = await this.fetchServiceToken(signal);
  }

  /** The realm whose user info endpoint may see the token: its issuer's, else the one named, else the only one. */
  private realmForUserInfo(token: string, options: UserInfoOptions): { realm: RealmKeys; subject?: string } {
    let claims: JWTPayload | undefined;
    try {
      claims = jose.decodeJwt(token);
    } catch {
      claims = undefined; // an opaque token: its realm must be named or implied
    }
    const named = options.realm === undefined ? undefined : this.#byIssuer.get(this.issuerOf(options.realm));
    if (options.realm !== undefined && !named) {
      throw new SecretsConfigError(`${NAME}: realm ${shown(options.realm)} is not one of the trusted realms (${this.config.realms.join(', ')}); add it to realms`, NAME);
    }
    if (typeof claims?.iss === 'string') {
      const realm = this.#byIssuer.get(claims.iss);
      if (!realm || (named && named !== realm)) {
        throw new WrongIssuerError(`${NAME}: the token names issuer ${shown(claims.iss)}, not ${named ? named.issuer : 'a trusted realm'}; it is not sent anywhere`, NAME);
      }
      return { realm, ...(typeof claims.sub === 'string' ? { subject: claims.sub } : {}) };
    }
    if (named) return { realm: named };
    if (this.config.realms.length === 1) return { realm: this.#byIssuer.get(this.issuerOf(this.config.realms[0]))! };
    throw new SecretsConfigError(
      `${NAME}: the token names no issuer, so its realm is unknown; pass { realm } (one of ${this.config.realms.join(', ')}) to getUserInfo`,
      NAME,
    );
  }

  private async fetchServiceToken(signal?: AbortSignal): Promise<{ token: Masked; expiresAt: number }> {
    const account = this.config.serviceAccount;
    if (!account) {
      throw new SecretsConfigError(`${NAME}: no serviceAccount is configured; add serviceAccount { clientId, clientSecret } to use the admin REST API`, NAME);
    }
    const realmName = account.realm ?? this.config.realms[0];
    const realm = this.#byName.get(realmName)!;
    const endpoint = (await realm.endpoints(signal)).tokenEndpoint;
    if (endpoint === undefined) {
      throw new SecretsConfigError(`${NAME}: realm ${realmName} advertises no token_endpoint; check that ${realm.issuer} is a Keycloak realm`, NAME);
    }
    const basic = Buffer.from(`${encodeURIComponent(account.clientId)}:${encodeURIComponent(account.clientSecret.reveal())}`).toString('base64');
    const answer = await requestJson(endpoint, `the client credentials grant of realm ${realmName}`, this.config.requestTimeoutMs, {
      form: new URLSearchParams({ grant_type: 'client_credentials' }),
      authorization: `Basic ${basic}`,
      signal,
    });
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
      const code = oauthError(answer.body);
      throw new PermissionError(
        `${NAME}: realm ${realmName} refused client ${account.clientId} (HTTP ${answer.status}${code ? ` ${code}` : ''}); ` +
          'check serviceAccount.clientId and clientSecret, and that the client has "Service accounts roles" enabled',
        NAME,
      );
    }
    const token = stringField(answer.body, 'access_token');
    if (answer.status !== 200 || token === undefined) {
      throw new ConnectionError(`${NAME}: the token endpoint of realm ${realmName} answered HTTP ${answer.status} without a token; check that Keycloak is up`, NAME);
    }
    const expiresIn = typeof answer.body.expires_in === 'number' ? answer.body.expires_in : 60;
    return { token: new Masked(token), expiresAt: this.#now().getTime() + expiresIn * 1000 };
  }
}
