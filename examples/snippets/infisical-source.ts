import { App } from 'cdk8s';
import {
  FloeDomain, InfisicalAuthentication, InfisicalSecretSource, SecretMountedDeployment, SecretMountedJob, SecretReference,
} from 'floe-secrets';

const app = new App();
const sales = new FloeDomain(app, 'sales', { domain: 'sales' });
const marketing = new FloeDomain(app, 'marketing', { domain: 'marketing' });

const snowflake = new InfisicalSecretSource(sales, 'Snowflake', {
  projectSlug: 'floe-analytics',
  envSlug: 'prod',
  secretsPath: '/compute/snowflake',
  // The operator reads clientId/clientSecret from this Secret, of an identity of the sales domain
  // alone; no credential is ever a prop.
  authentication: InfisicalAuthentication.universalAuth({ name: 'infisical-universal-auth', namespace: 'floe-sales' }),
  secretName: 'snowflake-credentials',
  keys: ['account', 'user', 'password'],
  rotationPeriod: '24h', // Jobs reading it must finish within 24h
  alsoSyncTo: [marketing], // a copy in floe-marketing, with its own RBAC
});

// Long-running: carries secrets.infisical.com/auto-reload: "true", the operator restarts it on change.
new SecretMountedDeployment(sales, 'Api', {
  image: 'ghcr.io/acme/orders-api:2.0.1',
  secretEnv: [SecretReference.fromSecret(snowflake.secret, 'password')],
});

// A Job: never auto-reloaded; activeDeadlineSeconds must not exceed the rotation period.
new SecretMountedJob(marketing, 'Export', {
  image: 'ghcr.io/acme/export:1.0.0',
  secretFiles: [{ secret: snowflake.secretIn(marketing) }],
  activeDeadlineSeconds: 3600,
});

app.synth();
