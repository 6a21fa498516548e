import { join } from 'node:path';
import { App } from 'cdk8s';
import { FloeSecretsPlatform, SecretMountedJob, SecretReference } from 'floe-secrets';

const app = new App();
// The platform team's manifest.yaml picks the backend; this code is the same for k8s, Infisical and Vault.
const platform = FloeSecretsPlatform.fromManifest(app, 'Platform', join(__dirname, '..', 'manifest.yaml'));

const sales = platform.domain('sales');
const snowflake = platform.connectionSecret('snowflake', sales);

const job = new SecretMountedJob(sales, 'Load', {
  image: 'ghcr.io/acme/orders-loader:1.4.2',
  secretEnv: [SecretReference.fromSecret(snowflake, 'password')],
});
platform.mountConnection(job, 'snowflake'); // files in /run/secrets/snowflake-credentials/, any backend

app.synth();
