import {
  BadSignatureError, DisallowedAlgorithmError, MalformedTokenError, TokenExpiredError, TokenNotYetValidError, VerifiedClaims, WrongAudienceError,
  WrongIssuerError,
} from '@floe-secrets/core';
import type { JWTPayload } from 'jose';
import { NAME } from './http';

/**
 * A value read from an unverified token, quoted and cut to 80 characters for a message: the sender
 * chose it, so it must neither flood a log nor pass for anything but data.
 */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A list claim (or a single string) as sorted strings. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').sort() : [];
}

function optional(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function object(value: unknown): { readonly [name: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as { [name: string]: unknown } : {};
}

/** Freezes a parsed JSON value and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * The typed view of a verified token's claims: the standard ones and Keycloak's realm roles
 * (`realm_access.roles`), client roles (`resource_access.<client>.roles`) and `groups`.
 *
 * @throws MalformedTokenError when `sub` is missing (Keycloak 25+ puts it in the `basic` client scope)
 */
export function toVerifiedClaims(payload: JWTPayload, realm: string): VerifiedClaims {
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new MalformedTokenError(
      `${NAME}: the token of realm ${realm} has no sub claim; add the "basic" client scope (Keycloak 25+) or a subject mapper to the client`,
      NAME,
    );
  }
  const clientRoles: { [client: string]: readonly string[] } = {};
  for (const [client, access] of Object.entries(object(payload.resource_access))) clientRoles[client] = strings(object(access).roles);
  const scope = optional(payload, 'scope');
  return Object.freeze({
    subject: payload.sub,
    issuer: payload.iss as string,
    realm,
    audience: Object.freeze(strings(payload.aud)),
    expiresAt: new Date((payload.exp as number) * 1000),
    ...(typeof payload.iat === 'number' ? { issuedAt: new Date(payload.iat * 1000) } : {}),
    ...(optional(payload, 'azp') ?? optional(payload, 'client_id') ? { clientId: optional(payload, 'azp') ?? optional(payload, 'client_id') } : {}),
    ...(optional(payload, 'preferred_username') ? { username: optional(payload, 'preferred_username') } : {}),
    ...(optional(payload, 'email') ? { email: optional(payload, 'email') } : {}),
    roles: Object.freeze(strings(object(payload.realm_access).roles)),
    clientRoles: Object.freeze(clientRoles),
    groups: Object.freeze(strings(payload.groups)),
    scopes: Object.freeze(scope ? scope.split(' ').filter(Boolean) : []),
    raw: deepFreeze({ ...payload }),
  });
}

/** What the message of a refused token may tell about the check that refused it. */
export interface CheckContext {
  readonly realm: string;
  readonly audience: readonly string[];
  readonly clockToleranceSeconds: number;
  readonly payload: JWTPayload;
}

/**
 * Turns a jose verification error into the TokenError for its reason; other errors (ours, already
 * typed, or a failure to fetch keys) are returned as they are.
 */
export function tokenError(error: unknown, context: CheckContext): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const claim = (error as { claim?: unknown } | null)?.claim;
  const { realm, payload } = context;
  const tolerance = `clock tolerance ${context.clockToleranceSeconds} s`;
  if (code === 'ERR_JWT_EXPIRED') {
    return new TokenExpiredError(`${NAME}: the token of realm ${realm} expired at ${isoTime(payload.exp)} (${tolerance}); get a new token`, NAME);
  }
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (error as { reason?: unknown }).reason !== 'missing') {
    if (claim === 'nbf') {
      return new TokenNotYetValidError(
        `${NAME}: the token of realm ${realm} is not valid before ${isoTime(payload.nbf)} (${tolerance}); check this host's clock`,
        NAME,
      );
    }
    if (claim === 'aud') {
      return new WrongAudienceError(
        `${NAME}: the token of realm ${realm} is for audience ${shown(payload.aud)}, not ${context.audience.join(' or ')}; ` +
          'request a token for this service (a Keycloak audience mapper on the client adds it to aud)',
        NAME,
      );
    }
    if (claim === 'iss') {
      return new WrongIssuerError(`${NAME}: the token names issuer ${shown(payload.iss)}, not realm ${realm}'s; get a token from that realm`, NAME);
    }
  }
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    return new MalformedTokenError(`${NAME}: the token of realm ${realm} lacks the ${shown(claim)} claim or has an invalid one; get a new token`, NAME);
  }
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
    return new BadSignatureError(`${NAME}: the token's signature does not verify with realm ${realm}'s key: it was altered or forged`, NAME);
  }
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') {
    return new DisallowedAlgorithmError(`${NAME}: the token's algorithm is not accepted for realm ${realm}`, NAME);
  }
  if (code === 'ERR_JWS_INVALID' || code === 'ERR_JWT_INVALID' || code === 'ERR_JOSE_NOT_SUPPORTED' || code === 'ERR_JWK_INVALID') {
    return new MalformedTokenError(`${NAME}: the token of realm ${realm} is not a valid signed JWT; get a new token`, NAME);
  }
  return error;
}

function isoTime(seconds: unknown): string {
  return typeof seconds === 'number' && Math.abs(seconds) < 8.64e12 ? new Date(seconds * 1000).toISOString() : shown(seconds);
}
