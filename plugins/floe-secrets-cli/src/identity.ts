import { AuditLogger, KeycloakIdentityManifestConfig, PermissionError, SecretAccessPolicy, SecretsError, VerifiedClaims } from '@floe-secrets/core';
import { KeycloakIdentityPlugin } from '@floe-secrets/identity-keycloak';
import { CliError, CliIO } from './io';

/**
 * The environment variable the CLI reads the caller's access token from. Never an argument: argv
 * is visible to every user of the machine and lands in shell history.
 */
export const TOKEN_VARIABLE = 'FLOE_SECRETS_TOKEN';

/** Who runs the CLI, when manifest.yaml configures `plugins.identity`. */
export interface Caller {
  /** The verified claims of their access token. */
  readonly claims: VerifiedClaims;
  /** Which domains those claims grant (manifest.yaml's `domains_from`). */
  readonly policy: SecretAccessPolicy;
}

/**
 * Validates the caller's access token ({@link TOKEN_VARIABLE}) with the identity plugin that
 * manifest.yaml configures: signature against the realm's published keys, issuer, audience and
 * expiry. The token is never printed, logged or kept.
 *
 * @param audit where the identity plugin records the validation (subject and outcome, never the token)
 * @throws CliError when the token is missing or refused, saying why and what to do
 */
export async function authenticate(identity: KeycloakIdentityManifestConfig, manifestPath: string, io: CliIO, audit: AuditLogger): Promise<Caller> {
  const token = io.env[TOKEN_VARIABLE]?.trim();
  const accepted = `realm ${identity.realms.join(' or ')} of ${identity.serverUrl}, audience ${identity.audience.join(' or ')}`;
  if (!token) {
    throw new CliError(`${manifestPath} configures the ${identity.type} identity plugin: export ${TOKEN_VARIABLE} with your access token (${accepted})`);
  }
  const plugin = new KeycloakIdentityPlugin({ serverUrl: identity.serverUrl, realms: identity.realms, audience: identity.audience }, { audit });
  try {
    return { claims: await plugin.validateToken(token), policy: SecretAccessPolicy.fromManifest(identity) };
  } catch (error) {
    if (!(error instanceof SecretsError)) throw error;
    throw new CliError(`your access token (${TOKEN_VARIABLE}) was refused: ${error.name}: ${error.message}; get a new one (${accepted})`);
  }
}

/**
 * Refuses a Kubernetes namespace that the caller's token does not grant (a `floe-<domain>`
 * namespace of one of its domains).
 *
 * @throws CliError naming the subject, the namespace, the domains granted and the fix
 */
export function authorize(caller: Caller, namespace: string): void {
  try {
    caller.policy.assertMayTouch(caller.claims, namespace);
  } catch (error) {
    if (error instanceof PermissionError) throw new CliError(`PermissionError: ${error.message}`);
    throw error;
  }
}
