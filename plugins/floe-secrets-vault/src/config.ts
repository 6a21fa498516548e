import { maskedString } from '@floe-secrets/core';
import { z } from 'zod';

/** Where Kubernetes mounts a pod's service account token. */
export const DEFAULT_KUBERNETES_JWT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

const MOUNT = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const mount = (fallback: string) => z.string().regex(MOUNT, 'must be a mount path such as "secret" or "team/kv", without leading or trailing "/"').default(fallback);

const tokenAuth = z.strictObject({
  /** A Vault token. Suits Vault Agent sidecars and CI; it cannot be renewed by re-login. */
  method: z.literal('token'),
  token: maskedString(),
});

const appRoleAuth = z.strictObject({
  /** AppRole: log in with a role id and a secret id. */
  method: z.literal('approle'),
  roleId: maskedString(),
  secretId: maskedString(),
  /** Where the AppRole auth method is enabled, `auth/<mount>`. */
  mount: mount('approle'),
});

const kubernetesAuth = z.strictObject({
  /** Kubernetes: log in with the pod's service account JWT, read from a file at every login (projected tokens rotate). */
  method: z.literal('kubernetes'),
  /** The Vault role bound to the service account. Not a credential. */
  role: z.string().min(1),
  jwtPath: z.string().min(1).default(DEFAULT_KUBERNETES_JWT_PATH),
  /** Where the Kubernetes auth method is enabled, `auth/<mount>`. */
  mount: mount('kubernetes'),
});

/**
 * The strict configuration of a {@link VaultSecretsPlugin} (CR-003): unknown fields are refused,
 * credentials become {@link @floe-secrets/core!Masked}. Only this object configures the plugin:
 * environment variables such as VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE or VAULT_SKIP_VERIFY are
 * never read, so a stray variable can neither change the target nor the identity, nor switch off
 * TLS verification.
 */
export const vaultConfigSchema = z.strictObject({
  /**
   * The Vault address, e.g. `https://vault.example.com:8200`. Tokens, login credentials and values
   * are sent to this origin only: a redirect to another origin is refused (ConnectionError naming
   * its host); point it at the active node or a load balancer that forwards, not at a standby that
   * redirects elsewhere.
   */
  address: z.url({ protocol: /^https?$/ }).refine((value) => {
    // zod runs refinements after a failed format check too; that failure is reported already.
    if (!URL.canParse(value)) return true;
    const url = new URL(value);
    return url.username === '' && url.password === '';
  }, 'must not hold credentials; configure them under auth'),
  /**
   * The Vault Enterprise / HCP namespace, sent as `X-Vault-Namespace` on every call except
   * sys/health. Namespaces are an Enterprise feature: Vault OSS ignores the header and serves its
   * root namespace, so against OSS leave this out (it would not isolate anything).
   *
   * @default - the root namespace
   */
  namespace: z.string().regex(MOUNT, 'must be a namespace path such as "team-a" or "org/team-a"').optional(),
  /**
   * The KV version 2 secrets engine mount. Checked on first use: a KV version 1 mount, another
   * engine or a path inside another mount is refused with a SecretsConfigError.
   *
   * @default "secret"
   */
  mount: mount('secret'),
  /** How the plugin gets its Vault token. */
  auth: z.discriminatedUnion('method', [tokenAuth, appRoleAuth, kubernetesAuth]),
  /**
   * Timeout of each HTTP request, besides the per-attempt and total timeouts of the retry policy
   * (the shorter one ends the request and its socket).
   *
   * @default 5000
   */
  requestTimeoutMs: z.number().int().min(1).max(120_000).default(5_000),
  /**
   * A PEM file of the CA(s) that signed Vault's certificate, for https addresses with a private CA
   * (trusted besides the system's CAs). TLS is always verified.
   *
   * @default - the system's CAs (and NODE_EXTRA_CA_CERTS)
   */
  caCertFile: z.string().min(1).optional(),
  /**
   * Upper bound of folders plus secrets one listSecrets call visits; beyond it the call fails rather than return a partial list.
   *
   * @default 1000
   */
  listLimit: z.number().int().min(1).max(100_000).default(1_000),
  /**
   * How often setSecret re-reads and retries when another writer changed the secret in between
   * (check-and-set), waiting a random time before each retry (full jitter, 20 ms doubling, at most
   * 500 ms), all within the call's time budget.
   *
   * @default 10
   */
  casRetries: z.number().int().min(0).max(20).default(10),
});

/** The configuration as callers write it (defaults may be left out). */
export type VaultSecretsPluginConfig = z.input<typeof vaultConfigSchema>;

/** The parsed configuration, with defaults and credentials masked. */
export type VaultConfig = z.output<typeof vaultConfigSchema>;

/** The parsed `auth` block. */
export type VaultAuthConfig = VaultConfig['auth'];
