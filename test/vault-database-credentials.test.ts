import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cron, Testing } from 'cdk8s';
import {
  DatabaseCredentialsShape, DbtProfile, FloeSecret, SecretMountedDeployment, SecretMountedJob, SecretMountedJobProps, SecretReference,
  VaultDatabaseCredentials, VaultDatabaseCredentialsProps, VaultSecretStore,
} from '../src';
import { domains, find, Manifest, podSpec, synth } from './util';

const BASE: VaultDatabaseCredentialsProps = { role: 'app-readwrite', vaultRole: 'floe-sales', name: 'orders-db', defaultTtl: '1h', maxTtl: '24h' };
const JOB: SecretMountedJobProps = { name: 'load', image: 'ghcr.io/acme/load:1.0.0', command: ['load'], args: ['--since', '1d'], automountServiceAccountToken: true };

function annotations(manifests: Manifest[], kind: string, name: string): { [key: string]: string } {
  const m = find(manifests, kind, name);
  return (kind === 'CronJob' ? m.spec.jobTemplate.spec.template : m.spec.template).metadata.annotations;
}

describe('VaultDatabaseCredentials through the Vault Agent', () => {
  test('a Job that ends before the lease and the login: init-only, three files of one lease, the command untouched', () => {
    const { domains: [sales] } = domains('sales');
    const creds = new VaultDatabaseCredentials(sales, 'OrdersDb', BASE);
    const job = new SecretMountedJob(sales, 'Load', { ...JOB, activeDeadlineSeconds: 1800 });
    creds.injectInto(job);
    expect(creds.shapeOf(job)).toBe(DatabaseCredentialsShape.INIT_ONLY);
    const manifests = synth(sales);
    const a = annotations(manifests, 'Job', 'load');
    expect(a).toMatchObject({
      'vault.hashicorp.com/agent-inject': 'true',
      'vault.hashicorp.com/role': 'floe-sales',
      'vault.hashicorp.com/agent-pre-populate-only': 'true',
      'vault.hashicorp.com/agent-inject-secret-orders-db-username': 'database/creds/app-readwrite',
      'vault.hashicorp.com/agent-inject-template-orders-db-username': '{{- with secret "database/creds/app-readwrite" -}}{{ .Data.username }}{{- end }}',
      'vault.hashicorp.com/agent-inject-template-orders-db-env':
        '{{- with secret "database/creds/app-readwrite" -}}DB_USERNAME=\'{{ .Data.username }}\'\nDB_PASSWORD=\'{{ .Data.password }}\'\n{{- end }}',
      'vault.hashicorp.com/agent-inject-file-orders-db-password': 'password',
      'vault.hashicorp.com/secret-volume-path-orders-db-password': '/run/secrets/orders-db',
      // The agent writes the files as the workload's user: the workload's file mode, without group read.
      'vault.hashicorp.com/agent-inject-perms-orders-db-password': '0400',
    });
    expect(a).not.toHaveProperty('vault.hashicorp.com/agent-enable-quit');
    const main = podSpec(find(manifests, 'Job', 'load')).containers[0];
    expect([main.command, main.args]).toEqual([['load'], ['--since', '1d']]);
  });

  test('a Job longer than the default TTL: a sidecar with quit, and the command wrapped to call it with its exit status', () => {
    const { domains: [sales] } = domains('sales');
    const job = new SecretMountedJob(sales, 'Load', { ...JOB, activeDeadlineSeconds: 7200 });
    const creds = new VaultDatabaseCredentials(sales, 'OrdersDb', BASE).injectInto(job);
    expect(creds.shapeOf(job)).toBe(DatabaseCredentialsShape.SIDECAR_WITH_QUIT);
    const manifests = synth(sales);
    const a = annotations(manifests, 'Job', 'load');
    expect(a['vault.hashicorp.com/agent-enable-quit']).toBe('true');
    expect(a['vault.hashicorp.com/agent-cache-listener-port']).toBe('8200');
    expect(a).not.toHaveProperty('vault.hashicorp.com/agent-pre-populate-only');
    const main = podSpec(find(manifests, 'Job', 'load')).containers[0];
    expect(main.command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(main.command.slice(3)).toEqual(['floe-run', 'load', '--since', '1d']);
    expect(main.args).toBeUndefined();
  });

  test('a login shorter than the job also needs the sidecar: Vault revokes the leases of a token with it', () => {
    const { domains: [sales] } = domains('sales');
    const job = new SecretMountedJob(sales, 'Load', { ...JOB, activeDeadlineSeconds: 1800 });
    const creds = new VaultDatabaseCredentials(sales, 'OrdersDb', { ...BASE, loginTtl: '20m' }).injectInto(job);
    expect(creds.shapeOf(job)).toBe(DatabaseCredentialsShape.SIDECAR_WITH_QUIT);
  });

  test('a CronJob is shaped like a Job; a Deployment gets the renewing sidecar and keeps its command', () => {
    const { domains: [sales] } = domains('sales');
    const creds = new VaultDatabaseCredentials(sales, 'OrdersDb', BASE);
    const nightly = new SecretMountedJob(sales, 'Nightly', { ...JOB, name: 'nightly', schedule: Cron.schedule({ minute: '0', hour: '2' }), activeDeadlineSeconds: 600 });
    const api = new SecretMountedDeployment(sales, 'Api', { name: 'api', image: 'ghcr.io/acme/api:1', automountServiceAccountToken: true });
    creds.injectInto(nightly).injectInto(api);
    expect([creds.shapeOf(nightly), creds.shapeOf(api)]).toEqual([DatabaseCredentialsShape.INIT_ONLY, DatabaseCredentialsShape.SIDECAR]);
    const manifests = synth(sales);
    expect(annotations(manifests, 'CronJob', 'nightly')['vault.hashicorp.com/agent-pre-populate-only']).toBe('true');
    const deployment = annotations(manifests, 'Deployment', 'api');
    expect(deployment).not.toHaveProperty('vault.hashicorp.com/agent-pre-populate-only');
    expect(deployment).not.toHaveProperty('vault.hashicorp.com/agent-enable-quit');
    expect(podSpec(find(manifests, 'Deployment', 'api')).containers[0].command).toBeUndefined();
  });

  test('the synth-time checks: no deadline, a deadline past the max TTL, a sidecar job without a command, another domain, no token', () => {
    const { domains: [sales, marketing] } = domains('sales', 'marketing');
    const creds = new VaultDatabaseCredentials(sales, 'OrdersDb', BASE);
    expect(() => creds.injectInto(new SecretMountedJob(sales, 'A', { ...JOB, name: 'a' }))).toThrow(
      'sales/A: reads database credentials of sales/OrdersDb, which live at most 86400s (maxTtl "24h"), but sets no activeDeadlineSeconds, so it could outlive them; set activeDeadlineSeconds to at most 86400',
    );
    expect(() => creds.injectInto(new SecretMountedJob(sales, 'B', { ...JOB, name: 'b', activeDeadlineSeconds: 90000 }))).toThrow(
      'sales/B: activeDeadlineSeconds 90000 exceeds the max TTL of the database credentials of sales/OrdersDb (maxTtl "24h" = 86400s): no renewal can keep them alive that long; lower activeDeadlineSeconds to at most 86400, or raise the role\'s max_ttl in Vault and maxTtl here',
    );
    expect(() => creds.injectInto(new SecretMountedJob(sales, 'C', { ...JOB, name: 'c', command: undefined, activeDeadlineSeconds: 7200 }))).toThrow(
      'sales/C: sales/OrdersDb wraps the main container\'s command (to stop the Vault Agent sidecar when it exits), but the workload gives no command; give command, the program the image runs (e.g. ["dbt"]), with its arguments in args',
    );
    expect(() => creds.injectInto(new SecretMountedJob(marketing, 'D', { ...JOB, name: 'd', activeDeadlineSeconds: 60 }))).toThrow(
      'marketing/D: the Vault source sales/OrdersDb belongs to domain "sales" (namespace floe-sales), but this workload is in domain "marketing" (namespace floe-marketing); '
      + 'a workload may only read secrets of its own domain; declare the VaultDatabaseCredentials in domain "marketing", with that domain\'s Vault role',
    );
    expect(() => creds.injectInto(new SecretMountedJob(sales, 'E', { ...JOB, name: 'e', automountServiceAccountToken: false, activeDeadlineSeconds: 60 })))
      .toThrow(/automountServiceAccountToken is false; set automountServiceAccountToken: true/);
  });

  test('env vars exported by the wrapper may not shadow the container\'s own, and a dbt profile sees them', () => {
    const { app, domains: [sales] } = domains('sales');
    const job = new SecretMountedJob(sales, 'Load', { ...JOB, env: { DB_USER: 'x' }, activeDeadlineSeconds: 600 });
    expect(() => new VaultDatabaseCredentials(sales, 'OrdersDb', { ...BASE, envVars: { username: 'DB_USER', password: 'DB_PASSWORD' } }).injectInto(job)).toThrow(
      'sales/Load: env var "DB_USER" is set by both env "DB_USER" and the env file of sales/OrdersDb; give one of them another env var name',
    );
    // The other way round: a secretEnv added after the wrapper exports the name clashes too.
    const later = new SecretMountedJob(sales, 'Later', { ...JOB, name: 'later', activeDeadlineSeconds: 600 });
    new VaultDatabaseCredentials(sales, 'LaterDb', { ...BASE, name: 'later-db', envVars: { username: 'L_USER', password: 'L_PASSWORD' } }).injectInto(later);
    const otherSecret = FloeSecret.fromSecretName(sales, 'OtherSecret', 'other', { keys: ['k'] });
    expect(() => later.addSecretEnv(SecretReference.fromSecret(otherSecret, 'k'), { name: 'L_PASSWORD' }))
      .toThrow(/^sales\/Later: env var "L_PASSWORD" is set by both the env file of sales\/LaterDb and /);
    const profile = new DbtProfile(sales, 'Profile', {
      configMapName: 'profile',
      profileName: 'p',
      target: 't',
      outputs: { t: { type: 'postgres', user: "{{ env_var('PG_USER') }}", password: "{{ env_var('PG_PASSWORD') }}" } },
    });
    const dbt = new SecretMountedJob(sales, 'Dbt', { ...JOB, name: 'dbt', command: ['dbt'], args: ['build'], activeDeadlineSeconds: 600 }).useDbtProfile(profile);
    const other = new SecretMountedJob(sales, 'Other', { ...JOB, name: 'other', command: ['dbt'], activeDeadlineSeconds: 600 }).useDbtProfile(profile);
    new VaultDatabaseCredentials(sales, 'PgDb', { ...BASE, name: 'pg', envVars: { username: 'PG_USER', password: 'PG_PASSWORD' } }).injectInto(dbt);
    // Only the job without the credentials is missing the profile's env vars.
    expect(other).toBeDefined();
    expect(() => app.synth()).toThrow(/\[sales\/Other\] sales\/Other: dbt profile sales\/Profile reads env vars this job does not set: PG_PASSWORD, PG_USER;/);
    expect(() => app.synth()).not.toThrow(/\[sales\/Dbt\]/);
  });

  test.each<[string, Partial<VaultDatabaseCredentialsProps>, RegExp]>([
    ['default above max', { defaultTtl: '48h' }, /defaultTtl "48h" is longer than maxTtl "24h"/],
    ['a TTL that is no duration', { maxTtl: 'a day' }, /maxTtl "a day" is not a positive duration; write it like "1h"/],
    ['no max TTL', { maxTtl: undefined }, /maxTtl is missing \(expected a string\); write it like "1h"/],
    ['a role with a slash', { role: 'a/b' }, /role "a\/b" is not a database role name/],
    ['a bad directory', { name: 'Orders DB' }, /name "Orders DB" is not a DNS-1123 subdomain/],
    ['a bad env var', { envVars: { username: 'DB USER', password: 'P' } }, /envVars.username "DB USER" is not an env var name/],
  ])('bad props: %s, and nothing is made', (_, override, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => new VaultDatabaseCredentials(sales, 'OrdersDb', { ...BASE, ...override } as VaultDatabaseCredentialsProps)).toThrow(message);
    expect(sales.node.tryFindChild('OrdersDb')).toBeUndefined();
  });
});

describe('the wrapped command, run by a real /bin/sh', () => {
  let server: Server;
  const quits: string[] = [];
  beforeAll(async () => {
    // The wrapper asks the agent at 127.0.0.1:8200, as inside the pod: this test stands in for the agent there.
    server = createServer((req, res) => {
      quits.push(`${req.method} ${req.url}`);
      res.end();
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(8200, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('it exports the env file, runs the command with its args, asks the agent to quit, and exits with the command\'s status', async () => {
    const { domains: [sales] } = domains('sales');
    const dir = mkdtempSync(join(tmpdir(), 'floe-wrap-'));
    try {
      const user = `v-${randomBytes(6).toString('hex')}`;
      const password = randomBytes(15).toString('base64url');
      const job = new SecretMountedJob(sales, 'Load', { ...JOB, command: ['sh', '-c'], args: ['test "$U" = "$1" && test -n "$P" && exit 3', 'x', user], activeDeadlineSeconds: 7200 });
      new VaultDatabaseCredentials(sales, 'OrdersDb', { ...BASE, envVars: { username: 'U', password: 'P' } }).injectInto(job);
      const command: string[] = podSpec(find(synth(sales), 'Job', 'load')).containers[0].command;
      const envFile = join(dir, 'env');
      writeFileSync(envFile, `U='${user}'\nP='${password}'\n`);
      // The file the agent writes, here at a temporary path instead of /run/secrets/orders-db/env.
      const script = command[2].replace("'/run/secrets/orders-db/env'", `'${envFile}'`);
      expect(script).not.toBe(command[2]);
      // Asynchronous: this process answers the quit request while the shell runs.
      const status = await new Promise<number | null>((resolve) => spawn('/bin/sh', ['-c', script, ...command.slice(3)], { stdio: 'ignore' }).on('close', resolve));
      expect(status).toBe(3);
      expect(quits).toEqual(['POST /agent/v1/quit']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('VaultDatabaseCredentials through the External Secrets generator', () => {
  test('a VaultDynamicSecret logging in as the domain\'s store, and an ExternalSecret filled by it', () => {
    const { domains: [sales] } = domains('sales');
    const store = new VaultSecretStore(sales, 'Vault', { server: 'https://vault.example:8200' });
    const source = VaultDatabaseCredentials.viaExternalSecrets(sales, 'OrdersDb', { role: 'app-readwrite', secretStore: store, secretName: 'orders-db', defaultTtl: '1h', maxTtl: '24h' });
    expect(source.secret.keys).toEqual(['password', 'username']);
    const manifests = synth(sales);
    const generator = manifests.find((m) => m.kind === 'VaultDynamicSecret')!;
    expect(generator.apiVersion).toBe('generators.external-secrets.io/v1alpha1');
    expect(generator.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('-2');
    expect(generator.spec).toEqual({
      path: '/database/creds/app-readwrite',
      method: 'GET',
      resultType: 'Data',
      provider: { server: 'https://vault.example:8200', auth: { kubernetes: { mountPath: 'kubernetes', role: 'floe-sales', serviceAccountRef: { name: 'external-secrets-vault' } } } },
    });
    const es = manifests.find((m) => m.kind === 'ExternalSecret')!;
    expect(es.spec.secretStoreRef).toBeUndefined();
    expect(es.spec.data).toBeUndefined();
    expect(es.spec.dataFrom).toEqual([{ sourceRef: { generatorRef: { apiVersion: 'generators.external-secrets.io/v1alpha1', kind: 'VaultDynamicSecret', name: generator.metadata.name } } }]);
    // Credentials refreshed every 20m (a third of 1h) live 1h: a reader must end within the 40m left.
    expect(es.spec.refreshInterval).toBe('1200s');
    expect(es.metadata.annotations['floe.dev/rotation-period']).toBe('2400s');
  });

  test('a CronJob that would use the credentials past their TTL fails synth; a refresh slower than the TTL is refused', () => {
    const { app, domains: [sales] } = domains('sales');
    const store = new VaultSecretStore(sales, 'Vault', { server: 'https://vault.example:8200' });
    const secret = VaultDatabaseCredentials.viaExternalSecrets(sales, 'OrdersDb', { role: 'app-readwrite', secretStore: store, secretName: 'orders-db', defaultTtl: '1h', maxTtl: '24h' }).secret;
    new SecretMountedJob(sales, 'Nightly', {
      name: 'nightly', image: 'i', schedule: Cron.schedule({ minute: '0', hour: '2' }), activeDeadlineSeconds: 2700, secretEnv: [SecretReference.fromSecret(secret, 'password')],
    });
    expect(() => app.synth()).toThrow(
      'sales/Nightly: secret "orders-db" rotates every 2400s (sales/OrdersDb), but activeDeadlineSeconds is 2700, so a run could outlive the credential; set activeDeadlineSeconds to at most 2400',
    );
    expect(() => VaultDatabaseCredentials.viaExternalSecrets(sales, 'Slow', {
      role: 'r', secretStore: store, secretName: 'slow', defaultTtl: '1h', maxTtl: '24h', refreshInterval: '30m',
    })).toThrow('sales/Slow: refreshInterval "30m" is not under half the credentials\' lifetime (3600s: the shorter of defaultTtl and loginTtl), '
      + 'so a Job starting before a refresh could hold credentials that die first; refresh at most every 1799s, e.g. "1200s"');
    expect(sales.node.tryFindChild('Slow')).toBeUndefined();
  });

  test('only the domain\'s own VaultSecretStore', () => {
    const { domains: [sales, marketing] } = domains('sales', 'marketing');
    const store = new VaultSecretStore(marketing, 'Vault', { server: 'https://vault.example:8200' });
    expect(() => VaultDatabaseCredentials.viaExternalSecrets(sales, 'OrdersDb', { role: 'r', secretStore: store, secretName: 'db', defaultTtl: '1h', maxTtl: '2h' }))
      .toThrow('sales/OrdersDb: secretStore marketing/Vault is of domain "marketing", not "sales"; use a VaultSecretStore of domain "sales"');
    expect(() => VaultDatabaseCredentials.viaExternalSecrets(sales, 'Other', { role: 'r', secretStore: { name: 'vault' } as never, secretName: 'db', defaultTtl: '1h', maxTtl: '2h' }))
      .toThrow(/secretStore is not a VaultSecretStore/);
    expect(Testing.synth(sales)).toHaveLength(1); // the Namespace alone: nothing half-written
  });
});
