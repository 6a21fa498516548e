/**
 * InfisicalTestServer: a LOCAL TEST SERVER for the plugin's tests. It is NOT Infisical: it is a
 * small node:http server on 127.0.0.1 (random port) that follows Infisical's public HTTP API as
 * the plugin and `@infisical/sdk` v5 call it, with the same paths, query and body fields, status codes
 * and error bodies (`{ reqId, statusCode, message, error }`), and keeps everything in memory. Beyond
 * the documentation it does what real servers (backend of October 2024) were measured to do; each
 * such behaviour has a test named after it in plugin.test.ts ("the test server: ..."):
 * - the JWT `exp` is the identity's max TTL; the access-token TTL and the uses limit are enforced by
 *   the server alone (401 past them);
 * - a login that carries an `Authorization: Bearer` header is refused with 401;
 * - an unknown client id is 404 "No identity with specified client ID was found";
 * - an unknown environment slug: a read is 404 "Folder not found for the given environment slug &
 *   secret path" (as for a missing folder), a plain list 200 `[]`, a recursive list 500;
 * - an identity without read permission: a plain list is 403, a recursive list 200 `[]`;
 * - rate limits per route and client (about 40 a minute in production): HTTP 500 with Retry-After,
 *   "Rate limit exceeded" (older servers) or "Something went wrong" (newer);
 * - `${KEY}` and `${env.folder.KEY}` references are expanded by the server; a get does not look
 *   into secret imports (a list with include_imports does).
 *
 * Endpoints:
 * - `POST /api/v1/auth/universal-auth/login` `{ clientId, clientSecret }` ->
 *   `{ accessToken, expiresIn, accessTokenMaxTTL, tokenType }`; 401 "Invalid credentials".
 * - `POST /api/v1/auth/token/renew` `{ accessToken }` -> the same shape; 401 past the TTL or max TTL.
 * - `GET /api/v3/secrets/raw` `?workspaceId&environment&secretPath&recursive&viewSecretValue&...` ->
 *   `{ secrets: [...], imports: [] }` (a missing folder lists as empty; `recursive=true` includes
 *   subfolders, each secret with its `secretPath`; `viewSecretValue=false` hides values).
 * - `GET /api/v3/secrets/raw/:secretName` `?workspaceId&environment&secretPath` -> `{ secret }`; 404.
 * - `POST /api/v3/secrets/raw/:secretName` `{ workspaceId, environment, secretPath, secretValue, secretComment }`
 *   -> `{ secret }`; 400 when it exists, 404 when the folder is missing.
 * - `PATCH /api/v3/secrets/raw/:secretName` (same body, all optional but the scope) -> `{ secret }`; 404.
 * - `DELETE /api/v3/secrets/raw/:secretName` `{ workspaceId, environment, secretPath }` -> `{ secret }`; 404.
 * - `GET /api/v1/workspace/:projectId` -> `{ workspace: { id, slug, environments: [{ name, slug, id }] } }`;
 *   `GET /api/v2/workspace/:slug` -> the same project object, unwrapped; 404 when unknown.
 * - `POST /api/v1/folders` `{ workspaceId, environment, name, path }` -> `{ folder }`; idempotent,
 *   creates missing parents, as Infisical does.
 * - `GET /api/v1/folders` `?workspaceId&environment&path` -> `{ folders: [...] }`.
 * - anything else: 404 `{ message: "Route <METHOD>:<path> not found", error: "Not Found", statusCode: 404 }`.
 *
 * Authentication and permissions: access tokens are HS256 JWTs (`exp` = the token TTL, as
 * Infisical issues them). An expired JWT gets 403 `TokenError` "Your token has expired. Please
 * re-authenticate."; a revoked token, or one past its server-side TTL, gets 401. Each machine
 * identity has `read-write`, `read-only`, `describe` (values hidden) or `none` access to the one
 * project and its environments;
 * a refusal is 403 `PermissionDenied` "You are not allowed to <action> on secrets". A wrong
 * project or environment is 404 "Project with ID ... not found" / "Environment with slug ... not found".
 *
 * Test controls: {@link InfisicalTestServer.rateLimit} answers the next N requests with HTTP 500
 * "Rate limit exceeded" (or 429), {@link InfisicalTestServer.expireTokens} and
 * {@link InfisicalTestServer.revokeTokens} end tokens early, {@link InfisicalTestServer.requests}
 * records every request (method, path, status, client id) to prove caching,
 * {@link InfisicalTestServer.requireApproval} answers writes with `{ approval }` as under a
 * change-approval policy, and {@link InfisicalTestServer.intercept} runs before each request.
 * Tags and versions are not implemented.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';

/** A machine identity with Universal Auth. */
export interface TestIdentity {
  readonly clientId: string;
  readonly clientSecret: string;
  /**
   * What it may do with the project's secrets: `describe` sees names but gets values hidden
   * (`secretValueHidden: true`), as with Infisical's "Describe Secret" without "Read Value";
   * `member` belongs to the project (it may read the project) but may not read its secrets.
   */
  readonly access: 'read-write' | 'read-only' | 'describe' | 'member' | 'none';
}

/** Options of {@link InfisicalTestServer.start}. */
export interface InfisicalTestServerOptions {
  /** @default a random id */
  readonly projectId?: string;
  /** @default ['dev', 'prod'] */
  readonly environments?: readonly string[];
  /** @default none; add them with the option or {@link InfisicalTestServer.addIdentity} */
  readonly identities?: readonly TestIdentity[];
  /** The project's slug. @default a random slug */
  readonly projectSlug?: string;
  /** Access token TTL in seconds (the login's `expiresIn`, enforced by the server: 401 past it). @default 7200 */
  readonly accessTokenTtlSeconds?: number;
  /** Access token max TTL in seconds (renewal limit, and the JWT's `exp`, as real servers issue it). @default 2592000 */
  readonly accessTokenMaxTtlSeconds?: number;
  /** How many requests an access token may make (0: no limit); past it, 401. @default 0 */
  readonly accessTokenNumUsesLimit?: number;
  /** Whether the JWT carries `exp`; without it only the server-side TTL ends a token (401). @default true */
  readonly jwtExpiry?: boolean;
  /**
   * Requests per route and client allowed per window (production: about 40 a minute); past it,
   * HTTP 500 with Retry-After until the window ends. @default no limit
   */
  readonly rateLimitPerWindow?: number;
  /** The rate-limit window. @default 60000 */
  readonly rateLimitWindowMs?: number;
  /** The message of a rate-limited answer: `old` servers say "Rate limit exceeded", `new` ones "Something went wrong". @default 'old' */
  readonly rateLimitMessage?: 'old' | 'new';
}

/** One request as the server saw it. */
export interface RecordedRequest {
  readonly method: string;
  /** The path without the query, e.g. `/api/v3/secrets/raw/password`. */
  readonly path: string;
  /** The query string, `?` included, or empty. */
  readonly query: string;
  readonly status: number;
  /** The machine identity of the access token, when there was a valid one. */
  readonly clientId?: string;
  /** Whether the request carried an Authorization header. */
  readonly bearer: boolean;
}

interface StoredSecret {
  readonly id: string;
  value: string;
  comment: string;
  version: number;
  readonly createdAt: string;
  updatedAt: string;
}

interface Token {
  readonly clientId: string;
  uses: number;
  readonly createdAt: number;
  renewedAt: number;
  revoked: boolean;
  /** Set by expireTokens('jwt'): answered as a JWT past its `exp`. */
  jwtExpired: boolean;
}

class HttpError extends Error {
  public constructor(public readonly status: number, message: string, public readonly error: string) {
    super(message);
  }
}

export class InfisicalTestServer {
  /** Starts a server on 127.0.0.1 with a random port. */
  public static async start(options: InfisicalTestServerOptions = {}): Promise<InfisicalTestServer> {
    const server = new InfisicalTestServer(options);
    await new Promise<void>((done) => server.http.listen(0, '127.0.0.1', done));
    return server;
  }

  /** The project's ID. */
  public readonly projectId: string;
  /** The project's slug. */
  public readonly projectSlug: string;
  /** Every request so far, oldest first. */
  public readonly requests: RecordedRequest[] = [];
  /** Every access token issued, to prove that none leaks. */
  public readonly issuedTokens: string[] = [];
  /** When true, secret writes answer `{ approval }` (a change-approval policy) and change nothing. */
  public requireApproval = false;
  /**
   * Called before each request is handled, e.g. to change the store in between a plugin's
   * requests. When it returns a promise, the answer (computed before) is sent once it settles.
   */
  public intercept: ((request: { method: string; path: string }) => void | Promise<unknown>) | undefined;
  private readonly http: Server;
  private readonly key = randomBytes(32);
  private readonly identities = new Map<string, TestIdentity>();
  private readonly tokens = new Map<string, Token>();
  /** environment -> folder path -> secret name -> secret */
  private readonly store = new Map<string, Map<string, Map<string, StoredSecret>>>();
  private readonly ttl: number;
  private readonly maxTtl: number;
  private readonly jwtExpiry: boolean;
  private readonly numUses: number;
  private readonly perWindow: number | undefined;
  private readonly windowMs: number;
  private readonly limitMessage: 'old' | 'new';
  /** route + client -> requests in the current window */
  private readonly windows = new Map<string, { start: number; count: number }>();
  /** environment -> folder -> imported (environment, folder) */
  private readonly imports = new Map<string, Map<string, Array<{ environment: string; folder: string }>>>();
  private limited = 0;
  private limitStatus: 429 | 500 = 500;

  private constructor(options: InfisicalTestServerOptions) {
    this.projectId = options.projectId ?? randomUUID();
    this.projectSlug = options.projectSlug ?? `project-${randomBytes(4).toString('hex')}`;
    this.numUses = options.accessTokenNumUsesLimit ?? 0;
    this.perWindow = options.rateLimitPerWindow;
    this.windowMs = options.rateLimitWindowMs ?? 60_000;
    this.limitMessage = options.rateLimitMessage ?? 'old';
    this.ttl = options.accessTokenTtlSeconds ?? 7200;
    this.maxTtl = options.accessTokenMaxTtlSeconds ?? 2_592_000;
    this.jwtExpiry = options.jwtExpiry ?? true;
    for (const env of options.environments ?? ['dev', 'prod']) this.store.set(env, new Map([['/', new Map()]]));
    for (const identity of options.identities ?? []) this.addIdentity(identity);
    this.http = createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  /** `http://127.0.0.1:<port>` */
  public get url(): string {
    const address = this.http.address();
    if (address === null || typeof address === 'string') throw new Error('InfisicalTestServer is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Adds (or replaces) a machine identity. */
  public addIdentity(identity: TestIdentity): void {
    this.identities.set(identity.clientId, identity);
  }

  /** How many recorded requests match (method and/or path, a string prefix or a RegExp). */
  public count(filter: { method?: string; path?: string | RegExp } = {}): number {
    return this.requests.filter((r) => (filter.method === undefined || r.method === filter.method)
      && (filter.path === undefined || (typeof filter.path === 'string' ? r.path.startsWith(filter.path) : filter.path.test(r.path)))).length;
  }

  /** Forgets the recorded requests. */
  public resetRequests(): void {
    this.requests.length = 0;
  }

  /** Answers the next `times` requests, whatever they are, with a rate-limit error. */
  public rateLimit(times: number, status: 429 | 500 = 500): void {
    this.limited = times;
    this.limitStatus = status;
  }

  /**
   * Ends every token issued so far: `ttl` as Infisical's server-side TTL check does (401), `jwt` as
   * an expired JWT is refused (403 TokenError).
   */
  public expireTokens(kind: 'ttl' | 'jwt' = 'ttl'): void {
    for (const token of this.tokens.values()) {
      if (kind === 'jwt') token.jwtExpired = true;
      else token.renewedAt = Number.NEGATIVE_INFINITY;
    }
  }

  /** Revokes every token issued so far (401 on next use). */
  public revokeTokens(): void {
    for (const token of this.tokens.values()) token.revoked = true;
  }

  /** Writes a secret directly (creating its folders). */
  public seed(environment: string, folder: string, name: string, value: string): void {
    const folders = this.env(environment);
    this.makeFolder(folders, folder);
    const now = new Date().toISOString();
    folders.get(folder)!.set(name, { id: randomUUID(), value, comment: '', version: 1, createdAt: now, updatedAt: now });
  }

  /** Makes `folder` of `environment` import the secrets of `fromFolder` of `fromEnvironment` (a secret import). */
  public seedImport(environment: string, folder: string, fromEnvironment: string, fromFolder: string): void {
    this.makeFolder(this.env(environment), folder);
    const byFolder = this.imports.get(environment) ?? new Map<string, Array<{ environment: string; folder: string }>>();
    this.imports.set(environment, byFolder);
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), { environment: fromEnvironment, folder: fromFolder }]);
  }

  /** Reads a secret directly; undefined when missing. */
  public value(environment: string, folder: string, name: string): string | undefined {
    return this.store.get(environment)?.get(folder)?.get(name)?.value;
  }

  /** A secret's comment, directly; undefined when missing. */
  public comment(environment: string, folder: string, name: string): string | undefined {
    return this.store.get(environment)?.get(folder)?.get(name)?.comment;
  }

  /** The folders of an environment. */
  public folders(environment: string): string[] {
    return [...this.env(environment).keys()].sort();
  }

  /** Stops the server, closing kept-alive connections. */
  public async close(): Promise<void> {
    this.http.closeAllConnections();
    await new Promise<void>((done) => this.http.close(() => done()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    let clientId: string | undefined;
    let status = 200;
    let body: unknown;
    let pending: void | Promise<unknown> = undefined;
    let retryAfter: number | undefined;
    try {
      const raw = await readBody(req);
      pending = this.intercept?.({ method, path: url.pathname });
      if (this.limited > 0) {
        this.limited--;
        retryAfter = 1;
        throw this.limitStatus === 429
          ? new HttpError(429, 'Rate limit exceeded. Please try again in 60 seconds', 'RateLimitExceeded')
          : new HttpError(500, 'Rate limit exceeded', 'InternalServerError');
      }
      const waitMs = this.countForRateLimit(`${method} ${url.pathname.replace(/\/api\/v3\/secrets\/raw\/.+$/, '/api/v3/secrets/raw/:name')}`, req);
      if (waitMs !== undefined) {
        retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
        throw new HttpError(500, this.limitMessage === 'old' ? 'Rate limit exceeded' : 'Something went wrong', 'InternalServerError');
      }
      let json: { [field: string]: unknown } = {};
      if (raw.length > 0) {
        try {
          json = JSON.parse(raw) as { [field: string]: unknown };
        } catch {
          throw new HttpError(400, 'Body is not valid JSON', 'Bad Request');
        }
      }
      const query = Object.fromEntries(url.searchParams);
      const route = `${method} ${url.pathname}`;
      if (route === 'POST /api/v1/auth/universal-auth/login') {
        // Measured: a login that still carries a bearer token is refused.
        if (req.headers.authorization !== undefined) throw new HttpError(401, 'Invalid credentials', 'UnauthorizedError');
        body = this.login(json);
      } else if (route === 'POST /api/v1/auth/token/renew') {
        body = this.renew(json);
      } else if (method === 'GET' && /^\/api\/v[12]\/workspace\/[^/]+$/.test(url.pathname)) {
        const identity = this.authenticate(req.headers.authorization);
        clientId = identity.clientId;
        body = this.workspace(url.pathname, identity);
      } else {
        const secret = /^\/api\/v3\/secrets\/raw\/([^/]+)$/.exec(url.pathname);
        const known = url.pathname === '/api/v3/secrets/raw' || url.pathname === '/api/v1/folders' || secret !== null;
        if (!known || !['GET', 'POST', 'PATCH', 'DELETE'].includes(method)) throw new HttpError(404, `Route ${method}:${url.pathname} not found`, 'Not Found');
        const identity = this.authenticate(req.headers.authorization);
        clientId = identity.clientId;
        body = this.route(method, url.pathname, secret ? decodeURIComponent(secret[1]) : undefined, query, json, identity);
      }
    } catch (error) {
      const failure = error instanceof HttpError ? error : new HttpError(500, 'Something went wrong', 'InternalServerError');
      status = failure.status;
      body = { reqId: `req-${randomBytes(6).toString('hex')}`, statusCode: failure.status, message: failure.message, error: failure.error };
    }
    await Promise.resolve(pending).catch(() => undefined);
    const bearer = req.headers.authorization !== undefined;
    this.requests.push({ method, path: url.pathname, query: url.search, status, bearer, ...(clientId !== undefined ? { clientId } : {}) });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}) });
    res.end(JSON.stringify(body));
  }

  private route(
    method: string, path: string, name: string | undefined, query: { [k: string]: string }, json: { [k: string]: unknown }, who: TestIdentity,
  ): unknown {
    if (path === '/api/v1/folders') {
      const input = method === 'GET' ? query : json;
      const folders = this.scope(input, who, method === 'GET' ? 'read' : 'create', 'secret-folders');
      if (!folders) throw new HttpError(404, `Environment with slug '${str(input.environment, '')}' in project with ID '${str(input.workspaceId, '')}' not found`, 'NotFoundError');
      if (method === 'GET') {
        const parent = normalize(str(input.path, '/'));
        const prefix = parent === '/' ? '/' : `${parent}/`;
        return { folders: [...folders.keys()].filter((f) => f !== '/' && f.startsWith(prefix) && !f.slice(prefix.length).includes('/')).map((f) => folderJson(f)) };
      }
      if (method !== 'POST') throw new HttpError(404, `Route ${method}:${path} not found`, 'Not Found');
      const folderName = str(json.name, '');
      if (!/^[A-Za-z0-9_-]+$/.test(folderName)) throw new HttpError(422, 'Folder name can only contain alphanumeric, dashes, and underscores', 'ValidationFailure');
      const parent = normalize(str(json.path, '/'));
      const full = parent === '/' ? `/${folderName}` : `${parent}/${folderName}`;
      this.makeFolder(folders, full);
      return { folder: folderJson(full) };
    }
    if (name === undefined) {
      if (method !== 'GET') throw new HttpError(404, `Route ${method}:${path} not found`, 'Not Found');
      return this.list(query, who);
    }
    const input = method === 'GET' ? query : json;
    const action = { GET: 'read', POST: 'create', PATCH: 'edit', DELETE: 'delete' }[method] as string;
    const folders = this.scope(input, who, action, 'secrets');
    const folderPath = normalize(str(input.secretPath, '/'));
    const folder = folders?.get(folderPath);
    const environment = str(input.environment, '');
    // Measured: an unknown environment answers exactly as a missing folder.
    if (!folder) throw new HttpError(404, 'Folder not found for the given environment slug & secret path', 'NotFound');
    const existing = folder.get(name);
    if (method === 'GET') {
      // Measured: a get does not look into secret imports.
      if (!existing) throw new HttpError(404, `Secret with name '${name}' not found`, 'NotFoundError');
      const view = query.viewSecretValue !== 'false' && who.access !== 'describe';
      const shown = query.expandSecretReferences === 'false' ? existing : { ...existing, value: this.expand(environment, folderPath, existing.value) };
      return { secret: secretJson(name, shown, folderPath, environment, this.projectId, view) };
    }
    if (method === 'DELETE') {
      if (!existing) throw new HttpError(404, `Secret with name '${name}' not found`, 'NotFoundError');
      folder.delete(name);
      return { secret: secretJson(name, existing, folderPath, environment, this.projectId, true) };
    }
    if (/\s/.test(name)) throw new HttpError(422, 'Secret name cannot contain spaces.', 'ValidationFailure');
    const now = new Date().toISOString();
    if (this.requireApproval) return { approval: { id: randomUUID(), slug: `change-${randomBytes(4).toString('hex')}`, status: 'open' } };
    if (method === 'POST') {
      if (typeof json.secretValue !== 'string') throw new HttpError(422, 'secretValue: Required', 'ValidationFailure');
      if (existing) throw new HttpError(400, 'Secret already exist', 'BadRequestError');
      const created = { id: randomUUID(), value: trimValue(json.secretValue), comment: str(json.secretComment, '').trim(), version: 1, createdAt: now, updatedAt: now };
      folder.set(name, created);
      return { secret: secretJson(name, created, folderPath, environment, this.projectId, true) };
    }
    if (!existing) throw new HttpError(404, `Secret named '${name}' not found`, 'NotFoundError');
    if (typeof json.secretValue === 'string') existing.value = trimValue(json.secretValue);
    if (typeof json.secretComment === 'string') existing.comment = json.secretComment;
    existing.version++;
    existing.updatedAt = now;
    return { secret: secretJson(name, existing, folderPath, environment, this.projectId, true) };
  }

  private list(query: { [k: string]: string }, who: TestIdentity): unknown {
    for (const flag of ['recursive', 'viewSecretValue', 'expandSecretReferences', 'include_imports']) {
      if (query[flag] !== undefined && query[flag] !== 'true' && query[flag] !== 'false') throw new HttpError(422, `${flag}: Invalid enum value`, 'ValidationFailure');
    }
    const recursive = query.recursive === 'true';
    let folders: Map<string, Map<string, StoredSecret>> | undefined;
    try {
      folders = this.scope(query, who, 'read', 'secrets');
    } catch (error) {
      // Measured: an identity without read permission gets 403 to a plain list, [] to a recursive one.
      if (recursive && error instanceof HttpError && error.status === 403) return { secrets: [], imports: [] };
      throw error;
    }
    // Measured: an unknown environment lists as [] plainly, and fails with 500 recursively.
    if (!folders) {
      if (recursive) throw new HttpError(500, 'Something went wrong', 'InternalServerError');
      return { secrets: [], imports: [] };
    }
    const environment = str(query.environment, '');
    const base = normalize(str(query.secretPath, '/'));
    const prefix = base === '/' ? '/' : `${base}/`;
    const view = query.viewSecretValue !== 'false' && who.access !== 'describe';
    const expand = query.expandSecretReferences !== 'false';
    const show = (path: string, secret: StoredSecret): StoredSecret =>
      (expand ? { ...secret, value: this.expand(environment, path, secret.value) } : secret);
    const secrets: unknown[] = [];
    for (const [path, folder] of [...folders.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      if (path !== base && !(recursive && path.startsWith(prefix))) continue;
      for (const [name, secret] of folder) secrets.push(secretJson(name, show(path, secret), path, environment, this.projectId, view));
    }
    const imports = query.include_imports !== 'true' ? [] : (this.imports.get(environment)?.get(base) ?? []).map((from) => ({
      secretPath: from.folder,
      environment: from.environment,
      folderId: `folder-${from.folder}`,
      secrets: [...(this.store.get(from.environment)?.get(from.folder) ?? new Map<string, StoredSecret>()).entries()]
        .map(([name, secret]) => secretJson(name, show(from.folder, secret), from.folder, from.environment, this.projectId, view)),
    }));
    return { secrets, imports };
  }

  /** The project by id (v1, wrapped in `workspace`) or slug (v2, unwrapped). */
  private workspace(path: string, who: TestIdentity): unknown {
    const [, , version, , ref] = path.split('/');
    const id = decodeURIComponent(ref);
    const known = version === 'v1' ? id === this.projectId : id === this.projectSlug;
    if (!known) throw new HttpError(404, version === 'v1' ? `Project with ID '${id}' not found` : `Project with slug '${id}' not found`, 'NotFoundError');
    if (who.access === 'none') throw new HttpError(403, 'You are not allowed to read on workspace', 'PermissionDenied');
    const project = {
      id: this.projectId,
      _id: this.projectId,
      name: 'floe test project',
      slug: this.projectSlug,
      environments: [...this.store.keys()].map((slug) => ({ id: `env-${slug}`, name: slug, slug })),
    };
    return version === 'v1' ? { workspace: project } : project;
  }

  /** `${KEY}` (same folder) and `${env.a.b.KEY}` (folder /a/b of env), expanded as the server does, one level deep. */
  private expand(environment: string, folder: string, value: string): string {
    return value.replace(/\$\{([^}]+)\}/g, (whole, ref: string) => {
      const parts = ref.split('.');
      const [env, path, name] = parts.length === 1
        ? [environment, folder, parts[0]]
        : [parts[0], `/${parts.slice(1, -1).join('/')}`.replace(/^\/$/, '/'), parts[parts.length - 1]];
      return this.store.get(env)?.get(normalize(path))?.get(name)?.value ?? whole;
    });
  }

  /** Counts a request against its route's window; the milliseconds to wait when over the limit. */
  private countForRateLimit(route: string, req: IncomingMessage): number | undefined {
    if (this.perWindow === undefined) return undefined;
    const client = req.headers.authorization ?? req.socket.remoteAddress ?? '';
    const key = `${route} ${client}`;
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || now >= window.start + this.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count++;
    return window.count > this.perWindow ? window.start + this.windowMs - now : undefined;
  }

  /** The folders of the project/environment named in `input`, after the permission check. */
  private scope(
    input: { [k: string]: unknown }, who: TestIdentity, action: string, subject: string,
  ): Map<string, Map<string, StoredSecret>> | undefined {
    const projectId = input.workspaceId;
    const environment = input.environment;
    if (typeof projectId !== 'string' || typeof environment !== 'string' || projectId === '' || environment === '') {
      throw new HttpError(400, 'Missing project id or environment', 'BadRequestError');
    }
    if (projectId !== this.projectId) throw new HttpError(404, `Project with ID '${projectId}' not found`, 'NotFoundError');
    const allowed = who.access === 'read-write' || ((who.access === 'read-only' || who.access === 'describe') && action === 'read');
    if (!allowed) throw new HttpError(403, `You are not allowed to ${action} on ${subject}`, 'PermissionDenied');
    return this.store.get(environment);
  }

  private login(json: { [k: string]: unknown }): unknown {
    if (typeof json.clientId !== 'string' || typeof json.clientSecret !== 'string') throw new HttpError(422, 'clientId, clientSecret: Required', 'ValidationFailure');
    const identity = this.identities.get(json.clientId);
    // Measured: an unknown client id is 404, a wrong secret 401.
    if (!identity) throw new HttpError(404, 'No identity with specified client ID was found', 'NotFound');
    if (!sameString(identity.clientSecret, json.clientSecret)) throw new HttpError(401, 'Invalid credentials', 'UnauthorizedError');
    const id = randomUUID();
    const now = Date.now();
    this.tokens.set(id, { clientId: identity.clientId, uses: 0, createdAt: now, renewedAt: now, revoked: false, jwtExpired: false });
    const accessToken = this.sign(id, identity.clientId);
    this.issuedTokens.push(accessToken);
    return { accessToken, expiresIn: this.ttl, accessTokenMaxTTL: this.maxTtl, tokenType: 'Bearer' };
  }

  private renew(json: { [k: string]: unknown }): unknown {
    const claims = typeof json.accessToken === 'string' ? this.verify(json.accessToken) : undefined;
    const token = claims ? this.tokens.get(claims.identityAccessTokenId) : undefined;
    if (!claims || !token || token.revoked) throw new HttpError(401, 'Unauthorized', 'UnauthorizedError');
    const now = Date.now();
    if (now > token.renewedAt + this.ttl * 1000) throw new HttpError(401, 'Failed to renew MI access token due to TTL expiration', 'UnauthorizedError');
    if (now + this.ttl * 1000 > token.createdAt + this.maxTtl * 1000) throw new HttpError(401, 'Failed to renew MI access token past its Max TTL expiration', 'UnauthorizedError');
    token.renewedAt = now;
    return { accessToken: json.accessToken, expiresIn: this.ttl, accessTokenMaxTTL: this.maxTtl, tokenType: 'Bearer' };
  }

  private authenticate(header: string | undefined): TestIdentity {
    const match = /^Bearer (.+)$/.exec(header ?? '');
    if (!match) throw new HttpError(401, 'Token missing', 'UnauthorizedError');
    const claims = this.verify(match[1]);
    if (!claims) throw new HttpError(403, 'The provided access token is malformed. Please use a valid token or generate a new one and try again.', 'TokenError');
    const token = this.tokens.get(claims.identityAccessTokenId);
    if ((typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) || token?.jwtExpired) {
      throw new HttpError(403, 'Your token has expired. Please re-authenticate.', 'TokenError');
    }
    const identity = token ? this.identities.get(token.clientId) : undefined;
    if (!token || token.revoked || !identity) throw new HttpError(401, 'Unauthorized', 'UnauthorizedError');
    if (Date.now() > token.renewedAt + this.ttl * 1000) throw new HttpError(401, 'Failed to renew MI access token due to TTL expiration', 'UnauthorizedError');
    token.uses++;
    if (this.numUses > 0 && token.uses > this.numUses) throw new HttpError(401, 'Unable to use MI access token due to usage limit reached', 'UnauthorizedError');
    return identity;
  }

  private sign(tokenId: string, clientId: string): string {
    const iat = Math.floor(Date.now() / 1000);
    const payload = { identityId: clientId, identityAccessTokenId: tokenId, authTokenType: 'identityAccessToken', iat, ...(this.jwtExpiry ? { exp: iat + this.maxTtl } : {}) };
    const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${head}.${body}.${createHmac('sha256', this.key).update(`${head}.${body}`).digest('base64url')}`;
  }

  private verify(jwt: string): { identityAccessTokenId: string; exp?: number } | undefined {
    const [head, body, signature] = jwt.split('.');
    if (head === undefined || body === undefined || signature === undefined) return undefined;
    const expected = createHmac('sha256', this.key).update(`${head}.${body}`).digest('base64url');
    if (!sameString(expected, signature)) return undefined;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { identityAccessTokenId: string; exp?: number };
    } catch {
      return undefined;
    }
  }

  private env(environment: string): Map<string, Map<string, StoredSecret>> {
    const folders = this.store.get(environment);
    if (!folders) throw new Error(`InfisicalTestServer has no environment ${environment}`);
    return folders;
  }

  private makeFolder(folders: Map<string, Map<string, StoredSecret>>, path: string): void {
    let current = '';
    for (const segment of path.split('/').filter((s) => s !== '')) {
      current = `${current}/${segment}`;
      if (!folders.has(current)) folders.set(current, new Map());
    }
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function str(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

/** Infisical's `removeTrailingSlash` on secret paths. */
function normalize(path: string): string {
  const trimmed = path.trim();
  return trimmed.length > 1 ? trimmed.replace(/\/+$/, '') : trimmed || '/';
}

/** Infisical trims values, keeping one final newline. */
function trimValue(value: string): string {
  return value.endsWith('\n') ? `${value.trim()}\n` : value.trim();
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function folderJson(path: string): unknown {
  const cut = path.lastIndexOf('/');
  return { id: `folder-${Buffer.from(path).toString('hex').slice(0, 24)}`, name: path.slice(cut + 1), path, parentId: null, version: 1 };
}

function secretJson(name: string, s: StoredSecret, path: string, environment: string, projectId: string, view: boolean): unknown {
  return {
    id: s.id,
    _id: s.id,
    workspace: projectId,
    environment,
    version: s.version,
    type: 'shared',
    secretKey: name,
    secretValue: view ? s.value : '<hidden-by-infisical>',
    secretValueHidden: !view,
    secretComment: s.comment,
    secretPath: path,
    skipMultilineEncoding: false,
    tags: [],
    secretMetadata: [],
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}
