import { App, Cron } from 'cdk8s';
import { DbtProfile, FloeDomain, FloeSecret, SecretMountedJob, SecretReference } from '../src';

/**
 * The example GitOps app: two domains, secrets created outside the app by the platform team,
 * a Job that uses env vars, envFrom and file mounts, a CronJob running dbt with a profile whose
 * credentials come from secrets.
 */
export function buildExampleApp(app: App): App {
  // --- sales -------------------------------------------------------------------------------
  const sales = new FloeDomain(app, 'sales', { domain: 'sales' });

  // Created by the platform team with `kubectl create secret generic ...` (REQ-134).
  const snowflake = FloeSecret.fromSecretName(sales, 'Snowflake', 'snowflake-credentials', {
    keys: ['account', 'user', 'password'],
  });
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

  // --- marketing ---------------------------------------------------------------------------
  const marketing = new FloeDomain(app, 'marketing', { domain: 'marketing' });
  const hubspot = FloeSecret.fromSecretName(marketing, 'Hubspot', 'hubspot-api', { keys: ['HUBSPOT_TOKEN'] });
  const ga4 = FloeSecret.fromSecretName(marketing, 'Ga4', 'ga4-sa', { keys: ['key.json', 'project'] });

  new SecretMountedJob(marketing, 'CampaignSync', {
    name: 'campaign-sync',
    image: 'ghcr.io/acme/campaign-sync:0.9.0',
    secretEnvFrom: [hubspot],
    secretFiles: [{ secret: ga4, keys: ['key.json'] }],
  });

  return app;
}
