import { App } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { FloeDomain, FloeSecret, FloeServiceAccount, SecretReference, WorkloadSecrets } from 'floe-secrets';

const app = new App();
const sales = new FloeDomain(app, 'sales', { domain: 'sales' });
const db = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['user', 'password'] });
const tls = FloeSecret.fromSecretName(sales, 'Tls', 'orders-tls', { keys: ['tls.crt', 'tls.key'] });

// The team's own StatefulSet, with its ports, probes and a sidecar, and its own ServiceAccount
// (a FloeServiceAccount or a kplus.ServiceAccount, never "default"; leave it out to get one).
const orders = new kplus.StatefulSet(sales, 'Orders', {
  serviceAccount: new FloeServiceAccount(sales, 'OrdersSa', { serviceAccountName: 'orders' }),
  securityContext: { fsGroup: 26000 }, // secret files are 0440 root:26000
  containers: [{ name: 'api', image: 'ghcr.io/acme/orders-api:2.0.1', portNumber: 8080 }],
});
const proxy = orders.addContainer({ name: 'db-proxy', image: 'ghcr.io/acme/db-proxy:1.0.0' });

WorkloadSecrets.of(orders)
  .mountSecret(tls) // files /run/secrets/orders-tls/tls.crt and tls.key in "api", the first container
  .addSecretEnv(SecretReference.fromSecret(db, 'password'), { name: 'DB_PASSWORD', container: proxy });

// Or the cdk8s-plus way: a FloeSecret is a kplus.ISecret (no key check, no grant: prefer the above).
proxy.env.addVariable('DB_USER', db.envValue('user'));

app.synth(); // Role orders-secret-reader: get db-creds, orders-tls; bound to ServiceAccount orders
