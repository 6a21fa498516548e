import { ApiObject, App, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { BenchAppShape } from './library-app';

const DOMAIN_LABEL = 'floe.dev/domain';
const ID = 10001;

/**
 * The same resources as {@link buildLibraryApp}, written by hand with plain cdk8s-plus-28: per
 * domain a Chart in namespace `floe-<d>` with its Namespace; per job a ServiceAccount (token
 * automount off), a Job (restartPolicy Never, user/group/fsGroup 10001, one secretKeyRef env var,
 * one envFrom secret, one secret volume mounted read-only with mode 0400) and a Role allowing
 * only `get` on the three secrets by name, bound to the ServiceAccount.
 */
export function buildHandwrittenApp(shape: BenchAppShape, app: App = new App()): App {
  let job = 0;
  for (let d = 0; d < shape.domains; d++) {
    const domainName = `d${d}`;
    const namespace = `floe-${domainName}`;
    const chart = new Chart(app, domainName, { namespace, labels: { [DOMAIN_LABEL]: domainName } });
    const ns = new kplus.Namespace(chart, 'Namespace', { metadata: { name: namespace } });
    // The chart stamps its namespace on every object; a Namespace is cluster-scoped and has none.
    ApiObject.of(ns).addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    const api = kplus.Secret.fromSecretName(chart, 'Api', 'api');
    const db = kplus.Secret.fromSecretName(chart, 'Db', 'db-creds');
    const sa = kplus.Secret.fromSecretName(chart, 'GoogleSa', 'google-sa');
    for (let j = 0; j < shape.jobsPerDomain; j++, job++) {
      const name = `job-${job}`;
      const serviceAccount = new kplus.ServiceAccount(chart, `Job${job}ServiceAccount`, {
        metadata: { name },
        automountToken: false,
      });
      const k8sJob = new kplus.Job(chart, `Job${job}`, {
        metadata: { name },
        podMetadata: {
          labels: { [DOMAIN_LABEL]: domainName, 'floe.dev/job': name },
          annotations: { 'floe.dev/secret-file-mode': '0440 root:10001' },
        },
        serviceAccount,
        automountServiceAccountToken: false,
        restartPolicy: kplus.RestartPolicy.NEVER,
        securityContext: { user: ID, group: ID, fsGroup: ID, ensureNonRoot: true },
      });
      const container = k8sJob.addContainer({
        name: 'main',
        image: 'ghcr.io/acme/loader:1.4.2',
        envVariables: {
          FLOE_SECRET_DB_CREDS_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: db, key: 'password' }),
        },
        envFrom: [kplus.Env.fromSecret(api)],
        securityContext: {
          user: ID,
          group: ID,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: [kplus.Capability.ALL] },
        },
      });
      const volume = kplus.Volume.fromSecret(chart, `Job${job}SecretVolume`, sa, { name: 'secret-google-sa', defaultMode: 0o400 });
      container.mount('/run/secrets/google-sa', volume, { readOnly: true });

      const roleName = `${name}-secret-reader`;
      const role = new kplus.Role(chart, `Job${job}Role`, { metadata: { name: roleName } });
      role.allow(['get'], api, db, sa);
      // role.bind(serviceAccount) would do, but names the RoleBinding with a hash; name it like the library does.
      const binding = new kplus.RoleBinding(chart, `Job${job}RoleBinding`, { metadata: { name: roleName }, role });
      binding.addSubjects(serviceAccount);
    }
  }
  return app;
}
