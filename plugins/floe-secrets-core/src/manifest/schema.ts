import { z } from 'zod';
import { parseDuration } from '../duration';
import { dnsLabelProblem, dnsSubdomainProblem, isEnvVarName, MAX_DOMAIN_NAME_LENGTH, quote, secretKeyProblem } from '../names';
import { YamlPathSegment } from './yaml-locate';

// The zod schema of manifest.yaml: snake_case in, camelCase out. Custom issues carry finished
// `<problem>; <fix>` messages; ./manifest-issues.ts renders zod's own issues. The public types
// live in ../platform-manifest.ts, which checks that the schema's output matches them.

/** The shortest `resync_interval` accepted: the operator would otherwise hammer the Infisical API. */
export const MIN_RESYNC_SECONDS = 5;

/**
 * Runs a mapping's cross-field check even when some of its fields failed, so that every problem is
 * reported at once; not when the value is not a mapping at all. Fields that failed their own
 * check hold their raw value, so cross-field checks rule only on values they recognise.
 */
const ALWAYS = { when: (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value) };
const SLUG = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MOUNT = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
const WORD = /^\S+$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

type Check = (value: string) => string | undefined;

/**
 * A string whose value `check` judges. Its issues are marked `echo`: the renderer quotes the value
 * in front of the problem unless the field could hold a credential.
 */
function checked(check: Check) {
  return z.string().superRefine((value, ctx) => {
    const problem = check(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { echo: true } });
  });
}

const withFix = (problem: string | undefined, fix: string) => problem && `${problem}; ${fix}`;
const dnsLabel = (fix: string, max = 63) => checked((v) => withFix(dnsLabelProblem(v, max), fix));
const dnsSubdomain = (fix: string) => checked((v) => withFix(dnsSubdomainProblem(v), fix));
const matching = (pattern: RegExp, problem: string, fix: string) => checked((v) => (pattern.test(v) ? undefined : `${problem}; ${fix}`));
const word = (fix: string) => matching(WORD, 'is empty or holds white space', fix);
const namespace = dnsLabel('use the name of an existing namespace, e.g. "floe-platform"');

/**
 * A mapping that rejects unknown keys. Its `unrecognized_keys` issue carries the list of allowed
 * keys as its message, which ./manifest-issues.ts turns into one message per unknown key.
 */
function mapping<T extends z.core.$ZodLooseShape>(shape: T) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, { error: (issue) => (issue.code === 'unrecognized_keys' ? allowed : undefined) });
}

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
type Camelized<T> = { [K in keyof T as K extends string ? CamelCase<K> : K]: T[K] };

function camelize<T extends object>(value: T): Camelized<T> {
  const out: { [key: string]: unknown } = {};
  for (const [key, item] of Object.entries(value)) out[key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = item;
  return out as Camelized<T>;
}

/** Whether a mapping being checked has `key` (a field that failed its own check is still present). */
const has = (value: object, key: string) => key in value;

/**
 * A credential: only ever a reference to an environment variable or a Secret key, never the value.
 *
 * @requirement REQ-135 (no hardcoded credentials in the manifest)
 */
function credentialRef(field: string, exampleEnv: string) {
  const fix = `credentials are never written in the manifest: reference one, e.g. "${field}: { env: ${exampleEnv} }" `
    + `or "${field}: { secret_ref: { name: <secret>, namespace: <namespace>, key: <key> } }"`;
  return z.unknown()
    .superRefine((value, ctx) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        ctx.addIssue({ code: 'custom', message: `${value === null ? 'is empty' : 'is a literal value (not shown), not a reference'}; ${fix}` });
      }
    })
    .pipe(mapping({
      env: checked((v) => (isEnvVarName(v) ? undefined : 'is not an environment variable name; use letters, digits and "_", not starting with a digit')).optional(),
      secret_ref: mapping({
        name: dnsSubdomain('use the name of the Secret that holds the credential'),
        namespace,
        key: checked((v) => withFix(secretKeyProblem(v), 'use the key of the Secret that holds the credential')),
      }).optional(),
    }).superRefine((ref, ctx) => {
      const count = Number(ref.env !== undefined) + Number(ref.secret_ref !== undefined);
      if (count !== 1) {
        ctx.addIssue({ code: 'custom', message: `${count ? 'gives both env and secret_ref' : 'is an empty reference'}; give exactly one of env or secret_ref` });
      }
    }))
    .transform((ref) => (ref.env !== undefined ? { env: ref.env } : { secretRef: ref.secret_ref! }));
}

/**
 * An https address (http only for loopback), without userinfo, query or fragment.
 *
 * @requirement REQ-135 (no credential in a URL's userinfo)
 */
function httpsUrl(what: string, example: string) {
  return z.string().superRefine((value, ctx) => {
    // Never echoed when it could carry a credential: in its userinfo or its query (`?token=...`).
    const fail = (message: string, echo = !/[@?#]/.test(value)) => ctx.addIssue({ code: 'custom', message, params: { echo } });
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return fail(`is not a URL; write the full address of ${what}, e.g. "${example}"`);
    }
    if (url.username || url.password) {
      return fail('holds a user name or password (not shown); remove them: credentials are never written in the manifest', false);
    }
    if (url.search !== '' || url.hash !== '' || /[?#]/.test(value)) {
      return fail(`holds a query string or fragment (not shown); remove everything from "?" or "#" on: write only the address of ${what}, e.g. "${example}"`, false);
    }
    if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
      return fail('uses plain http to a host other than localhost; use https (plain http is only allowed for localhost, 127.0.0.1 and [::1])');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return fail(`is not an https URL; use the https address of ${what}, e.g. "${example}"`);
    return undefined;
  });
}

// Without a namespace, each domain's namespace holds its own: one identity per domain.
const serviceAccountRef = mapping({ name: dnsSubdomain('use the name of the ServiceAccount'), namespace: namespace.optional() });

const infisicalAuth = z.discriminatedUnion('method', [
  mapping({
    method: z.literal('universal-auth'),
    credentials_secret: mapping({ name: dnsSubdomain('use the name of the Secret holding clientId and clientSecret'), namespace: namespace.optional() }),
    client_id: credentialRef('client_id', 'INFISICAL_CLIENT_ID').optional(),
    client_secret: credentialRef('client_secret', 'INFISICAL_CLIENT_SECRET').optional(),
  }).transform(camelize),
  mapping({
    method: z.literal('kubernetes'),
    identity_id: matching(UUID, 'is not a machine identity ID (a UUID)', 'copy the ID of the machine identity from Infisical'),
    // Each domain's own identity, in place of identity_id: one identity per domain.
    domain_identity_ids: z.record(z.string(), matching(UUID, 'is not a machine identity ID (a UUID)', 'copy the ID of the domain\'s machine identity from Infisical')).optional(),
    service_account: serviceAccountRef,
  }).transform(camelize),
]);

const infisical = mapping({
  type: z.literal('infisical'),
  site_url: httpsUrl('the Infisical instance', 'https://app.infisical.com').superRefine((value, ctx) => {
    if (/\/api\/*$/.test(value) && !/[@?#]/.test(value)) {
      ctx.addIssue({
        code: 'custom',
        message: 'ends in "/api"; write the instance address without it, e.g. "https://infisical.example.com" (the operator and the plugins add /api)',
        params: { echo: true },
      });
    }
  }).default('https://app.infisical.com'),
  project_id: word('copy the project ID from the project settings in Infisical').optional(),
  project_slug: matching(SLUG, 'is not a project slug (lower-case letters, digits and "-")', 'copy the slug from the project settings in Infisical').optional(),
  environment: matching(SLUG, 'is not an environment slug (lower-case letters, digits and "-")', 'use the slug of the environment, e.g. "prod"'),
  secrets_path: matching(/^\//, 'does not start with "/"', 'write the folder as an absolute path, e.g. "/compute/snowflake"').default('/'),
  resync_interval: checked(resyncProblem).default('60s'),
  operator_api: z.enum(['v1alpha1', 'v1beta1']).default('v1alpha1'),
  auth: infisicalAuth,
}).superRefine((value, ctx) => {
  const id = has(value, 'project_id');
  const slug = has(value, 'project_slug');
  if (id && slug) {
    ctx.addIssue({
      code: 'custom',
      path: ['project_slug'],
      message: `${quote(value.project_slug)} is given together with project_id ${quote(value.project_id)}; keep exactly one of project_id or project_slug`,
    });
  } else if (!id && !slug) {
    ctx.addIssue({ code: 'custom', message: 'neither project_id nor project_slug is set; add one, e.g. "project_slug: floe-analytics"' });
  }
}, ALWAYS).transform(camelize);

function resyncProblem(value: string): string | undefined {
  const seconds = parseDuration(value);
  const fix = `write a Go-style duration of at least ${MIN_RESYNC_SECONDS}s in whole seconds, e.g. "60s" or "1m30s"`;
  if (seconds === undefined) return `is not a duration; ${fix}`;
  if (seconds < MIN_RESYNC_SECONDS) return `is shorter than ${MIN_RESYNC_SECONDS}s; ${fix}`;
  if (!Number.isInteger(seconds)) return `is not a whole number of seconds; ${fix}`;
  return undefined;
}

const k8s = mapping({
  type: z.literal('k8s'),
  namespace: dnsLabel('use the namespace that holds the Secrets, e.g. "floe-jobs"').default('floe-jobs'),
}).transform(camelize);

const VAULT_METHODS = ['kubernetes', 'approle', 'token'] as const;
type VaultMethod = typeof VAULT_METHODS[number];
const VAULT_FIELDS: ReadonlyArray<[field: string, methods: ReadonlyArray<VaultMethod>, example: string]> = [
  // The Vault role of the Kubernetes login (and of the Vault Agent's). An AppRole login takes no role name.
  ['role', ['kubernetes'], 'role: floe'],
  ['token', ['token'], 'token: { env: VAULT_TOKEN }'],
  ['role_id', ['approle'], 'role_id: { env: VAULT_ROLE_ID }'],
  ['secret_id', ['approle'], 'secret_id: { env: VAULT_SECRET_ID }'],
];

const vault = mapping({
  type: z.literal('vault'),
  address: httpsUrl('the Vault server', 'https://vault.example:8200'),
  auth_method: z.enum(VAULT_METHODS),
  role: word('use the name of the Vault role, e.g. "floe"').optional(),
  mount: matching(MOUNT, 'is not a mount path (no leading or trailing "/")', 'use the path of the KV v2 engine, e.g. "secret"').default('secret'),
  vault_namespace: word('use the Vault Enterprise namespace, e.g. "team-a"').optional(),
  delivery: z.enum(['agent-injector', 'external-secrets']).default('agent-injector'),
  secret_store: mapping({
    name: dnsSubdomain('use the name of the External Secrets store'),
    kind: z.enum(['SecretStore', 'ClusterSecretStore']),
  }).optional(),
  token: credentialRef('token', 'VAULT_TOKEN').optional(),
  role_id: credentialRef('role_id', 'VAULT_ROLE_ID').optional(),
  secret_id: credentialRef('secret_id', 'VAULT_SECRET_ID').optional(),
}).superRefine((value, ctx) => {
  const method = VAULT_METHODS.find((known) => known === value.auth_method);
  for (const [field, methods, example] of VAULT_FIELDS) {
    if (method && methods.includes(method) && !has(value, field)) {
      ctx.addIssue({ code: 'custom', path: [field], message: `is missing; auth_method ${method} needs it, e.g. "${example}"` });
    } else if (method && !methods.includes(method) && has(value, field)) {
      ctx.addIssue({ code: 'custom', path: [field], message: `is only used by auth_method ${methods.join(' or ')}, not ${method}; remove it` });
    }
  }
  if (value.delivery === 'agent-injector' && has(value, 'secret_store')) {
    ctx.addIssue({ code: 'custom', path: ['secret_store'], message: `is only used with delivery external-secrets, not ${value.delivery}; remove it or set "delivery: external-secrets"` });
  }
}, ALWAYS).transform(camelize);

const DOMAINS_FROM = ['realm', 'claim', 'groups'] as const;

const keycloak = mapping({
  type: z.literal('keycloak'),
  server_url: httpsUrl('the Keycloak server', 'https://id.example.com'),
  realms: z.array(word('use the name of a Keycloak realm, e.g. "floe"')).min(1, 'is empty; list the realms whose tokens are accepted, e.g. "[floe]"'),
  audience: z.union([word('use the client id tokens are issued for, e.g. "floe-cli"'), z.array(word('use a client id, e.g. "floe-cli"')).min(1, 'is empty; give the client id tokens are issued for')]),
  domains_from: z.enum(DOMAINS_FROM).default('groups'),
  claim: matching(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'is not a claim name', 'use the name of the token claim that lists domains, e.g. "floe_domains"').optional(),
  group_prefix: matching(/^\/(.*\/)?$/, 'does not start and end with "/"', 'use the parent group\'s path, e.g. "/floe/"').optional(),
}).superRefine((value, ctx) => {
  uniqueEntries(value.realms, 'realm', ctx, ['realms']);
  if (has(value, 'claim') && value.domains_from !== 'claim') {
    ctx.addIssue({ code: 'custom', path: ['claim'], message: `is only used with domains_from claim, not ${value.domains_from ?? 'groups'}; remove it or set "domains_from: claim"` });
  }
  if (has(value, 'group_prefix') && (value.domains_from ?? 'groups') !== 'groups') {
    ctx.addIssue({ code: 'custom', path: ['group_prefix'], message: `is only used with domains_from groups, not ${value.domains_from}; remove it or set "domains_from: groups"` });
  }
}, ALWAYS).transform(({ audience, ...rest }) => ({ ...camelize(rest), audience: typeof audience === 'string' ? [audience] : audience }));

/** Reports a list entry given twice. */
function uniqueEntries(list: unknown, what: string, ctx: z.core.$RefinementCtx, path: YamlPathSegment[]): void {
  const seen = new Set<unknown>();
  (Array.isArray(list) ? list : []).forEach((entry, index) => {
    if (entry !== undefined && seen.has(entry)) {
      ctx.addIssue({ code: 'custom', path: [...path, index], message: `${quote(entry)} is listed twice; list each ${what} once` });
    }
    seen.add(entry);
  });
}

const domainName = dnsLabel(`use a short lower-case name such as "sales" (at most ${MAX_DOMAIN_NAME_LENGTH} characters; its namespace is "floe-<name>")`, MAX_DOMAIN_NAME_LENGTH);

const computeTarget = mapping({
  type: word('name the kind of compute, e.g. "snowflake"'),
  connection_secret_ref: dnsSubdomain('use the name of the Secret holding the connection credentials, e.g. "snowflake-credentials"'),
  keys: z.array(checked((v) => withFix(secretKeyProblem(v), 'use a key of the Secret, e.g. "password"'))).optional(),
  domains: z.array(domainName).optional(),
}).superRefine((value, ctx) => {
  uniqueEntries(value.keys, 'key', ctx, ['keys']);
  uniqueEntries(value.domains, 'domain', ctx, ['domains']);
}, ALWAYS).transform(camelize);

/** The schema of the whole manifest. */
export const manifestSchema = mapping({
  plugins: mapping({ secrets: z.discriminatedUnion('type', [k8s, infisical, vault]), identity: z.discriminatedUnion('type', [keycloak]).optional() }),
  compute: z.record(z.string(), computeTarget).superRefine((targets, ctx) => {
    for (const name of Object.keys(targets)) {
      const problem = dnsLabelProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', path: [name], message: `${quote(name)} ${problem}; rename the compute target, e.g. "snowflake"` });
    }
  }, ALWAYS).default({}),
  domains: z.array(mapping({ name: domainName })).default([]),
}).superRefine((value, ctx) => {
  if (!Array.isArray(value.domains)) return; // reported already: nothing to check references against
  const names = value.domains.map((domain) => domain?.name);
  uniqueEntries(names, 'domain', ctx, ['domains']);
  const undeclared = (domain: string, path: Array<string | number>, where: string): void => {
    if (names.includes(domain)) return;
    ctx.addIssue({ code: 'custom', path, message: `${quote(domain)} is not declared under domains; declare it ("domains: [{ name: ${domain} }]") or remove it from ${where}` });
  };
  const auth = (value.plugins?.secrets as { auth?: { domainIdentityIds?: unknown } } | undefined)?.auth;
  const identityIds = typeof auth?.domainIdentityIds === 'object' && auth.domainIdentityIds !== null ? auth.domainIdentityIds : {};
  for (const domain of Object.keys(identityIds)) undeclared(domain, ['plugins', 'secrets', 'auth', 'domain_identity_ids', domain], 'domain_identity_ids');
  for (const [name, target] of Object.entries(value.compute ?? {})) {
    (Array.isArray(target?.domains) ? target.domains : []).forEach((domain, index) => {
      if (typeof domain === 'string' && !dnsLabelProblem(domain, MAX_DOMAIN_NAME_LENGTH)) undeclared(domain, ['compute', name, 'domains', index], 'this list');
    });
  }
}, ALWAYS);
