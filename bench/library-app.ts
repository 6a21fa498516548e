import { App } from 'cdk8s';
import { FloeDomain, FloeSecret, SecretMountedJob, SecretReference } from '../src';

/** Shape of a benchmark app: `domains` domains of `jobsPerDomain` jobs each. */
export interface BenchAppShape {
  readonly domains: number;
  readonly jobsPerDomain: number;
}

/**
 * The benchmark app written with floe-secrets. Per domain: three secrets created outside the app
 * (env-var-safe keys for envFrom, user/password for a secretKeyRef env var, key.json for a file
 * mount). Per job: a SecretMountedJob that uses all three, which brings its own ServiceAccount,
 * Role (get on exactly those three secrets) and RoleBinding.
 */
export function buildLibraryApp(shape: BenchAppShape, app: App = new App()): App {
  let job = 0;
  for (let d = 0; d < shape.domains; d++) {
    const domain = new FloeDomain(app, `d${d}`, { domain: `d${d}` });
    const api = FloeSecret.fromSecretName(domain, 'Api', 'api', { keys: ['API_TOKEN', 'API_URL'] });
    const db = FloeSecret.fromSecretName(domain, 'Db', 'db-creds', { keys: ['user', 'password'] });
    const sa = FloeSecret.fromSecretName(domain, 'GoogleSa', 'google-sa', { keys: ['key.json'] });
    const password = SecretReference.fromSecret(db, 'password');
    for (let j = 0; j < shape.jobsPerDomain; j++, job++) {
      new SecretMountedJob(domain, `Job${job}`, {
        name: `job-${job}`,
        image: 'ghcr.io/acme/loader:1.4.2',
        secretEnv: [password],
        secretEnvFrom: [api],
        secretFiles: [{ secret: sa }],
      });
    }
  }
  return app;
}
