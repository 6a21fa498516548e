/**
 * The Kubernetes auth method of the VaultTestServer, as hashicorp/vault-plugin-auth-kubernetes
 * does it: a role (`auth/<mount>/role/<name>`) binds ServiceAccount names and namespaces (globs
 * `*`, `prefix*`, `*suffix`) and gives token policies and TTLs; a login first checks the JWT's own
 * claims against the role (403 "service account name not authorized", "namespace not
 * authorized"), then asks the real kube-apiserver of `auth/<mount>/config` (kubernetes_host,
 * kubernetes_ca_cert, token_reviewer_jwt, else the JWT itself) with a TokenReview whether the
 * token is valid and belongs to that ServiceAccount (403 "permission denied" otherwise).
 */
import { request } from 'node:https';

/** `auth/<mount>/config`. */
export interface KubernetesAuthConfig {
  readonly host: string;
  readonly caCert?: string;
  readonly reviewerJwt?: string;
}

/** A role written through `auth/<mount>/role/<name>`. */
export interface BoundKubernetesRole {
  readonly names: readonly string[];
  readonly namespaces: readonly string[];
  readonly policies: readonly string[];
  readonly ttlSeconds: number;
  readonly maxTtlSeconds: number;
}

/** A refusal with Vault's status and message. */
export class KubernetesLoginError extends Error {
  public constructor(public readonly status: number, message: string) {
    super(message);
  }
}

/** The ServiceAccount a login was for, as the TokenReview confirmed it. */
export interface ReviewedServiceAccount {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
}

/** Reads a role body as Vault's path_role.go does, with its error texts (400). */
export function parseBoundRole(body: unknown): BoundKubernetesRole {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as { [name: string]: unknown };
  const list = (name: string): string[] => {
    const value = fields[name];
    if (value === undefined || value === null) return [];
    if (typeof value === 'string') return value.split(',').map((v) => v.trim()).filter((v) => v !== '');
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
    throw new KubernetesLoginError(400, `${name} must be a list of strings`);
  };
  const names = list('bound_service_account_names');
  if (names.length === 0) throw new KubernetesLoginError(400, '"bound_service_account_names" can not be empty');
  if (names.length > 1 && names.includes('*')) throw new KubernetesLoginError(400, 'can not mix "*" with values');
  const namespaces = list('bound_service_account_namespaces');
  if (namespaces.length === 0) {
    throw new KubernetesLoginError(400, '"bound_service_account_namespaces" can not be empty if "bound_service_account_namespace_selector" is not set');
  }
  if (namespaces.length > 1 && namespaces.includes('*')) throw new KubernetesLoginError(400, 'can not mix "*" with values');
  const ttlSeconds = duration(fields.token_ttl ?? fields.ttl, 'token_ttl');
  const maxTtlSeconds = duration(fields.token_max_ttl ?? fields.max_ttl, 'token_max_ttl');
  if (maxTtlSeconds > 0 && ttlSeconds > maxTtlSeconds) throw new KubernetesLoginError(400, 'token ttl should not be greater than token max ttl');
  const policies = [...list('token_policies'), ...list('policies')].map((p) => p.toLowerCase());
  return { names, namespaces, policies: [...new Set(policies)], ttlSeconds, maxTtlSeconds };
}

/** Seconds from a number or a Go duration (`1h30m`, `90s`); 0 when absent. */
function duration(value: unknown, name: string): number {
  if (value === undefined || value === null || value === '') return 0;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) return Number(value);
    const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
    if (match) return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
  }
  throw new KubernetesLoginError(400, `error parsing ${name}`);
}

/** Whether `value` is in `list`, where an entry may be `*`, `prefix*` or `*suffix` (Vault's StrListContainsGlob). */
function containsGlob(list: readonly string[], value: string): boolean {
  return list.some((entry) => {
    if (entry === '*' || entry === value) return true;
    if (entry.length > 1 && entry.endsWith('*') && !entry.startsWith('*')) return value.startsWith(entry.slice(0, -1));
    if (entry.length > 1 && entry.startsWith('*') && !entry.endsWith('*')) return value.endsWith(entry.slice(1));
    if (entry.length > 2 && entry.startsWith('*') && entry.endsWith('*')) return value.includes(entry.slice(1, -1));
    return false;
  });
}

/** The ServiceAccount claims of a JWT (legacy secret tokens and projected tokens), read without verifying it, as Vault does before the TokenReview. */
function claimsOf(jwt: string): ReviewedServiceAccount & { audiences: string[] } {
  const parts = jwt.split('.');
  let claims: any;
  try {
    if (parts.length !== 3) throw new Error('not a JWT');
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new KubernetesLoginError(403, 'failed to parse the JWT');
  }
  const projected = claims?.['kubernetes.io'];
  const name = projected?.serviceaccount?.name ?? claims?.['kubernetes.io/serviceaccount/service-account.name'];
  const namespace = projected?.namespace ?? claims?.['kubernetes.io/serviceaccount/namespace'];
  const uid = projected?.serviceaccount?.uid ?? claims?.['kubernetes.io/serviceaccount/service-account.uid'];
  const aud = claims?.aud;
  return {
    name: typeof name === 'string' ? name : '',
    namespace: typeof namespace === 'string' ? namespace : '',
    uid: typeof uid === 'string' ? uid : '',
    audiences: Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : typeof aud === 'string' ? [aud] : [],
  };
}

/**
 * Logs in with `jwt` for `role`: the JWT's claims against the bound names and namespaces, then a
 * TokenReview by the kube-apiserver of `config`, whose answer must name the same ServiceAccount.
 *
 * @throws KubernetesLoginError 403 with Vault's message
 */
export async function kubernetesLogin(config: KubernetesAuthConfig, role: BoundKubernetesRole, jwt: string): Promise<ReviewedServiceAccount> {
  const claimed = claimsOf(jwt);
  if (!(role.names.length === 1 && role.names[0] === '*') && !containsGlob(role.names, claimed.name)) {
    throw new KubernetesLoginError(403, 'service account name not authorized');
  }
  if (!containsGlob(role.namespaces, claimed.namespace)) throw new KubernetesLoginError(403, 'namespace not authorized');
  let review: any;
  try {
    review = await tokenReview(config, jwt, claimed.audiences);
  } catch {
    throw new KubernetesLoginError(403, 'permission denied');
  }
  const user = review?.status?.user;
  const match = typeof user?.username === 'string' ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user.username) : null;
  if (review?.status?.authenticated !== true || review?.status?.error || !match) throw new KubernetesLoginError(403, 'permission denied');
  const reviewed = { namespace: match[1], name: match[2], uid: String(user.uid ?? '') };
  if (reviewed.name !== claimed.name || reviewed.namespace !== claimed.namespace || reviewed.uid !== claimed.uid) {
    throw new KubernetesLoginError(403, 'permission denied');
  }
  return reviewed;
}

/** POST /apis/authentication.k8s.io/v1/tokenreviews, as the reviewer JWT (else the JWT itself). */
function tokenReview(config: KubernetesAuthConfig, jwt: string, audiences: string[]): Promise<unknown> {
  const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: jwt, audiences } });
  return new Promise((done, fail) => {
    const req = request(`${config.host.replace(/\/+$/, '')}/apis/authentication.k8s.io/v1/tokenreviews`, {
      method: 'POST',
      ...(config.caCert ? { ca: config.caCert } : {}),
      headers: { 'authorization': `Bearer ${config.reviewerJwt ?? jwt}`, 'content-type': 'application/json', 'accept': 'application/json' },
      timeout: 10_000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 201 && res.statusCode !== 200) {
          fail(new Error(`TokenReview answered ${res.statusCode}`));
          return;
        }
        try {
          done(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          fail(error);
        }
      });
    });
    req.on('error', fail);
    req.on('timeout', () => req.destroy(new Error('TokenReview timed out')));
    req.end(body);
  });
}
