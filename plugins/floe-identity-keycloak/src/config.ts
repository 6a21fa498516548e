import { Masked } from '@floe-secrets/core';

/**
 * The JWS algorithms the plugin can be told to accept: asymmetric only. HMAC (`HS256`, ...) would
 * let anyone holding the realm's public key forge tokens (algorithm confusion), and `none` is no
 * signature at all; both are refused when the configuration is parsed.
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** One of {@link ASYMMETRIC_ALGORITHMS}. */
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Whether `url` may be used: https, or http to a loopback address, or http anywhere with the explicit flag. */
export function transportAllowed(url: URL, allowInsecureHttp: boolean): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && (allowInsecureHttp || LOOPBACK.has(url.hostname)));
}

/**
 * The strict configuration of a {@link KeycloakIdentityPlugin} as callers write it: unknown fields
 * are refused, the client secret becomes {@link @floe-secrets/core!Masked}, insecure choices fail
 * here rather than at the first token.
 *
 * @requirement CR-003 (strict plugin configuration, masked credentials)
 */
export interface KeycloakIdentityPluginConfig {
  /**
   * Keycloak's base URL, e.g. `https://id.example.com` (or `https://id.example.com/auth` for
   * Keycloak before 17), without credentials, query or fragment. A realm's issuer is
   * `<serverUrl>/realms/<realm>`. Must be https; http only for 127.0.0.1, [::1] or localhost, or
   * with `allowInsecureHttp`.
   */
  readonly serverUrl: string;
  /**
   * The realms (tenants) whose tokens are accepted, 1 to 100, each listed once. Each has its own
   * issuer and keys; a token is matched to its realm by its `iss`, and a token of any other issuer
   * is refused unread.
   */
  readonly realms: readonly string[];
  /** What `aud` must contain: this service's client id, or several; one match suffices. */
  readonly audience: string | readonly string[];
  /**
   * The JWS algorithms accepted; asymmetric only (HMAC and `none` are refused).
   *
   * @default ["RS256"]
   */
  readonly algorithms?: readonly AsymmetricAlgorithm[];
  /**
   * Leeway for `exp` and `nbf` against clock drift between Keycloak and this host, in seconds (0 to 300).
   *
   * @default 30
   */
  readonly clockToleranceSeconds?: number;
  /**
   * How long fetched keys are used before they are fetched again, in seconds (60 to 86400).
   *
   * @default 3600
   */
  readonly jwksCacheTtlSeconds?: number;
  /**
   * The least time between two key fetches of one realm, in seconds (1 to 3600): a token with an
   * unknown key id triggers a fetch only once per cooldown, so a flood of forged tokens cannot
   * hammer Keycloak.
   *
   * @default 30
   */
  readonly jwksRefreshCooldownSeconds?: number;
  /**
   * Timeout of each request to Keycloak, in milliseconds (100 to 30000).
   *
   * @default 3000
   */
  readonly requestTimeoutMs?: number;
  /**
   * A client for the admin REST API (client credentials grant); checked by healthCheck.
   *
   * @default - none: no admin API token, and healthCheck checks the realms' keys only
   */
  readonly serviceAccount?: KeycloakServiceAccount;
  /**
   * Allows `http:` to hosts other than loopback. Tokens and the client secret then cross the network in the clear.
   *
   * @default false
   */
  readonly allowInsecureHttp?: boolean;
}

/** A confidential client with "Service accounts roles" enabled, for Keycloak's admin REST API. */
export interface KeycloakServiceAccount {
  /** The client's id. */
  readonly clientId: string;
  /** Its secret (client authentication `client_secret_basic`). Held as a `Masked`: it never prints. */
  readonly clientSecret: string;
  /**
   * The realm the client lives in, e.g. `master`; need not be one of `realms`.
   *
   * @default - the first of `realms`
   */
  readonly realm?: string;
}

/**
 * The parsed configuration: a {@link KeycloakIdentityPluginConfig} with its defaults filled in, the
 * audience as a list and the client secret masked.
 */
export interface KeycloakConfig {
  /** Keycloak's base URL, without trailing `/`. */
  readonly serverUrl: string;
  /** The realms whose tokens are accepted. */
  readonly realms: readonly string[];
  /** What `aud` must contain (one match suffices). */
  readonly audience: readonly string[];
  /** The JWS algorithms accepted. */
  readonly algorithms: readonly AsymmetricAlgorithm[];
  /** Leeway for `exp` and `nbf`, in seconds. */
  readonly clockToleranceSeconds: number;
  /** How long fetched keys are used, in seconds. */
  readonly jwksCacheTtlSeconds: number;
  /** The least time between two key fetches of one realm, in seconds. */
  readonly jwksRefreshCooldownSeconds: number;
  /** Timeout of each request to Keycloak, in milliseconds. */
  readonly requestTimeoutMs: number;
  /** The client for the admin REST API, with its secret masked; none when not configured. */
  readonly serviceAccount?: { readonly clientId: string; readonly clientSecret: Masked; readonly realm?: string };
  /** Whether `http:` to hosts other than loopback is allowed. */
  readonly allowInsecureHttp: boolean;
}
