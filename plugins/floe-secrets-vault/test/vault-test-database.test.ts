import { DatabaseFixture, startDatabaseFixture } from './database-fixture';
import { goDuration } from './vault-test-database';

/*
 * The VaultTestServer's database secrets engine over HTTP, against a real PostgreSQL: what Vault's
 * documented API says, and what its sources do where the documentation is silent.
 */
let fx: DatabaseFixture;

beforeAll(async () => {
  fx = await startDatabaseFixture();
}, 90_000);

afterAll(async () => {
  await fx?.stop();
});

/** Polls `check` until it holds (leases are revoked in the background, as Vault does), at most `ms`. */
async function eventually(check: () => Promise<boolean>, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** A token with read on database/creds/<role> (and the default policy). */
function reader(role = 'readonly', ttlSeconds = 0): string {
  fx.vault.setPolicy(`creds-${role}`, { [`database/creds/${role}`]: ['read'] });
  return fx.vault.createToken({ policies: [`creds-${role}`], ttlSeconds }).token;
}

describe('database secrets engine of the Vault test server, with a real PostgreSQL', () => {
  test('creds create a PostgreSQL user that exists in pg_roles and logs in with the password; the lease names mount, role and an id', async () => {
    const answer = await fx.call('GET', 'database/creds/readonly', undefined, reader());
    expect(answer.status).toBe(200);
    const { lease_id: leaseId, lease_duration: duration, renewable, data } = answer.body;
    expect(leaseId).toMatch(/^database\/creds\/readonly\/[A-Za-z0-9]{24}$/);
    expect(duration).toBe(3600);
    expect(renewable).toBe(true);
    expect(data.username).toMatch(/^v-token-readonly-[A-Za-z0-9]{20}-\d{10}$/);
    expect(data.password).toMatch(/^[A-Za-z0-9-]{20}$/);
    expect(await fx.postgres.roleExists(data.username)).toBe(true);
    expect(await fx.postgres.canLogin(data.username, data.password)).toBe(true);
    expect(await fx.postgres.canLogin(data.username, `${data.password}x`)).toBe(false);
    // VALID UNTIL is the lease's end.
    const until = await fx.postgres.validUntil(data.username);
    expect(Math.abs(until!.getTime() - (Date.now() + 3600_000))).toBeLessThan(10_000);
  });

  test('revoke drops the user (204); lookup then says 400 "invalid lease", renew 400 "lease not found"', async () => {
    const token = reader();
    const { body } = await fx.call('GET', 'database/creds/readonly', undefined, token);
    fx.vault.setPolicy('revoker', { 'sys/leases/revoke': ['update'] });
    const revoker = fx.vault.createToken({ policies: ['revoker'] }).token;
    expect((await fx.call('PUT', 'sys/leases/revoke', { lease_id: body.lease_id }, revoker)).status).toBe(204);
    expect(await fx.postgres.roleExists(body.data.username)).toBe(false);
    expect(await fx.call('PUT', 'sys/leases/lookup', { lease_id: body.lease_id }, token)).toMatchObject({ status: 400, body: { errors: ['invalid lease'] } });
    expect(await fx.call('PUT', 'sys/leases/renew', { lease_id: body.lease_id }, token)).toMatchObject({ status: 400, body: { errors: ['lease not found'] } });
  });

  test('revoke of an unknown lease answers 204, as Vault does (nothing to revoke)', async () => {
    expect((await fx.call('PUT', 'sys/leases/revoke', { lease_id: 'database/creds/readonly/NoSuchLeaseAAAAAAAAAAAAA' })).status).toBe(204);
    expect(await fx.call('PUT', 'sys/leases/revoke', {})).toMatchObject({ status: 400, body: { errors: ['lease_id must be specified'] } });
  });

  test('a lease of another token is still revocable by a token with update on sys/leases/revoke; the default policy renews and looks up but does not revoke', async () => {
    const { body } = await fx.call('GET', 'database/creds/readonly', undefined, reader());
    const other = fx.vault.createToken({ policies: [] }).token; // only the default policy
    expect((await fx.call('PUT', 'sys/leases/lookup', { lease_id: body.lease_id }, other)).status).toBe(200);
    expect((await fx.call('PUT', 'sys/leases/renew', { lease_id: body.lease_id, increment: 60 }, other)).status).toBe(200);
    expect(await fx.call('PUT', 'sys/leases/revoke', { lease_id: body.lease_id }, other)).toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
    expect(await fx.postgres.roleExists(body.data.username)).toBe(true);
    fx.vault.setPolicy('revoker', { 'sys/leases/revoke': ['update'] });
    expect((await fx.call('PUT', 'sys/leases/revoke', { lease_id: body.lease_id }, fx.vault.createToken({ policies: ['revoker'] }).token)).status).toBe(204);
    expect(await fx.postgres.roleExists(body.data.username)).toBe(false);
  });

  test('revoking the token that read the creds revokes its leases and drops their users (revoke-self and by accessor)', async () => {
    const token = reader();
    const first = (await fx.call('GET', 'database/creds/readonly', undefined, token)).body;
    const second = (await fx.call('GET', 'database/creds/readonly', undefined, token)).body;
    const bystander = (await fx.call('GET', 'database/creds/readonly', undefined, reader())).body;
    expect((await fx.call('POST', 'auth/token/revoke-self', {}, token)).status).toBe(204);
    expect(await fx.postgres.roleExists(first.data.username)).toBe(false);
    expect(await fx.postgres.roleExists(second.data.username)).toBe(false);
    expect(await fx.postgres.roleExists(bystander.data.username)).toBe(true);
    expect(await fx.call('PUT', 'sys/leases/lookup', { lease_id: first.lease_id })).toMatchObject({ status: 400 });

    fx.vault.setPolicy('creds-readonly', { 'database/creds/readonly': ['read'] });
    const { token: other, accessor } = fx.vault.createToken({ policies: ['creds-readonly'] });
    const third = (await fx.call('GET', 'database/creds/readonly', undefined, other)).body;
    expect(fx.vault.revoke({ accessor })).toBe(1);
    await fx.vault.database.settled();
    expect(await fx.postgres.roleExists(third.data.username)).toBe(false);
  });

  test('a token whose TTL runs out takes its leases with it, although theirs have not', async () => {
    const token = reader('readonly', 2);
    const { body } = await fx.call('GET', 'database/creds/readonly', undefined, token);
    expect(body.lease_duration).toBe(3600);
    expect(await fx.postgres.roleExists(body.data.username)).toBe(true);
    expect(await eventually(async () => !(await fx.postgres.roleExists(body.data.username)), 8_000)).toBe(true);
    expect(await fx.call('PUT', 'sys/leases/lookup', { lease_id: body.lease_id })).toMatchObject({ status: 400, body: { errors: ['invalid lease'] } });
  }, 15_000);

  test('a lease that runs out drops its user without any request', async () => {
    const { body } = await fx.call('GET', 'database/creds/short', undefined, reader('short'));
    expect(body.lease_duration).toBe(3);
    expect(await fx.postgres.roleExists(body.data.username)).toBe(true);
    expect(await eventually(async () => !(await fx.postgres.roleExists(body.data.username)), 8_000)).toBe(true);
  }, 15_000);

  test('lookup shows issue time, expiry, last renewal and the TTL; renew extends the lease and the user\'s VALID UNTIL', async () => {
    const token = reader();
    const { body } = await fx.call('GET', 'database/creds/readonly', undefined, token);
    const looked = (await fx.call('PUT', 'sys/leases/lookup', { lease_id: body.lease_id }, token)).body.data;
    expect(looked).toMatchObject({ id: body.lease_id, renewable: true, last_renewal: null });
    expect(looked.ttl).toBeGreaterThan(3590);
    expect(looked.ttl).toBeLessThanOrEqual(3600);
    expect(Date.parse(looked.expire_time) - Date.parse(looked.issue_time)).toBe(3600_000);

    const renewed = await fx.call('PUT', 'sys/leases/renew', { lease_id: body.lease_id, increment: 5400 }, token);
    expect(renewed).toMatchObject({ status: 200, body: { lease_id: body.lease_id, lease_duration: 5400, renewable: true, warnings: null } });
    const after = (await fx.call('PUT', 'sys/leases/lookup', { lease_id: body.lease_id }, token)).body.data;
    expect(after.ttl).toBeGreaterThan(5390);
    expect(after.last_renewal).not.toBeNull();
    const until = await fx.postgres.validUntil(body.data.username);
    expect(Math.abs(until!.getTime() - (Date.now() + 5405_000))).toBeLessThan(10_000);
  });

  test('renew past max_ttl is capped at the time left, with Vault\'s warning, not refused', async () => {
    const token = reader('short');
    const { body } = await fx.call('GET', 'database/creds/short', undefined, token);
    const renewed = await fx.call('PUT', 'sys/leases/renew', { lease_id: body.lease_id, increment: 3600 }, token);
    expect(renewed.status).toBe(200);
    expect(renewed.body.lease_duration).toBeLessThanOrEqual(6);
    expect(renewed.body.lease_duration).toBeGreaterThanOrEqual(4);
    expect(renewed.body.warnings).toEqual([`TTL of "1h0m0s" exceeded the effective max_ttl of "${goDuration(renewed.body.lease_duration)}"; TTL value is capped accordingly`]);
  });

  test('policies govern database/creds/<role> and sys/leases/* like any path (a glob deny loses to the default policy\'s exact lease paths); an unknown role is 400 "unknown role: <role>"', async () => {
    const token = reader('readonly');
    expect(await fx.call('GET', 'database/creds/short', undefined, token)).toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
    fx.vault.setPolicy('creds-any', { 'database/creds/*': ['read'] });
    const any = fx.vault.createToken({ policies: ['creds-any'] }).token;
    expect(await fx.call('GET', 'database/creds/nope', undefined, any)).toMatchObject({ status: 400, body: { errors: ['unknown role: nope'] } });
    // The default policy names sys/leases/lookup exactly: a glob deny loses to it (Vault matches exact paths first), an exact deny wins.
    fx.vault.setPolicy('glob-deny', { 'sys/leases/*': ['deny'] });
    const glob = fx.vault.createToken({ policies: ['glob-deny'] }).token;
    expect(await fx.call('PUT', 'sys/leases/lookup', { lease_id: 'database/creds/readonly/x' }, glob)).toMatchObject({ status: 400, body: { errors: ['invalid lease'] } });
    fx.vault.setPolicy('exact-deny', { 'sys/leases/lookup': ['deny'] });
    const exact = fx.vault.createToken({ policies: ['exact-deny'] }).token;
    expect(await fx.call('PUT', 'sys/leases/lookup', { lease_id: 'database/creds/readonly/x' }, exact)).toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
  });

  test('roles are checked as Vault checks them', async () => {
    expect(await fx.call('POST', 'database/roles/bad', { creation_statements: ['SELECT 1'] })).toMatchObject({ status: 400, body: { errors: ['empty database name attribute'] } });
    expect(await fx.call('POST', 'database/roles/bad', { db_name: 'floe' })).toMatchObject({ status: 400, body: { errors: ['empty creation statements'] } });
    expect(await fx.call('POST', 'database/roles/bad', { db_name: 'floe', creation_statements: 'SELECT 1', default_ttl: '2h', max_ttl: '1h' }))
      .toMatchObject({ status: 400, body: { errors: ['ttl cannot be greater than max_ttl'] } });
  });

  test('Go durations as Vault prints them', () => {
    expect([3600, 90, 4, 0, 5400].map(goDuration)).toEqual(['1h0m0s', '1m30s', '4s', '0s', '1h30m0s']);
  });
});
