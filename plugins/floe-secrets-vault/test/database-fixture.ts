/**
 * A VaultTestServer with the database secrets engine at `database`, configured over HTTP (as an
 * operator would with `vault write database/config/...` and `database/roles/...`) against a
 * throwaway PostgreSQL cluster. Roles: `readonly` (default_ttl 1h, max_ttl 2h) and `short`
 * (default_ttl 3 s, max_ttl 6 s), both creating a LOGIN user with a VALID UNTIL.
 */
import { PostgresTestCluster } from './postgres-test-cluster';
import { VaultTestServer } from './vault-test-server';

/** The creation statements of both roles, as Vault's documentation writes them for PostgreSQL. */
export const CREATION = [
  'CREATE ROLE "{{name}}" WITH LOGIN PASSWORD \'{{password}}\' VALID UNTIL \'{{expiration}}\';',
  'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";',
];

/** The server, the cluster and a root token; `stop()` ends both. */
export interface DatabaseFixture {
  readonly vault: VaultTestServer;
  readonly postgres: PostgresTestCluster;
  readonly rootToken: string;
  /** An HTTP call to the server with `token` (default root); resolves with status and JSON body. */
  call(method: string, path: string, body?: object, token?: string): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/** Starts PostgreSQL and the server and configures the engine over HTTP. */
export async function startDatabaseFixture(): Promise<DatabaseFixture> {
  const postgres = await PostgresTestCluster.start();
  let vault: VaultTestServer | undefined;
  try {
    vault = await VaultTestServer.start();
    vault.enableDatabase('database');
    const rootToken = vault.createToken({ policies: ['root'] }).token;
    const server = vault;
    const call = async (method: string, path: string, body?: object, token: string = rootToken): Promise<{ status: number; body: any }> => {
      const answer = await fetch(`${server.address}/v1/${path}`, {
        method,
        headers: { 'X-Vault-Token': token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await answer.text();
      return { status: answer.status, body: text === '' ? undefined : JSON.parse(text) };
    };
    const configured = await call('POST', 'database/config/floe', {
      plugin_name: 'postgresql-database-plugin',
      connection_url: postgres.adminUrl,
      username: 'postgres',
      password: 'unused-over-the-trusted-socket',
      allowed_roles: 'readonly,short',
    });
    if (configured.status !== 204) throw new Error(`database/config answered ${configured.status}`);
    for (const [role, ttl, max] of [['readonly', '1h', '2h'], ['short', 3, 6]] as const) {
      const written = await call('POST', `database/roles/${role}`, { db_name: 'floe', creation_statements: CREATION, default_ttl: ttl, max_ttl: max });
      if (written.status !== 204) throw new Error(`database/roles/${role} answered ${written.status}`);
    }
    return {
      vault,
      postgres,
      rootToken,
      call,
      stop: async () => {
        await server.database.settled();
        await server.close();
        await postgres.stop();
      },
    };
  } catch (error) {
    await vault?.close();
    await postgres.stop();
    throw error;
  }
}
