import { App } from 'cdk8s';
import { FloeDomain, FloeSecret, SecretMountedJob, SecretReference } from 'floe-secrets';

const app = new App();

// One cluster, two copies of the sales domain: namespaces floe-sales-dev and floe-sales-prod.
for (const environment of ['dev', 'prod']) {
  const sales = new FloeDomain(app, `sales-${environment}`, { domain: 'sales', environment });
  const db = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['password'] });
  new SecretMountedJob(sales, 'Load', {
    name: 'orders-load',
    image: 'ghcr.io/acme/orders-loader:1.4.2',
    secretEnv: [SecretReference.fromSecret(db, 'password')],
  });
}

// A namespace the platform team already made: no Namespace object, every object lands in it.
const finance = new FloeDomain(app, 'finance', { domain: 'finance', existingNamespace: 'data-finance' });
new SecretMountedJob(finance, 'Close', { name: 'month-close', image: 'ghcr.io/acme/month-close:2.0.1' });

app.synth(); // dist/sales-dev.k8s.yaml, dist/sales-prod.k8s.yaml, dist/finance.k8s.yaml
