import {
  BackendHttp, ConnectionError, HttpStatusError, Masked, NOT_JSON, PermissionError, SecretsConfigError,
} from '@floe-secrets/core';
import { ResolvedInfisicalConfig } from './config';

const PLUGIN = 'infisical';

/** One request to the Infisical API. */
export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PATCH';
  /** The path below the site URL, e.g. `/api/v3/secrets/raw/password`, without the query. */
  readonly path: string;
  /** Query parameters; undefined ones are left out. */
  readonly query?: { readonly [name: string]: string | undefined };
  readonly body?: object;
}

/** The project the plugin works in, as Infisical describes it. */
export interface ProjectScope {
  /** The project's id (what the secrets API takes as `workspaceId`). */
  readonly id: string;
  /** The project's slug, when Infisical sent it. */
  readonly slug: string | undefined;
}

/**
 * Infisical's HTTP API with Universal Auth, over core's {@link BackendHttp} (so every request goes
 * to `siteUrl` only: a redirect to another origin is refused, and nothing follows it).
 *
 * Tokens, as real Infisical servers issue them:
 * - The login answers `expiresIn`, the access-token TTL the server enforces (401 past it, or past
 *   the token's number-of-uses limit). The JWT's own `exp` is the identity's *max* TTL (30 days by
 *   default), so it says nothing about when the server stops accepting the token. The session logs
 *   in again at `expiresIn` minus a fifth of it (at most 10 s early).
 * - A refused token (401, or 403 `TokenError`) is dropped and replaced by a **clean** login: the
 *   login request never carries an `Authorization` header (Infisical refuses a login that still
 *   carries the previous bearer token with 401, which is how `@infisical/sdk` v5 never recovers).
 *   A call is repeated at most once after such a login.
 * - Concurrent callers share one login.
 *
 * The project is looked up once, on first use: by id (`GET /api/v1/workspace/{id}`) or slug
 * (`GET /api/v2/workspace/{slug}`). Its environments are checked there, because a secret read in an
 * unknown environment answers exactly like a missing folder (404), a plain list answers `[]` and a
 * recursive list 500.
 *
 * The access token and the client secret live in ES private fields and never print.
 */
export class InfisicalApi {
  readonly #http: BackendHttp;
  readonly #config: ResolvedInfisicalConfig;
  #token: Masked | undefined;
  #refreshAt = 0;
  #generation = 0;
  #login: Promise<void> | undefined;
  #logins = 0;
  #project: Promise<ProjectScope> | undefined;

  public constructor(config: ResolvedInfisicalConfig, http: BackendHttp) {
    this.#config = config;
    this.#http = http;
  }

  /** How many logins this client made. */
  public get logins(): number {
    return this.#logins;
  }

  /** Ends idle connections. */
  public close(): void {
    this.#http.close();
  }

  /**
   * The project, looked up once (a failed lookup is tried again by the next call), with the
   * configured environment checked against its environments.
   */
  public async project(signal: AbortSignal): Promise<ProjectScope> {
    if (this.#project === undefined) {
      const lookup = this.lookupProject(signal);
      this.#project = lookup;
      lookup.catch(() => {
        if (this.#project === lookup) this.#project = undefined;
      });
    }
    return this.#project;
  }

  /**
   * Sends an authenticated request; on a refused token, logs in again (cleanly) and repeats it
   * once.
   *
   * @returns the JSON answer ({@link NOT_JSON} when the body was not JSON)
   * @throws HttpStatusError, TransportError, or a SecretsError
   */
  public async call(signal: AbortSignal, request: ApiRequest): Promise<unknown> {
    await this.ensureToken(signal);
    const generation = this.#generation;
    try {
      return await this.send(signal, request, this.#token);
    } catch (error) {
      if (!isTokenRefused(error)) throw error;
      if (generation === this.#generation) this.#token = undefined;
      await this.ensureToken(signal);
      return this.send(signal, request, this.#token);
    }
  }

  private async send(signal: AbortSignal, request: ApiRequest, token: Masked | undefined): Promise<unknown> {
    const query = Object.entries(request.query ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined);
    const search = query.length === 0 ? '' : `?${new URLSearchParams(query).toString()}`;
    const answer = await this.#http.request({
      method: request.method,
      path: `${request.path}${search}`,
      headers: token ? { authorization: `Bearer ${token.reveal()}` } : {},
      body: request.body,
      signal,
    });
    return answer.json;
  }

  private async ensureToken(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#token !== undefined && Date.now() < this.#refreshAt) return;
    if (this.#login === undefined) {
      const login: Promise<void> = this.doLogin(signal).finally(() => {
        if (this.#login === login) this.#login = undefined;
      });
      // Callers may all have timed out; the login must not become an unhandled rejection.
      login.catch(() => undefined);
      this.#login = login;
    }
    await this.#login;
    signal.throwIfAborted();
  }

  private async doLogin(signal: AbortSignal): Promise<void> {
    const started = Date.now();
    let json: unknown;
    try {
      // A clean request: no Authorization header, whatever token came before.
      json = (await this.#http.request({
        method: 'POST',
        path: '/api/v1/auth/universal-auth/login',
        body: { clientId: this.#config.clientId, clientSecret: this.#config.clientSecret.reveal() },
        signal,
      })).json;
    } catch (error) {
      throw this.loginError(error);
    }
    const accessToken = field(json, 'accessToken');
    const expiresIn = field(json, 'expiresIn');
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw new ConnectionError(`${PLUGIN}: ${this.#config.siteUrl} answered the universal-auth login, but not as the Infisical API does (no access token); check siteUrl`, PLUGIN);
    }
    const ttlMs = typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : Number.POSITIVE_INFINITY;
    this.#token = new Masked(accessToken);
    this.#generation++;
    this.#logins++;
    this.#refreshAt = started + ttlMs - Math.min(10_000, ttlMs / 5);
  }

  /** A refused login as a clear SecretsError; transient failures as they are. */
  private loginError(error: unknown): unknown {
    if (!(error instanceof HttpStatusError)) return error;
    const { status } = error;
    const who = `client id ${JSON.stringify(this.#config.clientId)}`;
    if (!error.isJson && status < 500) {
      return new ConnectionError(
        `${PLUGIN}: the universal-auth login got HTTP ${status} with a body that is not JSON${kind(error)} from ${this.#config.siteUrl}: ` +
          'not the Infisical API (a proxy, or a wrong siteUrl?); check that siteUrl is the Infisical instance address, without "/api"',
        PLUGIN,
      );
    }
    if (status === 401 || status === 403) {
      return new PermissionError(
        `${PLUGIN}: universal-auth login as ${who} was refused (HTTP ${status}); check clientSecret, ` +
          'and that the client secret is not revoked, expired or out of uses, and that this address is in its trusted IPs',
        PLUGIN,
      );
    }
    if (status === 404 && /identity/i.test(serverMessage(error))) {
      return new SecretsConfigError(`${PLUGIN}: Infisical at ${this.#config.siteUrl} has no machine identity with ${who} (HTTP 404); check clientId`, PLUGIN);
    }
    if (status === 404 || status === 405) {
      return new SecretsConfigError(
        `${PLUGIN}: ${this.#config.siteUrl} answered HTTP ${status} to the universal-auth login; check that siteUrl is the Infisical instance address, without "/api"`,
        PLUGIN,
      );
    }
    if (status === 400 || status === 422) {
      return new SecretsConfigError(`${PLUGIN}: the universal-auth login as ${who} was rejected as malformed (HTTP ${status}); check clientId and clientSecret`, PLUGIN);
    }
    return error;
  }

  /**
   * The project `ref` names, by id or slug, as Infisical describes it to this identity; undefined
   * when Infisical knows no such project (HTTP 404 or 400 in Infisical's JSON).
   *
   * @throws PermissionError when the identity may not read the project
   */
  public async findProject(signal: AbortSignal, ref: ProjectRef): Promise<ProjectInfo | undefined> {
    let json: unknown;
    try {
      json = ref.id !== undefined
        ? field(await this.call(signal, { method: 'GET', path: `/api/v1/workspace/${encodeURIComponent(ref.id)}` }), 'workspace')
        : await this.call(signal, { method: 'GET', path: `/api/v2/workspace/${encodeURIComponent(ref.slug)}` });
    } catch (error) {
      if (error instanceof HttpStatusError && error.isJson && (error.status === 404 || error.status === 400)) return undefined;
      if (error instanceof HttpStatusError && error.isJson && (error.status === 401 || error.status === 403)) {
        throw new PermissionError(
          `${PLUGIN}: machine identity ${this.#config.clientId} may not read ${describeRef(ref)} (HTTP ${error.status}); add the identity to the project with a role`,
          PLUGIN,
        );
      }
      throw error;
    }
    const id = field(json, 'id') ?? field(json, '_id');
    const environments = field(json, 'environments');
    if (typeof id !== 'string' || !Array.isArray(environments)) {
      throw new ConnectionError(`${PLUGIN}: ${this.#config.siteUrl} answered the project lookup, but not as the Infisical API does; check siteUrl`, PLUGIN);
    }
    const slug = field(json, 'slug');
    return {
      id,
      slug: typeof slug === 'string' ? slug : undefined,
      environments: environments.map((env) => field(env, 'slug')).filter((s): s is string => typeof s === 'string'),
    };
  }

  private async lookupProject(signal: AbortSignal): Promise<ProjectScope> {
    const { projectId, projectSlug, environment } = this.#config;
    const ref: ProjectRef = projectId !== undefined ? { id: projectId } : { slug: projectSlug as string };
    const project = await this.findProject(signal, ref);
    if (project === undefined) {
      throw new SecretsConfigError(
        `${PLUGIN}: Infisical at ${this.#config.siteUrl} has no ${describeRef(ref)}; check the project's ${ref.id !== undefined ? 'id' : 'slug'} in Project Settings`,
        PLUGIN,
      );
    }
    if (!project.environments.includes(environment)) {
      throw new SecretsConfigError(
        `${PLUGIN}: ${describeRef(ref)} has no environment ${JSON.stringify(environment)}; its environments are ` +
          `${project.environments.map((s) => JSON.stringify(s)).join(', ') || 'none'}; set environment to one of them`,
        PLUGIN,
      );
    }
    return { id: project.id, slug: project.slug };
  }
}

/** A project named by id or by slug. */
export type ProjectRef = { readonly id: string; readonly slug?: undefined } | { readonly slug: string; readonly id?: undefined };

/** A project as Infisical describes it. */
export interface ProjectInfo extends ProjectScope {
  /** The slugs of its environments. */
  readonly environments: readonly string[];
}

/** `project id "..."` or `project slug "..."`. */
export function describeRef(ref: ProjectRef): string {
  return ref.id !== undefined ? `project id ${JSON.stringify(ref.id)}` : `project slug ${JSON.stringify(ref.slug)}`;
}

/** Whether the server refused the access token itself (401, or 403 `TokenError`), so that a fresh login may help. */
function isTokenRefused(error: unknown): boolean {
  if (!(error instanceof HttpStatusError) || !error.isJson) return false;
  if (error.status === 401) return true;
  return error.status === 403 && (field(error.json(), 'error') === 'TokenError' || /token|re-?authenticate/i.test(serverMessage(error)));
}

/** The server's `message` of an error answer, for decisions only: never copied into an error (it may echo input). */
export function serverMessage(error: HttpStatusError): string {
  const message = field(error.json(), 'message');
  return typeof message === 'string' ? message : '';
}

/** ` (text/html)` for an answer's media type, or nothing. */
export function kind(error: HttpStatusError): string {
  return error.contentType === '' ? '' : ` (${error.contentType})`;
}

/** A field of a JSON object, or undefined. */
export function field(json: unknown, name: string): unknown {
  if (json === NOT_JSON || typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  return Object.prototype.hasOwnProperty.call(json, name) ? (json as { [name: string]: unknown })[name] : undefined;
}
