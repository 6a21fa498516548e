import { readFile } from 'node:fs/promises';
import { Masked, PermissionError, SecretsConfigError } from '@floe-secrets/core';
import { VaultAuthConfig } from './config';
import { field, isObject, statusOf, VaultBody, VaultHttp } from './http';

/** Re-login this long before a login token's lease ends: 10 % of the lease, at most 10 s. */
function renewMargin(leaseMs: number): number {
  return Math.min(10_000, leaseMs / 10);
}

/**
 * The plugin's Vault identity and token.
 *
 * - `token`: the configured token. On first use it is looked up once (auth/token/lookup-self) to
 *   learn its accessor, the audit identity. A token cannot log in again: when it expires, calls fail
 *   with PermissionError.
 * - `approle` and `kubernetes`: log in on first use and keep the token with its lease. Before the
 *   lease runs out the next call logs in again (proactive renewal), and concurrent callers share one
 *   login.
 *
 * Expired and revoked tokens. Vault answers an expired or revoked token with 403 "permission
 * denied", exactly as it answers a policy denial, so the message cannot tell them apart. When a call
 * made with a login token gets 403, {@link VaultSession.run} asks Vault about the token itself
 * (lookup-self, which the default policy grants to every live token): if the token is alive the 403
 * was a real denial and becomes PermissionError; if it is not, the session logs in again and repeats
 * the call once. A real denial thus costs one extra lookup and never a new login.
 *
 * Every call takes the caller's AbortSignal. Concurrent callers share one login, made with the
 * signal of the caller that started it; when that caller gives up, the others log in themselves.
 */
export class VaultSession {
  readonly #http: VaultHttp;
  readonly #auth: VaultAuthConfig;
  readonly #plugin: string;
  #token: Masked | undefined;
  #renewAt = Number.POSITIVE_INFINITY;
  #pending: Promise<Masked> | undefined;
  #pendingSignal: AbortSignal | undefined;
  #identity: string | undefined;
  #root = false;
  #logins = 0;

  public constructor(http: VaultHttp, auth: VaultAuthConfig, plugin: string) {
    this.#http = http;
    this.#auth = auth;
    this.#plugin = plugin;
  }

  /**
   * Who the plugin acts as, for the audit log: `token/<accessor>`, `approle/<role name>` (from the
   * login answer) or `kubernetes/<role>`. Never a token, role id or secret id.
   */
  public get requester(): string {
    switch (this.#auth.method) {
      case 'token':
        return `token/${this.#identity ?? '(accessor not yet known)'}`;
      case 'approle':
        return `approle/${this.#identity ?? '(not logged in yet)'}`;
      case 'kubernetes':
        return `kubernetes/${this.#auth.role}`;
    }
  }

  /** How many logins this session made (for tests and diagnostics). */
  public get logins(): number {
    return this.#logins;
  }

  /** Whether the token carries Vault's `root` policy (as far as lookup-self or the login told). */
  public get isRoot(): boolean {
    return this.#root;
  }

  /** A token to call Vault with, logging in first when there is none or its lease is about to end. */
  public async token(signal: AbortSignal): Promise<Masked> {
    for (;;) {
      if (this.#token && Date.now() < this.#renewAt) return this.#token;
      if (!this.#pending) {
        this.#pendingSignal = signal;
        this.#pending = this.acquire(signal).finally(() => {
          this.#pending = undefined;
        });
      }
      const startedBy = this.#pendingSignal;
      try {
        return await this.#pending;
      } catch (error) {
        // The caller who started the shared login gave up; this caller still has time: log in for it.
        if (startedBy !== signal && startedBy?.aborted === true && !signal.aborted) continue;
        throw error;
      }
    }
  }

  /**
   * Runs `op` with a token. A 403 with a login token that turns out dead (expired, revoked) leads to
   * one new login and one repeat; see the class comment.
   */
  public async run<T>(signal: AbortSignal, op: (token: Masked) => Promise<T>): Promise<T> {
    const token = await this.token(signal);
    try {
      return await op(token);
    } catch (error) {
      if (statusOf(error) !== 403 || this.#auth.method === 'token') throw error;
      if (await this.alive(token, signal)) throw error;
      if (this.#token === token) this.#token = undefined;
      return op(await this.token(signal));
    }
  }

  /** Whether Vault still accepts the session's current token (after a 403, to tell a dead token from a denial). */
  public async currentTokenAlive(signal: AbortSignal): Promise<boolean> {
    return this.alive(await this.token(signal), signal);
  }

  /** Whether Vault still accepts `token` (lookup-self answers 200). */
  public async alive(token: Masked, signal: AbortSignal): Promise<boolean> {
    try {
      await this.#http.read('auth/token/lookup-self', { token, signal });
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 401 || status === 403) return false;
      throw error;
    }
  }

  private async acquire(signal: AbortSignal): Promise<Masked> {
    const auth = this.#auth;
    if (auth.method === 'token') {
      await this.lookupStaticToken(auth.token, signal);
      this.#token = auth.token;
      this.#renewAt = Number.POSITIVE_INFINITY;
      return auth.token;
    }
    const started = Date.now();
    const body = auth.method === 'approle'
      ? await this.login(auth.mount, 'AppRole', { role_id: auth.roleId.reveal(), secret_id: auth.secretId.reveal() }, 'auth.roleId and auth.secretId', signal)
      : await this.login(auth.mount, 'Kubernetes', { role: auth.role, jwt: await this.serviceAccountJwt(auth.jwtPath) }, 'auth.role and the service account bound to it', signal);
    const clientToken = field(body, 'auth', 'client_token');
    if (typeof clientToken !== 'string' || clientToken === '') throw this.#http.notVault();
    this.#root = hasRootPolicy(field(body, 'auth', 'policies'));
    const roleName = field(body, 'auth', 'metadata', 'role_name');
    const accessor = field(body, 'auth', 'accessor');
    this.#identity = typeof roleName === 'string' && roleName !== '' ? roleName : typeof accessor === 'string' ? accessor : undefined;
    const lease = field(body, 'auth', 'lease_duration');
    const leaseMs = typeof lease === 'number' && lease > 0 ? lease * 1000 : Number.POSITIVE_INFINITY;
    this.#renewAt = started + leaseMs - renewMargin(leaseMs);
    this.#token = new Masked(clientToken);
    this.#logins++;
    return this.#token;
  }

  private async login(mount: string, kind: string, body: object, check: string, signal: AbortSignal): Promise<VaultBody> {
    try {
      return await this.#http.write(`auth/${mount}/login`, body, { signal });
    } catch (error) {
      const status = statusOf(error);
      if (status === 400 || status === 401 || status === 403) {
        throw new PermissionError(`${this.#plugin}: the ${kind} login at auth/${mount} was refused (HTTP ${status}); check ${check}`, this.#plugin);
      }
      if (status === 404 || status === 405) {
        throw new SecretsConfigError(`${this.#plugin}: no ${kind} auth method answers at auth/${mount}/login (HTTP ${status}); set auth.mount to where it is enabled`, this.#plugin);
      }
      throw error;
    }
  }

  private async serviceAccountJwt(path: string): Promise<string> {
    let jwt: string;
    try {
      jwt = (await readFile(path, 'utf8')).trim();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new SecretsConfigError(
        `${this.#plugin}: cannot read the service account token file ${path} (${typeof code === 'string' ? code : 'unreadable'}); ` +
          'mount the service account token into the pod or set auth.jwtPath',
        this.#plugin,
      );
    }
    if (jwt === '') throw new SecretsConfigError(`${this.#plugin}: the service account token file ${path} is empty; set auth.jwtPath to the mounted token`, this.#plugin);
    return jwt;
  }

  /** Learns the static token's accessor. Best effort: a token without lookup-self rights still works for what its policies allow. */
  private async lookupStaticToken(token: Masked, signal: AbortSignal): Promise<void> {
    try {
      const data = field(await this.#http.read('auth/token/lookup-self', { token, signal }), 'data');
      if (!isObject(data)) throw this.#http.notVault();
      if (typeof data.accessor === 'string' && data.accessor !== '') this.#identity = data.accessor;
      this.#root = hasRootPolicy(data.policies);
    } catch (error) {
      const status = statusOf(error);
      if (status === undefined || status >= 500 || status === 429) throw error;
      this.#identity = '(accessor unknown: lookup-self refused)';
    }
  }
}

function hasRootPolicy(policies: unknown): boolean {
  return Array.isArray(policies) && policies.includes('root');
}
