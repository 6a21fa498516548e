import { App, Cron, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { FloeDomain, FloeSecret, SecretMountedDeployment, SecretMountedJob, SecretReference } from 'floe-secrets';

const app = new App();
const sales = new FloeDomain(app, 'sales', { domain: 'sales' });
const db = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['user', 'password'] });

new SecretMountedJob(sales, 'Export', {
  name: 'orders-export',
  image: 'ghcr.io/acme/orders-export:1.0.0',
  schedule: Cron.schedule({ minute: '0', hour: '3' }),
  secretEnv: [SecretReference.fromSecret(db, 'password')],
  workingDir: '/work', // an emptyDir: writable, unlike the root filesystem
  resources: { cpu: { request: kplus.Cpu.millis(250) }, memory: { request: Size.mebibytes(256), limit: Size.gibibytes(1) } },
  imagePullSecrets: ['ghcr-pull'],
  tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }],
  successfulJobsHistoryLimit: 1, // concurrencyPolicy stays Forbid
  podLabels: { 'app.kubernetes.io/version': '1.0.0' },
});

new SecretMountedDeployment(sales, 'Api', {
  name: 'orders-api',
  image: 'ghcr.io/acme/orders-api:2.0.1',
  secretEnvFrom: [db],
  ports: [{ containerPort: 8080, name: 'http' }],
  readinessProbe: { httpGet: { path: '/ready', port: k8s.IntOrString.fromString('http') } },
});

app.synth();
