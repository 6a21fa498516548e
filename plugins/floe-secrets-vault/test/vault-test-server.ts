/**
 * VaultTestServer: a LOCAL TEST SERVER for the Vault plugin's tests. It is NOT Vault: it is a small
 * node:http server on 127.0.0.1 (random port) that follows the public Vault HTTP API documentation
 * for the endpoints the plugin calls, with Vault's status codes and error bodies, and does what a
 * real Vault (1.8 and 1.15) was measured to do where the documentation is silent (issue 10 B).
 * It keeps everything in memory and stops when the tests close it.
 *
 * Endpoints (all under /v1; `X-Vault-Token` authenticates, `X-Vault-Namespace` selects a namespace):
 * - GET  sys/health                      200 active, 503 sealed (`?standbyok` accepted); never namespaced; `version`
 * - GET  sys/internal/ui/mounts/<path>   the mount holding <path>: `data.type` "kv", `data.options.version` "1"/"2";
 *                                        403 "preflight capability check returned 403" when no mount holds it (even
 *                                        for root) or the token may do nothing under the mount
 * - GET|POST auth/token/lookup-self      the token's accessor, policies, ttl (granted to every live token)
 * - POST auth/token/create               a child token (`policies`, `ttl`), as the real-Vault test harness mints one
 * - POST auth/<approle mount>/login      `{role_id, secret_id}`; 400 "invalid role or secret ID"
 * - POST auth/<kubernetes mount>/login   `{role, jwt}`; 400 unknown role, 403 a JWT the role does not accept. For a
 *                                        role written through the API (below), as real Vault: the JWT's claims against
 *                                        the bound names and namespaces (403 "service account name not authorized",
 *                                        "namespace not authorized"), then a TokenReview by the real kube-apiserver of
 *                                        the method's config (403 "permission denied" unless it names that ServiceAccount)
 * - POST sys/auth/<path> `{type: "kubernetes"}`  enables a Kubernetes auth method (sudo)
 * - POST auth/<path>/config              `{kubernetes_host, kubernetes_ca_cert, token_reviewer_jwt}`
 * - POST|GET|DELETE auth/<path>/role/<name>  `{bound_service_account_names, bound_service_account_namespaces,
 *                                        token_policies, token_ttl, token_max_ttl}`, with Vault's 400s (empty names or
 *                                        namespaces, "*" mixed with values, ttl over max ttl) and its audience warning
 * - PUT|POST|GET|DELETE sys/policies/acl/<name>, LIST sys/policies/acl  `{policy: "<HCL>"}`: parsed as Vault does
 *                                        (vault-test-acl.ts); 400 "failed to parse policy: ..." when it does not parse
 * KV version 2 mounts:
 * - GET  <mount>/data/<path>             latest version; 404 `{"errors":[]}` when missing, 404 with metadata when
 *                                        deleted or destroyed; 500 "could not find version data" for a path ending in `/`
 * - POST <mount>/data/<path>             `{data, options: {cas}}`; 400 "check-and-set parameter did not match the current
 *                                        version"; 400 "cannot write to a path ending in '/'"
 * - DELETE <mount>/data/<path>           soft-deletes the latest version
 * - POST <mount>/destroy/<path>          `{versions}`: destroys those versions' data for good
 * - GET  <mount>/metadata/<path>?list=true  LIST (sent as GET, node:http cannot parse the LIST verb); keys `name` and
 *                                        `folder/`; 404 `{"errors":[]}` when empty
 * - GET|POST|DELETE <mount>/metadata/<path>  read, `custom_metadata` update, delete all versions. In Vault 1.8 mode
 *                                        ({@link VaultTestServer.version} below 1.9) `custom_metadata` is accepted with 204
 *                                        and dropped, and no answer carries it, as Vault 1.8 does
 * KV version 1 mounts (`addKvMount(mount, ns, { version: 1 })`): GET/POST/DELETE/LIST `<mount>/<path>`; a POST stores
 * its body as the secret, whatever the path: a KV v2 client's write to `<mount>/data/x` "succeeds" (204) as the raw
 * v1 secret `data/x` holding `{options, data}`, as real Vault does.
 * Database secrets engine (vault-test-database.ts, against a real PostgreSQL): `enableDatabase(mount)`, then
 * <mount>/config/<name>, <mount>/roles/<name>, GET <mount>/creds/<role>, and PUT sys/leases/lookup|renew|revoke.
 * POST auth/token/revoke-self revokes the caller's token and, as Vault, every lease it created (their users are dropped);
 * so does {@link VaultTestServer.revoke}, and a token's TTL running out.
 * The `default` policy holds what Vault's own grants that matters here: update on sys/leases/renew and
 * sys/leases/lookup (not revoke) and auth/token/revoke-self.
 * A path under no mount answers 403 to any non-root token (Vault checks ACLs before routing) and 404 "no handler for
 * route" to root; any other unknown route 404; a wrong verb 405.
 *
 * Authorization: a token that is unknown, expired (TTL), revoked, or used in another namespace than
 * its own gets 403 `{"errors":["permission denied"]}`, as does a request whose path no policy of the
 * token grants (Vault's matching: an exact path first, else the highest-priority `*` glob or `+`
 * segment path; `deny` overrides; see vault-test-acl.ts). Policies are global here, not per namespace.
 * For KV v2, policies name `<mount>/data/...` for values and `<mount>/metadata/...` for listing.
 *
 * Test hooks: {@link VaultTestServer.failNext} (inject statuses), {@link VaultTestServer.redirectNext}
 * (a standby's redirect), {@link VaultTestServer.beforeKvWrite} (simulate a concurrent writer),
 * {@link VaultTestServer.sealed}, {@link VaultTestServer.version}, {@link VaultTestServer.requests}.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { Capability, capabilitiesOn, parsePolicy, PolicyParseError, PolicyRules } from './vault-test-acl';
import { VaultApiError, VaultTestDatabase } from './vault-test-database';
import { BoundKubernetesRole, KubernetesAuthConfig, kubernetesLogin, KubernetesLoginError, parseBoundRole } from './vault-test-kubernetes-auth';

export type { Capability, PolicyRules };

/** One request as the server saw it (no token values). */
export interface RecordedRequest {
  readonly method: string;
  /** The path after /v1/, without the query. */
  readonly path: string;
  readonly query: string;
  readonly namespace: string;
  readonly hasToken: boolean;
  readonly body: unknown;
  /** The status the server answered. */
  status: number;
}

interface TokenRecord {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly namespace: string;
  readonly ttlSeconds: number;
  readonly issued: number;
  readonly meta: { readonly [name: string]: string };
  revoked: boolean;
}

interface LoginRole {
  readonly kind: 'approle' | 'kubernetes';
  readonly mount: string;
  readonly namespace: string;
  readonly name: string;
  readonly credential: string;
  readonly roleId?: string;
  readonly policies: readonly string[];
  readonly ttlSeconds: number;
}

interface Answer { status: number; body?: object }
type KvStore = Map<string, KvSecret>;
interface Version { data: { [field: string]: unknown }; created: string; deleted: string; destroyed: boolean }
/** A secrets engine mount: KV version 2 (versions, metadata) or version 1 (one raw object per path). */
type V1Store = Map<string, { [field: string]: unknown }>;
type Mount = { readonly version: 2; readonly store: KvStore } | { readonly version: 1; readonly store: V1Store };
interface KvSecret { versions: Version[]; customMetadata: { [name: string]: string }; created: string; updated: string }

/** What every login role has. */
export interface RoleOptions {
  readonly name: string;
  readonly policies: readonly string[];
  /** @default 3600 */
  readonly ttlSeconds?: number;
  /** The auth mount; @default approle or kubernetes */
  readonly mount?: string;
  /** @default '' (root) */
  readonly namespace?: string;
}

/** Options of {@link VaultTestServer.createToken}. */
export interface TokenOptions {
  readonly policies: readonly string[];
  /** 0 means no expiry (like a root token). */
  readonly ttlSeconds?: number;
  readonly namespace?: string;
}

class HttpError extends Error {
  public constructor(public readonly status: number, public readonly errors: string[], public readonly body?: object) {
    super(errors.join('; '));
  }
}

const DENIED = (): HttpError => new HttpError(403, ['permission denied']);

/** See the file comment. */
export class VaultTestServer {
  /** Starts a server with the KV v2 mount `secret` in the root namespace. */
  public static async start(): Promise<VaultTestServer> {
    const server = new VaultTestServer();
    await new Promise<void>((done) => server.http.listen(0, '127.0.0.1', done));
    return server;
  }

  /** Every request, in order. */
  public readonly requests: RecordedRequest[] = [];
  /** Every token the server issued (createToken and logins), to check none leaks. */
  public readonly issued: string[] = [];
  /** When true, sys/health answers 503 sealed and every other call 503 "Vault is sealed". */
  public sealed = false;
  /** The Vault version sys/health reports; below 1.9 KV v2 drops `custom_metadata` as Vault 1.8 does. */
  public version = '1.15.0';
  /** Called before a KV v2 data write is checked, with the namespace, mount and path: lets a test write in between. */
  public beforeKvWrite: ((namespace: string, mount: string, path: string) => void) | undefined;
  private readonly http: Server;
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly policies = new Map<string, PolicyRules>();
  /** The text of policies written through sys/policies/acl, by name. */
  private readonly policyTexts = new Map<string, string>();
  private readonly roles: LoginRole[] = [];
  /** Auth methods enabled through sys/auth, by `namespace|path`. */
  private readonly authMethods = new Map<string, string>();
  /** auth/<mount>/config of Kubernetes auth methods, by `namespace|mount`. */
  private readonly kubernetesConfigs = new Map<string, KubernetesAuthConfig>();
  /** Kubernetes roles written through auth/<mount>/role/<name>, by `namespace|mount|name`. */
  private readonly boundRoles = new Map<string, BoundKubernetesRole>();
  private readonly kv = new Map<string, Mount>();
  private readonly failures: Array<{ status: number; match: RegExp; redirect?: string; method?: string }> = [];
  /** The database secrets engine and its leases (see vault-test-database.ts). */
  public readonly database = new VaultTestDatabase();

  private constructor() {
    this.http = createServer((req, res) => void this.handle(req, res));
    // Vault keeps an idle connection 5 minutes (listener http_idle_timeout, default 5m), not Node's
    // 5 seconds: a client that reuses one after a pause (a test that blocked on a subprocess) must find it open.
    this.http.keepAliveTimeout = 5 * 60_000;
    this.addKvMount('secret');
    // What Vault's built-in default policy grants that this server serves.
    this.policies.set('default', {
      'sys/leases/renew': ['update'],
      'sys/leases/lookup': ['update'],
      'auth/token/revoke-self': ['update'],
    });
  }

  /** Enables the database secrets engine at `mount` in `namespace`. */
  public enableDatabase(mount = 'database', namespace = ''): void {
    this.database.enable(mount, namespace);
  }

  /** `http://127.0.0.1:<port>`. */
  public get address(): string {
    return `http://127.0.0.1:${(this.http.address() as { port: number }).port}`;
  }

  /** Enables a KV engine (version 2 unless told) at `mount` in `namespace` ('' is the root namespace); keeps an existing one. */
  public addKvMount(mount: string, namespace = '', options: { readonly version?: 1 | 2 } = {}): void {
    if (this.kv.has(`${namespace}|${mount}`)) return;
    this.kv.set(`${namespace}|${mount}`, options.version === 1 ? { version: 1, store: new Map() } : { version: 2, store: new Map() });
  }

  /** The raw secret at `path` of a KV version 1 mount, bypassing auth. */
  public peekV1(mount: string, path: string, namespace = ''): { [field: string]: unknown } | undefined {
    const found = this.kv.get(`${namespace}|${mount}`);
    if (found?.version !== 1) throw new Error(`no KV version 1 mount ${mount}`);
    return found.store.get(path);
  }

  /** Creates or replaces a policy (policies are global here, for brevity), as `PUT sys/policies/acl/<name>` does over HTTP. */
  public setPolicy(name: string, rules: PolicyRules): void {
    this.policies.set(name, rules);
    this.policyTexts.delete(name);
  }

  /** Creates a token; returns it and its accessor. */
  public createToken(options: TokenOptions, meta: { [name: string]: string } = {}): { token: string; accessor: string } {
    const record: TokenRecord = {
      id: `hvs.${randomBytes(18).toString('base64url')}`,
      accessor: randomBytes(12).toString('base64url'),
      policies: ['default', ...options.policies],
      namespace: options.namespace ?? '',
      ttlSeconds: options.ttlSeconds ?? 0,
      issued: Date.now(),
      meta,
      revoked: false,
    };
    this.tokens.set(record.id, record);
    this.issued.push(record.id);
    return { token: record.id, accessor: record.accessor };
  }

  /** Revokes every token whose accessor is given, or all tokens issued by logins of a role. */
  public revoke(filter: { accessor?: string; role?: string }): number {
    let count = 0;
    for (const record of this.tokens.values()) {
      const byRole = filter.role !== undefined && (record.meta.role_name === filter.role || record.meta.role === filter.role);
      if ((filter.accessor !== undefined && record.accessor === filter.accessor) || byRole) {
        record.revoked = true;
        // As Vault: the token's leases go with it (in the background; database.settled() waits for them).
        void this.database.tokenRevoked(record.id).catch(() => undefined);
        count++;
      }
    }
    return count;
  }

  /** Enables AppRole role `name` at auth/<mount> with the given role id and secret id. */
  public addAppRole(role: RoleOptions & { roleId: string; secretId: string }): void {
    this.roles.push({
      kind: 'approle',
      mount: role.mount ?? 'approle',
      namespace: role.namespace ?? '',
      name: role.name,
      roleId: role.roleId,
      credential: role.secretId,
      policies: role.policies,
      ttlSeconds: role.ttlSeconds ?? 3600,
    });
  }

  /** Enables Kubernetes role `name` at auth/<mount>, accepting exactly `jwt` (the server does no TokenReview). */
  public addKubernetesRole(role: RoleOptions & { jwt: string }): void {
    this.roles.push({
      kind: 'kubernetes',
      mount: role.mount ?? 'kubernetes',
      namespace: role.namespace ?? '',
      name: role.name,
      credential: role.jwt,
      policies: role.policies,
      ttlSeconds: role.ttlSeconds ?? 3600,
    });
  }

  /** The next `count` requests whose path (after /v1/) matches `match` answer `status` with `{"errors":["injected"]}`. */
  public failNext(count: number, status: number, match: RegExp = /./): void {
    for (let i = 0; i < count; i++) this.failures.push({ status, match });
  }

  /**
   * The next `count` requests whose path matches answer `status` (307 as a standby does, or 301) with
   * `Location: <to>/v1/<path>?<query>`, as a standby without request forwarding redirects to the active node;
   * `method` (e.g. `POST`) narrows them to one HTTP method.
   */
  public redirectNext(count: number, to: string, status: 301 | 307 = 307, match: RegExp = /./, method?: string): void {
    for (let i = 0; i < count; i++) this.failures.push({ status, match, redirect: to, method });
  }

  /** Writes a new version directly (as another client would), bypassing auth. */
  public put(path: string, data: { [field: string]: unknown }, options: { mount?: string; namespace?: string } = {}): number {
    const store = this.store(options.namespace ?? '', options.mount ?? 'secret');
    return this.writeVersion(store, path, data);
  }

  /** The latest version's data, bypassing auth (undefined when missing or deleted). */
  public peek(path: string, options: { mount?: string; namespace?: string } = {}): { [field: string]: unknown } | undefined {
    const secret = this.store(options.namespace ?? '', options.mount ?? 'secret').get(path);
    const latest = secret?.versions[secret.versions.length - 1];
    return latest && !latest.deleted && !latest.destroyed ? latest.data : undefined;
  }

  /** Destroys the latest version's data for good (as `vault kv destroy -versions=<latest>`), bypassing auth. */
  public destroyLatest(path: string, options: { mount?: string; namespace?: string } = {}): void {
    const secret = this.store(options.namespace ?? '', options.mount ?? 'secret').get(path);
    const latest = secret?.versions[secret.versions.length - 1];
    if (latest) destroy(latest);
  }

  /** Soft-deletes the latest version (as `vault kv delete`), bypassing auth. */
  public softDelete(path: string, options: { mount?: string; namespace?: string } = {}): void {
    const secret = this.store(options.namespace ?? '', options.mount ?? 'secret').get(path);
    const latest = secret?.versions[secret.versions.length - 1];
    if (latest) latest.deleted = new Date().toISOString();
  }

  /** The custom metadata of a secret, bypassing auth. */
  public customMetadata(path: string, options: { mount?: string; namespace?: string } = {}): { [name: string]: string } | undefined {
    return this.store(options.namespace ?? '', options.mount ?? 'secret').get(path)?.customMetadata;
  }

  /** Stops listening and drops open connections. */
  public async close(): Promise<void> {
    this.database.close();
    this.http.closeAllConnections();
    await new Promise<void>((done) => this.http.close(() => done()));
  }

  private store(namespace: string, mount: string): Map<string, KvSecret> {
    const found = this.kv.get(`${namespace}|${mount}`);
    if (found?.version !== 2) throw new Error(`no KV version 2 mount ${mount} in namespace "${namespace}"`);
    return found.store;
  }

  /** The mount that holds `path` in `namespace` (the longest mount path that is a prefix), with the rest of the path. */
  private mountOf(namespace: string, path: string): { name: string; mount: Mount; rest: string } | undefined {
    let best: { name: string; mount: Mount; rest: string } | undefined;
    for (const [id, mount] of this.kv) {
      const [ns, name] = id.split('|');
      if (ns !== namespace || !(path === name || path.startsWith(`${name}/`))) continue;
      if (!best || name.length > best.name.length) best = { name, mount, rest: path.slice(name.length + 1) };
    }
    return best;
  }

  private writeVersion(store: Map<string, KvSecret>, path: string, data: { [field: string]: unknown }): number {
    const now = new Date().toISOString();
    const secret = store.get(path) ?? { versions: [], customMetadata: {}, created: now, updated: now };
    secret.versions.push({ data: { ...data }, created: now, deleted: '', destroyed: false });
    secret.updated = now;
    store.set(path, secret);
    return secret.versions.length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let status = 200;
    let body: object | undefined;
    let recorded: RecordedRequest | undefined;
    try {
      const raw = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://vault.test');
      if (!url.pathname.startsWith('/v1/')) throw new HttpError(404, ['no handler for route']);
      const path = url.pathname.slice(4).split('/').map(decodeURIComponent).join('/');
      const namespace = String(req.headers['x-vault-namespace'] ?? '').replace(/^\/+|\/+$/g, '');
      const token = typeof req.headers['x-vault-token'] === 'string' ? req.headers['x-vault-token'] : undefined;
      let parsed: unknown;
      try {
        parsed = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        throw new HttpError(400, ['failed to parse JSON input']);
      }
      recorded = { method: req.method ?? '', path, query: url.search, namespace, hasToken: token !== undefined, body: parsed, status: 0 };
      this.requests.push(recorded);
      const failure = this.failures.findIndex((f) => f.match.test(path) && (f.method === undefined || f.method === req.method));
      if (failure >= 0) {
        const [{ status: injected, redirect }] = this.failures.splice(failure, 1);
        if (redirect !== undefined) {
          recorded.status = injected;
          res.writeHead(injected, { 'Location': `${redirect}${url.pathname}${url.search}`, 'Content-Length': 0 });
          res.end();
          return;
        }
        throw new HttpError(injected, ['injected']);
      }
      const list = url.searchParams.get('list');
      const method = req.method === 'GET' && (list === 'true' || list === '1') ? 'LIST' : req.method ?? 'GET';
      ({ status, body } = await this.route(method, path, namespace, token, parsed));
    } catch (error) {
      if (error instanceof HttpError) {
        status = error.status;
        body = error.body ?? { errors: error.errors };
      } else if (error instanceof VaultApiError) {
        status = error.status;
        body = { errors: error.errors };
      } else {
        status = 500;
        body = { errors: ['internal error'] };
      }
    }
    if (recorded) recorded.status = status;
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async route(method: string, path: string, namespace: string, token: string | undefined, body: unknown): Promise<Answer> {
    if (path === 'sys/health') {
      if (method !== 'GET') throw new HttpError(405, ['unsupported operation']);
      return { status: this.sealed ? 503 : 200, body: health(this.sealed, this.version) };
    }
    if (this.sealed) throw new HttpError(503, ['Vault is sealed']);
    const login = /^auth\/(.+)\/login$/.exec(path);
    if (login && login[1] !== 'token') {
      if (method !== 'POST' && method !== 'PUT') throw new HttpError(405, ['unsupported operation']);
      const name = field(body, 'role');
      const bound = this.boundRoles.get(`${namespace}|${login[1]}|${String(name).toLowerCase()}`);
      if (bound) return { status: 200, body: await this.kubernetesLogin(login[1], namespace, bound, body) };
      if (this.authMethods.has(`${namespace}|${login[1]}`) && !this.roles.some((r) => r.mount === login[1] && r.namespace === namespace)) {
        if (typeof name !== 'string' || name === '') throw new HttpError(400, ['missing role']);
        throw new HttpError(400, [`invalid role name "${name}"`]);
      }
      return { status: 200, body: this.login(login[1], namespace, body) };
    }
    const record = this.authenticate(token, namespace);
    const policy = /^sys\/policies\/acl(?:\/(.+))?$/.exec(path);
    if (policy) return this.policyRoute(method, record, policy[1], body);
    const enable = /^sys\/auth\/(.+?)\/?$/.exec(path);
    if (enable) return this.enableAuth(method, record, namespace, enable[1], body);
    const auth = /^auth\/(.+)\/(config|role\/([^/]+))$/.exec(path);
    if (auth && this.authMethods.get(`${namespace}|${auth[1]}`) === 'kubernetes') return this.kubernetesAuthRoute(method, record, namespace, auth[1], auth[3], body);
    if (path === 'auth/token/lookup-self') {
      if (method !== 'GET' && method !== 'POST') throw new HttpError(405, ['unsupported operation']);
      return { status: 200, body: envelope(lookup(record)) };
    }
    if (path === 'auth/token/create') {
      if (method !== 'POST' && method !== 'PUT') throw new HttpError(405, ['unsupported operation']);
      return { status: 200, body: this.createChild(record, namespace, body) };
    }
    if (path === 'auth/token/revoke-self') {
      if (method !== 'POST' && method !== 'PUT') throw new HttpError(405, ['unsupported operation']);
      this.authorize(record, path, 'update');
      record.revoked = true;
      await this.database.tokenRevoked(record.id);
      return { status: 204 };
    }
    if (this.database.handles(namespace, path)) {
      const expires = record.ttlSeconds > 0 ? record.issued + record.ttlSeconds * 1000 : undefined;
      const displayName = record.meta.role_name !== undefined ? 'approle'
        : record.meta.service_account_name !== undefined ? `kubernetes-${record.meta.service_account_namespace}-${record.meta.service_account_name}` : 'token';
      return this.database.route(method, path, namespace, {
        tokenId: record.id,
        displayName,
        tokenExpiresAt: expires,
        authorize: (acl, capability) => this.authorize(record, acl, capability),
      }, body);
    }
    if (path.startsWith('sys/internal/ui/mounts/')) {
      if (method !== 'GET') throw new HttpError(405, ['unsupported operation']);
      return { status: 200, body: this.mountInfo(record, namespace, path.slice('sys/internal/ui/mounts/'.length)) };
    }
    const found = this.mountOf(namespace, path);
    if (!found) {
      // Vault checks the token's ACL before it routes: no policy can grant a path under no mount, except root's.
      if (!record.policies.includes('root')) throw DENIED();
      throw new HttpError(404, [`no handler for route "${path}". route entry not found.`]);
    }
    const { name: mount, rest } = found;
    if (found.mount.version === 1) return this.v1(method, record, mount, found.mount.store, rest, body);
    const store = found.mount.store;
    const kv = /^(data|metadata|destroy)(?:\/(.*))?$/.exec(rest);
    if (!kv) throw new HttpError(404, [`no handler for route "${path}". route entry not found.`]);
    const [, kind, raw = ''] = kv;
    if (kind === 'data') return this.data(method, record, mount, namespace, store, raw, body);
    if (kind === 'destroy') return this.destroy(method, record, mount, store, raw, body);
    return this.metadata(method, record, mount, store, raw, raw.replace(/\/+$/, ''), body);
  }

  /** sys/policies/acl[/<name>]: LIST, GET, PUT/POST `{policy: "<HCL>"}` (400 with Vault's message when it does not parse), DELETE. */
  private policyRoute(method: string, record: TokenRecord, raw: string | undefined, body: unknown): Answer {
    if (raw === undefined || method === 'LIST') {
      if (method !== 'LIST') throw new HttpError(405, ['unsupported operation']);
      this.authorize(record, 'sys/policies/acl/', 'list');
      return { status: 200, body: envelope({ keys: ['default', 'root', ...[...this.policies.keys()].filter((n) => n !== 'default')].sort() }) };
    }
    const name = raw.toLowerCase();
    const acl = `sys/policies/acl/${name}`;
    if (method === 'GET') {
      this.authorize(record, acl, 'read');
      const rules = this.policies.get(name);
      if (!rules) throw new HttpError(404, []);
      return { status: 200, body: envelope({ name, policy: this.policyTexts.get(name) ?? JSON.stringify({ path: rules }) }) };
    }
    if (method === 'PUT' || method === 'POST') {
      this.authorize(record, acl, this.policies.has(name) ? 'update' : 'create');
      if (name === 'root') throw new HttpError(400, ['cannot update "root" policy']);
      const text = field(body, 'policy');
      if (typeof text !== 'string' || text.trim() === '') throw new HttpError(400, ["'policy' parameter not supplied or empty"]);
      let rules: PolicyRules;
      try {
        rules = parsePolicy(text);
      } catch (error) {
        if (error instanceof PolicyParseError) throw new HttpError(400, [error.message]);
        throw error;
      }
      this.policies.set(name, rules);
      this.policyTexts.set(name, text);
      return { status: 204 };
    }
    if (method === 'DELETE') {
      this.authorize(record, acl, 'delete');
      if (name === 'root' || name === 'default') throw new HttpError(400, [`cannot delete "${name}" policy`]);
      this.policies.delete(name);
      this.policyTexts.delete(name);
      return { status: 204 };
    }
    throw new HttpError(405, ['unsupported operation']);
  }

  /** POST sys/auth/<path> `{type: "kubernetes"}`: enables the Kubernetes auth method there (sudo). */
  private enableAuth(method: string, record: TokenRecord, namespace: string, path: string, body: unknown): Answer {
    if (method !== 'POST' && method !== 'PUT') throw new HttpError(405, ['unsupported operation']);
    this.authorize(record, `sys/auth/${path}`, 'sudo');
    const type = field(body, 'type');
    if (type !== 'kubernetes') throw new HttpError(400, [`plugin not found in the catalog: ${String(type)}`]);
    if (this.authMethods.has(`${namespace}|${path}`)) throw new HttpError(400, [`path is already in use at ${path}/`]);
    this.authMethods.set(`${namespace}|${path}`, 'kubernetes');
    return { status: 204 };
  }

  /** auth/<mount>/config (POST) and auth/<mount>/role/<name> (POST, GET, DELETE) of an enabled Kubernetes auth method. */
  private kubernetesAuthRoute(
    method: string, record: TokenRecord, namespace: string, mount: string, role: string | undefined, body: unknown,
  ): Answer {
    const acl = role === undefined ? `auth/${mount}/config` : `auth/${mount}/role/${role}`;
    if (role === undefined) {
      if (method !== 'POST' && method !== 'PUT') throw new HttpError(405, ['unsupported operation']);
      this.authorize(record, acl, 'update');
      const host = field(body, 'kubernetes_host');
      if (typeof host !== 'string' || host === '') throw new HttpError(400, ['no host provided']);
      const caCert = field(body, 'kubernetes_ca_cert');
      const reviewerJwt = field(body, 'token_reviewer_jwt');
      this.kubernetesConfigs.set(`${namespace}|${mount}`, {
        host,
        ...(typeof caCert === 'string' && caCert !== '' ? { caCert } : {}),
        ...(typeof reviewerJwt === 'string' && reviewerJwt !== '' ? { reviewerJwt } : {}),
      });
      return { status: 204 };
    }
    const key = `${namespace}|${mount}|${role.toLowerCase()}`;
    if (method === 'GET') {
      this.authorize(record, acl, 'read');
      const found = this.boundRoles.get(key);
      if (!found) throw new HttpError(404, []);
      return {
        status: 200,
        body: envelope({
          bound_service_account_names: found.names,
          bound_service_account_namespaces: found.namespaces,
          token_policies: found.policies,
          token_ttl: found.ttlSeconds,
          token_max_ttl: found.maxTtlSeconds,
        }),
      };
    }
    if (method === 'POST' || method === 'PUT') {
      this.authorize(record, acl, this.boundRoles.has(key) ? 'update' : 'create');
      try {
        this.boundRoles.set(key, parseBoundRole(body));
      } catch (error) {
        if (error instanceof KubernetesLoginError) throw new HttpError(error.status, [error.message]);
        throw error;
      }
      // Vault warns about a role without an audience, and writes it.
      const warning = 'This role does not specify an audience. In a future version of Vault, specifying an audience will be required.';
      return { status: 200, body: { ...envelope(null), warnings: [warning] } };
    }
    if (method === 'DELETE') {
      this.authorize(record, acl, 'delete');
      this.boundRoles.delete(key);
      return { status: 204 };
    }
    throw new HttpError(405, ['unsupported operation']);
  }

  /** Login to a role written through auth/<mount>/role: the JWT checked against the role, then reviewed by the kube-apiserver. */
  private async kubernetesLogin(mount: string, namespace: string, role: BoundKubernetesRole, body: unknown): Promise<object> {
    const jwt = field(body, 'jwt');
    if (typeof jwt !== 'string' || jwt === '') throw new HttpError(400, ['missing jwt']);
    const config = this.kubernetesConfigs.get(`${namespace}|${mount}`);
    if (!config) throw new HttpError(500, ['could not load backend configuration']);
    let account;
    try {
      account = await kubernetesLogin(config, role, jwt);
    } catch (error) {
      if (error instanceof KubernetesLoginError) throw new HttpError(error.status, [error.message]);
      throw error;
    }
    const name = String(field(body, 'role'));
    // Vault's system default TTL (32 days) when the role sets none.
    const ttlSeconds = role.ttlSeconds || 32 * 24 * 3600;
    const meta = { role: name, service_account_name: account.name, service_account_namespace: account.namespace, service_account_uid: account.uid };
    const { token, accessor } = this.createToken({ policies: role.policies.filter((p) => p !== 'default'), ttlSeconds, namespace }, meta);
    return {
      ...envelope(null),
      auth: {
        client_token: token,
        accessor,
        policies: ['default', ...role.policies.filter((p) => p !== 'default')],
        token_policies: ['default', ...role.policies.filter((p) => p !== 'default')],
        metadata: meta,
        lease_duration: ttlSeconds,
        renewable: true,
        entity_id: randomUUID(),
        token_type: 'service',
        orphan: true,
      },
    };
  }

  /** sys/internal/ui/mounts/<path>: the mount's type and options, for a token that may do something under it. */
  private mountInfo(record: TokenRecord, namespace: string, path: string): object {
    const found = this.mountOf(namespace, path.replace(/\/+$/, ''));
    const refused = new HttpError(403, [`preflight capability check returned 403, please ensure client's policies grant access to path "${path}/"`]);
    if (!found) throw refused;
    const prefix = `${found.name}/`;
    const access = record.policies.includes('root') || record.policies.some((name) => Object.entries(this.policies.get(name) ?? {}).some(([pattern, capabilities]) => {
      const stem = pattern.endsWith('*') ? pattern.slice(0, -1) : pattern;
      const reaches = stem.startsWith(prefix) || (pattern.endsWith('*') && prefix.startsWith(stem));
      return reaches && capabilities.some((c) => c !== 'deny');
    }));
    if (!access) throw refused;
    return envelope({
      accessor: `kv_${randomBytes(4).toString('hex')}`,
      config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
      description: 'key/value secret storage',
      external_entropy_access: false,
      local: false,
      options: { version: String(found.mount.version) },
      path: prefix,
      seal_wrap: false,
      type: 'kv',
      uuid: randomUUID(),
    });
  }

  /** A KV version 1 mount: one raw object per path, no versions, no check-and-set. */
  private v1(method: string, record: TokenRecord, mount: string, store: V1Store, raw: string, body: unknown): Answer {
    if (method === 'LIST') {
      const folder = raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
      this.authorize(record, `${mount}/${folder}`, 'list');
      return { status: 200, body: envelope({ keys: folderEntries(store.keys(), folder) }) };
    }
    const acl = `${mount}/${raw}`;
    if (method === 'GET') {
      this.authorize(record, acl, 'read');
      const secret = store.get(raw);
      if (!secret) throw new HttpError(404, []);
      return { status: 200, body: envelope({ ...secret }) };
    }
    if (method === 'POST' || method === 'PUT') {
      this.authorize(record, acl, store.has(raw) ? 'update' : 'create');
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, ['missing data fields']);
      store.set(raw, { ...(body as { [field: string]: unknown }) });
      return { status: 204 };
    }
    if (method === 'DELETE') {
      this.authorize(record, acl, 'delete');
      store.delete(raw);
      return { status: 204 };
    }
    throw new HttpError(405, ['unsupported operation']);
  }

  /** POST <mount>/destroy/<path> `{versions: [n, ...]}`. */
  private destroy(method: string, record: TokenRecord, mount: string, store: KvStore, path: string, body: unknown): Answer {
    if (method !== 'POST' && method !== 'PUT') throw new HttpError(405, ['unsupported operation']);
    this.authorize(record, `${mount}/destroy/${path}`, 'update');
    const versions = field(body, 'versions');
    if (!Array.isArray(versions) || versions.length === 0) throw new HttpError(400, ['no version number provided']);
    const secret = store.get(path);
    for (const n of versions) {
      const version = typeof n === 'number' ? secret?.versions[n - 1] : undefined;
      if (version) destroy(version);
    }
    return { status: 204 };
  }

  private data(method: string, record: TokenRecord, mount: string, namespace: string, store: KvStore, path: string, body: unknown): Answer {
    const acl = `${mount}/data/${path}`;
    if (method === 'GET') {
      this.authorize(record, acl, 'read');
      if (path.endsWith('/')) throw new HttpError(500, ['could not find version data']);
      const secret = store.get(path);
      if (!secret || secret.versions.length === 0) throw new HttpError(404, []);
      const latest = secret.versions[secret.versions.length - 1];
      const metadata = this.versionMetadata(secret, secret.versions.length);
      if (latest.deleted || latest.destroyed) throw new HttpError(404, [], envelope({ data: null, metadata }));
      return { status: 200, body: envelope({ data: latest.data, metadata }) };
    }
    if (method === 'POST' || method === 'PUT') {
      this.authorize(record, acl, store.has(path) ? 'update' : 'create');
      if (path.endsWith('/')) throw new HttpError(400, ['cannot write to a path ending in \'/\'']);
      this.beforeKvWrite?.(namespace, mount, path);
      const data = field(body, 'data');
      if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new HttpError(400, ['no data provided']);
      const cas = field(body, 'options', 'cas');
      const current = store.get(path)?.versions.length ?? 0;
      if (cas !== undefined && cas !== current) throw new HttpError(400, ['check-and-set parameter did not match the current version']);
      const version = this.writeVersion(store, path, data as { [field: string]: unknown });
      return { status: 200, body: envelope(this.versionMetadata(store.get(path) as KvSecret, version)) };
    }
    if (method === 'DELETE') {
      this.authorize(record, acl, 'delete');
      const secret = store.get(path);
      const latest = secret?.versions[secret.versions.length - 1];
      if (latest) latest.deleted = new Date().toISOString();
      return { status: 204 };
    }
    throw new HttpError(405, ['unsupported operation']);
  }

  private metadata(method: string, record: TokenRecord, mount: string, store: KvStore, raw: string, path: string, body: unknown): Answer {
    if (method === 'LIST') {
      const folder = raw === '' || raw.endsWith('/') ? raw : `${raw}/`;
      this.authorize(record, `${mount}/metadata/${folder}`, 'list');
      return { status: 200, body: envelope({ keys: folderEntries(store.keys(), folder) }) };
    }
    const acl = `${mount}/metadata/${path}`;
    if (method === 'GET') {
      this.authorize(record, acl, 'read');
      const secret = store.get(path);
      if (!secret) throw new HttpError(404, []);
      const versions = Object.fromEntries(secret.versions.map((v, i) => [
        String(i + 1),
        { created_time: v.created, deletion_time: v.deleted, destroyed: v.destroyed },
      ]));
      return {
        status: 200,
        body: envelope({
          cas_required: false,
          created_time: secret.created,
          current_version: secret.versions.length,
          ...(this.customMetadataSupported ? { custom_metadata: secret.customMetadata } : {}),
          delete_version_after: '0s',
          max_versions: 0,
          oldest_version: secret.versions.length > 0 ? 1 : 0,
          updated_time: secret.updated,
          versions,
        }),
      };
    }
    if (method === 'POST' || method === 'PUT') {
      this.authorize(record, acl, store.has(path) ? 'update' : 'create');
      const custom = field(body, 'custom_metadata');
      if (custom !== undefined && (typeof custom !== 'object' || custom === null || Object.values(custom).some((v) => typeof v !== 'string'))) {
        throw new HttpError(400, ['custom_metadata must be a map of strings']);
      }
      const now = new Date().toISOString();
      const secret = store.get(path) ?? { versions: [], customMetadata: {}, created: now, updated: now };
      // Vault 1.8 knows no custom_metadata: it answers 204 and drops it.
      if (custom !== undefined && this.customMetadataSupported) secret.customMetadata = { ...(custom as { [name: string]: string }) };
      store.set(path, secret);
      return { status: 204 };
    }
    if (method === 'DELETE') {
      this.authorize(record, acl, 'delete');
      store.delete(path);
      return { status: 204 };
    }
    throw new HttpError(405, ['unsupported operation']);
  }

  private login(mount: string, namespace: string, body: unknown): object {
    const candidates = this.roles.filter((r) => r.mount === mount && r.namespace === namespace);
    if (candidates.length === 0) throw new HttpError(404, [`no handler for route "auth/${mount}/login". route entry not found.`]);
    let role: LoginRole | undefined;
    if (candidates[0].kind === 'approle') {
      const roleId = field(body, 'role_id');
      if (typeof roleId !== 'string' || roleId === '') throw new HttpError(400, ['missing role_id']);
      role = candidates.find((r) => r.roleId === roleId && r.credential === field(body, 'secret_id'));
      if (!role) throw new HttpError(400, ['invalid role or secret ID']);
    } else {
      const name = field(body, 'role');
      if (typeof name !== 'string' || name === '') throw new HttpError(400, ['missing role']);
      if (typeof field(body, 'jwt') !== 'string') throw new HttpError(400, ['missing jwt']);
      const named = candidates.filter((r) => r.name === name);
      if (named.length === 0) throw new HttpError(400, [`invalid role name "${name}"`]);
      role = named.find((r) => r.credential === field(body, 'jwt'));
      if (!role) throw DENIED();
    }
    const meta: { [name: string]: string } = role.kind === 'approle'
      ? { role_name: role.name }
      : { role: role.name, service_account_name: 'floe', service_account_namespace: 'floe', service_account_uid: randomUUID() };
    const { token, accessor } = this.createToken({ policies: role.policies, ttlSeconds: role.ttlSeconds, namespace }, meta);
    return {
      ...envelope(null),
      auth: {
        client_token: token,
        accessor,
        policies: ['default', ...role.policies],
        token_policies: ['default', ...role.policies],
        metadata: meta,
        lease_duration: role.ttlSeconds,
        renewable: true,
        entity_id: randomUUID(),
        token_type: 'service',
        orphan: true,
      },
    };
  }

  /** auth/token/create: a child token with a subset of the caller's policies (any policies for root). */
  private createChild(parent: TokenRecord, namespace: string, body: unknown): object {
    const asked = field(body, 'policies');
    const policies = Array.isArray(asked) ? asked.filter((p): p is string => typeof p === 'string') : [...parent.policies];
    if (!parent.policies.includes('root') && policies.some((p) => !parent.policies.includes(p))) throw DENIED();
    const ttl = field(body, 'ttl');
    const units: { [unit: string]: number } = { s: 1, m: 60, h: 3600 };
    const match = typeof ttl === 'string' ? /^(\d+)([smh]?)$/.exec(ttl) : null;
    const ttlSeconds = typeof ttl === 'number' ? ttl : match ? Number(match[1]) * units[match[2] || 's'] : 0;
    const { token, accessor } = this.createToken({ policies: policies.filter((p) => p !== 'default'), ttlSeconds, namespace });
    return {
      ...envelope(null),
      auth: { client_token: token, accessor, policies: ['default', ...policies.filter((p) => p !== 'default')], lease_duration: ttlSeconds, renewable: ttlSeconds > 0 },
    };
  }

  private authenticate(token: string | undefined, namespace: string): TokenRecord {
    const record = token === undefined ? undefined : this.tokens.get(token);
    if (!record || record.revoked || record.namespace !== namespace) throw DENIED();
    if (record.ttlSeconds > 0 && Date.now() >= record.issued + record.ttlSeconds * 1000) throw DENIED();
    return record;
  }

  /** Whether KV v2 keeps `custom_metadata` (Vault 1.9 and later). */
  private get customMetadataSupported(): boolean {
    const [major, minor] = this.version.split('.').map(Number);
    return major > 1 || (major === 1 && minor >= 9);
  }

  private versionMetadata(secret: KvSecret, version: number): object {
    const v = secret.versions[version - 1];
    return {
      created_time: v.created,
      ...(this.customMetadataSupported ? { custom_metadata: secret.customMetadata } : {}),
      deletion_time: v.deleted,
      destroyed: v.destroyed,
      version,
    };
  }

  /** Vault ACL (see vault-test-acl.ts): the token's policies, an exact path first, else the highest-priority glob; `deny` wins. */
  private authorize(record: TokenRecord, path: string, capability: Capability): void {
    if (record.policies.includes('root')) return;
    const policies = record.policies.flatMap((name) => (this.policies.has(name) ? [this.policies.get(name)!] : []));
    const granted = capabilitiesOn(policies, path, capability === 'list');
    if (granted.has('deny') || !granted.has(capability)) throw DENIED();
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function field(body: unknown, ...path: string[]): unknown {
  let at = body;
  for (const name of path) at = typeof at === 'object' && at !== null ? (at as { [name: string]: unknown })[name] : undefined;
  return at;
}

function envelope(data: unknown): object {
  return { request_id: randomUUID(), lease_id: '', renewable: false, lease_duration: 0, data, wrap_info: null, warnings: null, auth: null };
}

function destroy(version: Version): void {
  version.destroyed = true;
  version.data = {};
}

function lookup(record: TokenRecord): object {
  const expires = record.ttlSeconds > 0 ? record.issued + record.ttlSeconds * 1000 : undefined;
  return {
    accessor: record.accessor,
    creation_time: Math.floor(record.issued / 1000),
    creation_ttl: record.ttlSeconds,
    display_name: 'token',
    entity_id: '',
    expire_time: expires === undefined ? null : new Date(expires).toISOString(),
    explicit_max_ttl: 0,
    id: record.id,
    meta: record.meta,
    num_uses: 0,
    orphan: true,
    path: 'auth/token/create',
    policies: record.policies,
    renewable: record.ttlSeconds > 0,
    ttl: expires === undefined ? 0 : Math.max(0, Math.round((expires - Date.now()) / 1000)),
    type: 'service',
  };
}

function health(sealed: boolean, version: string): object {
  return {
    initialized: true,
    sealed,
    standby: sealed,
    performance_standby: false,
    replication_performance_mode: 'disabled',
    replication_dr_mode: 'disabled',
    server_time_utc: Math.floor(Date.now() / 1000),
    version,
    cluster_name: 'vault-test-server',
    cluster_id: randomUUID(),
  };
}

/** What a LIST of `folder` shows of the secret names `names`: secrets and sub-folders (`x/`), sorted; 404 when none. */
function folderEntries(names: Iterable<string>, folder: string): string[] {
  const keys = new Set<string>();
  for (const name of names) {
    if (!name.startsWith(folder)) continue;
    const rest = name.slice(folder.length);
    const cut = rest.indexOf('/');
    keys.add(cut < 0 ? rest : rest.slice(0, cut + 1));
  }
  if (keys.size === 0) throw new HttpError(404, []);
  return [...keys].sort();
}
