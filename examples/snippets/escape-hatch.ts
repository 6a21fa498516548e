import { ApiObject, App, JsonPatch } from 'cdk8s';
import { FloeDomain, SecretMountedJob } from 'floe-secrets';

const app = new App();
const sales = new FloeDomain(app, 'sales', { domain: 'sales' });
const job = new SecretMountedJob(sales, 'Load', { name: 'orders-load', image: 'ghcr.io/acme/orders-loader:1.4.2' });

// The L1 object of every construct has id 'Resource': ApiObject.of() reaches it.
ApiObject.of(job).metadata.addLabel('team', 'sales-eng');
ApiObject.of(job).addJsonPatch(JsonPatch.add('/spec/template/spec/priorityClassName', 'batch-low'));

app.synth();
