import { Masked, parseConfig, SameShape } from '@floe-secrets/core';
import { z } from 'zod';

/** Infisical Cloud (US). Self-hosted instances give their own https URL. */
export const INFISICAL_CLOUD_URL = 'https://app.infisical.com';

/** How long a read is served from memory unless configured otherwise. */
export const DEFAULT_CACHE_TTL_MS = 30_000;

/**
 * The configuration of an {@link InfisicalSecretsPlugin} as callers write it. Unknown fields are
 * refused, so a misspelt option never goes unnoticed.
 *
 * @requirement REQ-132
 * @requirement REQ-135
 */
export interface InfisicalSecretsPluginConfig {
  /**
   * The Infisical instance: Infisical Cloud or a self-hosted URL, without `/api`. Must be https;
   * plain http is accepted for loopback addresses only (`localhost`, `127.0.0.0/8`, `[::1]`), so the
   * client secret and tokens never cross a network in clear text.
   *
   * @default https://app.infisical.com
   */
  readonly siteUrl?: string;
  /** The Universal Auth client id of the machine identity. An identifier, not a secret: it is the audit log's requester. */
  readonly clientId: string;
  /** The Universal Auth client secret. Held as a `Masked`: it never prints, and only the login request carries it. */
  readonly clientSecret: string;
  /**
   * The project's ID (Project Settings, "Copy Project ID"). Give exactly one of `projectId` and
   * `projectSlug`.
   *
   * @default - the project named by projectSlug
   */
  readonly projectId?: string;
  /**
   * The project's slug; the plugin resolves it to the project's id once, on first use.
   *
   * @default - the project named by projectId
   */
  readonly projectSlug?: string;
  /** The environment slug, e.g. `dev`, `staging`, `prod`. */
  readonly environment: string;
  /**
   * The folder every key is relative to, e.g. `/compute/snowflake` or `/catalog/polaris`. Key
   * `a/b/name` is secret `name` in folder `<secretPath>/a/b`.
   *
   * @default /
   * @requirement REQ-132 scoping
   */
  readonly secretPath?: string;
  /**
   * How long, in milliseconds, a read (found or missing) is served from memory before Infisical is
   * asked again. Writes through this plugin drop the entry at once. `0` turns the cache off.
   *
   * @default 30000
   */
  readonly cacheTtlMs?: number;
  /**
   * Whether Infisical expands secret references (`${KEY}`, `${env.folder.KEY}`) in values it returns.
   * The server expands them; secret imports are never followed by a get.
   *
   * @default true
   */
  readonly expandSecretReferences?: boolean;
}

const FOLDER_NAME = /^[A-Za-z0-9_-]+$/;
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** The checks of `siteUrl`; the value is never quoted back (a URL may carry credentials). */
function checkSiteUrl(value: string, ctx: z.RefinementCtx): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not a URL; give the instance address, e.g. "https://infisical.example.com"' });
    return;
  }
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'holds a user name or password; remove them, the plugin authenticates with clientId and clientSecret' });
  }
  if (url.search !== '' || url.hash !== '') {
    ctx.addIssue({ code: 'custom', message: 'holds a query or fragment; give only the instance address' });
  }
  if (/\/api\/?$/.test(url.pathname)) {
    ctx.addIssue({ code: 'custom', message: 'ends in "/api"; give the instance address without it, e.g. "https://infisical.example.com"' });
  }
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname)) {
    ctx.addIssue({ code: 'custom', message: 'uses plain http to a non-loopback host; use https (http is accepted for localhost only)' });
  } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'must be an https URL' });
  }
}

/** The checks of `secretPath`: an absolute folder path whose segments are valid Infisical folder names. */
function checkSecretPath(value: string, ctx: z.RefinementCtx): void {
  if (!value.startsWith('/')) {
    ctx.addIssue({ code: 'custom', message: 'must start with "/", e.g. "/compute/snowflake"' });
    return;
  }
  const segments = value.split('/').filter((s) => s !== '');
  if (value !== '/' && value.replace(/\/$/, '').split('/').slice(1).some((s) => s === '')) {
    ctx.addIssue({ code: 'custom', message: 'has an empty segment ("//"); remove it' });
  }
  if (segments.some((s) => !FOLDER_NAME.test(s))) {
    ctx.addIssue({ code: 'custom', message: 'has a folder name Infisical does not allow; use letters, digits, "-" and "_" only' });
  }
}

// The schema is module-private: no exported declaration may name a zod type, or the package's types
// would load zod's (which need esModuleInterop).
const maskedString = () => z.string().min(1).transform((value) => new Masked(value));

const schema = z.strictObject({
  siteUrl: z.string().trim().default(INFISICAL_CLOUD_URL).superRefine(checkSiteUrl).transform((url) => url.replace(/\/+$/, '')),
  clientId: z.string().trim().min(1),
  clientSecret: maskedString(),
  projectId: z.string().trim().min(1).optional(),
  projectSlug: z.string().trim().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be a project slug such as "data-platform"').optional(),
  environment: z.string().trim().min(1).regex(/^[A-Za-z0-9_-]+$/, 'must be an environment slug such as "prod"'),
  secretPath: z.string().trim().default('/').superRefine(checkSecretPath).transform((path) => (path === '/' ? path : path.replace(/\/+$/, ''))),
  cacheTtlMs: z.number().int().min(0).max(86_400_000).default(DEFAULT_CACHE_TTL_MS),
  expandSecretReferences: z.boolean().default(true),
}).superRefine((config, ctx) => {
  if ((config.projectId === undefined) === (config.projectSlug === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['projectId'], message: 'give exactly one of projectId and projectSlug' });
  }
});

/** The configuration after parsing: defaults filled in, the client secret held as a {@link Masked}. */
export interface ResolvedInfisicalConfig {
  readonly siteUrl: string;
  readonly clientId: string;
  readonly clientSecret: Masked;
  /** Exactly one of projectId and projectSlug is set. */
  readonly projectId?: string;
  readonly projectSlug?: string;
  readonly environment: string;
  /** Normalised: starts with `/`, no trailing `/` except the root itself. */
  readonly secretPath: string;
  readonly cacheTtlMs: number;
  readonly expandSecretReferences: boolean;
}

// Compile-time proof that the schema reads exactly the documented configuration and gives exactly
// the documented result.
const documented: [
  input: SameShape<z.input<typeof schema>, InfisicalSecretsPluginConfig>,
  output: SameShape<z.output<typeof schema>, ResolvedInfisicalConfig>,
] = [true, true];
void documented;

/**
 * Parses the plugin configuration.
 *
 * @throws SecretsConfigError listing every problem by field, never quoting a value
 */
export function parseInfisicalConfig(input: unknown): Readonly<ResolvedInfisicalConfig> {
  return parseConfig('infisical', schema, input);
}

/** Whether `name` is a folder name Infisical accepts. */
export function isFolderName(name: string): boolean {
  return FOLDER_NAME.test(name);
}
