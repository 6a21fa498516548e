import { PermissionError } from './errors';
import type { VerifiedClaims } from './identity';
import type { KeycloakIdentityManifestConfig } from './manifest/platform-manifest';
import { DOMAIN_NAMESPACE_PREFIX, dnsLabelProblem, MAX_DOMAIN_NAME_LENGTH, quote } from './names';

/** The name errors of a {@link SecretAccessPolicy} carry as their `plugin`. */
const POLICY = 'secret-access';

type Source =
  | { readonly kind: 'realm' }
  | { readonly kind: 'claim'; readonly claim: string }
  | { readonly kind: 'groups'; readonly prefix: string };

/**
 * Which floe domains, and so which `floe-<domain>` namespaces and their secrets, the subject of a
 * validated token may touch: the link between identity and secrets. The domains come from one
 * place in the token, chosen with a factory:
 *
 * - {@link SecretAccessPolicy.fromRealm}: one realm per domain; a token of realm `sales` may touch
 *   `floe-sales`.
 * - {@link SecretAccessPolicy.fromClaim}: a claim listing domains, e.g. `"floe_domains": ["sales"]`
 *   (a Keycloak user attribute or hardcoded-claim mapper).
 * - {@link SecretAccessPolicy.fromGroups}: group membership under a prefix, e.g. groups
 *   `/floe/sales` (Keycloak's group membership mapper with full paths).
 *
 * Values that are not valid domain names (a DNS-1123 label of at most 58 characters) grant nothing.
 * Only ever pass claims from {@link IdentityPlugin.validateToken}: unverified claims prove nothing.
 *
 * @requirement seed 004 (the link between identity and secrets)
 */
export class SecretAccessPolicy {
  /** The domain is the token's realm (realm-per-domain multi-tenancy). */
  public static fromRealm(): SecretAccessPolicy {
    return new SecretAccessPolicy({ kind: 'realm' });
  }

  /**
   * The domains are the values of claim `claim` of the token: a string, or a list of strings.
   *
   * @param claim the claim's name
   * @default 'floe_domains'
   */
  public static fromClaim(claim = 'floe_domains'): SecretAccessPolicy {
    if (!/^[A-Za-z_][A-Za-z0-9_.:-]*$/.test(claim)) {
      throw new RangeError(`claim ${quote(claim)} is not a claim name (letters, digits, "_", ".", ":" and "-"); pass e.g. "floe_domains"`);
    }
    return new SecretAccessPolicy({ kind: 'claim', claim });
  }

  /**
   * The domains are the groups of the token that sit right under `prefix`: with the default prefix,
   * group `/floe/sales` grants `sales`, while `/floe/sales/admins` and `/other/sales` grant nothing.
   *
   * @param prefix the parent group's path, with its trailing `/`
   * @default '/floe/'
   */
  public static fromGroups(prefix = '/floe/'): SecretAccessPolicy {
    if (!prefix.startsWith('/') || !prefix.endsWith('/')) {
      throw new RangeError(`group prefix ${quote(prefix)} must start and end with "/"; pass e.g. "/floe/"`);
    }
    return new SecretAccessPolicy({ kind: 'groups', prefix });
  }

  /** The policy `plugins.identity` of manifest.yaml describes (`domains_from` and its `claim` or `group_prefix`). */
  public static fromManifest(identity: KeycloakIdentityManifestConfig): SecretAccessPolicy {
    switch (identity.domainsFrom) {
      case 'realm': return SecretAccessPolicy.fromRealm();
      case 'claim': return SecretAccessPolicy.fromClaim(identity.claim);
      case 'groups': return SecretAccessPolicy.fromGroups(identity.groupPrefix);
    }
  }

  private constructor(private readonly source: Source) {}

  /** Where the domains come from, for messages: `realm`, `claim floe_domains` or `groups /floe/*`. */
  public get description(): string {
    switch (this.source.kind) {
      case 'realm': return 'realm';
      case 'claim': return `claim ${this.source.claim}`;
      case 'groups': return `groups ${this.source.prefix}*`;
    }
  }

  /** The domains the token grants, sorted and without duplicates. */
  public domainsFor(claims: VerifiedClaims): string[] {
    const candidates = this.candidates(claims);
    const domains = candidates.filter((d) => dnsLabelProblem(d, MAX_DOMAIN_NAME_LENGTH) === undefined);
    return [...new Set(domains)].sort();
  }

  /** The namespaces `floe-<domain>` the token grants, sorted. */
  public namespacesFor(claims: VerifiedClaims): string[] {
    return this.domainsFor(claims).map((domain) => `${DOMAIN_NAMESPACE_PREFIX}${domain}`);
  }

  /** Whether the token's subject may touch the secrets of `namespace`. */
  public mayTouch(claims: VerifiedClaims, namespace: string): boolean {
    return this.namespacesFor(claims).includes(namespace);
  }

  /**
   * Throws unless the token's subject may touch the secrets of `namespace` (a `floe-<domain>`
   * namespace): the guard a CLI or service calls before any secrets plugin call.
   *
   * @throws PermissionError naming the subject, the realm, the domain asked for, the domains granted and the fix
   */
  public assertMayTouch(claims: VerifiedClaims, namespace: string): void {
    if (this.mayTouch(claims, namespace)) return;
    const who = `subject ${quote(claims.subject)}${claims.username ? ` (${claims.username})` : ''} of realm ${claims.realm}`;
    const granted = this.domainsFor(claims);
    const grants = `its token grants ${granted.length > 0 ? `domains ${granted.join(', ')}` : 'no domain'} (${this.description})`;
    if (!namespace.startsWith(DOMAIN_NAMESPACE_PREFIX) || dnsLabelProblem(namespace.slice(DOMAIN_NAMESPACE_PREFIX.length), MAX_DOMAIN_NAME_LENGTH)) {
      throw new PermissionError(
        `${who} may not touch secrets in namespace ${quote(namespace)}: it is not a floe domain namespace (${DOMAIN_NAMESPACE_PREFIX}<domain>); ${grants}`,
        POLICY,
      );
    }
    const domain = namespace.slice(DOMAIN_NAMESPACE_PREFIX.length);
    throw new PermissionError(
      `${who} may not touch secrets in namespace ${namespace} (domain ${domain}): ${grants}; ${this.fix(domain)}`,
      POLICY,
    );
  }

  private fix(domain: string): string {
    switch (this.source.kind) {
      case 'realm': return `sign in to realm ${domain} instead`;
      case 'claim': return `add ${domain} to the subject's claim ${this.source.claim} in the identity provider (e.g. a Keycloak user attribute mapper)`;
      case 'groups': return `add the subject to group ${this.source.prefix}${domain} in the identity provider`;
    }
  }

  private candidates(claims: VerifiedClaims): string[] {
    switch (this.source.kind) {
      case 'realm':
        return [claims.realm];
      case 'claim': {
        const value = claims.raw[this.source.claim];
        if (typeof value === 'string') return [value];
        return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
      }
      case 'groups': {
        const prefix = this.source.prefix;
        return claims.groups.filter((g) => g.startsWith(prefix)).map((g) => g.slice(prefix.length));
      }
    }
  }
}
