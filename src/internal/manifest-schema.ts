import { z } from 'zod';
import { MAX_DOMAIN_NAME_LENGTH } from '../floe-domain';
import { dnsLabelProblem, dnsSubdomainProblem, isEnvVarName, quote, secretKeyProblem } from './validation';
import { YamlPathSegment } from './yaml-locate';

// The zod schema of manifest.yaml (snake_case in, camelCase out) and the rendering of its issues
// into the library's `<problem>; <fix>` messages. The public types live in ../platform-manifest.ts.

const UNIT_NANOS: { readonly [unit: string]: number } = { 'ns': 1, 'us': 1e3, 'µs': 1e3, 'μs': 1e3, 'ms': 1e6, 's': 1e9, 'm': 60e9, 'h': 3600e9 };

/**
 * Parses a Go-style duration (`time.ParseDuration`): a sequence of decimal numbers, each with an
 * optional fraction and a unit, such as `90s`, `1m30s`, `1.5h` or `500ms`. Units are `ns`, `us`
 * (or `µs`), `ms`, `s`, `m` and `h`; `0` alone is zero.
 *
 * Sub-second parts are kept exactly, not rounded: `500ms` is `0.5`. A sign, spaces or a missing
 * unit make the text unparseable (`-5s`, `5 s`, `60`).
 *
 * @returns the duration in seconds, or `undefined` when `text` is not a duration
 */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let nanos = 0;
  while (text && part.lastIndex < text.length) {
    const match = part.exec(text);
    if (!match) return undefined;
    const [whole, fraction = ''] = match[1].split('.');
    const unit = UNIT_NANOS[match[2]];
    nanos += Number(whole || '0') * unit + (fraction ? Math.round((Number(fraction) * unit) / 10 ** fraction.length) : 0);
  }
  return text && Number.isFinite(nanos) ? nanos / 1e9 : undefined;
}

/** The shortest `resync_interval` accepted: the operator would otherwise hammer the Infisical API. */
export const MIN_RESYNC_SECONDS = 5;

const ALWAYS = { when: () => true };
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

/** A mapping that rejects unknown keys; its `unrecognized_keys` message is the list of allowed keys. */
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

/** A credential: only ever a reference to an environment variable or a Secret key, never the value. */
function credentialRef(field: string, exampleEnv: string) {
  const fix = `credentials are never written in the manifest (REQ-135): reference one, e.g. "${field}: { env: ${exampleEnv} }" `
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

function httpsUrl(what: string, example: string) {
  return z.string().superRefine((value, ctx) => {
    const fail = (message: string, echo = !value.includes('@')) => ctx.addIssue({ code: 'custom', message, params: { echo } });
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return fail(`is not a URL; write the full address of ${what}, e.g. "${example}"`);
    }
    if (url.username || url.password) {
      return fail('holds a user name or password (not shown); remove them: credentials are never written in the manifest (REQ-135)', false);
    }
    if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
      return fail('uses plain http to a host other than localhost; use https (plain http is only allowed for localhost, 127.0.0.1 and [::1])');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return fail(`is not an https URL; use the https address of ${what}, e.g. "${example}"`);
    return undefined;
  });
}

const secretName = (fix: string) => dnsSubdomain(fix);
const serviceAccountRef = mapping({ name: secretName('use the name of the ServiceAccount'), namespace });

const infisicalAuth = z.discriminatedUnion('method', [
  mapping({
    method: z.literal('universal-auth'),
    credentials_secret: mapping({ name: secretName('use the name of the Secret holding clientId and clientSecret'), namespace }),
    client_id: credentialRef('client_id', 'INFISICAL_CLIENT_ID').optional(),
    client_secret: credentialRef('client_secret', 'INFISICAL_CLIENT_SECRET').optional(),
  }).transform(camelize),
  mapping({
    method: z.literal('kubernetes'),
    identity_id: matching(UUID, 'is not a machine identity ID (a UUID)', 'copy the ID of the machine identity from Infisical'),
    service_account: serviceAccountRef,
  }).transform(camelize),
]);

const infisical = mapping({
  type: z.literal('infisical'),
  site_url: httpsUrl('the Infisical instance', 'https://app.infisical.com').default('https://app.infisical.com'),
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

type VaultMethod = 'kubernetes' | 'approle' | 'token';
const VAULT_FIELDS: ReadonlyArray<[field: string, methods: ReadonlyArray<VaultMethod>, example: string]> = [
  ['role', ['kubernetes', 'approle'], 'role: floe'],
  ['token', ['token'], 'token: { env: VAULT_TOKEN }'],
  ['role_id', ['approle'], 'role_id: { env: VAULT_ROLE_ID }'],
  ['secret_id', ['approle'], 'secret_id: { env: VAULT_SECRET_ID }'],
];

const vault = mapping({
  type: z.literal('vault'),
  address: httpsUrl('the Vault server', 'https://vault.example:8200'),
  auth_method: z.enum(['kubernetes', 'approle', 'token']),
  role: word('use the name of the Vault role, e.g. "floe"').optional(),
  mount: matching(MOUNT, 'is not a mount path (no leading or trailing "/")', 'use the path of the KV v2 engine, e.g. "secret"').default('secret'),
  vault_namespace: word('use the Vault Enterprise namespace, e.g. "team-a"').optional(),
  delivery: z.enum(['agent-injector', 'external-secrets']).default('agent-injector'),
  secret_store: mapping({
    name: secretName('use the name of the External Secrets store'),
    kind: z.enum(['SecretStore', 'ClusterSecretStore']),
  }).optional(),
  token: credentialRef('token', 'VAULT_TOKEN').optional(),
  role_id: credentialRef('role_id', 'VAULT_ROLE_ID').optional(),
  secret_id: credentialRef('secret_id', 'VAULT_SECRET_ID').optional(),
}).superRefine((value, ctx) => {
  const method = value.auth_method as VaultMethod | undefined;
  for (const [field, methods, example] of method ? VAULT_FIELDS : []) {
    const needed = methods.includes(method!);
    if (needed && !has(value, field)) {
      ctx.addIssue({ code: 'custom', path: [field], message: `is missing; auth_method ${method} needs it, e.g. "${example}"` });
    } else if (!needed && has(value, field)) {
      ctx.addIssue({ code: 'custom', path: [field], message: `is only used by auth_method ${methods.join(' or ')}, not ${method}; remove it` });
    }
  }
  const external = value.delivery === 'external-secrets';
  if (external && !has(value, 'secret_store')) {
    ctx.addIssue({
      code: 'custom',
      path: ['secret_store'],
      message: 'is missing; delivery external-secrets needs the store to read from, e.g. "secret_store: { name: vault, kind: ClusterSecretStore }"',
    });
  } else if (!external && has(value, 'secret_store') && value.delivery) {
    ctx.addIssue({ code: 'custom', path: ['secret_store'], message: `is only used with delivery external-secrets, not ${value.delivery}; remove it or set "delivery: external-secrets"` });
  }
}, ALWAYS).transform(camelize);

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
  connection_secret_ref: secretName('use the name of the Secret holding the connection credentials, e.g. "snowflake-credentials"'),
  keys: z.array(checked((v) => withFix(secretKeyProblem(v), 'use a key of the Secret, e.g. "password"'))).optional(),
  domains: z.array(domainName).optional(),
}).superRefine((value, ctx) => {
  uniqueEntries(value.keys, 'key', ctx, ['keys']);
  uniqueEntries(value.domains, 'domain', ctx, ['domains']);
}, ALWAYS).transform(camelize);

/** The schema of the whole manifest. */
export const manifestSchema = mapping({
  plugins: mapping({ secrets: z.discriminatedUnion('type', [k8s, infisical, vault]) }),
  compute: z.record(z.string(), computeTarget).superRefine((targets, ctx) => {
    for (const name of Object.keys(targets)) {
      const problem = dnsLabelProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', path: [name], message: `${quote(name)} ${problem}; rename the compute target, e.g. "snowflake"` });
    }
  }, ALWAYS).default({}),
  domains: z.array(mapping({ name: domainName })).default([]),
}).superRefine((value, ctx) => {
  const domains = Array.isArray(value.domains) ? value.domains : [];
  uniqueEntries(domains.map((domain) => domain?.name), 'domain', ctx, ['domains']);
  const declared = new Set(domains.map((domain) => domain?.name));
  for (const [name, target] of Object.entries(value.compute ?? {})) {
    (Array.isArray(target?.domains) ? target.domains : []).forEach((domain, index) => {
      if (typeof domain === 'string' && !declared.has(domain)) {
        ctx.addIssue({
          code: 'custom',
          path: ['compute', name, 'domains', index],
          message: `${quote(domain)} is not declared under domains; declare it ("domains: [{ name: ${domain} }]") or remove it from this list`,
        });
      }
    });
  }
}, ALWAYS);

/** A problem found in the manifest, before its line is looked up. */
export interface SchemaProblem {
  readonly path: YamlPathSegment[];
  readonly message: string;
}

const CREDENTIAL_FIELDS = new Set(['client_id', 'client_secret', 'token', 'role_id', 'secret_id']);
const NOT_CREDENTIALS = new Set(['secrets', 'secrets_path', 'secret_ref', 'secret_store', 'credentials_secret', 'connection_secret_ref']);
const CREDENTIAL_LIKE = /passw|pwd|secret|token|api[-_]?key|private[-_]?key|access[-_]?key|credential/i;

/** Whether a key's name says that its value is (or could be) a credential. */
export function looksLikeCredential(key: string): boolean {
  return CREDENTIAL_FIELDS.has(key) || (CREDENTIAL_LIKE.test(key) && !NOT_CREDENTIALS.has(key));
}

const NO_BACKEND = 'no secrets backend is configured; add one under plugins.secrets, e.g. "plugins: { secrets: { type: k8s, namespace: floe-jobs } }" '
  + '(or type infisical or vault, see examples/manifest.yaml)';

/** Examples for "is missing" and wrong-type messages, by dotted path with `*` for names and indexes, or by key. */
const EXAMPLES: { readonly [pathOrKey: string]: string } = {
  'plugins': 'plugins: { secrets: { type: k8s } }',
  'plugins.secrets': 'secrets: { type: k8s, namespace: floe-jobs }',
  'plugins.secrets.namespace': 'namespace: floe-jobs',
  'plugins.secrets.auth': 'auth: { method: universal-auth, credentials_secret: { name: infisical-universal-auth, namespace: floe-platform } }',
  'domains': 'domains: [{ name: sales }]',
  'domains.*.name': 'name: sales',
  'compute': 'compute: { snowflake: { type: snowflake, connection_secret_ref: snowflake-credentials } }',
  'compute.*': 'snowflake: { type: snowflake, connection_secret_ref: snowflake-credentials }',
  'compute.*.domains': 'domains: [sales]',
  'site_url': 'site_url: https://app.infisical.com',
  'environment': 'environment: prod',
  'secrets_path': 'secrets_path: /compute/snowflake',
  'resync_interval': 'resync_interval: 60s',
  'credentials_secret': 'credentials_secret: { name: infisical-universal-auth, namespace: floe-platform }',
  'identity_id': 'identity_id: <the machine identity ID>',
  'service_account': 'service_account: { name: floe-infisical, namespace: floe-platform }',
  'namespace': 'namespace: floe-platform',
  'address': 'address: https://vault.example:8200',
  'type': 'type: snowflake',
  'connection_secret_ref': 'connection_secret_ref: snowflake-credentials',
  'keys': 'keys: [account, user, password]',
};

function exampleFor(path: YamlPathSegment[]): string | undefined {
  const generic = path.map((segment, index) => (typeof segment === 'number' || (index === 1 && path[0] === 'compute') ? '*' : segment)).join('.');
  return EXAMPLES[generic] ?? EXAMPLES[String(path[path.length - 1])];
}

function kindOf(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

/** The value, quoted, when it is a scalar that may be shown at `path` (no credential-like key on the way), else `''`. */
function shown(value: unknown, path: YamlPathSegment[]): string {
  const safe = !path.some((segment) => typeof segment === 'string' && looksLikeCredential(segment));
  return safe && (typeof value === 'number' || typeof value === 'boolean' || (typeof value === 'string' && value !== '')) ? quote(value) : '';
}

function missing(path: YamlPathSegment[]): string {
  const example = exampleFor(path);
  return `is missing; add it${example ? `, e.g. "${example}"` : ''}`;
}

function oneOf(input: unknown, values: ReadonlyArray<unknown>, path: YamlPathSegment[]): string {
  const list = values.map((value) => quote(value)).join(', ');
  if (input === undefined) return `is missing; set it to one of ${list}`;
  return `${shown(input, path) || kindOf(input)} is not one of ${list}; use one of them`;
}

function wrongType(expected: string, input: unknown, path: YamlPathSegment[]): string {
  const dotted = path.join('.');
  if ((dotted === 'plugins' || dotted === 'plugins.secrets') && (input === undefined || input === null)) return NO_BACKEND;
  if (input === undefined) return missing(path);
  const want = expected === 'array' ? 'a list' : expected === 'object' || expected === 'record' ? 'a mapping' : `a ${expected}`;
  const value = shown(input, path);
  const example = exampleFor(path);
  return `is ${kindOf(input)}${value ? ` (${value})` : ''}, not ${want}; write ${example ? `it as e.g. "${example}"` : want}`;
}

/** Turns zod's issues (parsed with `reportInput`) into `<problem>; <fix>` messages, one per problem. */
export function describeIssues(issues: ReadonlyArray<z.core.$ZodIssue & { input?: unknown }>): SchemaProblem[] {
  return issues.flatMap((issue): SchemaProblem[] => {
    const path = issue.path as YamlPathSegment[];
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys.map((key) => ({
          path: [...path, key],
          message: looksLikeCredential(key) || path.some((segment) => looksLikeCredential(String(segment)))
            ? `unknown field ${quote(key)} looks like a credential (its value is not shown); remove it and keep the credential in the secrets backend: `
              + `the manifest only references credentials (REQ-135); allowed fields here are ${issue.message}`
            : `unknown field ${quote(key)}; remove it or use one of the allowed fields: ${issue.message}`,
        }));
      case 'invalid_type':
        return [{ path, message: wrongType(issue.expected, issue.input, path) }];
      case 'invalid_value':
        return [{ path, message: oneOf(issue.input, issue.values, path) }];
      case 'invalid_union': {
        const discriminator = (issue as { discriminator?: string }).discriminator;
        const options = (issue as { options?: unknown[] }).options ?? [];
        const input = issue.input as { [key: string]: unknown } | undefined;
        return [{ path, message: discriminator ? oneOf(input?.[discriminator], options, path) : issue.message }];
      }
      default: {
        const value = (issue as { params?: { echo?: boolean } }).params?.echo ? shown(issue.input, path) : '';
        return [{ path, message: value ? `${value} ${issue.message}` : issue.message }];
      }
    }
  });
}
