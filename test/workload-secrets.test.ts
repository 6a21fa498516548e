import { ApiObject, App, Cron, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import {
  FloeDomain, FloeSecret, FloeServiceAccount, IFloeSecret, INFISICAL_AUTO_RELOAD_ANNOTATION,
  SECRET_FILE_MODE_ANNOTATION, SECRET_SOURCES_ANNOTATION, SecretReference, WorkloadSecrets,
} from '../src';
import { domains, find, infisicalManagedSecret, Manifest, randomValue, secretsReadByPod, synth } from './util';

type Kind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | 'Pod';
const KINDS: Kind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod'];
const LONG_RUNNING: Kind[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
const RUN_ONCE: Kind[] = ['Job', 'CronJob', 'Pod'];

/** The team's props of a workload: its pod props, containers, and a Job's or CronJob's activeDeadline. */
type TeamProps = kplus.AbstractPodProps & Pick<kplus.JobProps, 'activeDeadline'> & { containers?: kplus.ContainerProps[] };

/** A cdk8s-plus workload of `kind` (construct id `id`) as a team would write it: their own props, one container. */
function workload(scope: FloeDomain, kind: Kind, props: TeamProps = {}, id: string = kind): kplus.AbstractPod {
  const common = {
    metadata: { name: kind.toLowerCase() },
    securityContext: { fsGroup: 26000 },
    containers: [{ image: 'ghcr.io/acme/app:1.0.0', portNumber: 8080, envVariables: { LOG_LEVEL: kplus.EnvValue.fromValue('info') } }],
    ...props,
  };
  switch (kind) {
    case 'Deployment': return new kplus.Deployment(scope, id, common);
    case 'StatefulSet': return new kplus.StatefulSet(scope, id, common);
    case 'DaemonSet': return new kplus.DaemonSet(scope, id, common);
    case 'Job': return new kplus.Job(scope, id, common);
    case 'CronJob': return new kplus.CronJob(scope, id, { ...common, schedule: Cron.daily() });
    case 'Pod': return new kplus.Pod(scope, id, common);
  }
}

/** The pod spec of a synthesized workload of any kind. */
function podOf(manifest: Manifest): any {
  switch (manifest.kind) {
    case 'Pod': return manifest.spec;
    case 'CronJob': return manifest.spec.jobTemplate.spec.template.spec;
    default: return manifest.spec.template.spec;
  }
}

function fixture() {
  const { domains: [sales, marketing] } = domains('sales', 'marketing');
  const db = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['user', 'password'] });
  const gsa = FloeSecret.fromSecretName(sales, 'Gsa', 'google-sa', { keys: ['key.json'] });
  const env = FloeSecret.fromSecretName(sales, 'Env', 'api-env', { keys: ['API_TOKEN', 'API_URL'] });
  const sa = new FloeServiceAccount(sales, 'AppSa', { serviceAccountName: 'app' });
  return { sales, marketing, db, gsa, env, sa };
}

describe('WorkloadSecrets wires every cdk8s-plus kind', () => {
  test.each(KINDS)('%s: secretKeyRef env, envFrom and read-only files next to the team\'s own env, and a Role for exactly those Secrets', (kind) => {
    // GIVEN
    const { sales, db, gsa, env, sa } = fixture();
    const app = workload(sales, kind, { serviceAccount: sa });

    // WHEN
    const secrets = new WorkloadSecrets(sales, 'Secrets', { workload: app })
      .addSecretEnv(SecretReference.fromSecret(db, 'password'))
      .addSecretEnvFrom(env)
      .mountSecret(gsa);

    // THEN
    const manifests = synth(sales);
    const manifest = find(manifests, kind, kind.toLowerCase());
    const pod = podOf(manifest);
    const [container] = pod.containers;
    expect(container.env).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'FLOE_SECRET_DB_CREDS_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } },
    ]);
    expect(container.envFrom).toEqual([{ secretRef: { name: 'api-env' } }]);
    expect(container.volumeMounts).toEqual([{ name: 'secret-google-sa', mountPath: '/run/secrets/google-sa', readOnly: true }]);
    expect(pod.volumes).toEqual([{ name: 'secret-google-sa', secret: { secretName: 'google-sa', defaultMode: 0o400 } }]);
    expect(pod.serviceAccountName).toBe('app');
    expect(manifest.metadata.annotations[SECRET_FILE_MODE_ANNOTATION]).toBe('0440 root:26000');

    const role = find(manifests, 'Role', 'app-secret-reader');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['api-env', 'db-creds', 'google-sa'] }]);
    expect(role.rules[0].resourceNames).toEqual(secretsReadByPod(pod));
    expect(find(manifests, 'RoleBinding', 'app-secret-reader').subjects).toEqual([{ kind: 'ServiceAccount', name: 'app', namespace: 'floe-sales' }]);
    expect(secrets.secretNames).toEqual(['api-env', 'db-creds', 'google-sa']);
    expect(manifests.filter((m) => m.kind === 'Secret')).toEqual([]);
  });

  test('a whole Deployment with a sidecar and an init container, as synthesized', () => {
    // GIVEN: the team's Deployment, with probes, ports, resources and a sidecar
    const { sales, db, gsa, sa } = fixture();
    const api = new kplus.Deployment(sales, 'Api', {
      metadata: { name: 'api' },
      serviceAccount: sa,
      securityContext: { fsGroup: 26000 },
      containers: [{ name: 'api', image: 'ghcr.io/acme/api:2.0.1', portNumber: 8080, readiness: kplus.Probe.fromHttpGet('/healthz') }],
    });
    const proxy = api.addContainer({ name: 'proxy', image: 'ghcr.io/acme/db-proxy:1.0.0' });
    const migrate = api.addInitContainer({ name: 'migrate', image: 'ghcr.io/acme/migrate:1.0.0' });

    // WHEN
    WorkloadSecrets.of(api)
      .addSecretEnv(SecretReference.fromSecret(db, 'password'), { name: 'DB_PASSWORD', container: proxy })
      .addSecretEnv(SecretReference.fromSecret(db, 'user'), { container: migrate })
      .mountSecret(gsa, { container: api.containers[0], keys: ['key.json'], mountPath: '/etc/gcp' });

    // THEN
    const manifests = synth(sales);
    const pod = find(manifests, 'Deployment', 'api').spec.template.spec;
    const byName = (list: any[], name: string) => list.find((c) => c.name === name);
    expect(byName(pod.containers, 'proxy').env).toEqual([{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } }]);
    expect(byName(pod.initContainers, 'migrate').env).toEqual([{ name: 'FLOE_SECRET_DB_CREDS_USER', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'user' } } }]);
    expect(byName(pod.containers, 'api').volumeMounts).toEqual([{ name: 'secret-google-sa', mountPath: '/etc/gcp', readOnly: true }]);
    expect(byName(pod.containers, 'api').readinessProbe.httpGet.path).toBe('/healthz');
    expect(pod.volumes).toEqual([{ name: 'secret-google-sa', secret: { secretName: 'google-sa', defaultMode: 0o400, items: [{ key: 'key.json', path: 'key.json' }] } }]);
    expect(find(manifests, 'Role', 'app-secret-reader').rules[0].resourceNames).toEqual(['db-creds', 'google-sa']);
    expect(manifests).toMatchSnapshot();
  });

  test('WorkloadSecrets.of returns the one of the workload; a second one is refused', () => {
    const { sales, sa } = fixture();
    const app = workload(sales, 'Deployment', { serviceAccount: sa });
    const first = WorkloadSecrets.of(app);
    expect(WorkloadSecrets.of(app)).toBe(first);
    expect(() => new WorkloadSecrets(sales, 'Again', { workload: app }))
      .toThrow('sales/Again: workload sales/Deployment already has its secrets wired by sales/Deployment/FloeSecrets; use that one (WorkloadSecrets.of(workload)); it wires any of the workload\'s containers');
  });

  test('wires the first container unless told otherwise; needs a container; refuses a container of another workload', () => {
    const { sales, db, sa } = fixture();
    const two = workload(sales, 'Deployment', { serviceAccount: sa, containers: [{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }] });
    const other = workload(sales, 'Job', { serviceAccount: sa });
    const none = new kplus.Deployment(sales, 'Empty', { serviceAccount: sa });
    expect(WorkloadSecrets.of(two).container.name).toBe('a');
    expect(() => new WorkloadSecrets(sales, 'None', { workload: none }))
      .toThrow('sales/None: workload sales/Empty has no container yet; add the container to the workload first (containers or addContainer()), or pass container');
    expect(() => new WorkloadSecrets(sales, 'Foreign', { workload: other, container: two.containers[1] }))
      .toThrow('sales/Foreign: container "b" is not a container or init container of workload sales/Job; pass a container of the workload');
    expect(() => WorkloadSecrets.of(two).addSecretEnv(SecretReference.fromSecret(db, 'user'), { container: other.containers[0] }))
      .toThrow('sales/Deployment/FloeSecrets: container "main" is not a container or init container of workload sales/Deployment');
  });

  test('refuses what is not a cdk8s-plus workload of a supported kind', () => {
    const { sales } = fixture();
    expect(() => new WorkloadSecrets(sales, 'Bad', { workload: {} as kplus.AbstractPod }))
      .toThrow(/^sales\/Bad: workload must be a cdk8s-plus workload, got .*; pass a kplus.Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod$/);
  });
});

describe('WorkloadSecrets RBAC', () => {
  test('a kplus ServiceAccount gets the name-scoped Role; two workloads sharing it share the Role', () => {
    // GIVEN
    const { sales, db, gsa } = fixture();
    const sa = new kplus.ServiceAccount(sales, 'Sa', { metadata: { name: 'loader' } });
    const load = workload(sales, 'Job', { serviceAccount: sa });
    const report = workload(sales, 'CronJob', { serviceAccount: sa });

    // WHEN
    WorkloadSecrets.of(load).addSecretEnv(SecretReference.fromSecret(db, 'password'));
    WorkloadSecrets.of(report).mountSecret(gsa);

    // THEN
    const manifests = synth(sales);
    expect(find(manifests, 'Role', 'loader-secret-reader').rules[0].resourceNames).toEqual(['db-creds', 'google-sa']);
    expect(find(manifests, 'RoleBinding', 'loader-secret-reader').subjects).toEqual([{ kind: 'ServiceAccount', name: 'loader', namespace: 'floe-sales' }]);
    expect(manifests.filter((m) => m.kind === 'Role')).toHaveLength(1);
  });

  test('a ServiceAccount imported by name gets its Role in the workload\'s domain', () => {
    const { sales, db } = fixture();
    const app = workload(sales, 'DaemonSet', { serviceAccount: kplus.ServiceAccount.fromServiceAccountName(sales, 'Agent', 'node-agent') });
    const secrets = WorkloadSecrets.of(app).addSecretEnv(SecretReference.fromSecret(db, 'user'));
    const manifests = synth(sales);
    expect(secrets.serviceAccount.subject).toEqual({ kind: 'ServiceAccount', name: 'node-agent', namespace: 'floe-sales' });
    expect(find(manifests, 'Role', 'node-agent-secret-reader').rules[0].resourceNames).toEqual(['db-creds']);
    expect(find(manifests, 'RoleBinding', 'node-agent-secret-reader').subjects).toEqual([{ kind: 'ServiceAccount', name: 'node-agent', namespace: 'floe-sales' }]);
    expect(manifests.filter((m) => m.kind === 'ServiceAccount')).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ name: 'app' }) })]);
  });

  test.each(KINDS)('%s without a serviceAccount is given its own, named like the workload, and its pods run as it', (kind) => {
    const { sales, db } = fixture();
    const app = workload(sales, kind);
    const secrets = WorkloadSecrets.of(app).addSecretEnv(SecretReference.fromSecret(db, 'password'));
    const name = kind.toLowerCase();

    const manifests = synth(sales);
    expect(app.serviceAccount).toBe(secrets.serviceAccount);
    expect(secrets.serviceAccount.node.path).toBe(`sales/${kind}/FloeServiceAccount`);
    expect(podOf(find(manifests, kind, name)).serviceAccountName).toBe(name);
    expect(podOf(find(manifests, kind, name)).automountServiceAccountToken).toBe(false);
    expect(find(manifests, 'ServiceAccount', name)).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      automountServiceAccountToken: false,
      metadata: { name, namespace: 'floe-sales', labels: expect.any(Object), annotations: { 'argocd.argoproj.io/sync-wave': '-2' } },
    });
    expect(find(manifests, 'Role', `${name}-secret-reader`).rules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['db-creds'], verbs: ['get'] }]);
    expect(find(manifests, 'RoleBinding', `${name}-secret-reader`).subjects).toEqual([{ kind: 'ServiceAccount', name, namespace: 'floe-sales' }]);
    expect(secretsReadByPod(podOf(find(manifests, kind, name)))).toEqual(['db-creds']);
  });

  test('the created ServiceAccount is named from the construct path when the workload\'s name is "default", taken, or too long for its Role', () => {
    const { sales, sa } = fixture(); // sa: FloeServiceAccount "app"
    new kplus.ServiceAccount(sales, 'Taken', { metadata: { name: 'taken' } });
    const cases = [
      workload(sales, 'Job', { metadata: { name: 'default' } }, 'NamedDefault'),
      workload(sales, 'Job', { metadata: { name: 'app' } }, 'SameAsFloeSa'),
      workload(sales, 'Deployment', { metadata: { name: 'taken' } }, 'SameAsKplusSa'),
      workload(sales, 'Pod', { metadata: { name: 'x'.repeat(240) } }, 'Long'),
    ];
    const names = cases.map((app) => WorkloadSecrets.of(app).serviceAccount.subject.name);
    expect(names).toEqual([
      expect.stringMatching(/^sales-nameddefault-floeserviceaccount-c8[0-9a-f]{6}$/),
      expect.stringMatching(/^sales-sameasfloesa-floeserviceaccount-c8[0-9a-f]{6}$/),
      expect.stringMatching(/^sales-sameaskplussa-floeserviceaccount-c8[0-9a-f]{6}$/),
      expect.stringMatching(/^sales-long-floeserviceaccount-c8[0-9a-f]{6}$/),
    ]);
    const serviceAccounts = synth(sales).filter((m) => m.kind === 'ServiceAccount').map((m) => m.metadata.name);
    expect(new Set(serviceAccounts).size).toBe(serviceAccounts.length);
    expect(serviceAccounts).toEqual(expect.arrayContaining([sa.serviceAccountName, 'taken', ...names]));
  });

  test('the namespace\'s "default" ServiceAccount is refused', () => {
    const { sales } = fixture();
    const app = workload(sales, 'Pod', { serviceAccount: kplus.ServiceAccount.fromServiceAccountName(sales, 'Default', 'default') });
    expect(() => new WorkloadSecrets(sales, 'S', { workload: app }))
      .toThrow('sales/S: workload sales/Pod runs as the namespace\'s "default" ServiceAccount, which every pod without one shares, so its Role would grant them all; ' +
        'leave serviceAccount out to have one created for the workload, or pass its own, e.g. serviceAccount: new FloeServiceAccount(domain, \'PodSa\')');
  });

  test('a ServiceAccount of another domain is refused', () => {
    const { sales, marketing } = fixture();
    const app = workload(sales, 'Job', { serviceAccount: new FloeServiceAccount(marketing, 'Sa') });
    expect(() => WorkloadSecrets.of(app)).toThrow('sales/Job/FloeSecrets: serviceAccount marketing/Sa is in domain "marketing", but workload sales/Job is in domain "sales"; create the ServiceAccount in the workload\'s domain');
  });
});

describe('WorkloadSecrets checks', () => {
  test('a key the secret does not declare', () => {
    const { sales, db, sa } = fixture();
    const secrets = WorkloadSecrets.of(workload(sales, 'Job', { serviceAccount: sa }));
    expect(() => secrets.mountSecret(db, { keys: ['token'] }))
      .toThrow('sales/Job/FloeSecrets: key "token" is not declared on secret "db-creds" (declared: password, user); use one of the declared keys, or add "token" to the keys of sales/Db');
    expect(() => db.envValue('token')).toThrow('sales/Db: key "token" is not declared on secret "db-creds"');
  });

  test('a secret of another domain', () => {
    const { sales, marketing, sa } = fixture();
    const theirs = FloeSecret.fromSecretName(marketing, 'Crm', 'crm', { keys: ['token'] });
    const secrets = WorkloadSecrets.of(workload(sales, 'Deployment', { serviceAccount: sa }));
    expect(() => secrets.addSecretEnv(SecretReference.fromSecret(theirs, 'token')))
      .toThrow('sales/Deployment: secret "crm" belongs to domain "marketing" (namespace floe-marketing), but this construct is in domain "sales" (namespace floe-sales); a workload may only read secrets of its own domain');
    expect(synthOrError(sales)).toBeUndefined();
  });

  test('a reference that names no declared secret', () => {
    const { sales, sa } = fixture();
    const secrets = WorkloadSecrets.of(workload(sales, 'Pod', { serviceAccount: sa }));
    expect(() => secrets.addSecretEnv(SecretReference.fromNames('db-creds', 'password')))
      .toThrow('sales/Pod: reference db-creds/password names no declared secret; make the reference with SecretReference.fromSecret(secret, key) so the workload can check the key and grant access');
    expect(() => secrets.addSecretEnvFrom({} as IFloeSecret)).toThrow(/^sales\/Pod\/FloeSecrets: a secretEnvFrom entry must be a declared secret \(an IFloeSecret\), got /);
  });

  test('an env var the container already sets, without repeating its value', () => {
    // GIVEN: a plain env var whose value must never be echoed
    const { sales, db, sa } = fixture();
    const value = randomValue();
    const app = workload(sales, 'Deployment', {
      serviceAccount: sa,
      containers: [{ image: 'a:1', envVariables: { FLOE_SECRET_DB_CREDS_PASSWORD: kplus.EnvValue.fromValue(value) } }],
    });

    // WHEN / THEN
    const error = errorOf(() => WorkloadSecrets.of(app).addSecretEnv(SecretReference.fromSecret(db, 'password')));
    expect(error).toBe('sales/Deployment/FloeSecrets: env var "FLOE_SECRET_DB_CREDS_PASSWORD" is set by both env var "FLOE_SECRET_DB_CREDS_PASSWORD" of container "main" and secret key db-creds/password; give one of them another env var name');
    expect(error).not.toContain(value);
  });

  test('an env var set twice through the API, and envFrom keys that clash or are not env var names', () => {
    const { sales, db, env, sa } = fixture();
    const dotted = FloeSecret.fromSecretName(sales, 'Dotted', 'dotted', { keys: ['key.json'] });
    const secrets = WorkloadSecrets.of(workload(sales, 'Job', { serviceAccount: sa }))
      .addSecretEnv(SecretReference.fromSecret(db, 'password'), { name: 'API_TOKEN' });
    expect(() => secrets.addSecretEnv(SecretReference.fromSecret(db, 'user'), { name: 'API_TOKEN' }))
      .toThrow('sales/Job/FloeSecrets: env var "API_TOKEN" is set by both secret key db-creds/password and secret key db-creds/user; give one of them another env var name');
    expect(() => secrets.addSecretEnvFrom(env))
      .toThrow('sales/Job/FloeSecrets: env var "API_TOKEN" is set by both secret key db-creds/password and envFrom secret "api-env"; give one of them another env var name');
    expect(() => secrets.addSecretEnvFrom(dotted))
      .toThrow('sales/Job/FloeSecrets: key "key.json" of secret "dotted" is not a valid env var name, so envFrom would silently skip it; mount the secret as files, or inject its keys one by one with addSecretEnv and an explicit name');
    expect(() => secrets.addSecretEnv(SecretReference.fromSecret(db, 'user'), { name: 'not-c' }))
      .toThrow('sales/Job/FloeSecrets: env var name "not-c" is not a C identifier; use letters, digits and "_", not starting with a digit');
  });

  test('at synth: an env var the team sets on the container afterwards', () => {
    // GIVEN
    const { sales, db, env, sa } = fixture();
    const app = workload(sales, 'StatefulSet', { serviceAccount: sa });
    WorkloadSecrets.of(app).addSecretEnv(SecretReference.fromSecret(db, 'password')).addSecretEnvFrom(env);

    // WHEN: the team overwrites one and shadows an envFrom key
    const value = randomValue();
    app.containers[0].env.addVariable('FLOE_SECRET_DB_CREDS_PASSWORD', kplus.EnvValue.fromValue(value));
    app.containers[0].env.addVariable('API_URL', kplus.EnvValue.fromValue(value));

    // THEN
    const error = synthOrError(sales);
    expect(error).toContain('sales/StatefulSet/FloeSecrets: env var "FLOE_SECRET_DB_CREDS_PASSWORD" (secret key db-creds/password) was replaced by another value of container "main"; give one of them another env var name');
    expect(error).toContain('sales/StatefulSet/FloeSecrets: env var "API_URL" is set by both envFrom secret "api-env" and env var "API_URL" of container "main", and env wins silently; give one of them another env var name');
    expect(error).not.toContain(value);
  });

  test('a mount path that overlaps another mount of the container, now or at synth', () => {
    const { sales, db, gsa, sa } = fixture();
    const app = workload(sales, 'DaemonSet', { serviceAccount: sa });
    const container = app.containers[0];
    container.mount('/run/secrets/db-creds/extra', kplus.Volume.fromEmptyDir(sales, 'Scratch', 'scratch'));
    const secrets = WorkloadSecrets.of(app);
    expect(() => secrets.mountSecret(db))
      .toThrow('sales/DaemonSet/FloeSecrets: mount path "/run/secrets/db-creds" overlaps mount "/run/secrets/db-creds/extra" of container "main"; give each mount its own directory');
    expect(() => secrets.mountSecret(gsa, { mountPath: '/var/run/secrets/kubernetes.io/x' }))
      .toThrow('sales/DaemonSet/FloeSecrets: mountPath: "/var/run/secrets/kubernetes.io/x" overlaps /var/run/secrets/kubernetes.io, where Kubernetes mounts the ServiceAccount token; mount the secret elsewhere');

    secrets.mountSecret(gsa, { mountPath: '/etc/gcp' });
    container.mount('/etc/gcp/cache', kplus.Volume.fromEmptyDir(sales, 'Cache', 'cache'));
    expect(synthOrError(sales)).toContain('sales/DaemonSet/FloeSecrets: secret mount "/etc/gcp" overlaps mount "/etc/gcp/cache" of container "main"; give each mount its own directory');
  });

  test('file mode against the user and fsGroup', () => {
    const { sales, gsa, sa } = fixture();
    const noFsGroup = workload(sales, 'Job', { serviceAccount: sa, securityContext: { user: 10001 } });
    expect(() => WorkloadSecrets.of(noFsGroup).mountSecret(gsa)).toThrow(
      'sales/Job/FloeSecrets: workload sales/Job sets no fsGroup, which leaves secret files owned by root:root with mode 0400, which container "main" (user 10001) cannot read; ' +
        'give the workload securityContext: { fsGroup: <the container\'s group> }, e.g. 26000, or run the container as root (user: 0; not recommended)',
    );
    const imageUser = workload(sales, 'Pod', { serviceAccount: sa, securityContext: {} });
    expect(() => WorkloadSecrets.of(imageUser).mountSecret(gsa)).toThrow('which container "main" (the image\'s user) cannot read');

    const root = workload(sales, 'CronJob', {
      serviceAccount: sa,
      securityContext: { ensureNonRoot: false },
      containers: [{ image: 'a:1', securityContext: { user: 0, ensureNonRoot: false } }],
    });
    const rootSecrets = new WorkloadSecrets(sales, 'Root', { workload: root, fileMode: 0o600 }).mountSecret(gsa);
    expect(rootSecrets.fileModeDescription).toBe('0600 root:0');

    const dep = workload(sales, 'Deployment', { serviceAccount: sa });
    expect(() => new WorkloadSecrets(sales, 'Open', { workload: dep, fileMode: 0o644 }))
      .toThrow('sales/Open: fileMode: 0644 gives other users access to secret files; clear the last octal digit, e.g. 0640; the container reads the files through its group');
    const secrets = new WorkloadSecrets(sales, 'Tight', { workload: dep, fileMode: 0o600 }).mountSecret(gsa);
    expect(secrets.effectiveFileMode).toBe(0o640);
    expect(find(synth(sales), 'Deployment', 'deployment').metadata.annotations[SECRET_FILE_MODE_ANNOTATION]).toBe('0640 root:26000');
  });
});

describe('WorkloadSecrets reload semantics', () => {
  test.each(LONG_RUNNING)('%s reading an Infisical-managed Secret carries the auto-reload annotation on its own metadata', (kind) => {
    const { sales, sa } = fixture();
    const app = workload(sales, kind, { serviceAccount: sa });
    const secrets = WorkloadSecrets.of(app).addSecretEnvFrom(infisicalManagedSecret(sales));
    const manifest = find(synth(sales), kind, kind.toLowerCase());
    expect(secrets.autoReload).toBe(true);
    expect(manifest.metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBe('true');
    expect(manifest.spec.template.metadata.annotations?.[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();
  });

  test('autoReload: false leaves it out; a Secret created outside the app never adds it', () => {
    const { sales, db, sa } = fixture();
    const off = workload(sales, 'Deployment', { serviceAccount: sa });
    new WorkloadSecrets(sales, 'Off', { workload: off, autoReload: false }).addSecretEnvFrom(infisicalManagedSecret(sales));
    const plain = workload(sales, 'StatefulSet', { serviceAccount: sa });
    WorkloadSecrets.of(plain).addSecretEnv(SecretReference.fromSecret(db, 'user'));
    const manifests = synth(sales);
    expect(find(manifests, 'Deployment', 'deployment').metadata.annotations?.[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();
    expect(find(manifests, 'StatefulSet', 'statefulset').metadata.annotations?.[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();
  });

  test.each(RUN_ONCE)('%s never carries it: not for a managed Secret, refused as a prop and at synth', (kind) => {
    const { sales, sa } = fixture();
    const app = workload(sales, kind, { serviceAccount: sa });
    expect(() => new WorkloadSecrets(sales, 'Reload', { workload: app, autoReload: true })).toThrow(
      `sales/Reload: autoReload is true, but the operator ignores ${INFISICAL_AUTO_RELOAD_ANNOTATION} on a ${kind}; leave it out: the next pod reads the current Secret and mounted files refresh in place`,
    );
    const secrets = WorkloadSecrets.of(app).addSecretEnvFrom(infisicalManagedSecret(sales));
    expect(secrets.autoReload).toBe(false);
    expect(find(synth(sales), kind, kind.toLowerCase()).metadata.annotations?.[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();

    app.metadata.addAnnotation(INFISICAL_AUTO_RELOAD_ANNOTATION, 'true');
    expect(synthOrError(sales)).toContain(
      `sales/${kind}/FloeSecrets: ${kind} sales/${kind} has annotation ${INFISICAL_AUTO_RELOAD_ANNOTATION}="true", which the operator ignores on Jobs, CronJobs and Pods; remove it`,
    );
  });
});

describe('WorkloadSecrets rotation deadlines (REQ-138)', () => {
  test.each(['Job', 'CronJob'] as Kind[])('%s reading a secret that rotates every hour must finish within the hour', (kind) => {
    // GIVEN a secret that rotates every hour
    const { sales, sa } = fixture();
    const managed = infisicalManagedSecret(sales, { rotationPeriod: '1h' });

    // WHEN the team's workloads read it with a deadline over the period, with none, and within it
    const tooLong = workload(sales, kind, { serviceAccount: sa, metadata: { name: 'too-long' }, activeDeadline: Duration.hours(2) }, 'TooLong');
    const none = workload(sales, kind, { serviceAccount: sa, metadata: { name: 'none' } }, 'None');
    const fits = workload(sales, kind, { serviceAccount: sa, metadata: { name: 'fits' }, activeDeadline: Duration.hours(1) }, 'Fits');
    for (const app of [tooLong, none, fits]) WorkloadSecrets.of(app).addSecretEnvFrom(managed);

    // THEN synth names the two offenders and the fix, in cdk8s-plus terms
    const error = synthOrError(sales);
    expect(error).toContain(
      'sales/TooLong/FloeSecrets: secret "api-token" rotates every 1h (sales/Src), but activeDeadline is Duration.seconds(7200), so a run could outlive the credential; ' +
        'set activeDeadline to at most Duration.seconds(3600) so that every run completes before the secret expires',
    );
    expect(error).toContain(
      'sales/None/FloeSecrets: secret "api-token" rotates every 1h (sales/Src), but this workload has no activeDeadline, so a run could outlive the credential; ' +
        'set activeDeadline to at most Duration.seconds(3600) so that every run completes before the secret expires',
    );
    expect(error).not.toContain('sales/Fits');
  });

  test('a Job and a CronJob within the period synthesize; their deadline is read as rendered, escape hatch included', () => {
    const { sales, sa } = fixture();
    const managed = infisicalManagedSecret(sales, { rotationPeriod: '1h' });
    const job = workload(sales, 'Job', { serviceAccount: sa, activeDeadline: Duration.minutes(30) });
    const cron = workload(sales, 'CronJob', { serviceAccount: sa });
    ApiObject.of(cron).addJsonPatch(JsonPatch.add('/spec/jobTemplate/spec/activeDeadlineSeconds', 3600));
    WorkloadSecrets.of(job).mountSecret(managed);
    WorkloadSecrets.of(cron).addSecretEnv(SecretReference.fromSecret(managed, 'TOKEN'));

    const manifests = synth(sales);
    expect(find(manifests, 'Job', 'job').spec.activeDeadlineSeconds).toBe(1800);
    expect(find(manifests, 'CronJob', 'cronjob').spec.jobTemplate.spec.activeDeadlineSeconds).toBe(3600);
  });

  test('the check renders the workload only when it reads a rotating secret, and changes nothing', () => {
    // GIVEN a Job reading a rotating managed secret, and one reading a Secret made with kubectl
    const { sales, env, sa } = fixture();
    const rotating = infisicalManagedSecret(sales, { rotationPeriod: '1h' });
    const plain = workload(sales, 'Job', { serviceAccount: sa, metadata: { name: 'plain' } }, 'Plain');
    const checked = workload(sales, 'Job', { serviceAccount: sa, metadata: { name: 'checked' }, activeDeadline: Duration.hours(1) }, 'Checked');
    WorkloadSecrets.of(plain).addSecretEnvFrom(env);
    WorkloadSecrets.of(checked).addSecretEnvFrom(rotating);
    const plainRender = jest.spyOn(ApiObject.of(plain), 'toJson');
    const checkedRender = jest.spyOn(ApiObject.of(checked), 'toJson');

    // WHEN synthesized twice
    const first = synth(sales);
    const second = synth(sales);

    // THEN the rotating one is rendered once more per synth (the check), the other once, and the output is stable
    expect(plainRender).toHaveBeenCalledTimes(2);
    expect(checkedRender).toHaveBeenCalledTimes(4);
    expect(second).toEqual(first);
  });

  test('a workload that fails to render reports that, not a missing deadline', () => {
    const { sales, sa } = fixture();
    const cron = workload(sales, 'CronJob', { serviceAccount: sa });
    WorkloadSecrets.of(cron).addSecretEnvFrom(infisicalManagedSecret(sales, { rotationPeriod: '1h' }));
    ApiObject.of(cron).addJsonPatch(JsonPatch.replace('/spec/missing/field', 1));
    const error = errorOf(() => (sales.node.root as App).synth());
    expect(error).toMatch(/sales\/CronJob\/Resource: CronJob "cronjob" cannot be rendered \(Failed serializing construct at path 'sales\/CronJob\/Resource'.*; no file of this app was written/);
    expect(error).not.toContain('activeDeadline');
  });

  test.each(LONG_RUNNING)('a %s is not checked: it runs until replaced, and the operator restarts it', (kind) => {
    const { sales, sa } = fixture();
    WorkloadSecrets.of(workload(sales, kind, { serviceAccount: sa })).addSecretEnvFrom(infisicalManagedSecret(sales, { rotationPeriod: '1h' }));
    expect(synthOrError(sales)).toBeUndefined();
  });
});

describe('WorkloadSecrets source annotation', () => {
  test.each(KINDS)('%s reading a managed secret shows its source on its own metadata, never in the pod template', (kind) => {
    // GIVEN
    const { sales, db, sa } = fixture();
    const app = workload(sales, kind, { serviceAccount: sa, activeDeadline: Duration.hours(1) });

    // WHEN it reads a managed secret (rotating hourly) and one made with kubectl
    WorkloadSecrets.of(app)
      .addSecretEnv(SecretReference.fromSecret(db, 'user'))
      .addSecretEnvFrom(infisicalManagedSecret(sales, { rotationPeriod: '1h' }));

    // THEN
    const manifest = find(synth(sales), kind, kind.toLowerCase());
    expect(JSON.parse(manifest.metadata.annotations[SECRET_SOURCES_ANNOTATION])).toEqual({
      'api-token': { kind: 'infisical', source: 'sales/Src', refreshInterval: '60s', rotationPeriod: '1h' },
    });
    const template = kind === 'Pod' ? manifest.spec : kind === 'CronJob' ? manifest.spec.jobTemplate.spec.template : manifest.spec.template;
    expect(JSON.stringify(template)).not.toContain(SECRET_SOURCES_ANNOTATION);
  });

  test('the annotation follows secrets read after construction', () => {
    const { sales, sa } = fixture();
    const secrets = WorkloadSecrets.of(workload(sales, 'StatefulSet', { serviceAccount: sa }));
    expect(find(synth(sales), 'StatefulSet', 'statefulset').metadata.annotations).toBeUndefined();
    secrets.mountSecret(infisicalManagedSecret(sales));
    expect(JSON.parse(find(synth(sales), 'StatefulSet', 'statefulset').metadata.annotations[SECRET_SOURCES_ANNOTATION])).toEqual({
      'api-token': { kind: 'infisical', source: 'sales/Src', refreshInterval: '60s' },
    });
  });

  test('a workload reading only Secrets made with kubectl gets no annotation, not even an empty one', () => {
    const { sales, db, env, sa } = fixture();
    const app = workload(sales, 'Deployment', { serviceAccount: sa });
    WorkloadSecrets.of(app).addSecretEnv(SecretReference.fromSecret(db, 'user')).addSecretEnvFrom(env);
    const manifest = find(synth(sales), 'Deployment', 'deployment');
    expect(manifest.metadata.annotations).toBeUndefined();
    expect(JSON.stringify(manifest)).not.toContain(SECRET_SOURCES_ANNOTATION);
  });
});

describe('interop with cdk8s-plus', () => {
  test('a FloeSecret is a kplus.ISecret: Volume.fromSecret, Env.fromSecret and EnvValue.fromSecretValue render references to it', () => {
    // GIVEN
    const { sales, db, gsa, env, sa } = fixture();
    const app = workload(sales, 'Deployment', { serviceAccount: sa });
    const container = app.containers[0];

    // WHEN: used the cdk8s-plus way (no grant: the Role needs WorkloadSecrets)
    container.mount('/etc/gcp', kplus.Volume.fromSecret(sales, 'GsaVolume', gsa, { defaultMode: 0o400 }));
    container.env.copyFrom(kplus.Env.fromSecret(env));
    container.env.addVariable('DB_USER', kplus.EnvValue.fromSecretValue({ secret: db, key: 'user' }));
    container.env.addVariable('DB_PASSWORD', db.envValue('password'));
    container.env.addVariable('DB_PASSWORD2', SecretReference.fromSecret(db, 'password').toEnvValue());

    // THEN
    const pod = podOf(find(synth(sales), 'Deployment', 'deployment'));
    expect(pod.volumes).toEqual([{ name: 'secret-google-sa', secret: { secretName: 'google-sa', defaultMode: 0o400 } }]);
    expect(pod.containers[0].envFrom).toEqual([{ secretRef: { name: 'api-env' } }]);
    expect(pod.containers[0].env.slice(1)).toEqual([
      { name: 'DB_USER', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'user' } } },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } },
      { name: 'DB_PASSWORD2', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } },
    ]);
    expect([db.kind, db.apiVersion, db.apiGroup, db.resourceType, db.name, db.resourceName]).toEqual(['Secret', 'v1', '', 'secrets', 'db-creds', 'db-creds']);
  });

  test('a FloeServiceAccount is a kplus.IServiceAccount and the Role is bound to it', () => {
    const { sales, db, sa } = fixture();
    const app = new kplus.Job(sales, 'Job', { serviceAccount: sa, securityContext: { fsGroup: 1 }, containers: [{ image: 'a:1' }] });
    const secrets = WorkloadSecrets.of(app).addSecretEnv(SecretReference.fromSecret(db, 'user'));
    expect(secrets.serviceAccount).toBe(sa);
    expect(sa.toSubjectConfiguration()).toEqual({ kind: 'ServiceAccount', name: 'app', namespace: 'floe-sales' });
    expect(find(synth(sales), 'RoleBinding', 'app-secret-reader').subjects).toEqual([{ kind: 'ServiceAccount', name: 'app', namespace: 'floe-sales' }]);
  });

  test('SecretReference.toEnvValue needs a declared secret', () => {
    expect(() => SecretReference.fromNames('db-creds', 'password').toEnvValue())
      .toThrow('reference: db-creds/password was made with SecretReference.fromNames and names no declared secret, which a cdk8s-plus env value needs; make it with SecretReference.fromSecret(secret, key)');
  });
});

/** The message of what `build` throws. */
function errorOf(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

/** The synth error of `chart`, or undefined when it synthesizes. */
function synthOrError(chart: FloeDomain): string | undefined {
  try {
    synth(chart);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
