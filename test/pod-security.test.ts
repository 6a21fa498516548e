import { Cron, Testing } from 'cdk8s';
import { buildExampleApp } from '../examples/app';
import { FloeSecret, SecretMountedDaemonSet, SecretMountedDeployment, SecretMountedJob, SecretMountedStatefulSet, SecretReference } from '../src';
import { domains } from './util';

/** Volume types Pod Security "restricted" allows. */
const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];

/** Every way Pod Security "restricted" (Kubernetes 1.28) would refuse a pod spec, as readable strings. */
function restrictedViolations(where: string, pod: any): string[] {
  const problems: string[] = [];
  const podContext = pod.securityContext ?? {};
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push(`${where}: host namespaces`);
  for (const volume of pod.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (!RESTRICTED_VOLUME_TYPES.includes(type!)) problems.push(`${where}: volume ${volume.name} of type ${type}`);
  }
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const c = container.securityContext ?? {};
    const at = `${where} container ${container.name}`;
    if (c.privileged) problems.push(`${at}: privileged`);
    if (c.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation is not false`);
    if ((c.runAsNonRoot ?? podContext.runAsNonRoot) !== true) problems.push(`${at}: runAsNonRoot is not true`);
    if ((c.runAsUser ?? podContext.runAsUser) === 0) problems.push(`${at}: runs as user 0`);
    const seccomp = c.seccompProfile?.type ?? podContext.seccompProfile?.type;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${at}: seccomp profile ${seccomp}`);
    if (!(c.capabilities?.drop ?? []).includes('ALL')) problems.push(`${at}: capabilities not dropped`);
    for (const added of c.capabilities?.add ?? []) if (added !== 'NET_BIND_SERVICE') problems.push(`${at}: adds capability ${added}`);
    for (const port of container.ports ?? []) if (port.hostPort) problems.push(`${at}: hostPort ${port.hostPort}`);
  }
  return problems;
}

/** The pod specs of every workload in the manifests, with where each comes from. */
function podSpecs(manifests: any[]): Array<[string, any]> {
  const pods: Array<[string, any]> = [];
  for (const m of manifests) {
    const where = `${m.kind}/${m.metadata?.name}`;
    if (m.kind === 'CronJob') pods.push([where, m.spec.jobTemplate.spec.template.spec]);
    else if (['Job', 'Deployment', 'StatefulSet', 'DaemonSet'].includes(m.kind)) pods.push([where, m.spec.template.spec]);
    else if (m.kind === 'Pod') pods.push([where, m.spec]);
  }
  return pods;
}

describe('Pod Security "restricted"', () => {
  test('every container of every workload of the example app meets it', () => {
    const app = buildExampleApp(Testing.app());
    const pods = podSpecs(app.charts.flatMap((chart) => Testing.synth(chart)));
    expect(pods.length).toBeGreaterThanOrEqual(5);
    expect(pods.flatMap(([where, pod]) => restrictedViolations(where, pod))).toEqual([]);
  });

  test('Jobs, CronJobs, Deployments, StatefulSets and DaemonSets with every kind of secret meet it with default settings', () => {
    const { domains: [sales] } = domains('sales');
    const db = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['user', 'password'] });
    const props = { image: 'i', secretEnv: [SecretReference.fromSecret(db, 'user')], secretEnvFrom: [db], secretFiles: [{ secret: db }], workingDir: '/work' };
    new SecretMountedJob(sales, 'Job', { name: 'job', ...props });
    new SecretMountedJob(sales, 'Cron', { name: 'cron', schedule: Cron.daily(), ...props });
    new SecretMountedDeployment(sales, 'Api', { name: 'api', ports: [{ containerPort: 8080 }], ...props });
    new SecretMountedStatefulSet(sales, 'Ledger', { name: 'ledger', ports: [{ containerPort: 5432 }], ...props });
    new SecretMountedDaemonSet(sales, 'Agent', { name: 'agent', ports: [{ containerPort: 9100 }], ...props });
    const pods = podSpecs(Testing.synth(sales));
    expect(pods.map(([where]) => where).sort()).toEqual(['CronJob/cron', 'DaemonSet/agent', 'Deployment/api', 'Job/job', 'StatefulSet/ledger']);
    expect(pods.flatMap(([where, pod]) => restrictedViolations(where, pod))).toEqual([]);
  });

  test('the check finds what it checks: root, a hostPath volume and a missing seccomp profile are reported', () => {
    const { domains: [sales] } = domains('sales');
    new SecretMountedJob(sales, 'Root', { name: 'root', image: 'i', runAsUser: 0, volumes: [{ volume: { name: 'host', hostPath: { path: '/var' } }, mountPath: '/host' }] });
    const [[where, pod]] = podSpecs(Testing.synth(sales));
    expect(restrictedViolations(where, pod)).toEqual([
      'Job/root: volume host of type hostPath',
      'Job/root container main: runAsNonRoot is not true',
      'Job/root container main: runs as user 0',
    ]);
    delete pod.securityContext.seccompProfile;
    expect(restrictedViolations(where, pod)).toContain('Job/root container main: seccomp profile undefined');
  });
});
