import { LineCounter } from 'yaml';
import { describeIssues } from './issues';
import { FileTooLargeError, formatBytes, parseYamlQuietly, readTextFileCapped, YamlProblem, yamlErrors, yamlToJS, yamlWarnings } from './safe-yaml';
import { manifestSchema } from './schema';
import { SecretsConfigError } from '../errors';
import { formatYamlPath, lineAt, locateLine } from './yaml-locate';

export {
  describeYamlProblem, FileTooLargeError, formatBytes, MAX_YAML_ALIAS_COUNT, parseYamlQuietly, QUIET_YAML_OPTIONS, QuietYaml,
  readTextFileCapped, YamlProblem, YamlProblemCode, yamlErrors, yamlToJS, yamlWarnings,
} from './safe-yaml';

/**
 * The largest platform manifest read (1 MiB): a real one is a few KiB; more is a wrong path
 * (`--manifest /dev/zero`, a log file) and is refused without reading it all.
 */
export const MAX_MANIFEST_BYTES = 1024 * 1024;


/**
 * Where a runtime plugin or the CLI finds a credential: always a reference, never the value, so
 * that no credential is ever written in the manifest.
 *
 * - `{ env: NAME }`: the environment variable `NAME` of the process that needs it.
 * - `{ secretRef: { name, namespace, key } }`: one key of a Kubernetes Secret
 *   (`secret_ref` in YAML).
 *
 * @requirement REQ-135 (no hardcoded credentials)
 */
export type CredentialRef =
  | { readonly env: string }
  | { readonly secretRef: { readonly name: string; readonly namespace: string; readonly key: string } };

/** Infisical Universal Auth: a machine identity's client ID and client secret. */
export interface InfisicalUniversalAuthConfig {
  /** Discriminator. */
  readonly method: 'universal-auth';
  /**
   * The Secret from which the Infisical operator reads `clientId` and `clientSecret`
   * (`credentials_secret` in YAML). The platform team creates it; floe never holds its values.
   * Without a namespace, each domain's namespace holds its own Secret of that name: one machine
   * identity per domain, the least-privilege shape. With one, every domain shares that identity
   * (`floe-secrets access-map` and `validate` flag it).
   */
  readonly credentialsSecret: { readonly name: string; readonly namespace?: string };
  /**
   * Where runtime plugins and the CLI find the client ID (`client_id`).
   *
   * @default - runtime plugins and the CLI cannot authenticate on their own; only the operator can
   */
  readonly clientId?: CredentialRef;
  /**
   * Where runtime plugins and the CLI find the client secret (`client_secret`).
   *
   * @default - runtime plugins and the CLI cannot authenticate on their own; only the operator can
   */
  readonly clientSecret?: CredentialRef;
}

/** Infisical Kubernetes Auth: the operator logs in with a ServiceAccount token. */
export interface InfisicalKubernetesAuthConfig {
  /** Discriminator. */
  readonly method: 'kubernetes';
  /** The ID (a UUID) of the Infisical machine identity to log in as (`identity_id`). */
  readonly identityId: string;
  /**
   * Each domain's own machine identity, by domain name (`domain_identity_ids`): a domain listed
   * here logs in as its own identity instead of `identityId`, the least-privilege shape. Every key
   * is a declared domain.
   *
   * @default - every domain logs in as `identityId` (`floe-secrets access-map` and `validate` flag
   * one identity reading different folders for several domains)
   */
  readonly domainIdentityIds?: { readonly [domain: string]: string };
  /**
   * The ServiceAccount whose token is presented to Infisical (`service_account`). Without a
   * namespace, the ServiceAccount of that name in each domain's namespace.
   */
  readonly serviceAccount: { readonly name: string; readonly namespace?: string };
}

/**
 * The Infisical backend: secrets synced by the Infisical operator.
 *
 * @requirement REQ-132
 * @requirement REQ-133
 */
export interface InfisicalBackendConfig {
  /** Discriminator. */
  readonly type: 'infisical';
  /**
   * Address of the Infisical instance (`site_url`): https, or plain http to localhost only.
   *
   * @default 'https://app.infisical.com'
   */
  readonly siteUrl: string;
  /**
   * The project's ID (`project_id`). Exactly one of `projectId` and `projectSlug` is set.
   *
   * @default - the project is named by `projectSlug`
   */
  readonly projectId?: string;
  /**
   * The project's slug (`project_slug`). Exactly one of `projectId` and `projectSlug` is set.
   *
   * @default - the project is named by `projectId`
   */
  readonly projectSlug?: string;
  /** The environment slug, e.g. `prod`. */
  readonly environment: string;
  /**
   * The folder the secrets live in (`secrets_path`), starting with `/`, e.g. `/compute/snowflake`.
   *
   * @default '/'
   */
  readonly secretsPath: string;
  /**
   * How often the operator re-syncs (`resync_interval`): a Go-style duration of at least 5s in
   * whole seconds, as written, e.g. `60s` or `1m30s`. See {@link parseDuration}.
   *
   * @default '60s'
   */
  readonly resyncInterval: string;
  /**
   * The `secrets.infisical.com` API version of the InfisicalSecret to generate (`operator_api`).
   *
   * @default 'v1alpha1'
   */
  readonly operatorApi: 'v1alpha1' | 'v1beta1';
  /** How the operator (and runtime plugins) authenticate. */
  readonly auth: InfisicalUniversalAuthConfig | InfisicalKubernetesAuthConfig;
}

/**
 * The Kubernetes Secrets backend: Secrets created by hand with kubectl.
 *
 * @requirement REQ-134
 */
export interface K8sBackendConfig {
  /** Discriminator. */
  readonly type: 'k8s';
  /**
   * The namespace that holds the Secrets.
   *
   * @default 'floe-jobs'
   */
  readonly namespace: string;
}

/** The HashiCorp Vault backend. */
export interface VaultBackendConfig {
  /** Discriminator. */
  readonly type: 'vault';
  /** Address of the Vault server: https, or plain http to localhost only. */
  readonly address: string;
  /** How to log in to Vault (`auth_method`). */
  readonly authMethod: 'kubernetes' | 'approle' | 'token';
  /**
   * The Vault role of the Kubernetes auth method (the CLI's login and the Vault Agent's). Set
   * exactly when `authMethod` is `kubernetes`: an AppRole login is named by its role id.
   *
   * @default - none: the `approle` and `token` methods take no role
   */
  readonly role?: string;
  /**
   * The path of the KV v2 secrets engine.
   *
   * @default 'secret'
   */
  readonly mount: string;
  /**
   * The Vault Enterprise namespace (`vault_namespace`).
   *
   * @default - the root namespace
   */
  readonly vaultNamespace?: string;
  /**
   * How secrets reach pods: the Vault Agent injector, or External Secrets Operator.
   *
   * @default 'agent-injector'
   */
  readonly delivery: 'agent-injector' | 'external-secrets';
  /**
   * The External Secrets store to read from (`secret_store`), created by the platform team. Only
   * with `delivery: external-secrets`.
   *
   * @default - with `delivery: external-secrets`, FloeSecretsPlatform creates a namespaced
   * SecretStore `vault` in each domain, logging in with the Vault role `floe-<domain>`; with the
   * agent injector, none (it talks to Vault directly)
   */
  readonly secretStore?: { readonly name: string; readonly kind: 'SecretStore' | 'ClusterSecretStore' };
  /**
   * Where to find the Vault token. Set exactly when `authMethod` is `token`.
   *
   * @default - none: only the `token` method uses it
   */
  readonly token?: CredentialRef;
  /**
   * Where to find the AppRole role ID (`role_id`). Set exactly when `authMethod` is `approle`.
   *
   * @default - none: only the `approle` method uses it
   */
  readonly roleId?: CredentialRef;
  /**
   * Where to find the AppRole secret ID (`secret_id`). Set exactly when `authMethod` is `approle`.
   *
   * @default - none: only the `approle` method uses it
   */
  readonly secretId?: CredentialRef;
}

/** The secrets backend the platform team chose (`plugins.secrets`), discriminated by `type`. */
export type SecretsBackendConfig = InfisicalBackendConfig | K8sBackendConfig | VaultBackendConfig;

/** A compute target (`compute.<name>`) and the Secret holding its connection credentials. */
export interface ComputeTarget {
  /** The kind of compute, e.g. `snowflake`. */
  readonly type: string;
  /** The name of the Secret holding the connection credentials (`connection_secret_ref`). */
  readonly connectionSecretRef: string;
  /**
   * The keys that Secret holds.
   *
   * @default - not declared
   */
  readonly keys?: string[];
  /**
   * The domains that use this target; each is declared under `domains`.
   *
   * @default - not declared
   */
  readonly domains?: string[];
}

/**
 * `plugins.identity`: who people are. With it, the floe-secrets CLI accepts only callers with a
 * valid access token of one of `realms`, and lets them touch only the Secrets of the domains their
 * token grants (see SecretAccessPolicy).
 */
export interface KeycloakIdentityManifestConfig {
  readonly type: 'keycloak';
  /** Keycloak's public URL, as it appears in its tokens' `iss` (without `/realms/...`). */
  readonly serverUrl: string;
  /** The realms whose tokens are accepted. */
  readonly realms: string[];
  /** The client ids a token must be issued for (`aud`); one is enough. */
  readonly audience: string[];
  /**
   * Where a token says which domains its subject may touch: the realm's name (`realm`), a claim
   * listing domains (`claim`), or groups under a parent group (`groups`).
   *
   * @default 'groups'
   */
  readonly domainsFrom: 'realm' | 'claim' | 'groups';
  /**
   * With `domainsFrom: claim`: the claim's name.
   *
   * @default 'floe_domains'
   */
  readonly claim?: string;
  /**
   * With `domainsFrom: groups`: the parent group's path; group `/floe/sales` grants domain `sales`.
   *
   * @default '/floe/'
   */
  readonly groupPrefix?: string;
}

/** The platform manifest (`manifest.yaml`), validated and deeply frozen. */
export interface PlatformManifest {
  /** Plugins the platform team selected; `secrets` is required, `identity` optional. */
  readonly plugins: { readonly secrets: SecretsBackendConfig; readonly identity?: KeycloakIdentityManifestConfig };
  /**
   * Compute targets by name.
   *
   * @default {}
   */
  readonly compute: { readonly [name: string]: ComputeTarget };
  /**
   * Data domains; domain `sales` lives in namespace `floe-sales`.
   *
   * @default []
   */
  readonly domains: ReadonlyArray<{ readonly name: string }>;
}

/** One problem in a manifest. Never holds a credential: credential values are never quoted. */
export interface ManifestIssue {
  /** The YAML path, e.g. `plugins.secrets.project_slug` or `domains[1].name`; `''` for the file itself. */
  readonly path: string;
  /**
   * The 1-based line of the offending key, or of its parent when the key is missing.
   *
   * @default - unknown (the file is empty or unreadable)
   */
  readonly line?: number;
  /** `<problem>; <fix>`. */
  readonly message: string;
}

/**
 * A manifest that cannot be read or is invalid. The message lists every problem found, one per
 * line, as `<source>:<line>: <yaml.path>: <problem>; <fix>`.
 */
export class ManifestError extends SecretsConfigError {
  /** Every problem found, in file order. */
  public readonly issues: ReadonlyArray<ManifestIssue>;

  /** The file name or label the manifest came from. */
  public readonly source: string;

  public constructor(source: string, issues: ReadonlyArray<ManifestIssue>) {
    super(issues.map((issue) => [`${source}${issue.line ? `:${issue.line}` : ''}`, issue.path, issue.message].filter((part) => part).join(': ')).join('\n'), 'manifest');
    this.source = source;
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ ...issue })));
  }
}

/**
 * Parses and validates a platform manifest.
 *
 * @param text the YAML text
 * @param source the name that messages give the file
 * @throws ManifestError listing every problem found
 */
export function parsePlatformManifest(text: string, source = 'manifest.yaml'): PlatformManifest {
  // Every YAML problem is described by its kind and position alone: the text may hold a credential
  // (an alias "*<secret>", a tag, a flow mapping "{{ <secret> }}"), and the library prints nothing.
  const lineCounter = new LineCounter();
  const yamlIssue = (problem: YamlProblem): ManifestIssue => ({
    path: '', line: problem.line, message: `is not valid YAML at column ${problem.column}: ${problem.message}`,
  });
  const { documents, errors } = parseYamlQuietly(text, lineCounter);
  const [doc, second] = documents;
  const problems = [
    ...errors,
    ...documents.flatMap((document) => [...yamlErrors(document, lineCounter), ...yamlWarnings(document, lineCounter)]),
  ];
  if (second) {
    const { line, col } = lineCounter.linePos(second.range[0]);
    problems.push({ code: 'MULTIPLE_DOCS', line, column: col, message: 'the manifest holds more than one YAML document; keep one (remove the "---" separators)' });
  }
  if (problems.length > 0) {
    throw new ManifestError(source, problems.sort((a, b) => a.line - b.line || a.column - b.column).map(yamlIssue));
  }
  if (!doc) throw new ManifestError(source, [{ path: '', message: 'is empty; configure at least plugins.secrets (see examples/manifest.yaml)' }]);
  const converted = yamlToJS(doc, lineCounter);
  if ('problem' in converted) throw new ManifestError(source, [yamlIssue(converted.problem)]);
  const data = converted.value;
  if (data === null || data === undefined) {
    throw new ManifestError(source, [{ path: '', message: 'is empty; configure at least plugins.secrets (see examples/manifest.yaml)' }]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    const kind = Array.isArray(data) ? 'a list' : `a ${typeof data}`;
    throw new ManifestError(source, [{
      path: '',
      line: lineAt(lineCounter, doc.contents!.range![0]),
      message: `is ${kind}, not a mapping; write top-level fields plugins, compute and domains (see examples/manifest.yaml)`,
    }]);
  }
  const result = manifestSchema.safeParse(data, { reportInput: true });
  if (!result.success) {
    const issues = describeIssues(result.error.issues).map((problem) => ({
      path: formatYamlPath(problem.path),
      line: locateLine(doc, lineCounter, problem.path),
      message: problem.message,
    }));
    throw new ManifestError(source, issues.sort((a, b) => a.line - b.line));
  }
  const manifest: PlatformManifest = result.data;
  return deepFreeze(manifest);
}

/**
 * Reads and validates the platform manifest at `path`.
 *
 * @param path the manifest file, e.g. `platform/manifest.yaml`; messages name it as given
 * @throws ManifestError naming `path` when the file cannot be read or is invalid
 */
export function loadPlatformManifest(path: string): PlatformManifest {
  let text: string;
  try {
    text = readTextFileCapped(path, MAX_MANIFEST_BYTES);
  } catch (error) {
    throw new ManifestError(path, [{ path: '', message: `${unreadable(error)}; pass the path of the platform manifest, e.g. "platform/manifest.yaml"` }]);
  }
  return parsePlatformManifest(text, path);
}

/** Why the manifest cannot be read, from the error's kind (a raw message may quote the file). */
function unreadable(error: unknown): string {
  if (error instanceof FileTooLargeError) return `is larger than ${formatBytes(error.maxBytes)} (a platform manifest is a few KiB: is this the right file?)`;
  const code = (error as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT': return 'does not exist';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'is not a file (a directory on its path is a file)';
    case 'EACCES':
    case 'EPERM': return 'cannot be read (permission denied)';
    default: return `cannot be read (${code ?? 'unknown error'})`;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
