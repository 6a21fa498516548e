/**
 * The rules of `floe-secrets scan`: what a plaintext credential looks like, and how to fix each kind.
 *
 * Everything here is pure (no I/O) so that other commands can reuse it.
 */

/** The id of a scan rule; printed with every finding and accepted nowhere else. */
export type ScanRuleId =
  | 'k8s-secret-data'
  | 'aws-access-key-id'
  | 'github-token'
  | 'slack-token'
  | 'stripe-live-key'
  | 'google-api-key'
  | 'private-key'
  | 'jwt'
  | 'infisical-token'
  | 'vault-token'
  | 'high-entropy-env-value'
  | 'credential-assignment';

const ROTATE = 'Revoke and rotate it first: it is already in the Git history.';
const REFERENCE =
  'Move the new value into the secrets backend and reference it: a Secret key through SecretReference.fromSecret(secret, key) '
  + '(FloeSecret.fromSecretName or a source construct for the Secret), or { env: NAME } / { secret_ref: { name, namespace, key } } '
  + 'in manifest.yaml.';

/** What to do about a finding of each rule. */
export const SCAN_RULE_FIXES: { readonly [rule in ScanRuleId]: string } = {
  'k8s-secret-data':
    'Delete the Secret from Git and rotate its values (base64 is not encryption; they are in the history). Keep the values in the '
    + 'secrets backend and reference them: FloeSecret.fromSecretName for a Secret created out of band with kubectl, or a source '
    + 'construct (InfisicalSecretSource, VaultSecretSource, ExternalSecretSource) that syncs it. If it must live in Git, encrypt it '
    + '(SOPS, Sealed Secrets).',
  'aws-access-key-id': `${ROTATE} ${REFERENCE} On AWS prefer short-lived credentials (IRSA) over access keys.`,
  'github-token': `${ROTATE} ${REFERENCE}`,
  'slack-token': `${ROTATE} ${REFERENCE}`,
  'stripe-live-key': `${ROTATE} ${REFERENCE}`,
  'google-api-key': `${ROTATE} ${REFERENCE}`,
  'private-key':
    `${ROTATE} Store the new private key in the secrets backend and mount it as a file (secretFiles of SecretMountedJob), `
    + 'never inline it in a manifest or source file.',
  'jwt': `${ROTATE} ${REFERENCE}`,
  'infisical-token':
    `${ROTATE} Give the operator and the CLI a machine identity instead (InfisicalAuthentication.universalAuth with a Secret `
    + 'created out of band, or kubernetesAuth), and reference its credentials with { env: NAME } or { secret_ref: ... }.',
  'vault-token':
    `${ROTATE} Authenticate with the kubernetes or approle auth method instead of a static token, and reference any token with `
    + '{ env: NAME } or { secret_ref: ... }.',
  'high-entropy-env-value':
    'Replace `value:` with `valueFrom.secretKeyRef` (secretEnv: [SecretReference.fromSecret(secret, key)] on a SecretMountedJob). '
    + `${REFERENCE} Rotate the value if it is real.`,
  'credential-assignment':
    'Read the value at runtime instead of writing it down: { env: NAME } or { secret_ref: ... } in manifest.yaml, '
    + "{{ env_var('NAME') }} in dbt, ${NAME} in shell. Move the value into the secrets backend and rotate it if it is real.",
};

/** A known token format, matched anywhere in a file's text. */
export interface TokenRule {
  readonly id: ScanRuleId;
  /** A global regular expression. */
  readonly pattern: RegExp;
  /** How many leading characters of a match may be shown (the format's fixed prefix). */
  readonly reveal: number;
  /** The description of one match. */
  describe(match: RegExpExecArray): string;
  /** Extra checks a match must pass (besides not looking like a placeholder). */
  accept?(text: string): boolean;
}

/** Known token formats (rule 2). */
export const TOKEN_RULES: readonly TokenRule[] = [
  {
    id: 'aws-access-key-id',
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
    reveal: 4,
    describe: (m) => (m[0].startsWith('ASIA') ? 'AWS temporary access key id' : 'AWS access key id'),
  },
  {
    id: 'github-token',
    pattern: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])/g,
    reveal: 4,
    describe: (m) => (m[0].startsWith('github_pat_') ? 'GitHub fine-grained personal access token' : 'GitHub token'),
  },
  {
    id: 'slack-token',
    pattern: /(?<![A-Za-z0-9-])xox[abpr]-[A-Za-z0-9]{6,}-[A-Za-z0-9-]{8,}(?![A-Za-z0-9-])/g,
    reveal: 4,
    describe: () => 'Slack token',
  },
  {
    id: 'stripe-live-key',
    pattern: /(?<![A-Za-z0-9_])(?:sk|rk)_live_[A-Za-z0-9]{16,}(?![A-Za-z0-9])/g,
    reveal: 4,
    describe: (m) => (m[0].startsWith('rk_') ? 'Stripe live restricted key' : 'Stripe live secret key'),
  },
  {
    id: 'google-api-key',
    pattern: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g,
    reveal: 4,
    describe: () => 'Google API key',
  },
  {
    id: 'private-key',
    // The header, then (within a few lines, not past another armour line) a body of base64.
    pattern: /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----(?:(?!-----)[\s\S]){0,300}?[A-Za-z0-9+/]{40}/g,
    reveal: 0,
    describe: (m) => `${m[1] ? `${m[1].trim()} ` : ''}private key block`,
  },
  {
    id: 'jwt',
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,}(?![A-Za-z0-9_-])/g,
    reveal: 4,
    describe: () => 'signed JSON Web Token',
  },
  {
    id: 'infisical-token',
    pattern: /(?<![A-Za-z0-9_.-])st\.[A-Za-z0-9]{16,}\.[A-Za-z0-9]{16,}\.[A-Za-z0-9]{16,}(?![A-Za-z0-9])/g,
    reveal: 3,
    describe: () => 'Infisical service token',
  },
  {
    id: 'vault-token',
    pattern: /(?<![A-Za-z0-9_.-])hv[sbr]\.[A-Za-z0-9_-]{24,}(?![A-Za-z0-9_-])/g,
    reveal: 4,
    describe: (m) => `Vault ${m[0][2] === 'b' ? 'batch' : m[0][2] === 'r' ? 'recovery' : 'service'} token`,
  },
  {
    id: 'vault-token',
    // Legacy service tokens: s. and 24 random base62 characters. Code such as `s.someLongPropertyName` has the
    // same shape, so demand the character mix of a random string.
    pattern: /(?<![A-Za-z0-9_.$-])s\.[A-Za-z0-9]{24,}(?![A-Za-z0-9_.(-])/g,
    reveal: 2,
    describe: () => 'Vault service token (legacy format)',
    accept: (text) => /[0-9]/.test(text) && /[A-Z]/.test(text) && /[a-z].*[a-z]/.test(text.slice(2)) && shannonEntropy(text) >= 3.5,
  },
];

/** Shannon entropy of a string, in bits per character. */
export function shannonEntropy(text: string): number {
  const chars = Array.from(text);
  if (chars.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of chars) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / chars.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * A redacted form of a matched value that never contains the secret: at most the first `reveal`
 * characters (at most 4, the token format's fixed prefix), an ellipsis and the length.
 */
export function redact(value: string, reveal = 0): string {
  const chars = Array.from(value);
  const shown = Math.max(0, Math.min(reveal, 4, chars.length - 8));
  return `${chars.slice(0, shown).join('')}…(${chars.length} chars)`;
}

const TEMPLATE_REFERENCES: readonly RegExp[] = [
  /\{\{[\s\S]*\}\}/, // {{ env_var('X') }}, Helm, Jinja
  /\$\{[^}]*\}/, // ${VAR}, ${{ secrets.X }}
  /\$\([^)]*\)/, // $(VAR) in Kubernetes, $(cmd) in shell
  /^\$[A-Za-z_][A-Za-z0-9_]*$/, // $VAR
  /%\([A-Za-z0-9_]+\)s/, // Python %(name)s
  /<[^<>]*>/, // <your-token>
];

const EXTERNAL_REFERENCE = /^(?:ref\+[a-z0-9]+:\/\/|vault:|arn:aws[a-z-]*:|op:\/\/|sm:\/\/|secretsmanager:|projects\/[^/]+\/secrets\/|env:|file:)/i;

const PLACEHOLDER_WORDS =
  /change[-_ ]?me|change[-_ ]?it|x{3,}|\.\.\.|…|\*{3,}|replace[-_ ]?(?:me|with)|your[-_ ]|placeholder|redacted|dummy|example|sample|fixme|todo|not[-_ ]?a[-_ ]?secret/i;

/**
 * Whether a value is a reference (a template, a variable, a secret manager address, a URL without
 * credentials) or a placeholder, rather than a literal credential.
 */
export function isReferenceOrPlaceholder(value: string): boolean {
  const text = value.trim();
  if (text === '') return true;
  if (TEMPLATE_REFERENCES.some((re) => re.test(text))) return true;
  if (EXTERNAL_REFERENCE.test(text)) return true;
  // A URL is an address unless it carries a password (scheme://user:password@host).
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i.test(text)) return true;
  return PLACEHOLDER_WORDS.test(text);
}

/** One word of a name: lower, UPPER, Capitalized, camelCase or PascalCase letters (digits only at the end), or a number. */
const NAME_WORD = /^(?:[a-z]+|[A-Z]+|[A-Z][a-z]+|[a-z]{2,}(?:[A-Z]+[a-z]{2,})+[A-Z]*|(?:[A-Z]+[a-z]{2,})+[A-Z]*)[0-9]*$|^[0-9]+$/;

/**
 * Whether a value reads as a name rather than a random string: words joined by separators, such as
 * a Secret's name (snowflake-credentials), an environment variable's name (FLOE_SECRET_DB_PASSWORD),
 * an identifier (ECRAuthorizationToken), an image or action reference (actions/checkout@v4.1.0) or a
 * file path. Random strings mix digits into their letters and fail.
 */
export function looksLikeName(value: string): boolean {
  const words = value.split(/[-_./@:+~]+/).filter((word) => word !== '');
  return (words.length > 0 && words.every((word) => NAME_WORD.test(word))) || looksLikeFilePath(value);
}

/** Whether a value is a file path made of names, such as /var/run/secrets/kubernetes.io/serviceaccount/token. */
export function looksLikeFilePath(value: string): boolean {
  const match = /^(?:~|\.{1,2}|[A-Za-z]:)?((?:[\\/][A-Za-z0-9._@-]+){2,})[\\/]?$/.exec(value);
  return match !== null && match[1].split(/[\\/]/).every((segment) => segment.length < 8 || /^[A-Za-z]+(?:[-_.][A-Za-z0-9]+)*$/.test(segment));
}

/** Splits a key such as `clientSecret`, `CLIENT_SECRET` or `spring.datasource.password` into lower-case words. */
export function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}

const CREDENTIAL_WORDS = new Set(['password', 'passwd', 'passphrase', 'secret', 'token', 'apikey', 'credentials', 'credential']);
const CREDENTIAL_PAIRS: readonly (readonly [string, string])[] = [['api', 'key'], ['private', 'key'], ['access', 'key'], ['client', 'secret']];
/** Last words that make a credential-sounding key a reference or a setting, not a credential: `secretName`, `token_path`. */
const REFERENCE_SUFFIXES = new Set([
  'name', 'names', 'ref', 'refs', 'reference', 'references', 'namespace', 'path', 'paths', 'file', 'files', 'dir', 'env', 'var',
  'vars', 'type', 'kind', 'mode', 'id', 'ids', 'store', 'mount', 'ttl', 'length', 'len', 'url', 'uri', 'endpoint', 'host', 'field',
  'fields', 'selector', 'provider', 'version', 'policy', 'method', 'role', 'scope', 'slug', 'format', 'template', 'source', 'prefix',
  'suffix', 'count', 'interval', 'header', 'engine', 'manager', 'annotation', 'label', 'size', 'enabled', 'required', 'expiry',
  'expires', 'expiration', 'timeout', 'location', 'backend', 'hash', 'sha', 'digest', 'regex', 'pattern', 'usage', 'rotation',
  'resolver', 'sources', 'command', 'audience', 'issuer', 'algorithm', 'lifetime', 'period', 'refresh',
]);

/** Whether a key names a credential (password, secret, token, api key, private key, client secret, credentials). */
export function isCredentialKey(key: string): boolean {
  const words = keyWords(key);
  if (words.length === 0 || REFERENCE_SUFFIXES.has(words[words.length - 1])) return false;
  if (words.some((word) => CREDENTIAL_WORDS.has(word))) return true;
  return CREDENTIAL_PAIRS.some(([first, second]) => words.some((word, i) => word === first && words[i + 1] === second));
}

/** Thresholds for the high-entropy rules. */
export interface EntropyThresholds {
  /** Minimum Shannon entropy, bits per character. Default 3.5. */
  readonly minEntropy?: number;
  /** Minimum length in characters. Default 16. */
  readonly minLength?: number;
}

/** Default thresholds of the high-entropy rules. */
export const DEFAULT_MIN_ENTROPY = 3.5;
/** Default minimum length of the high-entropy rules. */
export const DEFAULT_MIN_LENGTH = 16;

/**
 * Whether a literal value looks like a secret: long and random enough, not a reference, placeholder
 * or name. `strict` (for keys that do not name a credential) also demands the shape of a token:
 * one word of base64/hex characters with both letters and digits.
 */
export function isHighEntropySecret(value: string, strict: boolean, thresholds: EntropyThresholds = {}): boolean {
  const text = value.trim();
  const minLength = thresholds.minLength ?? DEFAULT_MIN_LENGTH;
  const minEntropy = thresholds.minEntropy ?? DEFAULT_MIN_ENTROPY;
  if (Array.from(text).length < minLength || /\s/.test(text)) return false;
  if (isReferenceOrPlaceholder(text) || looksLikeName(text)) return false;
  if (strict && !(/^[A-Za-z0-9+/=_-]+$/.test(text) && /[0-9]/.test(text) && /[A-Za-z]/.test(text))) return false;
  return shannonEntropy(text) >= minEntropy;
}

/** Whether a token-format match is a documentation placeholder (`AKIA…EXAMPLE`, `ghp_xxxx…`, repeated characters). */
export function isPlaceholderToken(text: string): boolean {
  return /EXAMPLE/.test(text) || /x{4,}/i.test(text) || /(.)\1{7,}/.test(text) || shannonEntropy(text) < 3;
}
