import { ApiObject } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import {
  ExternalSecretSource,
  FloeSecret,
  INFISICAL_AUTO_RELOAD_ANNOTATION,
  MAX_DAEMONSET_NAME_LENGTH,
  SecretMountedDaemonSet,
  SecretReference,
  SecretStoreKind,
} from '../src';
import { domains, find, longRunningFixture, randomSecretName, secretsReadByPod, synth } from './util';

/** The labels of the workload object: the domain's label included. */
const STANDARD_LABELS = {
  'app.kubernetes.io/name': 'agent',
  'app.kubernetes.io/instance': 'agent',
  'app.kubernetes.io/component': 'daemonset',
  'app.kubernetes.io/part-of': 'sales',
  'app.kubernetes.io/managed-by': 'floe-secrets',
  'floe.dev/domain': 'sales',
};
const SELECTOR = { 'floe.dev/domain': 'sales', 'floe.dev/workload': 'agent' };

describe('SecretMountedDaemonSet', () => {
  test('defaults: a selector and a pod template, no replicas and no Service', () => {
    // GIVEN a domain with nothing else in it
    const { domains: [sales] } = domains('sales');

    // WHEN
    const agent = new SecretMountedDaemonSet(sales, 'Agent', { name: 'agent', image: 'agent:1' });

    // THEN
    const manifests = synth(sales);
    const ds = find(manifests, 'DaemonSet', 'agent');
    expect(ds.apiVersion).toBe('apps/v1');
    expect(ds.metadata).toEqual({ name: 'agent', namespace: 'floe-sales', labels: STANDARD_LABELS });
    const { template, ...spec } = ds.spec;
    expect(spec).toEqual({ selector: { matchLabels: SELECTOR } });
    expect(template.metadata).toEqual({ labels: { ...STANDARD_LABELS, ...SELECTOR } });
    expect(template.spec.restartPolicy).toBe('Always');
    expect(template.spec.serviceAccountName).toBe('agent');
    expect(template.spec.automountServiceAccountToken).toBe(false);
    expect(template.spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(template.spec.containers[0]).toEqual({
      name: 'main',
      image: 'agent:1',
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      resources: { requests: { cpu: '1', memory: '512Mi' }, limits: { cpu: '1500m', memory: '2Gi' } },
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    });
    expect(manifests.map((m) => m.kind).sort()).toEqual(['DaemonSet', 'Namespace', 'ServiceAccount']);
    expect(ApiObject.of(agent)).toBe(agent.resource);
    expect(agent.runsToCompletion).toBe(false);
    expect(agent.autoReload).toBe(false);
  });

  test('ports, probes and node placement reach the pod', () => {
    const { sales } = longRunningFixture();
    const probe = { httpGet: { path: '/healthz', port: k8s.IntOrString.fromString('metrics') } };
    new SecretMountedDaemonSet(sales, 'Agent', {
      name: 'agent',
      image: 'i',
      ports: [{ containerPort: 9100, name: 'metrics' }],
      livenessProbe: probe,
      readinessProbe: { ...probe, periodSeconds: 5 },
      startupProbe: { tcpSocket: { port: k8s.IntOrString.fromNumber(9100) } },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
    });
    const pod = find(synth(sales), 'DaemonSet', 'agent').spec.template.spec;
    const container = pod.containers[0];
    expect(container.ports).toEqual([{ containerPort: 9100, name: 'metrics' }]);
    expect(container.livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 'metrics' } });
    expect(container.readinessProbe).toEqual({ httpGet: { path: '/healthz', port: 'metrics' }, periodSeconds: 5 });
    expect(container.startupProbe).toEqual({ tcpSocket: { port: 9100 } });
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.tolerations).toEqual([{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  test('wires secrets and grants get on exactly the Secrets it reads, to its own ServiceAccount', () => {
    // GIVEN Secrets with random names, and one it does not read
    const { sales } = longRunningFixture();
    const [dbName, tokenName] = [randomSecretName('db'), randomSecretName('token')];
    const db = FloeSecret.fromSecretName(sales, 'Db', dbName, { keys: ['user', 'password'] });
    const token = FloeSecret.fromSecretName(sales, 'Token', tokenName, { keys: ['TOKEN'] });
    FloeSecret.fromSecretName(sales, 'Unused', randomSecretName('unused'), { keys: ['x'] });

    // WHEN
    const agent = new SecretMountedDaemonSet(sales, 'Agent', { name: 'agent', image: 'i', secretFiles: [{ secret: db }] });
    agent.addSecretEnvFrom(token);

    // THEN
    const manifests = synth(sales);
    const pod = find(manifests, 'DaemonSet', 'agent').spec.template.spec;
    expect(pod.containers[0].envFrom).toEqual([{ secretRef: { name: tokenName } }]);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: `secret-${dbName}`, mountPath: `/run/secrets/${dbName}`, readOnly: true });
    const read = [dbName, tokenName].sort();
    expect(secretsReadByPod(pod)).toEqual(read);
    expect(find(manifests, 'Role', 'agent-secret-reader').rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: read },
    ]);
    expect(find(manifests, 'RoleBinding', 'agent-secret-reader').subjects).toEqual([{ kind: 'ServiceAccount', name: 'agent', namespace: 'floe-sales' }]);
    expect(find(synth(sales), 'DaemonSet', 'agent').metadata.annotations['floe.dev/secret-file-mode']).toBe('0440 root:10001');
  });

  test('a DaemonSet name is at most 63 characters, since it is the value of its pods\' labels', () => {
    const { sales } = longRunningFixture();
    expect(MAX_DAEMONSET_NAME_LENGTH).toBe(63);
    const longest = `a${'g'.repeat(62)}`;
    new SecretMountedDaemonSet(sales, 'Longest', { name: longest, image: 'i' });
    expect(find(synth(sales), 'DaemonSet', longest).spec.selector.matchLabels['floe.dev/workload']).toBe(longest);
    expect(() => new SecretMountedDaemonSet(sales, 'TooLong', { name: `${longest}t`, image: 'i' })).toThrow(
      /^sales\/TooLong: name "ag{62}t" is 64 characters long \(at most 63\); use a short name such as "nightly-load" \(at most 63 characters for a DaemonSet\)$/,
    );
  });

  test('two DaemonSets with one name in a domain', () => {
    const { sales } = longRunningFixture();
    new SecretMountedDaemonSet(sales, 'A', { name: 'agent', image: 'i' });
    expect(() => new SecretMountedDaemonSet(sales, 'B', { name: 'agent', image: 'i' })).toThrow(
      /^sales\/B: DaemonSet name "agent" is already used in namespace floe-sales by sales\/A; give one of them another name$/,
    );
  });
});

describe('SecretMountedDaemonSet auto reload', () => {
  test('carries the operator annotation on its own metadata, not on its pod template, when it reads an Infisical-managed Secret', () => {
    const { sales, managed } = longRunningFixture();
    const agent = new SecretMountedDaemonSet(sales, 'Agent', { name: 'agent', image: 'i', secretEnv: [SecretReference.fromSecret(managed, 'TOKEN')] });
    const ds = find(synth(sales), 'DaemonSet', 'agent');
    expect(agent.autoReload).toBe(true);
    expect(ds.metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBe('true');
    expect(ds.spec.template.metadata.annotations).toBeUndefined();
    expect(JSON.parse(ds.metadata.annotations['floe.dev/secret-sources'])).toEqual({
      'api-token': { kind: 'infisical', source: 'sales/Src', refreshInterval: '60s' },
    });
  });

  test('a managed Secret added after construction turns it on too', () => {
    const { sales, managed, manual } = longRunningFixture();
    const agent = new SecretMountedDaemonSet(sales, 'Agent', { name: 'agent', image: 'i', secretFiles: [{ secret: manual }] });
    expect(agent.autoReload).toBe(false);
    expect(find(synth(sales), 'DaemonSet', 'agent').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();
    agent.mountSecret(managed);
    expect(agent.autoReload).toBe(true);
    expect(find(synth(sales), 'DaemonSet', 'agent').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBe('true');
  });

  test('it can be forced on or off', () => {
    const { sales, managed, manual } = longRunningFixture();
    expect(new SecretMountedDaemonSet(sales, 'On', { name: 'on', image: 'i', autoReload: true, secretFiles: [{ secret: manual }] }).autoReload).toBe(true);
    const off = new SecretMountedDaemonSet(sales, 'Off', { name: 'off', image: 'i', autoReload: false, secretEnvFrom: [managed] });
    off.addSecretEnv(SecretReference.fromSecret(managed, 'TOKEN'), { name: 'OTHER_TOKEN' });
    expect(off.autoReload).toBe(false);
    const manifests = synth(sales);
    expect(find(manifests, 'DaemonSet', 'on').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBe('true');
    expect(find(manifests, 'DaemonSet', 'off').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();
  });

  test('an ESO-managed Secret does not turn it on: ESO restarts nothing', () => {
    const { sales } = longRunningFixture();
    const eso = new ExternalSecretSource(sales, 'Eso', {
      secretStore: { name: 'vault', kind: SecretStoreKind.CLUSTER_SECRET_STORE },
      secretName: 'agent-token',
      data: [{ secretKey: 'TOKEN', remoteKey: 'agent/token' }],
    });
    const agent = new SecretMountedDaemonSet(sales, 'Agent', { name: 'agent', image: 'i', secretEnvFrom: [eso.secret] });
    expect(agent.autoReload).toBe(false);
    expect(find(synth(sales), 'DaemonSet', 'agent').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();
  });

  test('a rotation period does not constrain it', () => {
    const { sales, managed } = longRunningFixture({ rotationPeriod: '24h' });
    new SecretMountedDaemonSet(sales, 'Agent', { name: 'agent', image: 'i', secretEnvFrom: [managed] });
    expect(() => synth(sales)).not.toThrow();
  });
});

describe('SecretMountedDaemonSet bad input', () => {
  test.each<[string, unknown, RegExp]>([
    ['no props', undefined, /^sales\/Agent: props must be an object, got undefined; pass the props, e.g. \{ image: 'ghcr.io\/acme\/node-agent:1.0.0' \}$/],
    ['autoReload as a string', { image: 'i', autoReload: 'true' }, /^sales\/Agent: autoReload must be true or false, got a string; pass true or false$/],
    ['a port without number', { image: 'i', ports: [{ name: 'http' }] }, /^sales\/Agent: ports\[0\].containerPort must be a number, got undefined; give each port as \{ containerPort: 8080, name: "http" \}$/],
    [
      'a hostPort',
      { image: 'i', ports: [{ containerPort: 9100, hostPort: 9100 }] },
      /^sales\/Agent: port 9100 sets hostPort 9100, which Pod Security "baseline" and "restricted" refuse; leave hostPort out and reach the pod through a Service$/,
    ],
    ['a port twice', { image: 'i', ports: [{ containerPort: 80 }, { containerPort: 80 }] }, /^sales\/Agent: ports\[0\] and ports\[1\] have the same port 80\/TCP; list each port once$/],
    [
      'a probe with two handlers',
      { image: 'i', readinessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 80 } } },
      /^sales\/Agent: readinessProbe has several handlers \(exec, tcpSocket\); give exactly one of exec, httpGet, tcpSocket or grpc$/,
    ],
    ['a name that is no DNS label', { image: 'i', name: 'node_agent' }, /^sales\/Agent: name "node_agent" is not a DNS-1123 label/],
  ])('%s is refused, leaving nothing behind', (_what, props, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => new SecretMountedDaemonSet(sales, 'Agent', props as any)).toThrow(message);
    expect(sales.node.tryFindChild('Agent')).toBeUndefined();
  });
});
