import { maskedString } from '@floe-secrets/core';
import { z } from 'zod';

/**
 * The JWS algorithms the plugin can be told to accept: asymmetric only. HMAC (`HS256`, ...) would
 * let anyone holding the realm's public key forge tokens (algorithm confusion), and `none` is no
 * signature at all; both are refused when the configuration is parsed.
 */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

/** One of {@link ASYMMETRIC_ALGORITHMS}. */
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** A Keycloak realm name as it appears in URLs. */
const REALM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Whether `url` may be used: https, or http to a loopback address, or http anywhere with the explicit flag. */
export function transportAllowed(url: URL, allowInsecureHttp: boolean): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && (allowInsecureHttp || LOOPBACK.has(url.hostname)));
}

const serviceAccountSchema = z.strictObject({
  /** A confidential client with "Service accounts roles" enabled. */
  clientId: z.string().min(1),
  /** Its secret (client authentication `client_secret_basic`). */
  clientSecret: maskedString(),
  /** The realm the client lives in, e.g. `master`; need not be one of `realms`. Default: the first of `realms`. */
  realm: z.string().regex(REALM, 'must be a realm name (letters, digits, ".", "_" and "-")').optional(),
});

/**
 * The strict configuration of a {@link KeycloakIdentityPlugin} (CR-003): unknown fields are refused,
 * the client secret becomes {@link @floe-secrets/core!Masked}, insecure choices fail here rather
 * than at the first token.
 */
export const keycloakConfigSchema = z.strictObject({
  /**
   * Keycloak's base URL, e.g. `https://id.example.com` (or `https://id.example.com/auth` for
   * Keycloak before 17). A realm's issuer is `<serverUrl>/realms/<realm>`.
   */
  serverUrl: z.url({ protocol: /^https?$/ }).refine((value) => {
    // zod runs refinements after a failed format check too; that failure is reported already.
    if (!URL.canParse(value)) return true;
    const url = new URL(value);
    return url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  }, 'must be a plain base URL: no credentials, query or fragment').transform((value) => value.replace(/\/+$/, '')),
  /**
   * The realms (tenants) whose tokens are accepted. Each has its own issuer and keys; a token is
   * matched to its realm by its `iss`, and a token of any other issuer is refused unread.
   */
  realms: z.array(z.string().regex(REALM, 'must be a realm name (letters, digits, ".", "_" and "-")')).min(1).max(100)
    .refine((realms) => new Set(realms).size === realms.length, 'lists a realm twice; list each once'),
  /** What `aud` must contain: this service's client id, or several; one match suffices. */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((value) => (typeof value === 'string' ? [value] : value)),
  /** The JWS algorithms accepted; asymmetric only (HMAC and `none` are refused). */
  algorithms: z.array(z.enum(ASYMMETRIC_ALGORITHMS, {
    error: `must be an asymmetric JWS algorithm (${ASYMMETRIC_ALGORITHMS.join(', ')}); HMAC (HS256, ...) and none are refused`,
  })).min(1).default(['RS256']),
  /** Leeway for `exp` and `nbf` against clock drift between Keycloak and this host, in seconds. */
  clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
  /** How long fetched keys are used before they are fetched again, in seconds. */
  jwksCacheTtlSeconds: z.number().int().min(60).max(86_400).default(3_600),
  /**
   * The least time between two key fetches of one realm, in seconds: a token with an unknown key id
   * triggers a fetch only once per cooldown, so a flood of forged tokens cannot hammer Keycloak.
   */
  jwksRefreshCooldownSeconds: z.number().int().min(1).max(3_600).default(30),
  /** Timeout of each request to Keycloak, in milliseconds. */
  requestTimeoutMs: z.number().int().min(100).max(30_000).default(3_000),
  /** A client for the admin REST API (client credentials grant); checked by healthCheck. */
  serviceAccount: serviceAccountSchema.optional(),
  /** Allows `http:` to hosts other than loopback. Tokens and the client secret then cross the network in the clear. */
  allowInsecureHttp: z.boolean().default(false),
}).refine((config) => !URL.canParse(config.serverUrl) || transportAllowed(new URL(config.serverUrl), config.allowInsecureHttp), {
  path: ['serverUrl'],
  message: 'must be https (http only for 127.0.0.1, [::1] or localhost, or with allowInsecureHttp: true)',
});

/** The configuration as callers write it (defaults may be left out). */
export type KeycloakIdentityPluginConfig = z.input<typeof keycloakConfigSchema>;

/** The parsed configuration, with defaults, and the client secret masked. */
export type KeycloakConfig = z.output<typeof keycloakConfigSchema>;
