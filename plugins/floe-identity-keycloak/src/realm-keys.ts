import { ConnectionError, SecretsConfigError, UnknownKeyError } from '@floe-secrets/core';
import type { JWTVerifyGetKey } from 'jose';
import { shown } from './claims';
import { transportAllowed } from './config';
import { getJson, NAME, stringField } from './http';
import { jose } from './jose';

/** How a realm's keys are fetched and kept. */
export interface RealmKeysSettings {
  /** How long fetched keys are fresh. */
  readonly ttlMs: number;
  /** The least time between two fetches. */
  readonly cooldownMs: number;
  /** Timeout of each request. */
  readonly timeoutMs: number;
  /** Whether http to hosts other than loopback is allowed. */
  readonly allowInsecureHttp: boolean;
  /** The clock. */
  readonly now: () => number;
}

/** The endpoints a realm's OIDC discovery document names. */
export interface RealmEndpoints {
  readonly jwksUri: string;
  readonly userinfoEndpoint?: string;
  readonly tokenEndpoint?: string;
}

interface KeySet {
  readonly resolve: JWTVerifyGetKey;
  readonly fetchedAt: number;
}

/**
 * One realm's OIDC metadata and signing keys (JWKS), fetched through OIDC discovery and cached:
 *
 * - The first token of a realm fetches `<issuer>/.well-known/openid-configuration`, checks that it
 *   names the same issuer, then fetches its `jwks_uri`. Concurrent callers share one fetch.
 * - Keys are fresh for `ttlMs`. A token that arrives later is verified with the keys at hand while
 *   one refresh runs in the background, so validation never waits on Keycloak when keys exist.
 * - A key id (`kid`) that the keys lack triggers one refresh (key rotation), but at most one per
 *   `cooldownMs` whatever the number of such tokens; within the cooldown the token is refused.
 * - When Keycloak stops answering, the keys at hand keep being used: a provider outage does not
 *   stop validation, and a key removed during the outage stays trusted until Keycloak answers again.
 */
export class RealmKeys {
  #endpoints: RealmEndpoints | undefined;
  #keys: KeySet | undefined;
  #inflight: Promise<KeySet> | undefined;
  #lastAttempt = Number.NEGATIVE_INFINITY;

  public constructor(
    /** The realm's name. */
    public readonly realm: string,
    /** `<serverUrl>/realms/<realm>`. */
    public readonly issuer: string,
    private readonly settings: RealmKeysSettings,
  ) {}

  /** The realm's endpoints, from its discovery document (fetched once). */
  public async endpoints(signal?: AbortSignal): Promise<RealmEndpoints> {
    this.#endpoints ??= await this.discover(signal);
    return this.#endpoints;
  }

  /**
   * The key for a token's protected header, fetching or refreshing the realm's keys as the class
   * comment describes.
   *
   * @throws UnknownKeyError when no key matches, even after the refresh the cooldown allows
   * @throws ConnectionError when no keys were ever fetched and Keycloak cannot be reached
   */
  public readonly key: JWTVerifyGetKey = async (header, token) => {
    const now = this.settings.now();
    let keys = this.#keys;
    if (keys === undefined) {
      keys = await this.firstFetch(now);
    } else if (now - keys.fetchedAt >= this.settings.ttlMs && now - this.#lastAttempt >= this.settings.cooldownMs) {
      // Stale: verify with the keys at hand, refresh in the background (a failure keeps the old keys).
      this.refresh().catch(() => undefined);
    }
    try {
      return await keys.resolve(header, token);
    } catch (error) {
      if (!isNoMatch(error)) throw error;
    }
    const retried = await this.refreshForUnknownKey(now, header.kid);
    try {
      return await retried.resolve(header, token);
    } catch (error) {
      if (!isNoMatch(error)) throw error;
      throw this.unknownKey(header.kid, ', even after fetching its keys again; the token was not signed by this realm');
    }
  };

  /** Fetches the discovery document and the keys now, whatever the cooldown (health checks). */
  public async check(signal: AbortSignal): Promise<void> {
    this.#endpoints = await this.discover(signal);
    await this.refresh(signal);
  }

  private async firstFetch(now: number): Promise<KeySet> {
    if (this.#inflight) return this.#inflight;
    const wait = this.cooldownLeft(now);
    if (wait > 0) {
      throw new ConnectionError(`${NAME}: the keys of realm ${this.realm} could not be fetched; the next try is in ${wait} s (check that Keycloak is up)`, NAME);
    }
    return this.refresh();
  }

  private async refreshForUnknownKey(now: number, kid: string | undefined): Promise<KeySet> {
    if (this.#inflight) return this.#inflight;
    const wait = this.cooldownLeft(now);
    if (wait > 0) {
      throw this.unknownKey(kid, `; its keys are fetched again at most every ${this.settings.cooldownMs / 1000} s: if the realm rotated its keys, retry in ${wait} s`);
    }
    return this.refresh();
  }

  /** Whole seconds until the cooldown since the last fetch ends; 0 when it has. */
  private cooldownLeft(now: number): number {
    return Math.max(0, Math.ceil((this.settings.cooldownMs - Math.max(0, now - this.#lastAttempt)) / 1000));
  }

  private async refresh(signal?: AbortSignal): Promise<KeySet> {
    this.#inflight ??= this.fetchKeys(signal).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  private async fetchKeys(signal?: AbortSignal): Promise<KeySet> {
    this.#lastAttempt = this.settings.now();
    const endpoints = await this.endpoints(signal);
    const body = await getJson(endpoints.jwksUri, `the keys (JWKS) of realm ${this.realm}`, this.settings.timeoutMs, signal);
    // Only public keys verify: a published private key (member "d") is skipped, never imported.
    const keys = Array.isArray(body.keys) ? body.keys.filter((k): k is object => typeof k === 'object' && k !== null && !('d' in k)) : [];
    if (keys.length === 0) {
      throw new ConnectionError(`${NAME}: realm ${this.realm} publishes no public key at ${endpoints.jwksUri}; check the realm's keys in Keycloak`, NAME);
    }
    const set: KeySet = { resolve: jose.createLocalJWKSet({ keys: keys as never }), fetchedAt: this.settings.now() };
    this.#keys = set;
    return set;
  }

  private async discover(signal?: AbortSignal): Promise<RealmEndpoints> {
    const url = `${this.issuer}/.well-known/openid-configuration`;
    const body = await getJson(url, `the OIDC discovery document of realm ${this.realm}`, this.settings.timeoutMs, signal);
    const issuer = stringField(body, 'issuer');
    if (issuer !== this.issuer) {
      throw new SecretsConfigError(
        `${NAME}: realm ${this.realm} names its issuer ${JSON.stringify(issuer)}, not ${this.issuer}; ` +
          'set serverUrl to the URL Keycloak puts in its tokens (its hostname setting)',
        NAME,
      );
    }
    const endpoint = (field: string): string | undefined => {
      const value = stringField(body, field);
      if (value === undefined) return undefined;
      if (!URL.canParse(value) || !transportAllowed(new URL(value), this.settings.allowInsecureHttp)) {
        throw new SecretsConfigError(`${NAME}: realm ${this.realm} advertises ${field} ${value}, which is not an https URL; fix Keycloak's hostname settings`, NAME);
      }
      return value;
    };
    const jwksUri = endpoint('jwks_uri');
    if (jwksUri === undefined) {
      throw new ConnectionError(`${NAME}: the discovery document of realm ${this.realm} names no jwks_uri; check that ${url} is Keycloak's`, NAME);
    }
    return { jwksUri, userinfoEndpoint: endpoint('userinfo_endpoint'), tokenEndpoint: endpoint('token_endpoint') };
  }

  private unknownKey(kid: string | undefined, detail: string): UnknownKeyError {
    const which = kid === undefined ? 'no single key for a token without kid' : `no key with kid ${shown(kid)}`;
    return new UnknownKeyError(`${NAME}: realm ${this.realm} has ${which}${detail}`, NAME);
  }
}

/** jose's "no key in the set matches": a kid not in the set, or no kid and several candidates. */
function isNoMatch(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS';
}
