import { SecretsError } from './errors';

/**
 * A token was refused by an identity plugin: the caller is not authenticated. One subclass per
 * reason, so hosts can answer each one (ask for a new token, fix the client's audience, ...).
 * Messages name the plugin, the reason and the fix; never the token, nor any of its signature.
 *
 * @requirement seed 004 IdentityPlugin
 */
export class TokenError extends SecretsError {}

/** `exp` has passed, beyond the configured clock tolerance. */
export class TokenExpiredError extends TokenError {}

/** `nbf` (not before) lies in the future, beyond the configured clock tolerance. */
export class TokenNotYetValidError extends TokenError {}

/** `aud` names none of the audiences the plugin accepts. */
export class WrongAudienceError extends TokenError {}

/** `iss` is not one of the issuers (realms) the plugin trusts; nothing is fetched from it. */
export class WrongIssuerError extends TokenError {}

/** The signature does not verify with the issuer's key: the token was altered or forged. */
export class BadSignatureError extends TokenError {}

/** The token's key id (`kid`) is not among the issuer's published keys, even after a refresh. */
export class UnknownKeyError extends TokenError {}

/** The token's algorithm is not one the plugin accepts (`none`, HMAC, or not configured). */
export class DisallowedAlgorithmError extends TokenError {}

/** The text is not a signed JWT (three base64url parts, JSON header and claims), or lacks a required claim. */
export class MalformedTokenError extends TokenError {}

/** The identity provider itself refused the token (HTTP 401 from its user info endpoint: revoked, or not meant for it). */
export class TokenRejectedError extends TokenError {}
