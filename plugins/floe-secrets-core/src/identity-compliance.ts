import { createHmac, randomBytes } from 'node:crypto';
import { AuditEvent, AuditLogger } from './audit';
import { describePluginBasics } from './compliance';
import { IdentityPlugin, IdentityPluginOptions } from './identity';
import { BadSignatureError, DisallowedAlgorithmError, MalformedTokenError, TokenError, TokenExpiredError } from './token-errors';

/** What the identity compliance suite needs to exercise one provider. */
export interface IdentityComplianceTarget {
  /** Shown in the suite's name, e.g. `keycloak (local oidc-provider)`. */
  readonly name: string;
  /** A plugin that trusts the provider the tokens come from. */
  plugin(options: IdentityPluginOptions): Promise<IdentityPlugin>;
  /** A fresh token the provider issued, which the plugin must accept. */
  validToken(): Promise<string>;
  /** A token signed with the provider's current key whose `exp` passed minutes ago. */
  expiredToken(): Promise<string>;
  /** A plugin whose provider is at `address` (`127.0.0.1:<port>`), which accepts connections and never answers. */
  unreachablePlugin(address: string, options: IdentityPluginOptions): Promise<IdentityPlugin>;
}

const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const header = (token: string): { [name: string]: unknown } => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString('utf8'));

/** `token` with its claims changed (`sub` replaced) and its signature kept: what an attacker would try first. */
export function tamperedToken(token: string): string {
  const [head, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { [name: string]: unknown };
  return [head, encode({ ...claims, sub: `attacker-${randomBytes(4).toString('hex')}` }), signature].join('.');
}

/** `token` re-issued unsigned: header `alg: none`, empty signature. */
export function unsignedToken(token: string): string {
  const [, payload] = token.split('.');
  return [encode({ ...header(token), alg: 'none' }), payload, ''].join('.');
}

/** `token` re-signed with HS256 under `secret` (e.g. the issuer's public key text: algorithm confusion). */
export function hmacToken(token: string, secret: string | Buffer): string {
  const [, payload] = token.split('.');
  const head = encode({ ...header(token), alg: 'HS256' });
  return [head, payload, createHmac('sha256', secret).update(`${head}.${payload}`).digest('base64url')].join('.');
}

/**
 * The seed's BaseIdentityPluginTests as a reusable jest suite: call it at the top level of a test
 * file with an {@link IdentityComplianceTarget}. It checks the metadata, a valid token, the refusals
 * every provider must make (expired, tampered, unsigned, HMAC, garbage), the health check and the
 * audit log; and that no token reaches an error, an audit event or the plugin's printed form.
 */
export function describeIdentityPluginCompliance(target: IdentityComplianceTarget): void {
  describe(`IdentityPlugin compliance: ${target.name}`, () => {
    const events: AuditEvent[] = [];
    const options: IdentityPluginOptions = { audit: new AuditLogger([{ write: (event) => events.push(event) }]) };
    const tokens: string[] = [];
    // What must never be printed: a token's signature (or an unsigned text), when long enough to be told apart from words.
    const secretPart = (token: string): string | undefined => {
      const part = token.split('.')[2] || token;
      return part.length >= 16 ? part : undefined;
    };
    const remember = (token: string): string => {
      const part = secretPart(token);
      if (part) tokens.push(part);
      return token;
    };
    const refusal = async (plugin: IdentityPlugin, token: string): Promise<TokenError> => plugin.validateToken(remember(token)).then(
      () => {
        throw new Error('expected the token to be refused');
      },
      (error: TokenError) => {
        const part = secretPart(token);
        if (part) expect(`${error.message} ${error.stack}`).not.toContain(part);
        return error;
      },
    );
    let plugin: IdentityPlugin;

    beforeAll(async () => {
      plugin = await target.plugin(options);
    });

    // No token (nor its signature) may reach the audit log or the plugin's printed form.
    describePluginBasics({ plugin: () => plugin, unreachable: (address) => target.unreachablePlugin(address, {}), events, secrets: tokens });

    test('validateToken returns the verified claims of a token the provider issued', async () => {
      const claims = await plugin.validateToken(remember(await target.validToken()));
      expect(claims.subject).toBeTruthy();
      expect(claims.issuer).toMatch(/^https?:\/\//);
      expect(claims.realm).toBeTruthy();
      expect(claims.expiresAt.getTime()).toBeGreaterThan(Date.now());
      expect(Object.isFrozen(claims.raw)).toBe(true);
    });

    test('refuses an expired token with TokenExpiredError', async () => {
      expect(await refusal(plugin, await target.expiredToken())).toBeInstanceOf(TokenExpiredError);
    });

    test('refuses a token whose claims were altered with BadSignatureError', async () => {
      expect(await refusal(plugin, tamperedToken(await target.validToken()))).toBeInstanceOf(BadSignatureError);
    });

    test('refuses alg none and HMAC tokens with DisallowedAlgorithmError', async () => {
      const token = await target.validToken();
      expect(await refusal(plugin, unsignedToken(token))).toBeInstanceOf(DisallowedAlgorithmError);
      expect(await refusal(plugin, hmacToken(token, randomBytes(32)))).toBeInstanceOf(DisallowedAlgorithmError);
    });

    test('refuses text that is no JWT with MalformedTokenError', async () => {
      for (const garbage of ['not-a-jwt', 'a.b.c', `${encode({ alg: 'RS256' })}.%%%.x`, 'x'.repeat(20_000)]) {
        expect(await refusal(plugin, garbage)).toBeInstanceOf(MalformedTokenError);
      }
    });

    test('every validation is audited with subject and outcome, never the token (REQ-140)', async () => {
      events.length = 0;
      const claims = await plugin.validateToken(remember(await target.validToken()));
      await refusal(plugin, await target.expiredToken());
      expect(events.map((e) => [e.action, e.subject, e.outcome, e.errorClass])).toEqual([
        ['validate-token', claims.subject, 'success', undefined],
        ['validate-token', undefined, 'failure', 'TokenExpiredError'],
      ]);
      for (const event of events) {
        expect(event.requester).toBeTruthy();
        expect(event.plugin).toBe(plugin.name);
      }
    });
  });
}
