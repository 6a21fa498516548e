import { createPublicKey, JsonWebKey, randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { JWK } from 'jose';
import { jose } from '../src/jose';

/*
 * A real, certified OpenID Provider (oidc-provider, by the author of jose) on 127.0.0.1, one
 * provider per realm mounted under /realms/<realm> with Keycloak's endpoint paths, so the plugin
 * meets the issuers, discovery documents, JWKS and token and user info endpoints it meets in
 * Keycloak. Tokens come from the provider itself (client credentials grant, JWT access tokens); the
 * test holds each realm's private keys (it configured them), so it can also sign the tokens a
 * provider would never issue (expired, for another audience) that still verify against the
 * realm's real JWKS.
 */

const nodeModule = process.getBuiltinModule('node:module') as typeof import('node:module');
// oidc-provider is ESM-only and ships no types; this is the part of its API the tests use.
const { Provider } = nodeModule.createRequire(__filename)('oidc-provider') as { Provider: new (issuer: string, config: object) => OidcProvider };

// Jest runs tests in their own V8 realm, and oidc-provider merges its configuration with checks
// (plain object, instanceof) that fail for another realm's objects: hand it objects of Node's realm.
const vm = process.getBuiltinModule('node:vm') as typeof import('node:vm');
const NodeObject = vm.runInThisContext('Object') as ObjectConstructor;
const NodeArray = vm.runInThisContext('Array') as ArrayConstructor;

/** A deep copy of plain objects and arrays made in Node's realm; functions and class instances stay as they are. */
function nodeRealm<T>(value: T): T {
  if (Array.isArray(value)) return NodeArray.from(value, (item) => nodeRealm(item)) as T;
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const copy = NodeObject.create(NodeObject.prototype) as { [key: string]: unknown };
  for (const [key, item] of Object.entries(value)) copy[key] = nodeRealm(item);
  return copy as T;
}

interface OidcProvider {
  Grant: new (init: { accountId: string; clientId: string }) => { addOIDCScope(scope: string): void; save(): Promise<string> };
  AccessToken: new (init: object) => { save(): Promise<string> };
  Client: { find(id: string): Promise<object> };
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}

/** What {@link OidcTestServer.sign} may change besides the claims. */
export interface SignOptions {
  /** The private JWK to sign with. Default: the realm's current key. */
  readonly key?: JWK;
  /** Default: RS256. */
  readonly alg?: string;
  /** Default: the key's kid. */
  readonly kid?: string;
}

/** The audience the provider puts in its JWT access tokens. */
export const AUDIENCE = 'floe-secrets';
/** The client the tests get tokens for. */
export const CLIENT_ID = 'floe-cli';

/** A user of every realm, as the user info endpoint describes it. */
export interface TestAccount {
  readonly sub: string;
  readonly preferred_username: string;
  readonly email: string;
  readonly groups: readonly string[];
}

interface Realm {
  readonly name: string;
  keys: JWK[];
  provider: OidcProvider;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Extra claims the next access tokens carry (Keycloak's mappers). */
  claims: { [claim: string]: unknown };
}

/** One request the server received. */
export interface SeenRequest {
  readonly realm: string;
  readonly method: string;
  readonly path: string;
}

type Store = Map<string, { [field: string]: unknown }>;

/** oidc-provider's storage: one Map per realm, kept across key rotations (as Keycloak keeps sessions). */
class MemoryAdapter {
  public constructor(private readonly model: string, private readonly store: Store) {}
  public async upsert(id: string, payload: { [field: string]: unknown }): Promise<void> {
    this.store.set(`${this.model}:${id}`, payload);
  }
  public async find(id: string): Promise<object | undefined> {
    return this.store.get(`${this.model}:${id}`);
  }
  public async findByUid(): Promise<undefined> {
    return undefined;
  }
  public async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  public async consume(id: string): Promise<void> {
    const payload = this.store.get(`${this.model}:${id}`);
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }
  public async destroy(id: string): Promise<void> {
    this.store.delete(`${this.model}:${id}`);
  }
  public async revokeByGrantId(grantId: string): Promise<void> {
    for (const [key, payload] of this.store) if (payload.grantId === grantId) this.store.delete(key);
  }
}

/** An OpenID Provider on 127.0.0.1 serving several realms the way Keycloak lays them out. */
export class OidcTestServer {
  /**
   * Starts the server with one provider per realm, each with a fresh RSA key.
   *
   * @param accounts the users every realm knows (for the user info endpoint)
   */
  public static async start(realms: readonly string[], accounts: readonly TestAccount[] = []): Promise<OidcTestServer> {
    const server = new OidcTestServer(accounts);
    await new Promise<void>((done) => server.server.listen(0, '127.0.0.1', done));
    server.url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
    for (const name of realms) server.realms.set(name, await server.makeRealm(name, [await newKey()], {}));
    return server;
  }

  /** `http://127.0.0.1:<port>`: the serverUrl of the plugin. */
  public url = '';
  /** The client secret of {@link CLIENT_ID} in every realm. */
  public readonly clientSecret = `cs-${randomBytes(18).toString('base64url')}`;
  /** Every request, in order. */
  public readonly requests: SeenRequest[] = [];
  /** When true, requests are accepted and never answered (a hung provider). */
  public hang = false;
  private readonly realms = new Map<string, Realm>();
  private readonly stores = new Map<string, Store>();
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(private readonly accounts: readonly TestAccount[]) {
    this.server = createServer((req, res) => this.route(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** `<url>/realms/<realm>`. */
  public issuer(realm: string): string {
    return `${this.url}/realms/${realm}`;
  }

  /** How many times a realm's JWKS was fetched. */
  public jwksFetches(realm: string): number {
    return this.requests.filter((r) => r.realm === realm && r.path === '/protocol/openid-connect/certs').length;
  }

  /** The realm's current signing key (private JWK). */
  public signingKey(realm: string): JWK {
    return this.realm(realm).keys[0];
  }

  /** The realm's current signing key (public part, PEM): what an algorithm-confusion attacker holds. */
  public publicKeyPem(realm: string): string {
    return createPublicKey({ key: this.signingKey(realm) as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
  }

  /** Sets the extra claims (roles, groups, domains) of the realm's next access tokens. */
  public setClaims(realm: string, claims: { [claim: string]: unknown }): void {
    this.realm(realm).claims = claims;
  }

  /** A JWT access token from the realm's token endpoint (client credentials grant). */
  public async accessToken(realm: string): Promise<string> {
    const basic = Buffer.from(`${CLIENT_ID}:${this.clientSecret}`).toString('base64');
    const response = await fetch(`${this.issuer(realm)}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'authorization': `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=openid',
    });
    const body = await response.json() as { access_token?: string };
    if (response.status !== 200 || !body.access_token) throw new Error(`token endpoint of ${realm} answered ${response.status}`);
    return body.access_token;
  }

  /** An opaque user access token with scope openid (as after a login), accepted by the user info endpoint. */
  public async userAccessToken(realm: string, accountId: string): Promise<string> {
    const { provider } = this.realm(realm);
    const grant = new provider.Grant(nodeRealm({ accountId, clientId: CLIENT_ID }));
    grant.addOIDCScope('openid email profile');
    const grantId = await grant.save();
    const client = await provider.Client.find(CLIENT_ID);
    return new provider.AccessToken(nodeRealm({ accountId, client, grantId, scope: 'openid email profile', gty: 'authorization_code' })).save();
  }

  /**
   * A token signed with the realm's current private key (or `key`), with `claims` over sensible
   * defaults (the realm's issuer, {@link AUDIENCE}, valid for 5 minutes).
   */
  public async sign(realm: string, claims: { [claim: string]: unknown } = {}, options: SignOptions = {}): Promise<string> {
    const key = options.key ?? this.realm(realm).keys[0];
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: this.issuer(realm), aud: AUDIENCE, sub: `user-${randomBytes(4).toString('hex')}`, iat: now, exp: now + 300, ...claims };
    const alg = options.alg ?? 'RS256';
    return new jose.SignJWT(payload).setProtectedHeader({ alg, kid: options.kid ?? key.kid, typ: 'JWT' }).sign(await jose.importJWK(key, alg));
  }

  /**
   * Rotates the realm's signing key as Keycloak does: a new key signs from now on; the old one stays
   * published unless `dropOld`. The provider is rebuilt on the same issuer.
   */
  public async rotate(realm: string, options: { dropOld?: boolean } = {}): Promise<JWK> {
    const current = this.realm(realm);
    const key = await newKey();
    this.realms.set(realm, await this.makeRealm(realm, options.dropOld ? [key] : [key, ...current.keys], current.claims));
    return key;
  }

  /** Stops the server, dropping every connection (hung ones too). */
  public async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((done) => this.server.close(() => done()));
  }

  private realm(name: string): Realm {
    const realm = this.realms.get(name);
    if (!realm) throw new Error(`no realm ${name}`);
    return realm;
  }

  private route(req: IncomingMessage, res: ServerResponse): void {
    const match = /^\/realms\/([^/]+)(\/.*)?$/.exec(req.url ?? '');
    const realm = match ? this.realms.get(match[1]) : undefined;
    this.requests.push({ realm: match?.[1] ?? '', method: req.method ?? '', path: (match?.[2] ?? req.url ?? '').split('?')[0] });
    if (this.hang) return;
    if (!match || !realm) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Realm does not exist"}');
      return;
    }
    // Mounted under /realms/<realm>: oidc-provider builds its URLs from originalUrl.
    (req as IncomingMessage & { originalUrl: string }).originalUrl = req.url ?? '';
    req.url = match[2] ?? '/';
    realm.handler(req, res);
  }

  private async makeRealm(name: string, keys: JWK[], claims: { [claim: string]: unknown }): Promise<Realm> {
    const accounts = this.accounts;
    const store = this.stores.get(name) ?? new Map();
    this.stores.set(name, store);
    const realm = { name, keys, claims } as Realm;
    realm.provider = new Provider(this.issuer(name), nodeRealm({
      // A factory rather than the class: oidc-provider tells classes apart with instanceof Function, which fails across realms.
      adapter: (model: string) => new MemoryAdapter(model, store),
      jwks: { keys },
      cookies: { keys: [randomBytes(16).toString('hex')] },
      clients: [{
        client_id: CLIENT_ID,
        client_secret: this.clientSecret,
        grant_types: ['client_credentials', 'authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
      }],
      ttl: { AccessToken: 300, ClientCredentials: 300, Grant: 600, Session: 600, Interaction: 600, IdToken: 300 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => 'urn:floe:secrets',
          useGrantedResource: () => true,
          getResourceServerInfo: () => nodeRealm({ scope: 'openid', audience: AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } }),
        },
      },
      extraTokenClaims: () => nodeRealm({ azp: CLIENT_ID, ...realm.claims }),
      findAccount: (_ctx: unknown, sub: string) => {
        const account = accounts.find((a) => a.sub === sub);
        return account ? nodeRealm({ accountId: sub, claims: () => nodeRealm({ ...account }) }) : undefined;
      },
      claims: { openid: ['sub'], email: ['email'], profile: ['preferred_username', 'groups'] },
      routes: {
        jwks: '/protocol/openid-connect/certs',
        token: '/protocol/openid-connect/token',
        userinfo: '/protocol/openid-connect/userinfo',
        authorization: '/protocol/openid-connect/auth',
        introspection: '/protocol/openid-connect/token/introspect',
        revocation: '/protocol/openid-connect/revoke',
        end_session: '/protocol/openid-connect/logout',
      },
    }));
    realm.handler = realm.provider.callback();
    return realm;
  }
}

async function newKey(): Promise<JWK> {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid: `k-${randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig' };
}
