import { Masked, SameShape } from '@floe-secrets/core';
import { z } from 'zod';
import { ASYMMETRIC_ALGORITHMS, KeycloakConfig, KeycloakIdentityPluginConfig, transportAllowed } from './config';

// The zod schema of KeycloakIdentityPluginConfig; the fields are documented there. No exported
// declaration imports this module, so the package's types never load zod's (which need
// esModuleInterop).

/** A Keycloak realm name as it appears in URLs. */
const REALM = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const maskedString = () => z.string().min(1).transform((value) => new Masked(value));

const serviceAccountSchema = z.strictObject({
  clientId: z.string().min(1),
  clientSecret: maskedString(),
  realm: z.string().regex(REALM, 'must be a realm name (letters, digits, ".", "_" and "-")').optional(),
});

/** The strict schema of a {@link KeycloakIdentityPluginConfig}, parsing into a {@link KeycloakConfig}. */
export const keycloakConfigSchema = z.strictObject({
  serverUrl: z.url({ protocol: /^https?$/ }).refine((value) => {
    // zod runs refinements after a failed format check too; that failure is reported already.
    if (!URL.canParse(value)) return true;
    const url = new URL(value);
    return url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  }, 'must be a plain base URL: no credentials, query or fragment').transform((value) => value.replace(/\/+$/, '')),
  realms: z.array(z.string().regex(REALM, 'must be a realm name (letters, digits, ".", "_" and "-")')).min(1).max(100)
    .refine((realms) => new Set(realms).size === realms.length, 'lists a realm twice; list each once'),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((value) => (typeof value === 'string' ? [value] : value)),
  algorithms: z.array(z.enum(ASYMMETRIC_ALGORITHMS, {
    error: `must be an asymmetric JWS algorithm (${ASYMMETRIC_ALGORITHMS.join(', ')}); HMAC (HS256, ...) and none are refused`,
  })).min(1).default(['RS256']),
  clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
  jwksCacheTtlSeconds: z.number().int().min(60).max(86_400).default(3_600),
  jwksRefreshCooldownSeconds: z.number().int().min(1).max(3_600).default(30),
  requestTimeoutMs: z.number().int().min(100).max(30_000).default(3_000),
  serviceAccount: serviceAccountSchema.optional(),
  allowInsecureHttp: z.boolean().default(false),
}).refine((config) => !URL.canParse(config.serverUrl) || transportAllowed(new URL(config.serverUrl), config.allowInsecureHttp), {
  path: ['serverUrl'],
  message: 'must be https (http only for 127.0.0.1, [::1] or localhost, or with allowInsecureHttp: true)',
});

// Compile-time proof that the schema reads exactly the documented configuration and gives exactly
// the documented result.
const documented: [
  input: SameShape<z.input<typeof keycloakConfigSchema>, KeycloakIdentityPluginConfig>,
  output: SameShape<z.output<typeof keycloakConfigSchema>, KeycloakConfig>,
] = [true, true];
void documented;
