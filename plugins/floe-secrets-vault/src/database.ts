import { LeaseAuditAction, Masked, PermissionError, SecretsConfigError } from '@floe-secrets/core';
import { encodePath, errorsOf, field, isObject, statusOf, VaultHttp } from './http';
import { VaultSession } from './session';

/**
 * Dynamic database credentials from Vault's database secrets engine: a new database user per
 * request, with a lease. The username and password never print (`Masked`).
 */
export interface DatabaseCredentials {
  /** The lease, e.g. `database/creds/readonly/BQvurRJy0eccrDDM1DdmqcU5`: renew and revoke name it. */
  readonly leaseId: string;
  /** How long the credentials are valid from now, in seconds (Vault's `lease_duration`). */
  readonly leaseDurationSeconds: number;
  /** Whether the lease may be renewed (up to the role's `max_ttl`). */
  readonly renewable: boolean;
  /** When the lease ends unless renewed: the time of the answer plus its duration. */
  readonly expiresAt: Date;
  /** The database user; masked because it names the credential's holder. */
  readonly username: Masked;
  /** The password; `reveal()` only where it is handed to the database client. */
  readonly password: Masked;
}

/** What a renewal gave. */
export interface LeaseRenewal {
  readonly leaseId: string;
  /** The lease's new duration from now, in seconds. */
  readonly leaseDurationSeconds: number;
  readonly renewable: boolean;
  readonly expiresAt: Date;
  /**
   * Whether Vault gave less than asked: the lease may not outlive its issue time plus the role's
   * `max_ttl`, and Vault caps the renewal there (with a warning) instead of refusing it.
   */
  readonly capped: boolean;
}

/** What Vault says about a lease (`sys/leases/lookup`). */
export interface LeaseInfo {
  readonly leaseId: string;
  readonly issuedAt: Date;
  /** @default - none: a lease that never expires */
  readonly expiresAt?: Date;
  /** @default - never renewed */
  readonly lastRenewalAt?: Date;
  readonly renewable: boolean;
  /** Seconds left. */
  readonly ttlSeconds: number;
}

export type { LeaseAuditAction };

/** Vault's default mount of the database secrets engine. */
export const DEFAULT_DATABASE_MOUNT = 'database';

/**
 * The calls behind {@link VaultSecretsPlugin.getDatabaseCredentials} and the lease methods: one
 * request each through the session (token, re-login after a dead token's 403) and the plugin's
 * only door to Vault (same origin only). Errors are thrown as they come; the plugin retries,
 * audits and maps them.
 */
export class DatabaseEngine {
  readonly #http: VaultHttp;
  readonly #session: VaultSession;
  readonly #plugin: string;

  public constructor(http: VaultHttp, session: VaultSession, plugin: string) {
    this.#http = http;
    this.#session = session;
    this.#plugin = plugin;
  }

  /** GET `<mount>/creds/<role>`. */
  public async creds(mount: string, role: string, signal: AbortSignal): Promise<DatabaseCredentials> {
    const body = await this.#session.run(signal, (token) => this.#http.read(`${encodePath(mount)}/creds/${encodePath(role)}`, { token, signal }));
    const leaseId = field(body, 'lease_id');
    const duration = field(body, 'lease_duration');
    const renewable = field(body, 'renewable');
    const username = field(body, 'data', 'username');
    const password = field(body, 'data', 'password');
    if (typeof leaseId !== 'string' || leaseId === '' || typeof duration !== 'number' || typeof renewable !== 'boolean' ||
        typeof username !== 'string' || typeof password !== 'string') {
      throw this.#http.notVault();
    }
    return {
      leaseId,
      leaseDurationSeconds: duration,
      renewable,
      expiresAt: new Date(Date.now() + duration * 1000),
      username: new Masked(username),
      password: new Masked(password),
    };
  }

  /** PUT `sys/leases/renew`. */
  public async renew(leaseId: string, incrementSeconds: number | undefined, signal: AbortSignal): Promise<LeaseRenewal> {
    const body = await this.#session.run(signal, (token) => this.#http.write('sys/leases/renew', {
      lease_id: leaseId,
      ...(incrementSeconds !== undefined ? { increment: incrementSeconds } : {}),
    }, { token, signal }));
    const duration = field(body, 'lease_duration');
    const renewable = field(body, 'renewable');
    if (field(body, 'lease_id') !== leaseId || typeof duration !== 'number' || typeof renewable !== 'boolean') throw this.#http.notVault();
    return {
      leaseId,
      leaseDurationSeconds: duration,
      renewable,
      expiresAt: new Date(Date.now() + duration * 1000),
      capped: incrementSeconds !== undefined && incrementSeconds > 0 && duration < incrementSeconds,
    };
  }

  /** PUT `sys/leases/revoke`. Vault answers 204 for a lease it does not hold, too. */
  public async revoke(leaseId: string, signal: AbortSignal): Promise<void> {
    await this.#session.run(signal, (token) => this.#http.write('sys/leases/revoke', { lease_id: leaseId }, { token, signal }));
  }

  /** PUT `sys/leases/lookup`; undefined when Vault answers 400 "invalid lease" (expired, revoked, never issued). */
  public async lookup(leaseId: string, signal: AbortSignal): Promise<LeaseInfo | undefined> {
    let body;
    try {
      body = await this.#session.run(signal, (token) => this.#http.write('sys/leases/lookup', { lease_id: leaseId }, { token, signal }));
    } catch (error) {
      if (statusOf(error) === 400 && (errorsOf(error) ?? []).includes('invalid lease')) return undefined;
      throw error;
    }
    const data = field(body, 'data');
    if (!isObject(data) || data.id !== leaseId || typeof data.renewable !== 'boolean' || typeof data.ttl !== 'number') throw this.#http.notVault();
    const issued = dateOf(data.issue_time);
    if (issued === undefined) throw this.#http.notVault();
    const expires = dateOf(data.expire_time);
    const renewed = dateOf(data.last_renewal);
    return {
      leaseId,
      issuedAt: issued,
      ...(expires !== undefined ? { expiresAt: expires } : {}),
      ...(renewed !== undefined ? { lastRenewalAt: renewed } : {}),
      renewable: data.renewable,
      ttlSeconds: data.ttl,
    };
  }

  /**
   * The error a refused lease call becomes (undefined when it is not a refusal): what to grant for
   * 401/403, what Vault's 400s and 404s mean. Vault's own messages decide, never appear.
   */
  public refusal(error: unknown, action: LeaseAuditAction, key: string, mount: string | undefined): PermissionError | SecretsConfigError | undefined {
    const status = statusOf(error);
    const plugin = this.#plugin;
    const who = this.#session.requester;
    if (status === 401 || status === 403) {
      const grant = action === 'creds' ? `"read" on ${key}` : `"update" on sys/leases/${action}`;
      // Vault answers 403 alike when the path is denied and when no engine is mounted there (for any token but root).
      const unmounted = action === 'creds' ? `, or that a database secrets engine is mounted at "${mount}" (Vault answers ${status} to both)` : '';
      return new PermissionError(`${plugin}: ${action} ${JSON.stringify(key)} was denied (HTTP ${status}); grant ${who} ${grant}, or check its token has not expired${unmounted}`, plugin, key);
    }
    if (status === undefined || status === 412 || status === 429 || status >= 500) return undefined;
    const errors = errorsOf(error) ?? [];
    if (action === 'creds') {
      if (errors.some((e) => e.startsWith('unknown role'))) {
        return new SecretsConfigError(`${plugin}: the database secrets engine at "${mount}" has no role ${JSON.stringify(key.slice(key.lastIndexOf('/') + 1))}; check the role name, or create it (vault write ${mount}/roles/<role> ...)`, plugin, key);
      }
      if (status === 404) {
        return new SecretsConfigError(`${plugin}: no database secrets engine answers at mount "${mount}" (HTTP 404); enable it (vault secrets enable -path=${mount} database) or pass its mount`, plugin, key);
      }
      return new SecretsConfigError(`${plugin}: creds ${JSON.stringify(key)} was refused (HTTP ${status}); check the role exists and its database connection allows it (allowed_roles)`, plugin, key);
    }
    if (errors.includes('lease not found') || errors.includes('invalid lease')) {
      return new SecretsConfigError(`${plugin}: Vault holds no lease ${JSON.stringify(key)} (it expired, was revoked, or its token was revoked); get new credentials`, plugin, key);
    }
    return new SecretsConfigError(`${plugin}: ${action} of lease ${JSON.stringify(key)} was refused (HTTP ${status}); check the lease id`, plugin, key);
  }
}

/** Checks a role or mount name before anything is sent. */
export function checkDatabasePath(plugin: string, what: 'role' | 'mount', value: unknown): void {
  const example = what === 'role' ? 'e.g. "readonly"' : `e.g. "${DEFAULT_DATABASE_MOUNT}"`;
  if (typeof value !== 'string') throw new SecretsConfigError(`${plugin}: the ${what} must be a string, got ${typeof value}; give a name, ${example}`, plugin);
  const ok = what === 'role' ? /^[^/\s]+$/.test(value) : /^[^/\s]+(\/[^/\s]+)*$/.test(value);
  // "." and ".." would make Vault read another path than <mount>/creds/<role> (e.g. a mount "database/../sys").
  const dots = value.split('/').some((segment) => segment === '.' || segment === '..');
  if (!ok || dots || value.length > 256 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new SecretsConfigError(`${plugin}: the ${what} ${JSON.stringify(value)} is not a Vault path segment; give a name without spaces, empty, "." or ".." segments, ${example}`, plugin);
  }
}

/** Checks a lease id before anything is sent: Vault's `<mount>/creds/<role>/<id>` form, or any id without blanks. */
export function checkLeaseId(plugin: string, leaseId: unknown): void {
  if (typeof leaseId !== 'string') {
    throw new SecretsConfigError(`${plugin}: the lease id must be a string, got ${typeof leaseId}; give the lease_id Vault answered`, plugin);
  }
  if (leaseId === '' || leaseId.split('/').some((segment) => segment === '.' || segment === '..') || leaseId.length > 1024 || /[\s\u0000-\u001f\u007f]/.test(leaseId) || leaseId.startsWith('/') || leaseId.includes('//')) {
    throw new SecretsConfigError(`${plugin}: ${JSON.stringify(leaseId.slice(0, 80))} is not a lease id; give the lease_id Vault answered, e.g. "database/creds/readonly/BQvurRJy0eccrDDM1DdmqcU5"`, plugin);
  }
}

function dateOf(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
