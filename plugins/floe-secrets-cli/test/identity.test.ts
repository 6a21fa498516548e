import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CliRun, runCli } from './run-cli';
import { applySecret, LeakWatch } from './validate-fixture';
import { TestCluster } from '../../../test/integration/cluster';
import { AUDIENCE, OidcTestServer } from '../../floe-identity-keycloak/test/oidc-test-server';

// The link between identity and secrets in the CLI: with plugins.identity in manifest.yaml, the
// built floe-secrets CLI validates the caller's access token against a real OpenID Provider on
// loopback and lets them touch only the floe-<domain> namespaces their token grants, on a real
// kube-apiserver.

const watch = new LeakWatch();
let cluster: TestCluster;
let idp: OidcTestServer;
let dir: string;
let env: NodeJS.ProcessEnv;

async function cli(args: string[], token?: string, input?: string): Promise<CliRun> {
  return watch.record(await reveal(args, token, input));
}

/** A run whose output is not checked for leaks: `get --reveal` prints a value on purpose. */
async function reveal(args: string[], token?: string, input?: string): Promise<CliRun> {
  return runCli(args, { cwd: dir, env: token === undefined ? env : { ...env, FLOE_SECRETS_TOKEN: token }, input });
}

/** A user's access token of realm floe, signed with the realm's published key. */
async function userToken(sub: string, groups: string[], claims: { [claim: string]: unknown } = {}): Promise<string> {
  const token = await idp.sign('floe', { sub, preferred_username: sub, groups, typ: 'Bearer', ...claims });
  watch.remember(token);
  return token;
}

function writeManifest(file: string, secrets: object): void {
  writeFileSync(join(dir, file), stringify({
    plugins: { secrets, identity: { type: 'keycloak', server_url: idp.url, realms: ['floe'], audience: AUDIENCE, domains_from: 'groups' } },
    domains: [{ name: 'sales' }, { name: 'marketing' }],
  }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'floe-cli-identity-'));
  cluster = TestCluster.start();
  idp = await OidcTestServer.start(['floe', 'other']);
  for (const namespace of ['floe-sales', 'floe-marketing']) {
    cluster.kubectlOk(['create', 'namespace', namespace]);
    applySecret(cluster, watch, namespace, 'db', ['password']);
  }
  writeManifest('manifest.yaml', { type: 'k8s' });
  env = { ...process.env, KUBECONFIG: join(cluster.dir, 'kubeconfig'), FLOE_SECRETS_AUDIT_DIR: join(dir, 'audit') };
  delete env.FLOE_SECRETS_TOKEN;
}, 240_000);

afterAll(async () => {
  cluster?.stop();
  await idp?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => watch.expectNoLeak(join(dir, 'audit')));

describe('floe-secrets with plugins.identity (built CLI, oidc-provider on loopback, real kube-apiserver)', () => {
  test('a member of /floe/sales reads, writes and lists floe-sales, and nothing of floe-marketing', async () => {
    const token = await userToken('u-alice', ['/floe/sales']);
    const read = await reveal(['get', 'db/password', '--domain', 'sales', '--reveal'], token);
    expect(read.stderr).toBe('');
    expect(read.status).toBe(0);
    const stored = Buffer.from(cluster.kubectlOk(['get', 'secret', 'db', '-n', 'floe-sales', '-o', 'jsonpath={.data.password}']), 'base64').toString();
    expect(read.stdout).toBe(`${stored}\n`);

    const value = watch.random();
    expect((await cli(['set', 'db/user', '--domain', 'sales'], token, value)).status).toBe(0);
    expect(cluster.kubectlOk(['get', 'secret', 'db', '-n', 'floe-sales', '-o', 'jsonpath={.data.user}'])).toBe(Buffer.from(value).toString('base64'));
    expect((await cli(['list', '--domain', 'sales', '-o', 'json'], token)).stdout).toBe('["db/password","db/user"]\n');

    const other = await cli(['get', 'db/password', '--domain', 'marketing', '--reveal'], token);
    expect(other.status).toBe(2);
    expect(other.stdout).toBe('');
    expect(other.stderr).toBe('floe-secrets get: PermissionError: subject "u-alice" (u-alice) of realm floe may not touch secrets in namespace floe-marketing '
      + '(domain marketing): its token grants domains sales (groups /floe/*); add the subject to group /floe/marketing in the identity provider\n');

    // Without --domain, the manifest's namespace (floe-jobs, domain "jobs") is not granted either.
    const nowhere = await cli(['list'], token);
    expect(nowhere.status).toBe(2);
    expect(nowhere.stderr).toContain('may not touch secrets in namespace floe-jobs (domain jobs): its token grants domains sales (groups /floe/*)');
  });

  test('a token the provider itself issued (client credentials) is validated the same way', async () => {
    idp.setClaims('floe', { groups: ['/floe/marketing'] });
    const token = await idp.accessToken('floe');
    watch.remember(token);
    const run = await cli(['list', '--domain', 'marketing'], token);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('db/password\n');
  });

  test('no token, an expired one, one of another realm: exit 2 with why and what to do, before any secret is read', async () => {
    const none = await cli(['get', 'db/password', '--domain', 'sales', '--reveal']);
    expect(none.status).toBe(2);
    expect(none.stderr).toBe(`floe-secrets get: manifest.yaml configures the keycloak identity plugin: export FLOE_SECRETS_TOKEN with your access token (realm floe of ${idp.url}, audience ${AUDIENCE})\n`);

    const expired = await cli(['get', 'db/password', '--domain', 'sales', '--reveal'], await userToken('u-bob', ['/floe/sales'], { exp: Math.floor(Date.now() / 1000) - 3600 }));
    expect(expired.status).toBe(2);
    expect(expired.stderr).toMatch(/^floe-secrets get: your access token \(FLOE_SECRETS_TOKEN\) was refused: TokenExpiredError: .*; get a new one \(realm floe of /);

    const foreign = await idp.sign('other', { sub: 'u-eve', groups: ['/floe/sales'], typ: 'Bearer' });
    watch.remember(foreign);
    const wrongRealm = await cli(['get', 'db/password', '--domain', 'sales', '--reveal'], foreign);
    expect(wrongRealm.status).toBe(2);
    expect(wrongRealm.stderr).toContain('was refused: WrongIssuerError: ');
    for (const run of [none, expired, wrongRealm]) expect(run.stdout).toBe('');
  });

  test('the audit log names the person behind every secret access, never the token', async () => {
    const token = await userToken('u-carol', ['/floe/sales']);
    expect((await reveal(['get', 'db/password', '--domain', 'sales', '--reveal'], token)).status).toBe(0);
    const events = readdirSync(join(dir, 'audit')).flatMap((f) => readFileSync(join(dir, 'audit', f), 'utf8').trim().split('\n')).map((line) => JSON.parse(line));
    expect(events).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'validate-token', subject: 'u-carol', realm: 'floe', outcome: 'success' }),
      expect.objectContaining({ action: 'get', plugin: 'k8s', key: 'db/password', onBehalfOf: 'u-carol', outcome: 'success' }),
    ]));
  });

  test('health needs no token; --domain is refused for a backend without namespaces, and for an undeclared domain', async () => {
    expect((await cli(['health', '--domain', 'sales'])).status).toBe(0);
    const token = await userToken('u-dan', ['/floe/sales']);
    const undeclared = await cli(['list', '--domain', 'finance'], token);
    expect(undeclared.stderr).toBe('floe-secrets list: --domain finance is not a domain of manifest.yaml (it declares sales, marketing); pick one of those, or declare it there\n');
    writeManifest('manifest-vault.yaml', { type: 'vault', address: 'https://vault.example:8200', auth_method: 'token', token: { env: 'VAULT_TOKEN' } });
    const vault = await cli(['list', '--domain', 'sales', '--manifest', 'manifest-vault.yaml'], token);
    expect(vault.status).toBe(2);
    expect(vault.stderr).toBe('floe-secrets list: --domain picks the namespace floe-<domain> of the k8s backend; manifest-vault.yaml configures the vault backend, whose keys are paths: leave --domain out\n');
  });
});
