/**
 * The database secrets engine of the VaultTestServer (vault-test-server.ts), against a REAL PostgreSQL
 * (postgres-test-cluster.ts): users are created and dropped by `psql`, so a test sees them appear in
 * pg_roles, log in with their password, and disappear. It follows Vault's documented HTTP API for the
 * engine and for sys/leases, and what Vault's sources do where the documentation is silent
 * (builtin/logical/database, vault/expiration.go, vault/logical_system.go, sdk/framework CalculateTTL):
 *
 * - POST <mount>/config/<name>  `{plugin_name: "postgresql-database-plugin", connection_url, username, password,
 *                               allowed_roles, verify_connection}`; the URL's `{{username}}`/`{{password}}` are filled
 *                               in (the password reaches psql in PGPASSWORD, never its command line)
 * - POST|GET|DELETE <mount>/roles/<name>  `{db_name, creation_statements, revocation_statements, renew_statements,
 *                               default_ttl, max_ttl}` (seconds or "1h"-style); 400 "empty database name attribute",
 *                               "empty creation statements", "ttl cannot be greater than max_ttl"
 * - GET <mount>/creds/<role>    a new user: `{lease_id: "<mount>/creds/<role>/<24 random>", lease_duration, renewable:
 *                               true, data: {username, password}}`; username `v-<display name|8>-<role|8>-<random 20>-<unix
 *                               time>` (at most 63), password 20 characters of letters, digits and `-` (Vault's default
 *                               policy); the TTL is the role's default_ttl (else the system default, 768h) capped by
 *                               its max_ttl; `{{name}}`, `{{username}}`, `{{password}}`, `{{expiration}}` substituted,
 *                               the statements run in one transaction. 400 "unknown role: <role>"
 * - PUT sys/leases/lookup       `{lease_id}` -> `{id, issue_time, expire_time, last_renewal, renewable, ttl}`;
 *                               400 "invalid lease" for a lease Vault does not hold (expired, revoked, never issued)
 * - PUT sys/leases/renew        `{lease_id, increment}`: the new TTL is `increment` (else the role's default_ttl) from
 *                               now, capped so the lease never outlives issue time + max_ttl; when capped, the answer
 *                               carries Vault's warning `TTL of "1h0m0s" exceeded the effective max_ttl of "4s"; TTL
 *                               value is capped accordingly`. The user's VALID UNTIL moves (renew_statements, else
 *                               `ALTER ROLE ... VALID UNTIL`). 400 "lease not found"
 * - PUT sys/leases/revoke       `{lease_id}`: revocation_statements (else REVOKE ... and DROP ROLE), 204. A lease Vault
 *                               does not hold is also 204 (expiration.go: "If there is no entry, nothing to revoke")
 *
 * Ownership: a lease belongs to the token that read the creds. Revoking that token, or its TTL running out, revokes
 * its leases and drops their users (Vault's RevokeByToken); any token whose policy grants `update` on
 * sys/leases/revoke (or renew, lookup) may act on any lease, as in Vault: there is no ownership check there.
 *
 * Expiry uses timers (unref'd, so they never keep a process alive): each lease has one, at the earlier of its own
 * expiry and its token's; when it fires the user is dropped. Lookups and renewals also check the clock, so a lease is
 * never answered as alive after its time even if its timer is late. {@link VaultTestDatabase.settled} waits for
 * revocations under way.
 */
import { spawn } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { postgresBinDir } from './postgres-test-cluster';

/** A Vault error answer (status and `errors`), turned into `{"errors": [...]}` by the server. */
export class VaultApiError extends Error {
  public constructor(public readonly status: number, public readonly errors: string[]) {
    super(errors.join('; '));
  }
}

/** The token making a request, as the server knows it. */
export interface DatabaseCaller {
  readonly tokenId: string;
  /** Vault's display name of the token (`token`, `approle`, `kubernetes-<namespace>-<name>`). */
  readonly displayName: string;
  /** When the token's TTL ends (ms since the epoch); undefined for a token without TTL. */
  readonly tokenExpiresAt: number | undefined;
  /** Throws 403 unless the token's policies grant `capability` on `path`. */
  authorize(path: string, capability: 'create' | 'read' | 'update' | 'delete' | 'list'): void;
}

/** What a route answers. */
export interface DatabaseAnswer { status: number; body?: object }

interface Connection {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly allowedRoles: readonly string[];
}

interface Role {
  readonly dbName: string;
  readonly creation: readonly string[];
  readonly revocation: readonly string[];
  readonly renewal: readonly string[];
  readonly defaultTtl: number;
  readonly maxTtl: number;
}

/** A lease Vault holds. */
export interface TestLease {
  readonly id: string;
  readonly namespace: string;
  readonly mount: string;
  readonly role: string;
  readonly username: string;
  readonly tokenId: string;
  readonly tokenExpiresAt: number | undefined;
  readonly issued: number;
  expires: number;
  lastRenewal: number | undefined;
  timer?: NodeJS.Timeout;
}

/** Vault's system default and maximum lease TTL (768h) when neither the role nor the mount sets one. */
const SYSTEM_TTL = 768 * 3600;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** See the file comment. */
export class VaultTestDatabase {
  /** Leases held, by id. */
  public readonly leases = new Map<string, TestLease>();
  /** Mounts of the engine, `namespace|path`. */
  private readonly mounts = new Set<string>();
  private readonly connections = new Map<string, Connection>();
  private readonly roles = new Map<string, Role>();
  private readonly pending = new Set<Promise<void>>();
  private closed = false;

  /** Enables the engine at `mount` (e.g. `database`) in `namespace`. */
  public enable(mount: string, namespace = ''): void {
    this.mounts.add(`${namespace}|${mount}`);
  }

  /** The mount of the engine that holds `path`, if any. */
  public mountOf(namespace: string, path: string): { mount: string; rest: string } | undefined {
    let best: { mount: string; rest: string } | undefined;
    for (const id of this.mounts) {
      const [ns, mount] = id.split('|');
      if (ns !== namespace || !path.startsWith(`${mount}/`)) continue;
      if (!best || mount.length > best.mount.length) best = { mount, rest: path.slice(mount.length + 1) };
    }
    return best;
  }

  /** Whether this module answers `path`: sys/leases/{lookup,renew,revoke} or a path under an engine mount. */
  public handles(namespace: string, path: string): boolean {
    return /^sys\/leases\/(lookup|renew|revoke)$/.test(path) || this.mountOf(namespace, path) !== undefined;
  }

  /** Answers one request. */
  public async route(method: string, path: string, namespace: string, caller: DatabaseCaller, body: unknown): Promise<DatabaseAnswer> {
    const lease = /^sys\/leases\/(lookup|renew|revoke)$/.exec(path);
    if (lease) {
      if (method !== 'PUT' && method !== 'POST') throw new VaultApiError(405, ['unsupported operation']);
      caller.authorize(path, 'update');
      const id = field(body, 'lease_id');
      if (typeof id !== 'string' || id === '') throw new VaultApiError(400, ['lease_id must be specified']);
      if (lease[1] === 'lookup') return this.lookup(id);
      if (lease[1] === 'renew') return this.renew(id, field(body, 'increment'));
      await this.revoke(id);
      return { status: 204 };
    }
    const found = this.mountOf(namespace, path);
    if (!found) throw new VaultApiError(404, [`no handler for route "${path}". route entry not found.`]);
    const { mount, rest } = found;
    const match = /^(config|roles|creds)\/([^/]+)$/.exec(rest);
    if (!match) throw new VaultApiError(404, [`no handler for route "${path}". route entry not found.`]);
    const [, kind, name] = match;
    const key = `${namespace}|${mount}|${name}`;
    if (kind === 'creds') {
      if (method !== 'GET') throw new VaultApiError(405, ['unsupported operation']);
      caller.authorize(path, 'read');
      return this.creds(namespace, mount, name, caller);
    }
    if (kind === 'config') {
      if (method !== 'POST' && method !== 'PUT') {
        if (method !== 'GET') throw new VaultApiError(405, ['unsupported operation']);
        caller.authorize(path, 'read');
        const connection = this.connections.get(key);
        if (!connection) throw new VaultApiError(404, []);
        const details = { connection_url: connection.url, username: connection.username };
        return { status: 200, body: envelope({ plugin_name: 'postgresql-database-plugin', allowed_roles: connection.allowedRoles, connection_details: details }) };
      }
      caller.authorize(path, this.connections.has(key) ? 'update' : 'create');
      return this.configure(key, body);
    }
    if (method === 'GET') {
      caller.authorize(path, 'read');
      const role = this.roles.get(key);
      if (!role) throw new VaultApiError(404, []);
      return {
        status: 200,
        body: envelope({
          db_name: role.dbName,
          creation_statements: role.creation,
          revocation_statements: role.revocation,
          renew_statements: role.renewal,
          default_ttl: role.defaultTtl,
          max_ttl: role.maxTtl,
        }),
      };
    }
    if (method === 'DELETE') {
      caller.authorize(path, 'delete');
      this.roles.delete(key);
      return { status: 204 };
    }
    if (method !== 'POST' && method !== 'PUT') throw new VaultApiError(405, ['unsupported operation']);
    caller.authorize(path, this.roles.has(key) ? 'update' : 'create');
    this.roles.set(key, parseRole(body));
    return { status: 204 };
  }

  /** Revokes every lease `tokenId` holds (its token was revoked or expired), dropping their users. */
  public async tokenRevoked(tokenId: string): Promise<void> {
    await Promise.all([...this.leases.values()].filter((l) => l.tokenId === tokenId).map((l) => this.revoke(l.id)));
  }

  /** Resolves when no revocation is under way. */
  public async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops every timer; the leases' users stay (the cluster is thrown away with them). */
  public close(): void {
    this.closed = true;
    for (const lease of this.leases.values()) clearTimeout(lease.timer);
  }

  private async configure(key: string, body: unknown): Promise<DatabaseAnswer> {
    const plugin = field(body, 'plugin_name');
    if (plugin !== 'postgresql-database-plugin') {
      throw new VaultApiError(400, [`error creating database object: unknown plugin ${JSON.stringify(plugin)} (this test server speaks postgresql-database-plugin)`]);
    }
    const url = field(body, 'connection_url');
    if (typeof url !== 'string' || url === '') throw new VaultApiError(400, ['error creating database object: connection_url cannot be empty']);
    const allowed = field(body, 'allowed_roles');
    const connection: Connection = {
      url,
      username: String(field(body, 'username') ?? ''),
      password: String(field(body, 'password') ?? ''),
      allowedRoles: typeof allowed === 'string' ? allowed.split(',').map((r) => r.trim()).filter(Boolean) : Array.isArray(allowed) ? allowed.map(String) : [],
    };
    if (field(body, 'verify_connection') !== false) {
      const result = await this.sql(connection, 'SELECT 1;');
      if (result.status !== 0) throw new VaultApiError(400, ['error creating database object: error verifying connection']);
    }
    this.connections.set(key, connection);
    return { status: 204 };
  }

  private async creds(namespace: string, mount: string, name: string, caller: DatabaseCaller): Promise<DatabaseAnswer> {
    const role = this.roles.get(`${namespace}|${mount}|${name}`);
    if (!role) throw new VaultApiError(400, [`unknown role: ${name}`]);
    const connection = this.connections.get(`${namespace}|${mount}|${role.dbName}`);
    if (!connection) throw new VaultApiError(500, [`could not find database "${role.dbName}"`]);
    if (!connection.allowedRoles.includes('*') && !connection.allowedRoles.includes(name)) {
      throw new VaultApiError(400, [`"${name}" is not an allowed role`]);
    }
    const ttl = Math.min(role.defaultTtl || SYSTEM_TTL, role.maxTtl || SYSTEM_TTL);
    const now = Date.now();
    const username = `v-${caller.displayName.slice(0, 8)}-${name.slice(0, 8)}-${randomText(20, ALNUM)}-${Math.floor(now / 1000)}`.slice(0, 63);
    const password = defaultPassword();
    const expires = now + ttl * 1000;
    const result = await this.sql(connection, transaction(role.creation, { name: username, password, expiration: pgTime(expires) }));
    if (result.status !== 0) throw new VaultApiError(500, ['failed to create user']);
    const id = `${mount}/creds/${name}/${randomText(24, ALNUM)}`;
    const lease: TestLease = {
      id,
      namespace,
      mount,
      role: name,
      username,
      tokenId: caller.tokenId,
      tokenExpiresAt: caller.tokenExpiresAt,
      issued: now,
      expires,
      lastRenewal: undefined,
    };
    this.leases.set(id, lease);
    this.schedule(lease);
    return {
      status: 200,
      body: leased(id, ttl, { username, password }, null),
    };
  }

  private lookup(id: string): DatabaseAnswer {
    const lease = this.alive(id);
    if (!lease) throw new VaultApiError(400, ['invalid lease']);
    return {
      status: 200,
      body: envelope({
        id,
        issue_time: new Date(lease.issued).toISOString(),
        expire_time: new Date(lease.expires).toISOString(),
        last_renewal: lease.lastRenewal === undefined ? null : new Date(lease.lastRenewal).toISOString(),
        renewable: true,
        ttl: Math.max(0, Math.floor((lease.expires - Date.now()) / 1000)),
      }),
    };
  }

  private async renew(id: string, increment: unknown): Promise<DatabaseAnswer> {
    const lease = this.alive(id);
    if (!lease) throw new VaultApiError(400, ['lease not found']);
    const role = this.roles.get(`${lease.namespace}|${lease.mount}|${lease.role}`);
    if (!role) throw new VaultApiError(500, [`error during renew: could not find role with name "${lease.role}"`]);
    const asked = typeof increment === 'number' ? increment : typeof increment === 'string' ? seconds(increment) : 0;
    if (asked === undefined || asked < 0) throw new VaultApiError(400, ['invalid increment']);
    const now = Date.now();
    let ttl = asked > 0 ? asked : role.defaultTtl || SYSTEM_TTL;
    // framework.CalculateTTL: never past issue time + max TTL; the remaining time in whole seconds.
    const remaining = Math.floor((lease.issued + (role.maxTtl || SYSTEM_TTL) * 1000 - now) / 1000);
    if (remaining <= 0) throw new VaultApiError(400, ['past the max TTL, cannot renew']);
    const warnings: string[] = [];
    if (ttl > remaining) {
      warnings.push(`TTL of "${goDuration(ttl)}" exceeded the effective max_ttl of "${goDuration(remaining)}"; TTL value is capped accordingly`);
      ttl = remaining;
    }
    const connection = this.connections.get(`${lease.namespace}|${lease.mount}|${role.dbName}`);
    if (connection) {
      // Vault adds 5 s to VALID UNTIL, so that the user never expires before its lease.
      const renewal = role.renewal.length > 0 ? role.renewal : ['ALTER ROLE "{{name}}" VALID UNTIL \'{{expiration}}\';'];
      const result = await this.sql(connection, transaction(renewal, { name: lease.username, expiration: pgTime(now + (ttl + 5) * 1000) }));
      if (result.status !== 0) throw new VaultApiError(500, ['failed to renew user']);
    }
    lease.expires = now + ttl * 1000;
    lease.lastRenewal = now;
    this.schedule(lease);
    return {
      status: 200,
      body: leased(id, ttl, null, warnings.length > 0 ? warnings : null),
    };
  }

  /** Revokes a lease: runs its role's revocation statements and forgets it. Nothing to do for a lease not held. */
  private async revoke(id: string): Promise<void> {
    const lease = this.leases.get(id);
    if (!lease) return;
    this.leases.delete(id);
    clearTimeout(lease.timer);
    const work = this.dropUser(lease);
    this.pending.add(work);
    try {
      await work;
    } finally {
      this.pending.delete(work);
    }
  }

  private async dropUser(lease: TestLease): Promise<void> {
    const role = this.roles.get(`${lease.namespace}|${lease.mount}|${lease.role}`);
    const connection = role && this.connections.get(`${lease.namespace}|${lease.mount}|${role.dbName}`);
    if (!role || !connection) return;
    const revocation = role.revocation.length > 0 ? role.revocation : [
      'REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM "{{name}}";',
      'REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public FROM "{{name}}";',
      'REVOKE USAGE ON SCHEMA public FROM "{{name}}";',
      'DROP ROLE IF EXISTS "{{name}}";',
    ];
    const result = await this.sql(connection, transaction(revocation, { name: lease.username }));
    if (result.status !== 0) throw new VaultApiError(500, ['failed to revoke user']);
  }

  /** The lease when it is held and neither it nor its token has run out; revokes it (in the background) when it has. */
  private alive(id: string): TestLease | undefined {
    const lease = this.leases.get(id);
    if (!lease) return undefined;
    if (Date.now() < deadline(lease)) return lease;
    void this.revoke(id).catch(() => undefined);
    return undefined;
  }

  /** One timer per lease, at the earlier of its expiry and its token's. */
  private schedule(lease: TestLease): void {
    clearTimeout(lease.timer);
    if (this.closed) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, deadline(lease) - Date.now()));
    lease.timer = setTimeout(() => {
      if (this.leases.get(lease.id) !== lease) return;
      if (Date.now() < deadline(lease)) this.schedule(lease);
      else void this.revoke(lease.id).catch(() => undefined);
    }, wait);
    lease.timer.unref();
  }

  /** Runs SQL through psql against `connection`: the URL on the command line without the password, which goes in PGPASSWORD. */
  private sql(connection: Connection, sql: string): Promise<{ status: number }> {
    const bin = postgresBinDir();
    if (!bin) return Promise.resolve({ status: -1 });
    const url = connection.url.replace(/\{\{username\}\}/g, encodeURIComponent(connection.username)).replace(/:\{\{password\}\}/g, '');
    const env: NodeJS.ProcessEnv = { ...process.env, PGPASSWORD: connection.password, PGCONNECT_TIMEOUT: '10' };
    return new Promise((resolve) => {
      const child = spawn(join(bin, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url], { env, stdio: ['pipe', 'ignore', 'ignore'] });
      child.on('error', () => resolve({ status: -1 }));
      child.on('close', (code) => resolve({ status: code ?? -1 }));
      child.stdin.end(sql);
    });
  }
}

function deadline(lease: TestLease): number {
  return Math.min(lease.expires, lease.tokenExpiresAt ?? Number.POSITIVE_INFINITY);
}

function parseRole(body: unknown): Role {
  const dbName = field(body, 'db_name');
  if (typeof dbName !== 'string' || dbName === '') throw new VaultApiError(400, ['empty database name attribute']);
  const creation = statements(field(body, 'creation_statements'));
  if (creation.length === 0) throw new VaultApiError(400, ['empty creation statements']);
  const defaultTtl = seconds(field(body, 'default_ttl') ?? 0);
  const maxTtl = seconds(field(body, 'max_ttl') ?? 0);
  if (defaultTtl === undefined || maxTtl === undefined) throw new VaultApiError(400, ['error converting input for field "default_ttl" or "max_ttl"']);
  if (maxTtl > 0 && defaultTtl > maxTtl) throw new VaultApiError(400, ['ttl cannot be greater than max_ttl']);
  return { dbName, creation, revocation: statements(field(body, 'revocation_statements')), renewal: statements(field(body, 'renew_statements')), defaultTtl, maxTtl };
}

function statements(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() === '' ? [] : [value];
  return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string' && s.trim() !== '') : [];
}

/** Seconds from a number or a Go-style duration ("90", "90s", "15m", "1h30m"); undefined when unreadable. */
function seconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  if (typeof value !== 'string') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const units: { [unit: string]: number } = { h: 3600, m: 60, s: 1 };
  let total = 0;
  const rest = value.replace(/(\d+)([hms])/g, (_all, n: string, unit: string) => {
    total += Number(n) * units[unit];
    return '';
  });
  return rest === '' && value !== '' ? total : undefined;
}

/** Go's time.Duration String of whole seconds: 3600 -> "1h0m0s", 90 -> "1m30s", 4 -> "4s". */
export function goDuration(total: number): string {
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** The statements in one transaction, with Vault's template fields filled in. */
function transaction(list: readonly string[], fields: { name: string; password?: string; expiration?: string }): string {
  const fill = (text: string): string => text
    .replace(/\{\{(name|username)\}\}/g, fields.name)
    .replace(/\{\{password\}\}/g, fields.password ?? '')
    .replace(/\{\{expiration\}\}/g, fields.expiration ?? '');
  return `BEGIN;\n${list.map((s) => fill(s.trim().endsWith(';') ? s : `${s};`)).join('\n')}\nCOMMIT;\n`;
}

/** A time as Vault's PostgreSQL plugin writes `{{expiration}}`: `2006-01-02 15:04:05+0000` (UTC). */
function pgTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}+0000`;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomText(length: number, alphabet: string): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/** Vault's default password policy: 20 characters of letters, digits and `-`, at least one of each kind. */
function defaultPassword(): string {
  for (;;) {
    const candidate = randomText(20, `${ALNUM}-`);
    if (/[a-z]/.test(candidate) && /[A-Z]/.test(candidate) && /\d/.test(candidate) && candidate.includes('-')) return candidate;
  }
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as { [name: string]: unknown })[name] : undefined;
}

/** An answer that carries a lease. */
function leased(id: string, ttl: number, data: object | null, warnings: string[] | null): object {
  return { request_id: randomUUID(), lease_id: id, renewable: true, lease_duration: ttl, data, wrap_info: null, warnings, auth: null };
}

function envelope(data: unknown): object {
  return { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null };
}
