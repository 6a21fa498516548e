import { App } from 'cdk8s';
import { FloeDomain, SecretMountedJob, VaultSecretSource, VaultSecretStore } from 'floe-secrets';

const app = new App();
const sales = new FloeDomain(app, 'sales', { domain: 'sales' });

// Files written by the Vault Agent Injector: /run/secrets/snowflake/{user,password}, no Kubernetes Secret.
const job = new SecretMountedJob(sales, 'Load', {
  image: 'ghcr.io/acme/orders-loader:1.4.2',
  automountServiceAccountToken: true, // the agent logs in with the pod's token
});
new VaultSecretSource(sales, 'Snowflake', {
  role: 'floe-sales',
  path: 'compute/snowflake', // KV v2 at secret/data/compute/snowflake
  keys: ['user', 'password'],
  name: 'snowflake',
}).injectInto(job); // a Job gets agent-pre-populate-only: "true", so it can complete

// Or the same secret as a Kubernetes Secret, through an External Secrets store backed by Vault: a
// SecretStore of the domain's own, logging in with the Vault role floe-sales as its own ServiceAccount.
const store = new VaultSecretStore(sales, 'Vault', { server: 'https://vault.example:8200' });
const viaEso = VaultSecretSource.viaExternalSecrets(sales, 'SnowflakeEso', {
  secretStore: store,
  path: 'compute/snowflake',
  keys: ['user', 'password'],
  secretName: 'snowflake-credentials',
});
new SecretMountedJob(sales, 'Report', { image: 'ghcr.io/acme/report:1.0.0', secretEnvFrom: [viaEso.secret] });

app.synth();
