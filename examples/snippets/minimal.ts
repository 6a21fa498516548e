import { App } from 'cdk8s';
import { FloeDomain, FloeSecret, SecretMountedJob, SecretReference } from 'floe-secrets';

const app = new App();
const sales = new FloeDomain(app, 'sales', { domain: 'sales' }); // namespace floe-sales

// Created by the platform team with `kubectl create secret generic` (see below).
const db = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['user', 'password'] });
const gsa = FloeSecret.fromSecretName(sales, 'GoogleSa', 'google-sa', { keys: ['key.json'] });

new SecretMountedJob(sales, 'Load', {
  name: 'orders-load',
  image: 'ghcr.io/acme/orders-loader:1.4.2',
  secretEnv: [SecretReference.fromSecret(db, 'password')], // env FLOE_SECRET_DB_CREDS_PASSWORD
  secretFiles: [{ secret: gsa }], // file /run/secrets/google-sa/key.json
});

app.synth(); // dist/sales.k8s.yaml: Namespace, ServiceAccount, Role (get db-creds, google-sa), RoleBinding, Job
