import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import {
  INFISICAL_AUTO_RELOAD_ANNOTATION,
  SecretMountedDeployment,
  SecretMountedJob,
  SecretReference,
} from '../src';
import { domains, find, longRunningFixture, synth } from './util';

describe('SecretMountedDeployment', () => {
  test('carries the operator auto-reload annotation on its own metadata when it reads an Infisical-managed Secret', () => {
    // GIVEN
    const { sales, managed } = longRunningFixture();

    // WHEN
    const api = new SecretMountedDeployment(sales, 'Api', { name: 'api', image: 'api:1', replicas: 2, secretEnvFrom: [managed] });

    // THEN
    const manifests = synth(sales);
    const deployment = find(manifests, 'Deployment', 'api');
    expect(api.autoReload).toBe(true);
    expect(deployment.metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBe('true');
    expect(deployment.spec.template.metadata.annotations).toBeUndefined();
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.selector.matchLabels).toEqual({ 'floe.dev/domain': 'sales', 'floe.dev/workload': 'api' });
    expect(deployment.spec.template.metadata.labels).toEqual({
      ...deployment.spec.selector.matchLabels,
      'app.kubernetes.io/name': 'api',
      'app.kubernetes.io/instance': 'api',
      'app.kubernetes.io/component': 'deployment',
      'app.kubernetes.io/part-of': 'sales',
      'app.kubernetes.io/managed-by': 'floe-secrets',
    });
    expect(deployment.spec.template.spec.restartPolicy).toBe('Always');
    expect(JSON.parse(deployment.metadata.annotations['floe.dev/secret-sources'])).toEqual({
      'api-token': { kind: 'infisical', source: 'sales/Src', refreshInterval: '60s' },
    });
    expect(find(manifests, 'Role', 'api-secret-reader').rules[0].resourceNames).toEqual(['api-token']);
    expect(manifests).toMatchSnapshot();
  });

  test('a managed Secret added after construction turns auto-reload on too', () => {
    const { sales, managed, manual } = longRunningFixture();
    const api = new SecretMountedDeployment(sales, 'Api', { name: 'api', image: 'api:1', secretFiles: [{ secret: manual }] });
    expect(api.autoReload).toBe(false);
    expect(find(synth(sales), 'Deployment', 'api').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();
    api.addSecretEnv(SecretReference.fromSecret(managed, 'TOKEN'));
    expect(api.autoReload).toBe(true);
    expect(find(synth(sales), 'Deployment', 'api').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBe('true');
  });

  test('autoReload can be forced on or off', () => {
    const { sales, managed, manual } = longRunningFixture();
    expect(new SecretMountedDeployment(sales, 'On', { name: 'on', image: 'i', autoReload: true, secretFiles: [{ secret: manual }] }).autoReload).toBe(true);
    expect(new SecretMountedDeployment(sales, 'Off', { name: 'off', image: 'i', autoReload: false, secretEnvFrom: [managed] }).autoReload).toBe(false);
    expect(find(synth(sales), 'Deployment', 'off').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();
  });

  test('a rotation period does not constrain a long-running workload', () => {
    const { sales, managed } = longRunningFixture({ rotationPeriod: '24h' });
    new SecretMountedDeployment(sales, 'Api', { name: 'api', image: 'i', secretEnvFrom: [managed] });
    expect(() => synth(sales)).not.toThrow();
  });

  test('rejects a negative replica count', () => {
    const { sales } = longRunningFixture();
    expect(() => new SecretMountedDeployment(sales, 'Api', { image: 'i', replicas: -1 })).toThrow(/^sales\/Api: replicas -1 is not a non-negative integer/);
  });

  test('the escape hatch reaches the Deployment', () => {
    const { sales } = longRunningFixture();
    const api = new SecretMountedDeployment(sales, 'Api', { name: 'api', image: 'i' });
    expect(ApiObject.of(api)).toBe(api.resource);
  });
});

describe('SecretMountedDeployment names', () => {
  test('a Deployment name is at most 63 characters, since it is the value of its pods\' labels', () => {
    const { sales } = longRunningFixture();
    const longest = `a${'p'.repeat(62)}`;
    new SecretMountedDeployment(sales, 'Longest', { name: longest, image: 'i' });
    expect(find(synth(sales), 'Deployment', longest).spec.selector.matchLabels['floe.dev/workload']).toBe(longest);
    expect(() => new SecretMountedDeployment(sales, 'TooLong', { name: `${longest}i`, image: 'i' })).toThrow(
      /^sales\/TooLong: name "ap{62}i" is 64 characters long \(at most 63\); use a short name such as "nightly-load" \(at most 63 characters for a Deployment\)$/,
    );
  });
});

describe('rotation (REQ-138)', () => {
  test('a Job that reads a rotating secret must finish within the rotation period', () => {
    // GIVEN a secret that rotates every hour
    const { sales, managed } = longRunningFixture({ rotationPeriod: '1h' });

    // WHEN jobs read it with a deadline over the period, with none, and within it
    new SecretMountedJob(sales, 'TooLong', { name: 'too-long', image: 'i', activeDeadlineSeconds: 7200, secretEnvFrom: [managed] });
    new SecretMountedJob(sales, 'NoDeadline', { name: 'no-deadline', image: 'i', secretEnvFrom: [managed] });
    new SecretMountedJob(sales, 'Fits', { name: 'fits', image: 'i', activeDeadlineSeconds: 3600, secretEnvFrom: [managed] });

    // THEN synth names the two offenders and the fix
    let message = '';
    try {
      synth(sales);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/sales\/TooLong: secret "api-token" rotates every 1h \(sales\/Src\), but activeDeadlineSeconds is 7200, so a run could outlive the credential; set activeDeadlineSeconds to at most 3600/);
    expect(message).toMatch(/sales\/NoDeadline: secret "api-token" rotates every 1h \(sales\/Src\), but this workload has no activeDeadlineSeconds/);
    expect(message).not.toMatch(/sales\/Fits/);
  });

  test('a Job that reads a managed Secret shows which source and interval it follows on the Job, and never auto-reloads', () => {
    const { sales, managed } = longRunningFixture({ rotationPeriod: '1h' });
    new SecretMountedJob(sales, 'Nightly', { name: 'nightly', image: 'i', activeDeadlineSeconds: 1800, secretEnvFrom: [managed] });
    const job = find(synth(sales), 'Job', 'nightly');
    expect(JSON.parse(job.metadata.annotations['floe.dev/secret-sources'])).toEqual({
      'api-token': { kind: 'infisical', source: 'sales/Src', refreshInterval: '60s', rotationPeriod: '1h' },
    });
    expect(job.spec.template.metadata.annotations).toBeUndefined();
    expect(JSON.stringify(job)).not.toContain(INFISICAL_AUTO_RELOAD_ANNOTATION);
  });

  test('changing a source setting the pod does not read leaves the Job\'s pod template unchanged', () => {
    // GIVEN the same Job reading a Secret whose source resyncs every 60s, then every 300s
    const template = (resyncInterval: string) => {
      const { sales, managed } = longRunningFixture({ resyncInterval });
      new SecretMountedJob(sales, 'Nightly', { name: 'nightly', image: 'i', secretEnvFrom: [managed], secretFiles: [{ secret: managed }] });
      const job = find(synth(sales), 'Job', 'nightly');
      return { template: job.spec.template, sources: job.metadata.annotations['floe.dev/secret-sources'] };
    };

    // WHEN / THEN the reviewer annotation on the Job follows the source, the immutable template does not
    const before = template('60s');
    const after = template('300s');
    expect(after.sources).not.toEqual(before.sources);
    expect(after.template).toEqual(before.template);
  });
});

describe('SecretMountedDeployment untyped JavaScript input', () => {
  test.each<[string, unknown, RegExp]>([
    ['no props', undefined, /^sales\/Api: props must be an object, got undefined/],
    ['replicas as a string', { image: 'i', replicas: '2' }, /^sales\/Api: replicas must be a number, got a string/],
    ['replicas NaN', { image: 'i', replicas: NaN }, /^sales\/Api: replicas NaN is not a non-negative integer/],
    ['autoReload as a string', { image: 'i', autoReload: 'true' }, /^sales\/Api: autoReload must be true or false, got a string/],
  ])('%s is a clear error', (_what, props, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => new SecretMountedDeployment(sales, 'Api', props as any)).toThrow(message);
  });
});

describe('SecretMountedDeployment ports and probes', () => {
  test('ports and probes reach the container; labels say deployment', () => {
    const { domains: [sales] } = domains('sales');
    const probe = { httpGet: { path: '/healthz', port: k8s.IntOrString.fromString('http') } };
    new SecretMountedDeployment(sales, 'Api', {
      name: 'api',
      image: 'i',
      ports: [{ containerPort: 8080, name: 'http' }, { containerPort: 9090, name: 'metrics' }],
      livenessProbe: probe,
      readinessProbe: { ...probe, periodSeconds: 5 },
      startupProbe: { tcpSocket: { port: k8s.IntOrString.fromNumber(8080) } },
    });
    const deployment = find(synth(sales), 'Deployment', 'api');
    const container = deployment.spec.template.spec.containers[0];
    expect(container.ports).toEqual([{ containerPort: 8080, name: 'http' }, { containerPort: 9090, name: 'metrics' }]);
    expect(container.livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 'http' } });
    expect(container.readinessProbe.periodSeconds).toBe(5);
    expect(container.startupProbe).toEqual({ tcpSocket: { port: 8080 } });
    expect(deployment.metadata.labels['app.kubernetes.io/component']).toBe('deployment');
    expect(deployment.spec.selector.matchLabels).toEqual({ 'floe.dev/domain': 'sales', 'floe.dev/workload': 'api' });
  });

  test.each<[string, object, RegExp]>([
    ['a port out of range', { ports: [{ containerPort: 70000 }] }, /^sales\/Api: port 70000 is not a port number from 1 to 65535/],
    ['a port without number', { ports: [{ name: 'http' }] }, /^sales\/Api: ports\[0\].containerPort must be a number, got undefined/],
    ['a hostPort', { ports: [{ containerPort: 80, hostPort: 80 }] }, /^sales\/Api: port 80 sets hostPort 80, which Pod Security "baseline" and "restricted" refuse; leave hostPort out/],
    ['a bad port name', { ports: [{ containerPort: 80, name: 'HTTP' }] }, /^sales\/Api: port name "HTTP" is not a port name/],
    ['a port twice', { ports: [{ containerPort: 80 }, { containerPort: 80 }] }, /^sales\/Api: ports\[0\] and ports\[1\] have the same port 80\/TCP; list each port once$/],
    ['a name twice', { ports: [{ containerPort: 80, name: 'http' }, { containerPort: 81, name: 'http' }] }, /ports\[0\] and ports\[1\] have the same name http/],
    ['a probe without handler', { livenessProbe: { periodSeconds: 5 } }, /^sales\/Api: livenessProbe has no handler; give exactly one of exec, httpGet, tcpSocket or grpc$/],
    ['a probe with two handlers', { readinessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 80 } } }, /readinessProbe has several handlers \(exec, tcpSocket\)/],
  ])('%s is refused', (_what, extra, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => new SecretMountedDeployment(sales, 'Api', { image: 'i', ...extra } as any)).toThrow(message);
    expect(sales.node.tryFindChild('Api')).toBeUndefined();
  });
});
