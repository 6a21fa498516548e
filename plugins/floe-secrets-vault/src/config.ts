import { Masked } from '@floe-secrets/core';

/** Where Kubernetes mounts a pod's service account token. */
export const DEFAULT_KUBERNETES_JWT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * The strict configuration of a {@link VaultSecretsPlugin} as callers write it: unknown fields are
 * refused, credentials become {@link @floe-secrets/core!Masked}. Only this object configures the
 * plugin: environment variables such as VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE or
 * VAULT_SKIP_VERIFY are never read, so a stray variable can neither change the target nor the
 * identity, nor switch off TLS verification.
 *
 * @requirement CR-003 (strict plugin configuration, masked credentials)
 */
export interface VaultSecretsPluginConfig {
  /**
   * The Vault address, e.g. `https://vault.example.com:8200`: an http or https URL without user
   * name or password. Tokens, login credentials and values are sent to this origin only: a
   * redirect to another origin is refused (ConnectionError naming its host); point it at the active
   * node or a load balancer that forwards, not at a standby that redirects elsewhere.
   */
  readonly address: string;
  /**
   * The Vault Enterprise / HCP namespace, e.g. `team-a` or `org/team-a`, sent as
   * `X-Vault-Namespace` on every call except sys/health. Namespaces are an Enterprise feature:
   * Vault OSS ignores the header and serves its root namespace, so against OSS leave this out (it
   * would not isolate anything).
   *
   * @default - the root namespace
   */
  readonly namespace?: string;
  /**
   * The KV version 2 secrets engine mount, e.g. `secret` or `team/kv`, without leading or trailing
   * `/`. Checked on first use: a KV version 1 mount, another engine or a path inside another mount
   * is refused with a SecretsConfigError.
   *
   * @default "secret"
   */
  readonly mount?: string;
  /** How the plugin gets its Vault token. */
  readonly auth: VaultAuth;
  /**
   * Timeout of each HTTP request in milliseconds (1 to 120000), besides the per-attempt and total
   * timeouts of the retry policy (the shorter one ends the request and its socket).
   *
   * @default 5000
   */
  readonly requestTimeoutMs?: number;
  /**
   * A PEM file of the CA(s) that signed Vault's certificate, for https addresses with a private CA
   * (trusted besides the system's CAs). TLS is always verified.
   *
   * @default - the system's CAs (and NODE_EXTRA_CA_CERTS)
   */
  readonly caCertFile?: string;
  /**
   * Upper bound (1 to 100000) of folders plus secrets one listSecrets call visits; beyond it the
   * call fails rather than return a partial list.
   *
   * @default 1000
   */
  readonly listLimit?: number;
  /**
   * How often (0 to 20) setSecret re-reads and retries when another writer changed the secret in
   * between (check-and-set), waiting a random time before each retry (full jitter, 20 ms doubling,
   * at most 500 ms), all within the call's time budget.
   *
   * @default 10
   */
  readonly casRetries?: number;
}

/** How the plugin gets its Vault token, chosen by `method`. */
export type VaultAuth = VaultTokenAuth | VaultAppRoleAuth | VaultKubernetesAuth;

/** A Vault token. Suits Vault Agent sidecars and CI; it cannot be renewed by re-login. */
export interface VaultTokenAuth {
  /** Token auth. */
  readonly method: 'token';
  /** The Vault token. */
  readonly token: string;
}

/** AppRole: log in with a role id and a secret id. */
export interface VaultAppRoleAuth {
  /** AppRole auth. */
  readonly method: 'approle';
  /** The AppRole's role id. */
  readonly roleId: string;
  /** A secret id of the AppRole. */
  readonly secretId: string;
  /**
   * Where the AppRole auth method is enabled, `auth/<mount>`.
   *
   * @default "approle"
   */
  readonly mount?: string;
}

/** Kubernetes: log in with the pod's service account JWT, read from a file at every login (projected tokens rotate). */
export interface VaultKubernetesAuth {
  /** Kubernetes auth. */
  readonly method: 'kubernetes';
  /** The Vault role bound to the service account. Not a credential. */
  readonly role: string;
  /**
   * The file holding the service account JWT.
   *
   * @default /var/run/secrets/kubernetes.io/serviceaccount/token
   */
  readonly jwtPath?: string;
  /**
   * Where the Kubernetes auth method is enabled, `auth/<mount>`.
   *
   * @default "kubernetes"
   */
  readonly mount?: string;
}

/**
 * The parsed configuration: a {@link VaultSecretsPluginConfig} with its defaults filled in and its
 * credentials masked.
 */
export interface VaultConfig {
  /** The Vault address. */
  readonly address: string;
  /** The Vault Enterprise / HCP namespace; none for the root namespace. */
  readonly namespace?: string;
  /** The KV version 2 secrets engine mount. */
  readonly mount: string;
  /** How the plugin gets its Vault token. */
  readonly auth: VaultAuthConfig;
  /** Timeout of each HTTP request in milliseconds. */
  readonly requestTimeoutMs: number;
  /** A PEM file of the CA(s) that signed Vault's certificate; none for the system's CAs. */
  readonly caCertFile?: string;
  /** Upper bound of folders plus secrets one listSecrets call visits. */
  readonly listLimit: number;
  /** How often setSecret retries a lost check-and-set. */
  readonly casRetries: number;
}

/** The parsed `auth` block: a {@link VaultAuth} with its defaults filled in and its credentials masked. */
export type VaultAuthConfig =
  | { readonly method: 'token'; readonly token: Masked }
  | { readonly method: 'approle'; readonly roleId: Masked; readonly secretId: Masked; readonly mount: string }
  | { readonly method: 'kubernetes'; readonly role: string; readonly jwtPath: string; readonly mount: string };
