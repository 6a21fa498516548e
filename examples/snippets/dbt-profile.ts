import { App, Cron } from 'cdk8s';
import { DbtProfile, FloeDomain, FloeSecret, SecretMountedJob, SecretReference } from 'floe-secrets';

const app = new App();
const sales = new FloeDomain(app, 'sales', { domain: 'sales' });
const snowflake = FloeSecret.fromSecretName(sales, 'Snowflake', 'snowflake-credentials', { keys: ['user', 'password'] });

// dbtMasked: the env var starts with DBT_ENV_SECRET_, so dbt masks the value in its logs.
const user = SecretReference.fromSecret(snowflake, 'user', { dbtMasked: true });
const password = SecretReference.fromSecret(snowflake, 'password', { dbtMasked: true });

const profile = new DbtProfile(sales, 'Profile', {
  profileName: 'sales',
  target: 'prod',
  outputs: { prod: { type: 'snowflake', account: 'acme-eu1', user, password, database: 'SALES', schema: 'MARTS', threads: 4 } },
});

new SecretMountedJob(sales, 'Dbt', {
  name: 'nightly-dbt',
  image: 'ghcr.io/dbt-labs/dbt-snowflake:1.9.0',
  args: ['build'],
  schedule: Cron.schedule({ minute: '0', hour: '2' }), // a CronJob
  secretEnv: [user, password], // leave one out and synth fails: the profile reads it
}).useDbtProfile(profile); // profiles.yml at /etc/dbt, DBT_PROFILES_DIR=/etc/dbt

app.synth();
