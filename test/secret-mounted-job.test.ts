import { ApiObject, Cron, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { FloeSecret, INFISICAL_AUTO_RELOAD_ANNOTATION, SecretMountedJob, SecretReference } from '../src';
import { domains, find, podSpec, synth } from './util';
import { canonicalQuantity } from '../src/internal/workload-spec';

function salesWithSecrets() {
  const { app, domains: [sales, marketing] } = domains('sales', 'marketing');
  const db = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['user', 'password'] });
  const api = FloeSecret.fromSecretName(sales, 'Api', 'api', { keys: ['API_TOKEN', 'API_URL'] });
  const gsa = FloeSecret.fromSecretName(sales, 'Gsa', 'google-sa', { keys: ['key.json', 'project'] });
  const unused = FloeSecret.fromSecretName(sales, 'Unused', 'unused', { keys: ['x'] });
  return { app, sales, marketing, db, api, gsa, unused };
}

describe('SecretMountedJob', () => {
  test('wires env, envFrom and files, and grants get on exactly the secrets the job uses', () => {
    // GIVEN
    const { sales, db, api, gsa } = salesWithSecrets();

    // WHEN
    const job = new SecretMountedJob(sales, 'Load', {
      name: 'load',
      image: 'loader:1',
      env: { LOG_LEVEL: 'info' },
      secretEnv: [SecretReference.fromSecret(db, 'password')],
      secretEnvFrom: [api],
      secretFiles: [{ secret: gsa, keys: ['key.json'] }],
    });

    // THEN
    const manifests = synth(sales);
    const pod = podSpec(find(manifests, 'Job', 'load'));
    const container = pod.containers[0];
    expect(container.env).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'FLOE_SECRET_DB_CREDS_PASSWORD', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'password' } } },
    ]);
    expect(container.envFrom).toEqual([{ secretRef: { name: 'api' } }]);
    expect(container.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'secret-google-sa', mountPath: '/run/secrets/google-sa', readOnly: true },
    ]);
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'secret-google-sa', secret: { secretName: 'google-sa', defaultMode: 0o400, items: [{ key: 'key.json', path: 'key.json' }] } },
    ]);
    expect(JSON.stringify(manifests)).not.toContain('subPath');

    expect(find(manifests, 'Role', 'load-secret-reader').rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['api', 'db-creds', 'google-sa'] },
    ]);
    expect(job.secretNames).toEqual(['api', 'db-creds', 'google-sa']);
    expect(job.envVarNames).toEqual(['API_TOKEN', 'API_URL', 'FLOE_SECRET_DB_CREDS_PASSWORD', 'LOG_LEVEL']);
    expect(manifests).toMatchSnapshot();
  });

  test('runs as its own ServiceAccount with no API token, non-root, read-only root filesystem', () => {
    const { sales, db } = salesWithSecrets();
    new SecretMountedJob(sales, 'Load', { name: 'load', image: 'loader:1', secretEnv: [SecretReference.fromSecret(db, 'user')] });
    const manifests = synth(sales);
    const pod = podSpec(find(manifests, 'Job', 'load'));
    expect(find(manifests, 'ServiceAccount', 'load').automountServiceAccountToken).toBe(false);
    expect(pod.serviceAccountName).toBe('load');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(find(manifests, 'RoleBinding', 'load-secret-reader').subjects).toEqual([{ kind: 'ServiceAccount', name: 'load', namespace: 'floe-sales' }]);
  });

  test('automountServiceAccountToken can be turned on for workloads that call the API', () => {
    const { sales, db } = salesWithSecrets();
    new SecretMountedJob(sales, 'Load', { name: 'load', image: 'loader:1', automountServiceAccountToken: true, secretEnv: [SecretReference.fromSecret(db, 'user')] });
    expect(podSpec(find(synth(sales), 'Job', 'load')).automountServiceAccountToken).toBe(true);
  });

  test('a schedule makes it a CronJob that forbids overlapping runs', () => {
    const { sales, db } = salesWithSecrets();
    new SecretMountedJob(sales, 'Nightly', {
      name: 'nightly',
      image: 'loader:1',
      schedule: Cron.daily(),
      secretEnv: [SecretReference.fromSecret(db, 'user')],
      activeDeadlineSeconds: 600,
    });
    const manifests = synth(sales);
    const cron = find(manifests, 'CronJob', 'nightly');
    expect(cron.apiVersion).toBe('batch/v1');
    expect(cron.spec.schedule).toBe('0 0 * * *');
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    expect(cron.spec.jobTemplate.spec.activeDeadlineSeconds).toBe(600);
    expect(podSpec(cron).containers[0].env[0].valueFrom.secretKeyRef).toEqual({ name: 'db-creds', key: 'user' });
    expect(manifests.filter((m) => m.kind === 'Job')).toEqual([]);
    expect(manifests).toMatchSnapshot();
  });

  describe('file permissions', () => {
    test('default 0400 becomes 0440 root:<fsGroup>, stated on the Job (not its pod template) for reviewers', () => {
      const { sales, gsa } = salesWithSecrets();
      const job = new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', secretFiles: [{ secret: gsa }] });
      expect(job.fileMode).toBe(0o400);
      expect(job.effectiveFileMode).toBe(0o440);
      expect(job.fileModeDescription).toBe('0440 root:10001');
      const manifest = find(synth(sales), 'Job', 'load');
      expect(manifest.metadata.annotations).toEqual({ 'floe.dev/secret-file-mode': '0440 root:10001' });
      expect(manifest.spec.template.metadata.annotations).toBeUndefined();
      expect(manifest.spec.template.spec.volumes.find((v: any) => v.secret).secret.defaultMode).toBe(0o400);
    });

    test('a job that mounts no secret files states no file mode', () => {
      const { sales, db } = salesWithSecrets();
      new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', secretEnv: [SecretReference.fromSecret(db, 'user')] });
      expect(find(synth(sales), 'Job', 'load').metadata.annotations).toBeUndefined();
    });

    test('mode, user and groups are configurable; the kubelet adds group read under fsGroup', () => {
      const { sales, gsa } = salesWithSecrets();
      const job = new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', fileMode: 0o600, runAsUser: 2000, runAsGroup: 3000, fsGroup: 4000, secretFiles: [{ secret: gsa }] });
      expect(job.effectiveFileMode).toBe(0o640);
      expect(job.fileModeDescription).toBe('0640 root:4000');
      expect(podSpec(find(synth(sales), 'Job', 'load')).securityContext).toEqual({ runAsNonRoot: true, runAsUser: 2000, runAsGroup: 3000, fsGroup: 4000, seccompProfile: { type: 'RuntimeDefault' } });
    });

    test('root without fsGroup keeps the literal mode 0600 of REQ-137', () => {
      const { sales, gsa } = salesWithSecrets();
      const job = new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', fileMode: 0o600, runAsUser: 0, fsGroup: null, secretFiles: [{ secret: gsa }] });
      expect(job.effectiveFileMode).toBe(0o600);
      expect(job.fileModeDescription).toBe('0600 root:0');
      expect(podSpec(find(synth(sales), 'Job', 'load')).securityContext).toEqual({ runAsNonRoot: false, runAsUser: 0, runAsGroup: 0, seccompProfile: { type: 'RuntimeDefault' } });
    });

    test('no fsGroup for a non-root user would leave the files unreadable', () => {
      const { sales } = salesWithSecrets();
      expect(() => new SecretMountedJob(sales, 'Load', { image: 'i', fsGroup: null })).toThrow(
        'sales/Load: fsGroup null leaves secret files owned by root:root with mode 0400, which user 10001 cannot read; keep the default fsGroup (the container group), or run as root (runAsUser: 0)',
      );
    });

    test.each([
      [0o644, /^sales\/Load: fileMode: 0644 gives other users access to secret files; clear the last octal digit, e.g. 0640/],
      [0o004, /fileMode: 0004 gives other users access/],
      [0o1000, /fileMode: 512 is not a file mode/],
    ])('fileMode %o is rejected', (fileMode, message) => {
      const { sales } = salesWithSecrets();
      expect(() => new SecretMountedJob(sales, 'Load', { image: 'i', fileMode })).toThrow(message);
      expect(sales.node.tryFindChild('Load')).toBeUndefined();
    });
  });

  describe('bad input', () => {
    test('a secret of another domain, naming both domains', () => {
      const { marketing, db } = salesWithSecrets();
      expect(() => new SecretMountedJob(marketing, 'Sync', { image: 'i', secretEnv: [SecretReference.fromSecret(db, 'user')] })).toThrow(
        /^marketing\/Sync: secret "db-creds" belongs to domain "sales" \(namespace floe-sales\), but this construct is in domain "marketing"/,
      );
    });

    test('references made from names only cannot be wired: the job could not grant or check them', () => {
      const { sales } = salesWithSecrets();
      expect(() => new SecretMountedJob(sales, 'Load', { image: 'i', secretEnv: [SecretReference.fromNames('db-creds', 'user')] })).toThrow(
        /^sales\/Load: reference db-creds\/user names no declared secret; make the reference with SecretReference.fromSecret/,
      );
    });

    test('two references that map to one env var name', () => {
      // GIVEN two secrets whose names differ only in a character that maps to _
      const { sales } = salesWithSecrets();
      const dotted = FloeSecret.fromSecretName(sales, 'Dotted', 'etl.creds', { keys: ['password'] });
      const dashed = FloeSecret.fromSecretName(sales, 'Dashed', 'etl-creds', { keys: ['password'] });
      const job = new SecretMountedJob(sales, 'Load', { image: 'i', secretEnv: [SecretReference.fromSecret(dotted, 'password')] });

      // WHEN / THEN
      expect(() => job.addSecretEnv(SecretReference.fromSecret(dashed, 'password'))).toThrow(
        'sales/Load: env var "FLOE_SECRET_ETL_CREDS_PASSWORD" is set by both secret key etl.creds/password and secret key etl-creds/password; give one of them another env var name',
      );
      expect(() => job.addSecretEnv(SecretReference.fromSecret(dashed, 'password'), { name: 'ETL_PASSWORD' })).not.toThrow();
    });

    test('an envFrom key that collides with an env var', () => {
      const { sales, api } = salesWithSecrets();
      expect(() => new SecretMountedJob(sales, 'Load', { image: 'i', env: { API_URL: 'x' }, secretEnvFrom: [api] })).toThrow(
        'sales/Load: env var "API_URL" is set by both env "API_URL" and envFrom secret "api"; give one of them another env var name',
      );
    });

    test('an envFrom key that is not an env var name, which Kubernetes would silently skip', () => {
      const { sales, gsa } = salesWithSecrets();
      expect(() => new SecretMountedJob(sales, 'Load', { image: 'i', secretEnvFrom: [gsa] })).toThrow(
        /^sales\/Load: key "key.json" of secret "google-sa" is not a valid env var name, so envFrom would silently skip it; mount the secret as files/,
      );
    });

    test('an explicit env var name that is not a C identifier', () => {
      const { sales, db } = salesWithSecrets();
      const job = new SecretMountedJob(sales, 'Load', { image: 'i' });
      expect(() => job.addSecretEnv(SecretReference.fromSecret(db, 'user'), { name: '1USER' })).toThrow(/env var name "1USER" is not a C identifier/);
    });

    test('two mounts at one path, or one inside another', () => {
      const { sales, gsa, db } = salesWithSecrets();
      const job = new SecretMountedJob(sales, 'Load', { image: 'i', secretFiles: [{ secret: gsa, mountPath: '/etc/creds' }] });
      expect(() => job.mountSecret(db, { mountPath: '/etc/creds' })).toThrow(
        'sales/Load: mount path "/etc/creds" overlaps mount "/etc/creds"; give each mount its own directory',
      );
      expect(() => job.mountSecret(db, { mountPath: '/etc/creds/db' })).toThrow(/mount path "\/etc\/creds\/db" overlaps mount "\/etc\/creds"/);
      expect(() => job.mountSecret(gsa)).not.toThrow();
      expect(() => job.mountSecret(gsa)).toThrow(/mount path "\/run\/secrets\/google-sa" overlaps/);
    });

    test('a refused call grants nothing: the Role names only the secrets the job wires', () => {
      const { sales, api, db, gsa } = salesWithSecrets();
      const job = new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', env: { TAKEN: 'x' }, secretFiles: [{ secret: gsa, mountPath: '/etc/creds' }] });
      expect(() => job.addSecretEnv(SecretReference.fromSecret(db, 'user'), { name: 'TAKEN' })).toThrow(/env var "TAKEN" is set by both/);
      expect(() => job.mountSecret(db, { mountPath: '/etc/creds/db' })).toThrow(/overlaps mount "\/etc\/creds"/);
      const clashing = FloeSecret.fromSecretName(sales, 'Clash', 'clash', { keys: ['TAKEN'] });
      expect(() => job.addSecretEnvFrom(clashing)).toThrow(/env var "TAKEN" is set by both/);
      expect(() => job.addSecretEnvFrom(api)).not.toThrow();

      expect(job.secretNames).toEqual(['api', 'google-sa']);
      expect(find(synth(sales), 'Role', 'load-secret-reader').rules).toEqual([
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['api', 'google-sa'] },
      ]);
    });

    test('a mount path over the ServiceAccount token', () => {
      const { sales, gsa } = salesWithSecrets();
      expect(() => new SecretMountedJob(sales, 'Load', { image: 'i', secretFiles: [{ secret: gsa, mountPath: '/var/run/secrets' }] })).toThrow(
        /^sales\/Load: mountPath: "\/var\/run\/secrets" overlaps \/var\/run\/secrets\/kubernetes.io/,
      );
    });

    test('a file key the secret does not declare', () => {
      const { sales, gsa } = salesWithSecrets();
      expect(() => new SecretMountedJob(sales, 'Load', { image: 'i', secretFiles: [{ secret: gsa, keys: ['key.jsn'] }] })).toThrow(
        /^sales\/Load: key "key.jsn" is not declared on secret "google-sa" \(declared: key.json, project\)/,
      );
    });

    test.each([
      [{ name: 'Load' }, /^sales\/Load: name "Load" is not a DNS-1123 label/],
      [{ name: 'x'.repeat(64) }, /64 characters long \(at most 63\).*at most 63 characters for a Job/],
      [{ name: 'x'.repeat(53), schedule: Cron.daily() }, /53 characters long \(at most 52\).*at most 52 characters for a CronJob/],
      [{ image: ' ' }, /^sales\/Load: image is empty; give the container image/],
      [{ backoffLimit: -1 }, /backoffLimit -1 is not a non-negative integer/],
      [{ activeDeadlineSeconds: 0 }, /activeDeadlineSeconds 0 is not a positive integer/],
      [{ ttlSecondsAfterFinished: 1.5 }, /ttlSecondsAfterFinished 1.5 is not a non-negative integer/],
      [{ runAsUser: -5 }, /runAsUser -5 is not a non-negative integer id/],
    ])('props %j are rejected', (extra, message) => {
      const { sales } = salesWithSecrets();
      expect(() => new SecretMountedJob(sales, 'Load', { image: 'i', ...extra })).toThrow(message);
    });

    test.each<[string, unknown, RegExp]>([
      ['fileMode', NaN, /^sales\/Load: fileMode: NaN is not a file mode \(an integer from 0 to 0o777\); pass an octal literal such as 0o400$/],
      ['fileMode', Infinity, /^sales\/Load: fileMode: Infinity is not a file mode/],
      ['runAsUser', NaN, /^sales\/Load: runAsUser NaN is not a non-negative integer id; pass a numeric id for runAsUser$/],
      ['runAsGroup', Infinity, /^sales\/Load: runAsGroup Infinity is not a non-negative integer id/],
      ['fsGroup', -Infinity, /^sales\/Load: fsGroup -Infinity is not a non-negative integer id/],
      ['backoffLimit', NaN, /^sales\/Load: backoffLimit NaN is not a non-negative integer/],
      ['activeDeadlineSeconds', Infinity, /^sales\/Load: activeDeadlineSeconds Infinity is not a positive integer/],
    ])('%s %p is reported as itself, not as "null"', (field, value, message) => {
      const { sales } = salesWithSecrets();
      let error: Error | undefined;
      try {
        new SecretMountedJob(sales, 'Load', { image: 'i', [field]: value });
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain('null');
      expect(sales.node.tryFindChild('Load')).toBeUndefined();
    });

    test.each([
      ['', /^sales\/Load: env var name "" is empty; rename it, e.g. "LOG_LEVEL"$/],
      [' ', /^sales\/Load: env var name " " is not a name Kubernetes accepts for an env var \(letters, digits, "_", "-" and ".", not starting with a digit; no spaces\); rename it/],
      ['LOG LEVEL', /env var name "LOG LEVEL" is not a name Kubernetes accepts/],
      ['LOG_LEVEL ', /env var name "LOG_LEVEL " is not a name Kubernetes accepts/],
      ['1ST', /env var name "1ST" is not a name Kubernetes accepts/],
      ['A=B', /env var name "A=B" is not a name Kubernetes accepts/],
      ['NAÏVE', /env var name "NAÏVE" is not a name Kubernetes accepts/],
    ])('a plain env var named %j is refused before the apiserver sees it', (name, message) => {
      const { sales } = salesWithSecrets();
      expect(() => new SecretMountedJob(sales, 'Load', { image: 'i', env: { [name]: 'x' } })).toThrow(message);
      expect(sales.node.tryFindChild('Load')).toBeUndefined();
    });

    test('plain env var names the apiserver accepts, dots and dashes included, are kept', () => {
      const { sales } = salesWithSecrets();
      new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', env: { 'LOG_LEVEL': 'info', 'spring.profiles.active': 'prod', '_x-y': '1' } });
      expect(podSpec(find(synth(sales), 'Job', 'load')).containers[0].env).toEqual([
        { name: 'LOG_LEVEL', value: 'info' }, { name: 'spring.profiles.active', value: 'prod' }, { name: '_x-y', value: '1' },
      ]);
    });

    test.each<[string, unknown, RegExp]>([
      ['no props', undefined, /^sales\/Load: props must be an object, got undefined; pass the props, e.g. \{ image: 'ghcr.io\/acme\/loader:1.4.2' \}$/],
      ['empty props', {}, /^sales\/Load: image is missing \(expected a string\); give the container image/],
      ['args as a string', { image: 'i', args: 'build' }, /^sales\/Load: args must be a list, got a string/],
      ['a number as env value', { image: 'i', env: { PORT: 8080 } }, /^sales\/Load: env\["PORT"\] must be a string, got number 8080/],
      ['a string as fileMode', { image: 'i', fileMode: '0400' }, /^sales\/Load: fileMode must be a number, got a string/],
      ['a cron string as schedule', { image: 'i', schedule: '0 2 * * *' }, /^sales\/Load: schedule must be a cdk8s Cron, got a string; use Cron.schedule/],
      ['a secretEnv entry that is a string', { image: 'i', secretEnv: ['db-creds/password'] }, /^sales\/Load: a secret env entry must be a SecretReference, got a string; make it with SecretReference.fromSecret/],
      ['a secretEnvFrom entry that is a name', { image: 'i', secretEnvFrom: ['db-creds'] }, /^sales\/Load: a secretEnvFrom entry must be a declared secret \(an IFloeSecret\), got a string/],
      ['a secretFiles entry without secret', { image: 'i', secretFiles: [{ mountPath: '/x' }] }, /^sales\/Load: a secret file mount must be a declared secret \(an IFloeSecret\), got undefined/],
    ])('untyped JavaScript input: %s is a clear error', (_what, props, message) => {
      const { sales } = salesWithSecrets();
      expect(() => new SecretMountedJob(sales, 'Load', props as any)).toThrow(message);
    });

    test('two jobs with one name in a domain', () => {
      const { sales } = salesWithSecrets();
      new SecretMountedJob(sales, 'A', { name: 'load', image: 'i' });
      expect(() => new SecretMountedJob(sales, 'B', { name: 'load', image: 'i' })).toThrow(/^sales\/B: Job name "load" is already used in namespace floe-sales by sales\/A/);
    });
  });

  describe('reload semantics', () => {
    test('never carries the operator auto-reload annotation', () => {
      const { sales, db } = salesWithSecrets();
      new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', secretEnv: [SecretReference.fromSecret(db, 'user')] });
      expect(JSON.stringify(synth(sales))).not.toContain(INFISICAL_AUTO_RELOAD_ANNOTATION);
    });

    test('adding it to the Job through the escape hatch fails synth', () => {
      const { sales, db } = salesWithSecrets();
      const job = new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', secretEnv: [SecretReference.fromSecret(db, 'user')] });
      ApiObject.of(job).metadata.addAnnotation(INFISICAL_AUTO_RELOAD_ANNOTATION, 'true');
      expect(() => synth(sales)).toThrow(/sales\/Load: has annotation secrets.infisical.com\/auto-reload="true", which the operator ignores on Jobs and CronJobs; remove it/);
    });

    test('adding it to the pod template is refused at once', () => {
      const { sales } = salesWithSecrets();
      const job = new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', schedule: Cron.daily() });
      expect(() => job.addPodAnnotation(INFISICAL_AUTO_RELOAD_ANNOTATION, 'true')).toThrow(
        /^sales\/Load: annotation secrets.infisical.com\/auto-reload is ignored by the operator on Jobs and CronJobs; leave it out/,
      );
      expect(() => job.addPodAnnotation('team', 'etl')).not.toThrow();
    });
  });

  test('a job that uses no secret synthesizes no Role', () => {
    const { sales } = salesWithSecrets();
    new SecretMountedJob(sales, 'Plain', { name: 'plain', image: 'i' });
    const manifests = synth(sales);
    expect(manifests.filter((m) => m.kind === 'Role')).toEqual([]);
    const pod = podSpec(find(manifests, 'Job', 'plain'));
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: {} }]);
    expect(pod.containers[0].env).toBeUndefined();
    expect(pod.containers[0].envFrom).toBeUndefined();
  });

  test('same-named volumes from different secrets get distinct names', () => {
    const { sales } = salesWithSecrets();
    const a = FloeSecret.fromSecretName(sales, 'A', 'a.b', { keys: ['k'] });
    const b = FloeSecret.fromSecretName(sales, 'B', 'a-b', { keys: ['k'] });
    new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i', secretFiles: [{ secret: a }, { secret: b }] });
    const names = podSpec(find(synth(sales), 'Job', 'load')).volumes.filter((v: any) => v.secret).map((v: any) => v.name);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
  });
});

describe('complete workloads', () => {
  test('defaults: cdk8s-plus resources, a writable /tmp, app.kubernetes.io labels on Job and pod, a one-day TTL', () => {
    const { sales } = salesWithSecrets();
    const job = new SecretMountedJob(sales, 'Load', { name: 'load', image: 'i' });
    const manifest = find(synth(sales), 'Job', 'load');
    const pod = podSpec(manifest);
    expect(pod.containers[0].resources).toEqual({ requests: { cpu: '1', memory: '512Mi' }, limits: { cpu: '1500m', memory: '2Gi' } });
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.containers[0].workingDir).toBeUndefined();
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    const standard = {
      'app.kubernetes.io/name': 'load',
      'app.kubernetes.io/instance': 'load',
      'app.kubernetes.io/component': 'job',
      'app.kubernetes.io/part-of': 'sales',
      'app.kubernetes.io/managed-by': 'floe-secrets',
    };
    expect(manifest.metadata.labels).toEqual({ ...standard, 'floe.dev/domain': 'sales' });
    expect(manifest.spec.template.metadata.labels).toEqual({ ...standard, 'floe.dev/domain': 'sales', 'floe.dev/workload': 'load' });
    expect(manifest.spec.ttlSecondsAfterFinished).toBe(86400);
    expect(job.writableTmp).toBe(true);
  });

  test('every pod setting can be given', () => {
    const { sales } = salesWithSecrets();
    new SecretMountedJob(sales, 'Load', {
      name: 'load',
      image: 'i',
      resources: { requests: { cpu: k8s.Quantity.fromString('250m') }, limits: { memory: k8s.Quantity.fromString('1Gi') } },
      writableTmp: false,
      workingDir: '/work',
      volumes: [{ volume: { name: 'data', persistentVolumeClaim: { claimName: 'data' } }, mountPath: '/data', readOnly: true }],
      imagePullSecrets: ['ghcr-pull'],
      nodeSelector: { 'kubernetes.io/arch': 'amd64' },
      tolerations: [{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'pool', operator: 'In', values: ['etl'] }] } }] } },
      partOf: 'orders-pipeline',
      labels: { team: 'etl' },
      annotations: { 'example.com/owner': 'etl' },
      podLabels: { 'app.kubernetes.io/version': '1.4.2' },
      podAnnotations: { 'example.com/scrape': 'false' },
      ttlSecondsAfterFinished: null,
    });
    const manifest = find(synth(sales), 'Job', 'load');
    const pod = podSpec(manifest);
    const container = pod.containers[0];
    expect(container.resources).toEqual({ requests: { cpu: '250m' }, limits: { memory: '1Gi' } });
    expect(container.workingDir).toBe('/work');
    expect(container.volumeMounts).toEqual([{ name: 'workdir', mountPath: '/work' }, { name: 'data', mountPath: '/data', readOnly: true }]);
    expect(pod.volumes).toEqual([{ name: 'workdir', emptyDir: {} }, { name: 'data', persistentVolumeClaim: { claimName: 'data' } }]);
    expect(pod.imagePullSecrets).toEqual([{ name: 'ghcr-pull' }]);
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/arch': 'amd64' });
    expect(pod.tolerations).toEqual([{ key: 'batch', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight).toBe(1);
    expect(manifest.metadata.labels).toMatchObject({ 'team': 'etl', 'app.kubernetes.io/part-of': 'orders-pipeline' });
    expect(manifest.metadata.annotations).toEqual({ 'example.com/owner': 'etl' });
    expect(manifest.spec.template.metadata.labels).toMatchObject({ 'app.kubernetes.io/version': '1.4.2', 'app.kubernetes.io/part-of': 'orders-pipeline' });
    expect(manifest.spec.template.metadata.labels.team).toBeUndefined();
    expect(manifest.spec.template.metadata.annotations).toEqual({ 'example.com/scrape': 'false' });
    expect(manifest.spec.ttlSecondsAfterFinished).toBeUndefined();
  });

  test('resources in either form are written as the apiserver stores them (Argo CD sees no diff); {} sets none', () => {
    const { sales } = salesWithSecrets();
    new SecretMountedJob(sales, 'A', { name: 'a', image: 'i', resources: { cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(1000) }, memory: { limit: Size.gibibytes(1) } } });
    new SecretMountedJob(sales, 'B', { name: 'b', image: 'i', resources: {} });
    new SecretMountedJob(sales, 'C', {
      name: 'c',
      image: 'i',
      resources: {
        requests: { cpu: k8s.Quantity.fromString('1000m'), memory: k8s.Quantity.fromString('0.5Gi') },
        limits: { 'cpu': k8s.Quantity.fromNumber(1.5), 'memory': k8s.Quantity.fromString('2048Mi'), 'ephemeral-storage': k8s.Quantity.fromString('4.5m') },
      },
    });
    const manifests = synth(sales);
    expect(podSpec(find(manifests, 'Job', 'a')).containers[0].resources).toEqual({ requests: { cpu: '100m' }, limits: { cpu: '1', memory: '1Gi' } });
    expect(podSpec(find(manifests, 'Job', 'b')).containers[0].resources).toBeUndefined();
    expect(podSpec(find(manifests, 'Job', 'c')).containers[0].resources).toEqual({
      requests: { cpu: '1', memory: '512Mi' },
      limits: { 'cpu': '1500m', 'memory': '2Gi', 'ephemeral-storage': '5m' },
    });
  });

  test.each([
    ['1000m', '1'], ['1500m', '1500m'], ['0.5', '500m'], ['.5', '500m'], ['1.50', '1500m'], ['4.5m', '5m'], ['100n', '1m'], ['90120u', '91m'],
    ['2048Mi', '2Gi'], ['1024Ki', '1Mi'], ['1025Ki', '1025Ki'], ['1.5Ki', '1536'], ['0.3Ki', '307200m'], ['1000M', '1G'], ['3.353k', '3353'],
    ['1e3', '1e3'], ['1.5e3', '1500'], ['12e-1', '1200e-3'], ['0', '0'], ['0.0Gi', '0'], ['5.', '5'],
  ])('the quantity %s is stored by the apiserver as %s', (given, stored) => {
    expect(canonicalQuantity(given)).toBe(stored);
    expect(canonicalQuantity(stored)).toBe(stored);
  });

  test.each(['', '.', 'x', '1x', '-1', '1 Gi', '1e', '1024Ei'])('%j is not rewritten', (given) => {
    expect(canonicalQuantity(given)).toBeUndefined();
  });

  test('a CronJob keeps 3 succeeded and 1 failed Jobs, forbids overlaps, and takes other settings', () => {
    const { sales } = salesWithSecrets();
    new SecretMountedJob(sales, 'A', { name: 'a', image: 'i', schedule: Cron.daily() });
    new SecretMountedJob(sales, 'B', {
      name: 'b',
      image: 'i',
      schedule: Cron.daily(),
      successfulJobsHistoryLimit: 0,
      failedJobsHistoryLimit: 5,
      concurrencyPolicy: kplus.ConcurrencyPolicy.REPLACE,
      startingDeadlineSeconds: 300,
      ttlSecondsAfterFinished: 600,
    });
    const manifests = synth(sales);
    const a = find(manifests, 'CronJob', 'a').spec;
    expect([a.successfulJobsHistoryLimit, a.failedJobsHistoryLimit, a.concurrencyPolicy, a.startingDeadlineSeconds]).toEqual([3, 1, 'Forbid', undefined]);
    expect(a.jobTemplate.spec.ttlSecondsAfterFinished).toBe(86400);
    expect(find(manifests, 'CronJob', 'a').spec.jobTemplate.spec.template.metadata.labels['app.kubernetes.io/component']).toBe('cronjob');
    const b = find(manifests, 'CronJob', 'b').spec;
    expect([b.successfulJobsHistoryLimit, b.failedJobsHistoryLimit, b.concurrencyPolicy, b.startingDeadlineSeconds]).toEqual([0, 5, 'Replace', 300]);
    expect(b.jobTemplate.spec.ttlSecondsAfterFinished).toBe(600);
  });

  test('the /tmp, working directory and extra volume mounts take part in the mount-path checks', () => {
    const { sales, gsa } = salesWithSecrets();
    expect(() => new SecretMountedJob(sales, 'A', { image: 'i', secretFiles: [{ secret: gsa, mountPath: '/tmp/creds' }] })).toThrow(
      'sales/A: mount path "/tmp/creds" overlaps mount "/tmp"; give each mount its own directory',
    );
    expect(() => new SecretMountedJob(sales, 'B', { image: 'i', workingDir: '/tmp/work' })).toThrow(/^sales\/B: mount path "\/tmp\/work" overlaps mount "\/tmp"/);
    expect(() => new SecretMountedJob(sales, 'C', { image: 'i', writableTmp: false, workingDir: '/tmp/work' })).not.toThrow();
    const job = new SecretMountedJob(sales, 'D', { image: 'i', volumes: [{ volume: { name: 'cache', emptyDir: {} }, mountPath: '/cache' }] });
    expect(() => job.mountSecret(gsa, { mountPath: '/cache/gsa' })).toThrow(/^sales\/D: mount path "\/cache\/gsa" overlaps mount "\/cache"/);
    expect(() => new SecretMountedJob(sales, 'E', { image: 'i', volumes: [{ volume: { name: 'tmp', emptyDir: {} }, mountPath: '/scratch' }] })).toThrow(
      'sales/E: volume name "tmp" is already used by this workload; give the volume another name',
    );
  });

  test.each<[string, object, RegExp]>([
    ['a request over its limit', { resources: { requests: { memory: k8s.Quantity.fromString('2Gi') }, limits: { memory: k8s.Quantity.fromString('1Gi') } } },
      /^sales\/Load: resources request memory "2Gi" is more than its limit "1Gi", which the apiserver refuses; lower the request or raise the limit of memory$/],
    ['a cdk8s-plus request over its limit', { resources: { cpu: { request: kplus.Cpu.units(2), limit: kplus.Cpu.millis(500) } } }, /resources request cpu "2" is more than its limit "500m"/],
    ['a request over its limit, named as given', { resources: { requests: { cpu: k8s.Quantity.fromString('2000m') }, limits: { cpu: k8s.Quantity.fromString('0.5') } } },
      /resources request cpu "2000m" is more than its limit "0.5"/],
    ['a quantity the apiserver refuses', { resources: { limits: { cpu: k8s.Quantity.fromString('1 core') } } }, /^sales\/Load: resources.limits.cpu "1 core" is not a Kubernetes quantity; give requests and limits as quantities/],
    ['an unknown resources field', { resources: { limit: {} } }, /^sales\/Load: resources has unknown field "limit"/],
    ['a relative workingDir', { workingDir: 'work' }, /^sales\/Load: workingDir "work" is not a normalized absolute directory other than "\/"; give an absolute directory the image leaves empty, e.g. "\/work"$/],
    ['workingDir /', { workingDir: '/' }, /workingDir "\/" is not a normalized absolute directory/],
    ['writableTmp as a string', { writableTmp: 'yes' }, /^sales\/Load: writableTmp must be true or false, got a string/],
    ['a volume without mountPath', { volumes: [{ volume: { name: 'x', emptyDir: {} } }] }, /^sales\/Load: volumes\[0\].mountPath is missing \(expected a string\)/],
    ['a volume with a bad name', { volumes: [{ volume: { name: 'Cache', emptyDir: {} }, mountPath: '/c' }] }, /^sales\/Load: volume name "Cache" is not a DNS-1123 label/],
    ['a volume over the token', { volumes: [{ volume: { name: 'x', emptyDir: {} }, mountPath: '/var/run/secrets' }] }, /overlaps \/var\/run\/secrets\/kubernetes.io/],
    ['a bad pull secret name', { imagePullSecrets: ['Ghcr'] }, /^sales\/Load: imagePullSecrets entry "Ghcr" is not a DNS-1123 subdomain/],
    ['a bad node selector value', { nodeSelector: { pool: 'etl jobs' } }, /^sales\/Load: nodeSelector value "etl jobs" of "pool" must be empty or letters/],
    ['tolerations as an object', { tolerations: { key: 'batch' } }, /^sales\/Load: tolerations must be a list, got an object/],
    ['affinity as a list', { affinity: [] }, /^sales\/Load: affinity must be an object, got a list/],
    ['a bad partOf', { partOf: 'Orders Pipeline' }, /^sales\/Load: partOf "Orders Pipeline" must be empty or letters/],
    ['a floe.dev label', { labels: { 'floe.dev/domain': 'x' } }, /^sales\/Load: labels key "floe.dev\/domain" is reserved: the library sets floe.dev\/ keys itself; use a key of your own prefix/],
    ['a floe.dev pod annotation', { podAnnotations: { 'floe.dev/secret-sources': '{}' } }, /^sales\/Load: podAnnotations key "floe.dev\/secret-sources" is reserved/],
    ['a bad label key', { podLabels: { 'team name': 'etl' } }, /^sales\/Load: podLabels key "team name" must be letters, digits/],
    ['a long label value', { labels: { team: 'x'.repeat(64) } }, /labels value "x{64}" of "team" is 64 characters long \(at most 63\)/],
    ['an annotation value that is a number', { annotations: { 'example.com/n': 1 } }, /^sales\/Load: annotations\["example.com\/n"\] must be a string, got number 1/],
    ['history limits on a Job', { successfulJobsHistoryLimit: 2 }, /^sales\/Load: successfulJobsHistoryLimit applies to a CronJob only, and this Job has no schedule; add a schedule, or remove successfulJobsHistoryLimit$/],
    ['a concurrencyPolicy on a Job', { concurrencyPolicy: kplus.ConcurrencyPolicy.ALLOW }, /concurrencyPolicy applies to a CronJob only/],
    ['an unknown concurrencyPolicy', { schedule: Cron.daily(), concurrencyPolicy: 'Sometimes' }, /^sales\/Load: concurrencyPolicy "Sometimes" is not one of Allow, Forbid, Replace; use kplus.ConcurrencyPolicy.FORBID/],
    ['a negative history limit', { schedule: Cron.daily(), failedJobsHistoryLimit: -1 }, /^sales\/Load: failedJobsHistoryLimit -1 is not a non-negative integer/],
    ['a starting deadline under 10 seconds', { schedule: Cron.daily(), startingDeadlineSeconds: 5 }, /^sales\/Load: startingDeadlineSeconds 5 is not a whole number of at least 10 \(the CronJob controller checks schedules every 10 seconds/],
    ['a TTL as a string', { ttlSecondsAfterFinished: '1d' }, /^sales\/Load: ttlSecondsAfterFinished must be a number, got a string; pass whole seconds, or null to keep finished Jobs$/],
  ])('%s is refused with the fix', (_what, extra, message) => {
    const { sales } = salesWithSecrets();
    expect(() => new SecretMountedJob(sales, 'Load', { image: 'i', ...extra } as any)).toThrow(message);
    expect(sales.node.tryFindChild('Load')).toBeUndefined();
  });
});
