import { join } from 'node:path';
import { App, Cron, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import {
  DbtProfile,
  FloeSecret,
  FloeSecretsPlatform,
  FloeServiceAccount,
  SecretMountedDeployment,
  SecretMountedJob,
  SecretReference,
  VaultDatabaseCredentials,
  VaultSecretSource,
  VaultSecretStore,
  WorkloadSecrets,
} from '../src';

/**
 * Requests and limits in the form the API server stores (cdk8s-plus writes memory in Mi: 1536Mi
 * stays 1536Mi, where 2048Mi would be stored as 2Gi and never look in sync to Argo CD).
 */
const RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.units(1), limit: kplus.Cpu.millis(1500) },
  memory: { request: Size.mebibytes(512), limit: Size.mebibytes(1536) },
};

/** What the example's cdk8s-plus containers set to pass Pod Security "restricted". */
const RESTRICTED_CONTAINER: kplus.ContainerSecurityContextProps = {
  ensureNonRoot: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: [kplus.Capability.ALL] },
  seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
};

/**
 * The example GitOps app, driven by examples/manifest.yaml: the platform team's manifest picks
 * Infisical and declares the domains and compute targets; the data teams' code below asks for
 * connections by target name and never mentions the backend. It also shows a Secret created with
 * kubectl, a Vault secret delivered two ways, Jobs with env vars, envFrom and files, a CronJob
 * running dbt, a long-running Deployment that the operator reloads, and a team's own cdk8s-plus
 * StatefulSet with a sidecar, to which WorkloadSecrets adds the secrets, checks and Role.
 */
export function buildExampleApp(app: App, manifestPath: string = join(__dirname, 'manifest.yaml')): App {
  const platform = FloeSecretsPlatform.fromManifest(app, 'Platform', manifestPath);

  // --- sales -------------------------------------------------------------------------------
  const sales = platform.domain('sales');
  const snowflake = platform.connectionSecret('snowflake', sales); // synced by the Infisical operator

  // Created by the platform team with `kubectl create secret generic ...`.
  const googleSa = FloeSecret.fromSecretName(sales, 'GoogleSa', 'google-sa', { keys: ['key.json'] });
  const shopApi = FloeSecret.fromSecretName(sales, 'ShopApi', 'shop-api', { keys: ['SHOP_API_TOKEN', 'SHOP_API_URL'] });

  new SecretMountedJob(sales, 'OrdersLoad', {
    name: 'orders-load',
    image: 'ghcr.io/acme/orders-loader:1.4.2',
    args: ['--since', '1d'],
    env: { LOG_LEVEL: 'info' },
    secretEnv: [SecretReference.fromSecret(snowflake, 'user'), SecretReference.fromSecret(snowflake, 'password')],
    secretEnvFrom: [shopApi],
    secretFiles: [{ secret: googleSa }],
    activeDeadlineSeconds: 3600,
  });

  const dbtUser = SecretReference.fromSecret(snowflake, 'user', { dbtMasked: true });
  const dbtPassword = SecretReference.fromSecret(snowflake, 'password', { dbtMasked: true });
  const dbtAccount = SecretReference.fromSecret(snowflake, 'account');
  const profile = new DbtProfile(sales, 'DbtProfile', {
    configMapName: 'sales-dbt-profile',
    profileName: 'sales',
    target: 'prod',
    outputs: {
      prod: {
        type: 'snowflake',
        account: dbtAccount,
        user: dbtUser,
        password: dbtPassword,
        role: 'TRANSFORMER',
        database: 'SALES',
        warehouse: 'TRANSFORMING',
        schema: 'MARTS',
        threads: 4,
      },
    },
  });
  new SecretMountedJob(sales, 'NightlyDbt', {
    name: 'nightly-dbt',
    image: 'ghcr.io/dbt-labs/dbt-snowflake:1.9.0',
    args: ['build', '--target', 'prod'],
    schedule: Cron.schedule({ minute: '0', hour: '2' }),
    secretEnv: [dbtUser, dbtPassword, dbtAccount],
    activeDeadlineSeconds: 7200,
  }).useDbtProfile(profile);

  // Long-running: the Infisical operator restarts it when snowflake-credentials changes.
  new SecretMountedDeployment(sales, 'OrdersApi', {
    name: 'orders-api',
    image: 'ghcr.io/acme/orders-api:2.0.1',
    replicas: 2,
    secretEnv: [SecretReference.fromSecret(snowflake, 'user'), SecretReference.fromSecret(snowflake, 'password')],
  });

  // A team's own cdk8s-plus StatefulSet with a metrics sidecar: WorkloadSecrets adds the secrets,
  // their checks and the name-scoped Role to it, and the operator reloads it on a change.
  const ledger = new kplus.StatefulSet(sales, 'Ledger', {
    metadata: { name: 'ledger' },
    serviceAccount: new FloeServiceAccount(sales, 'LedgerServiceAccount', { serviceAccountName: 'ledger' }),
    // An explicit non-root user (Pod Security "restricted" and runAsNonRoot need one the kubelet
    // can check); secret files are 0440 root:26000, read through the group.
    securityContext: { user: 26000, group: 26000, fsGroup: 26000 },
    containers: [{ name: 'ledger', image: 'ghcr.io/acme/ledger:3.2.0', portNumber: 8080, resources: RESOURCES, securityContext: RESTRICTED_CONTAINER }],
  });
  const metrics = ledger.addContainer({ name: 'metrics', image: 'ghcr.io/acme/ledger-exporter:1.1.0', portNumber: 9100, resources: RESOURCES, securityContext: RESTRICTED_CONTAINER });
  WorkloadSecrets.of(ledger)
    .addSecretEnv(SecretReference.fromSecret(snowflake, 'user'))
    .addSecretEnv(SecretReference.fromSecret(snowflake, 'password'))
    .mountSecret(googleSa)
    .addSecretEnv(SecretReference.fromSecret(snowflake, 'password'), { name: 'EXPORTER_DB_PASSWORD', container: metrics });

  // --- marketing ---------------------------------------------------------------------------
  const marketing = platform.domain('marketing');
  const hubspot = platform.connectionSecret('hubspot', marketing);
  const ga4 = FloeSecret.fromSecretName(marketing, 'Ga4', 'ga4-sa', { keys: ['key.json', 'project'] });

  // A Vault secret as a Kubernetes Secret, through a Vault SecretStore of the domain's own (ESO):
  // only floe-marketing can use it, and it logs in with the Vault role floe-marketing.
  const vault = new VaultSecretStore(marketing, 'Vault', { server: 'https://vault.example:8200' });
  const ads = VaultSecretSource.viaExternalSecrets(marketing, 'AdsApi', {
    secretStore: vault,
    path: 'marketing/ads',
    keys: ['ADS_TOKEN'],
    secretName: 'ads-api',
    refreshInterval: '15m',
  });

  new SecretMountedJob(marketing, 'CampaignSync', {
    name: 'campaign-sync',
    image: 'ghcr.io/acme/campaign-sync:0.9.0',
    secretEnvFrom: [hubspot, ads.secret],
    secretFiles: [{ secret: ga4, keys: ['key.json'] }],
  });

  // A Vault secret as files written by the Vault Agent, with no Kubernetes Secret in between.
  const warehouseExport = new SecretMountedJob(marketing, 'AudienceExport', {
    name: 'audience-export',
    image: 'ghcr.io/acme/audience-export:1.0.0',
    schedule: Cron.schedule({ minute: '30', hour: '3' }),
    automountServiceAccountToken: true, // the Vault Agent logs in with the pod's token
    secretFiles: [{ secret: ga4 }],
  });
  new VaultSecretSource(marketing, 'WarehouseExport', {
    role: 'floe-marketing',
    path: 'marketing/warehouse-export',
    keys: ['user', 'password'],
    name: 'warehouse-export',
  }).injectInto(warehouseExport);

  // Nightly dbt on PostgreSQL with dynamic credentials from Vault's database secrets engine: each
  // run's Vault Agent asks database/creds/marketing-dbt for a database user of its own, which Vault
  // drops when the lease ends. A run may take 90 minutes, longer than the 1h login that made the
  // credentials, so the agent stays as a sidecar that renews them, and dbt's command is wrapped to
  // export DBT_PG_USER and DBT_PG_PASSWORD from the agent's env file and to stop the agent when dbt
  // exits, so that the Job completes.
  const warehouseDb = new VaultDatabaseCredentials(marketing, 'WarehouseDb', {
    role: 'marketing-dbt',
    vaultRole: 'floe-marketing',
    name: 'warehouse-db',
    defaultTtl: '2h',
    maxTtl: '24h',
    envVars: { username: 'DBT_PG_USER', password: 'DBT_PG_PASSWORD' },
  });
  const pgProfile = new DbtProfile(marketing, 'WarehouseProfile', {
    configMapName: 'marketing-dbt-profile',
    profileName: 'marketing',
    target: 'prod',
    outputs: {
      prod: {
        type: 'postgres',
        host: 'warehouse-db.marketing.svc',
        port: 5432,
        user: "{{ env_var('DBT_PG_USER') }}",
        password: "{{ env_var('DBT_PG_PASSWORD') }}",
        dbname: 'warehouse',
        schema: 'marts',
        threads: 4,
      },
    },
  });
  const nightlyPg = new SecretMountedJob(marketing, 'NightlyDbtPg', {
    name: 'nightly-dbt-pg',
    image: 'ghcr.io/dbt-labs/dbt-postgres:1.9.0',
    command: ['dbt'],
    args: ['build', '--target', 'prod'],
    schedule: Cron.schedule({ minute: '0', hour: '4' }),
    activeDeadlineSeconds: 5400,
    automountServiceAccountToken: true, // the Vault Agent logs in with the pod's token
  }).useDbtProfile(pgProfile);
  warehouseDb.injectInto(nightlyPg);

  return app;
}
