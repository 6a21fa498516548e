import { inspect } from 'node:util';
import { AuditEvent, AuditLogger, PermissionError, SecretsConfigError } from '@floe-secrets/core';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { VaultSecretsPlugin } from '../src';
import { DatabaseFixture, startDatabaseFixture } from './database-fixture';
import { failure, fast } from './helpers';

/*
 * Dynamic database credentials through the plugin: against the Vault test server with a real
 * PostgreSQL (users checked in pg_roles and by logging in), and against a real Vault when
 * VAULT_ADDR, VAULT_TOKEN and VAULT_DATABASE_ROLE are set (optionally VAULT_DATABASE_MOUNT, default
 * "database", VAULT_NAMESPACE, VAULT_CACERT). The real run reads credentials of that role and
 * revokes them; its token needs read on <mount>/creds/<role> and update on sys/leases/revoke (the
 * default policy gives renew and lookup).
 */

interface Target {
  readonly role: string;
  readonly mount: string;
  plugin(events?: AuditEvent[]): Promise<VaultSecretsPlugin>;
  /** Whether a database user exists; undefined where the database cannot be seen (a real Vault's). */
  userExists(username: string): Promise<boolean | undefined>;
}

function describeDynamicCredentials(label: string, target: () => Target): void {
  describe(`dynamic database credentials (${label})`, () => {
    test('getDatabaseCredentials gives a lease with its duration, expiry and masked username and password; lookup shows it; revoke ends it', async () => {
      const t = target();
      const events: AuditEvent[] = [];
      const plugin = await t.plugin(events);
      const before = Date.now();
      const creds = await plugin.getDatabaseCredentials(t.role, { mount: t.mount });
      expect(creds.leaseId.startsWith(`${t.mount}/creds/${t.role}/`)).toBe(true);
      expect(creds.leaseDurationSeconds).toBeGreaterThan(0);
      expect(creds.renewable).toBe(true);
      expect(creds.expiresAt.getTime()).toBeGreaterThanOrEqual(before + creds.leaseDurationSeconds * 1000);
      const password = creds.password.reveal();
      const username = creds.username.reveal();
      for (const printed of [String(creds.password), JSON.stringify(creds), inspect(creds, { depth: 5 }), `${creds.username}`]) {
        expect(printed).not.toContain(password);
        expect(printed).not.toContain(username);
      }
      expect(await t.userExists(username)).not.toBe(false);

      const info = await plugin.lookupLease(creds.leaseId);
      expect(info).toMatchObject({ leaseId: creds.leaseId, renewable: true });
      expect(info!.ttlSeconds).toBeLessThanOrEqual(creds.leaseDurationSeconds);
      expect(info!.ttlSeconds).toBeGreaterThan(creds.leaseDurationSeconds - 30);
      expect(info!.lastRenewalAt).toBeUndefined();

      await plugin.revokeLease(creds.leaseId);
      expect(await plugin.lookupLease(creds.leaseId)).toBeUndefined();
      expect(await t.userExists(username)).not.toBe(true);
      // Vault answers a lease it does not hold as revoked.
      await expect(plugin.revokeLease(creds.leaseId)).resolves.toBeUndefined();
      const renewed = await failure(plugin.renewLease(creds.leaseId, 60));
      expect(renewed).toBeInstanceOf(SecretsConfigError);
      expect(renewed.message).toContain('holds no lease');

      expect(events.map((e) => [e.action, e.key, e.outcome])).toEqual([
        ['creds', `${t.mount}/creds/${t.role}`, 'success'],
        ['lookup', creds.leaseId, 'success'],
        ['revoke', creds.leaseId, 'success'],
        ['lookup', creds.leaseId, 'success'],
        ['revoke', creds.leaseId, 'success'],
        ['renew', creds.leaseId, 'failure'],
      ]);
      expect(JSON.stringify(events)).not.toContain(password);
    });

    test('renewLease extends the lease; lookup shows the renewal', async () => {
      const t = target();
      const plugin = await t.plugin();
      const creds = await plugin.getDatabaseCredentials(t.role, { mount: t.mount });
      try {
        const renewed = await plugin.renewLease(creds.leaseId, 120);
        expect(renewed).toMatchObject({ leaseId: creds.leaseId, renewable: true });
        expect(renewed.leaseDurationSeconds).toBeLessThanOrEqual(120);
        const info = await plugin.lookupLease(creds.leaseId);
        expect(info!.lastRenewalAt).toBeInstanceOf(Date);
        // What Vault holds after the renewal is what the renewal answered (a few seconds may pass).
        expect(info!.ttlSeconds).toBeGreaterThan(renewed.leaseDurationSeconds - 10);
        expect(info!.ttlSeconds).toBeLessThanOrEqual(renewed.leaseDurationSeconds);
      } finally {
        await plugin.revokeLease(creds.leaseId);
      }
    });

    test('bad names and lease ids are refused before anything is sent', async () => {
      const plugin = await target().plugin();
      // Each refusal is the plugin's own check (its message), not a server's answer mapped afterwards.
      for (const [call, message] of [
        [() => plugin.getDatabaseCredentials('a/b'), /the role "a\/b" is not a Vault path segment/],
        [() => plugin.getDatabaseCredentials('..'), /the role "\.\." is not a Vault path segment/],
        [() => plugin.getDatabaseCredentials('ro', { mount: '/database' }), /the mount "\/database" is not a Vault path segment/],
        [() => plugin.getDatabaseCredentials('ro', { mount: 'database/../sys' }), /the mount "database\/\.\.\/sys" is not a Vault path segment/],
        [() => plugin.renewLease(''), /"" is not a lease id/],
        [() => plugin.renewLease(7 as unknown as string), /the lease id must be a string, got number/],
        [() => plugin.revokeLease('database/creds/x y'), /is not a lease id/],
        [() => plugin.lookupLease('/database/creds/x/y'), /is not a lease id/],
        [() => plugin.revokeLease('database/creds/../../sys/x'), /is not a lease id/],
        [() => plugin.renewLease('database/creds/x/y', 1.5), /whole number/],
      ] as Array<[() => Promise<unknown>, RegExp]>) {
        await expect(call()).rejects.toThrow(message);
        await expect(call()).rejects.toBeInstanceOf(SecretsConfigError);
      }
    });
  });
}

// (a) the local Vault test server with a real PostgreSQL
let started: Promise<DatabaseFixture> | undefined;
const fixture = async (): Promise<DatabaseFixture> => (started ??= startDatabaseFixture());
afterAll(async () => {
  if (started) await (await started).stop();
}, 30_000);

let local: Target | undefined;
beforeAll(async () => {
  const f = await fixture();
  f.vault.setPolicy('app-creds', { 'database/creds/readonly': ['read'], 'database/creds/short': ['read'], 'sys/leases/revoke': ['update'] });
  local = {
    role: 'readonly',
    mount: 'database',
    plugin: async (events) => new VaultSecretsPlugin(
      { address: f.vault.address, auth: { method: 'token', token: f.vault.createToken({ policies: ['app-creds'] }).token } },
      { ...fast, ...(events ? { audit: new AuditLogger([{ write: (e) => events.push(e) }]) } : {}) },
    ),
    userExists: (username) => f.postgres.roleExists(username),
  };
}, 90_000);

describe('local Vault test server with a real PostgreSQL', () => {
  describeDynamicCredentials('local Vault test server, real PostgreSQL', () => local!);

  test('the user logs in with the password, and is dropped when the plugin\'s login token is revoked', async () => {
    const f = await fixture();
    f.vault.addAppRole({ name: 'etl', roleId: 'role-etl', secretId: 'secret-etl', policies: ['app-creds'] });
    const plugin = new VaultSecretsPlugin({ address: f.vault.address, auth: { method: 'approle', roleId: 'role-etl', secretId: 'secret-etl' } }, fast);
    const creds = await plugin.getDatabaseCredentials('readonly');
    expect(await f.postgres.canLogin(creds.username.reveal(), creds.password.reveal())).toBe(true);
    expect(f.vault.revoke({ role: 'etl' })).toBe(1);
    await f.vault.database.settled();
    expect(await f.postgres.roleExists(creds.username.reveal())).toBe(false);
    // The next call logs in again; the old lease stays gone.
    expect(await plugin.lookupLease(creds.leaseId)).toBeUndefined();
    expect(plugin.logins).toBe(2);
  });

  test('a renewal past max_ttl is capped, not refused', async () => {
    const plugin = await local!.plugin();
    const creds = await plugin.getDatabaseCredentials('short');
    const renewed = await plugin.renewLease(creds.leaseId, 3600);
    expect(renewed.capped).toBe(true);
    expect(renewed.leaseDurationSeconds).toBeLessThanOrEqual(6);
    await plugin.revokeLease(creds.leaseId);
  });

  test('denials name what to grant; an unknown role names the role; no value in any message', async () => {
    const f = await fixture();
    const plain = new VaultSecretsPlugin({ address: f.vault.address, auth: { method: 'token', token: f.vault.createToken({ policies: [] }).token } }, fast);
    const denied = await failure(plain.getDatabaseCredentials('readonly'));
    expect(denied).toBeInstanceOf(PermissionError);
    expect(denied.message).toMatch(/^vault: creds "database\/creds\/readonly" was denied \(HTTP 403\); grant token\/\S+ "read" on database\/creds\/readonly/);
    expect(denied.message).toMatch(/, or that a database secrets engine is mounted at "database" \(Vault answers 403 to both\)$/);
    const plugin = await local!.plugin();
    const creds = await plugin.getDatabaseCredentials('readonly');
    const revoke = await failure(plain.revokeLease(creds.leaseId));
    expect(revoke).toBeInstanceOf(PermissionError);
    expect(revoke.message).toContain('"update" on sys/leases/revoke');
    f.vault.setPolicy('creds-any', { 'database/creds/*': ['read'] });
    const any = new VaultSecretsPlugin({ address: f.vault.address, auth: { method: 'token', token: f.vault.createToken({ policies: ['creds-any'] }).token } }, fast);
    const unknown = await failure(any.getDatabaseCredentials('nope'));
    expect(unknown).toBeInstanceOf(SecretsConfigError);
    expect(unknown.message).toContain('has no role "nope"');
    for (const error of [denied, revoke, unknown]) expect(`${error.message} ${error.stack} ${inspect(error)}`).not.toContain(creds.password.reveal());
    await plugin.revokeLease(creds.leaseId);
  });

  test('lease calls go through the plugin contract\'s call: one span each, named after the call, with the key and never a value', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    try {
      const plugin = await local!.plugin();
      const creds = await plugin.getDatabaseCredentials('readonly');
      await plugin.lookupLease(creds.leaseId);
      await plugin.revokeLease(creds.leaseId);
      const spans = exporter.getFinishedSpans().filter((span) => span.name.startsWith('floe.secrets.'));
      expect(spans.map((span) => [span.name, span.attributes['floe.secrets.key']])).toEqual([
        ['floe.secrets.creds', 'database/creds/readonly'], ['floe.secrets.lookup', creds.leaseId], ['floe.secrets.revoke', creds.leaseId],
      ]);
      expect(JSON.stringify(spans.map((span) => [span.attributes, span.events, span.status]))).not.toContain(creds.password.reveal());
    } finally {
      trace.disable();
      await provider.shutdown();
    }
  });

  test('a redirect to another origin is refused before anything is sent there', async () => {
    const f = await fixture();
    const plugin = await local!.plugin();
    f.vault.redirectNext(1, 'http://127.0.0.2:9', 307, /^database\/creds\//);
    const error = await failure(plugin.getDatabaseCredentials('readonly'));
    expect(error.message).toContain('127.0.0.2');
    expect(error.name).toBe('ConnectionError');
  });
});

// (b) a real Vault
const { VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT, VAULT_DATABASE_ROLE } = process.env;
if (VAULT_ADDR && VAULT_TOKEN && VAULT_DATABASE_ROLE) {
  const mount = process.env.VAULT_DATABASE_MOUNT ?? 'database';
  describe(`real Vault at ${VAULT_ADDR}`, () => {
    describeDynamicCredentials(`real Vault, role ${VAULT_DATABASE_ROLE}`, () => ({
      role: VAULT_DATABASE_ROLE,
      mount,
      plugin: async (events) => new VaultSecretsPlugin(
        { address: VAULT_ADDR, auth: { method: 'token', token: VAULT_TOKEN }, ...(VAULT_NAMESPACE ? { namespace: VAULT_NAMESPACE } : {}), ...(VAULT_CACERT ? { caCertFile: VAULT_CACERT } : {}) },
        events ? { audit: new AuditLogger([{ write: (e) => events.push(e) }]) } : {},
      ),
      userExists: async () => undefined,
    }));
  });
} else {
  process.stdout.write('vault dynamic credentials against a real Vault: not configured (set VAULT_ADDR, VAULT_TOKEN and VAULT_DATABASE_ROLE, optionally VAULT_DATABASE_MOUNT, VAULT_NAMESPACE, VAULT_CACERT)\n');
}
