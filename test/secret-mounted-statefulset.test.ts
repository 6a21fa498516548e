import { ApiObject, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  ExternalSecretSource,
  FloeDomain,
  FloeSecret,
  INFISICAL_AUTO_RELOAD_ANNOTATION,
  MAX_STATEFULSET_NAME_LENGTH,
  SecretMountedStatefulSet,
  SecretReference,
  SecretStoreKind,
  VaultSecretSource,
} from '../src';
import { domains, find, longRunningFixture, randomSecretName, randomValue, secretsReadByPod, synth } from './util';

/** The labels of the workload object, and of the Service it makes: the domain's label included. */
const STANDARD_LABELS = {
  'app.kubernetes.io/name': 'ledger',
  'app.kubernetes.io/instance': 'ledger',
  'app.kubernetes.io/component': 'statefulset',
  'app.kubernetes.io/part-of': 'sales',
  'app.kubernetes.io/managed-by': 'floe-secrets',
  'floe.dev/domain': 'sales',
};
const SELECTOR = { 'floe.dev/domain': 'sales', 'floe.dev/workload': 'ledger' };

describe('SecretMountedStatefulSet', () => {
  test('defaults: one pod, governed by a headless Service of its own named like it', () => {
    // GIVEN
    const { sales } = longRunningFixture();

    // WHEN
    const ledger = new SecretMountedStatefulSet(sales, 'Ledger', { name: 'ledger', image: 'ledger:1' });

    // THEN
    const manifests = synth(sales);
    const sts = find(manifests, 'StatefulSet', 'ledger');
    expect(sts.apiVersion).toBe('apps/v1');
    expect(sts.metadata).toEqual({ name: 'ledger', namespace: 'floe-sales', labels: STANDARD_LABELS });
    const { template, ...spec } = sts.spec;
    expect(spec).toEqual({ replicas: 1, serviceName: 'ledger', selector: { matchLabels: SELECTOR } });
    expect(template.metadata).toEqual({ labels: { ...STANDARD_LABELS, ...SELECTOR } });
    expect(template.spec.restartPolicy).toBe('Always');
    expect(template.spec.serviceAccountName).toBe('ledger');
    expect(template.spec.containers[0]).toEqual({
      name: 'main',
      image: 'ledger:1',
      volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      resources: { requests: { cpu: '1', memory: '512Mi' }, limits: { cpu: '1500m', memory: '2Gi' } },
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
    });
    expect(find(manifests, 'Service', 'ledger')).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ledger', namespace: 'floe-sales', labels: STANDARD_LABELS },
      spec: { clusterIP: 'None', selector: SELECTOR },
    });
    expect(ledger.replicas).toBe(1);
    expect(ledger.serviceName).toBe('ledger');
    expect(ApiObject.of(ledger)).toBe(ledger.resource);
    expect(ApiObject.of(ledger.service!).kind).toBe('Service');
    expect(ledger.runsToCompletion).toBe(false);
    expect(ledger.autoReload).toBe(false);
  });

  test('replicas, podManagementPolicy, ports and probes; the headless Service lists the ports', () => {
    const { sales } = longRunningFixture();
    const probe = { httpGet: { path: '/healthz', port: k8s.IntOrString.fromString('http') } };
    new SecretMountedStatefulSet(sales, 'Ledger', {
      name: 'ledger',
      image: 'i',
      replicas: 3,
      podManagementPolicy: kplus.PodManagementPolicy.PARALLEL,
      ports: [{ containerPort: 8080, name: 'http' }, { containerPort: 7946, name: 'gossip', protocol: 'UDP' }],
      livenessProbe: probe,
      readinessProbe: { ...probe, periodSeconds: 5 },
      startupProbe: { tcpSocket: { port: k8s.IntOrString.fromNumber(8080) } },
    });
    const manifests = synth(sales);
    const sts = find(manifests, 'StatefulSet', 'ledger');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
    const container = sts.spec.template.spec.containers[0];
    expect(container.ports).toEqual([{ containerPort: 8080, name: 'http' }, { containerPort: 7946, name: 'gossip', protocol: 'UDP' }]);
    expect(container.livenessProbe).toEqual({ httpGet: { path: '/healthz', port: 'http' } });
    expect(container.readinessProbe).toEqual({ httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 5 });
    expect(container.startupProbe).toEqual({ tcpSocket: { port: 8080 } });
    expect(find(manifests, 'Service', 'ledger').spec).toEqual({
      clusterIP: 'None',
      selector: SELECTOR,
      ports: [
        { name: 'http', port: 8080, targetPort: 8080 },
        { name: 'gossip', port: 7946, targetPort: 7946, protocol: 'UDP' },
      ],
    });
  });

  test('one unnamed port is enough for the headless Service', () => {
    const { sales } = longRunningFixture();
    new SecretMountedStatefulSet(sales, 'Ledger', { name: 'ledger', image: 'i', ports: [{ containerPort: 5432 }] });
    expect(find(synth(sales), 'Service', 'ledger').spec.ports).toEqual([{ port: 5432, targetPort: 5432 }]);
  });

  test('serviceName names an existing Service: none is made, and the port and name rules of a made one do not apply', () => {
    const { sales } = longRunningFixture();
    const ledger = new SecretMountedStatefulSet(sales, 'Ledger', {
      name: '1ledger',
      image: 'i',
      serviceName: 'ledger-peers',
      ports: [{ containerPort: 8080 }, { containerPort: 9090 }],
    });
    const manifests = synth(sales);
    expect(manifests.filter((m) => m.kind === 'Service')).toEqual([]);
    expect(find(manifests, 'StatefulSet', '1ledger').spec.serviceName).toBe('ledger-peers');
    expect(ledger.serviceName).toBe('ledger-peers');
    expect(ledger.service).toBeUndefined();
  });

  test('labels given for the workload are on the Service it makes too; podLabels are not', () => {
    const { sales } = longRunningFixture();
    new SecretMountedStatefulSet(sales, 'Ledger', { name: 'ledger', image: 'i', labels: { team: 'finance' }, podLabels: { tier: 'db' } });
    const manifests = synth(sales);
    expect(find(manifests, 'Service', 'ledger').metadata.labels).toEqual({ ...STANDARD_LABELS, team: 'finance' });
    expect(find(manifests, 'StatefulSet', 'ledger').metadata.labels).toEqual({ ...STANDARD_LABELS, team: 'finance' });
  });

  test('wires secrets and grants get on exactly the Secrets it reads, to its own ServiceAccount', () => {
    // GIVEN Secrets with random names, and one it does not read
    const { sales } = longRunningFixture();
    const [dbName, apiName, certName] = [randomSecretName('db'), randomSecretName('api'), randomSecretName('cert')];
    const db = FloeSecret.fromSecretName(sales, 'Db', dbName, { keys: ['user', 'password'] });
    const api = FloeSecret.fromSecretName(sales, 'Api', apiName, { keys: ['API_TOKEN'] });
    const cert = FloeSecret.fromSecretName(sales, 'Cert', certName, { keys: ['tls.crt', 'tls.key'] });
    FloeSecret.fromSecretName(sales, 'Unused', randomSecretName('unused'), { keys: ['x'] });
    const logLevel = randomValue();

    // WHEN
    const ledger = new SecretMountedStatefulSet(sales, 'Ledger', {
      name: 'ledger',
      image: 'i',
      env: { LOG_LEVEL: logLevel },
      secretEnv: [SecretReference.fromSecret(db, 'password')],
      secretEnvFrom: [api],
    });
    ledger.mountSecret(cert, { keys: ['tls.crt'] });

    // THEN
    const manifests = synth(sales);
    const pod = find(manifests, 'StatefulSet', 'ledger').spec.template.spec;
    expect(pod.containers[0].env).toEqual([
      { name: 'LOG_LEVEL', value: logLevel },
      { name: `FLOE_SECRET_${dbName.toUpperCase().replace(/-/g, '_')}_PASSWORD`, valueFrom: { secretKeyRef: { name: dbName, key: 'password' } } },
    ]);
    expect(pod.containers[0].envFrom).toEqual([{ secretRef: { name: apiName } }]);
    expect(pod.volumes).toContainEqual({ name: `secret-${certName}`, secret: { secretName: certName, defaultMode: 0o400, items: [{ key: 'tls.crt', path: 'tls.crt' }] } });
    const read = [dbName, apiName, certName].sort();
    expect(secretsReadByPod(pod)).toEqual(read);
    expect(find(manifests, 'Role', 'ledger-secret-reader').rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: read },
    ]);
    expect(find(manifests, 'RoleBinding', 'ledger-secret-reader').subjects).toEqual([{ kind: 'ServiceAccount', name: 'ledger', namespace: 'floe-sales' }]);
    expect(find(manifests, 'ServiceAccount', 'ledger').automountServiceAccountToken).toBe(false);
    expect(ledger.secretNames).toEqual(read);
  });

  test('a StatefulSet name is at most 52 characters, so that the controller can label its pods', () => {
    const { sales } = longRunningFixture();
    expect(MAX_STATEFULSET_NAME_LENGTH).toBe(52);
    const longest = `l${'e'.repeat(51)}`;
    new SecretMountedStatefulSet(sales, 'Longest', { name: longest, image: 'i' });
    expect(find(synth(sales), 'StatefulSet', longest).spec.serviceName).toBe(longest);
    expect(() => new SecretMountedStatefulSet(sales, 'TooLong', { name: `${longest}r`, image: 'i' })).toThrow(
      /^sales\/TooLong: name "le{51}r" is 53 characters long \(at most 52\); use a short name such as "nightly-load" \(at most 52 characters for a StatefulSet\)$/,
    );
  });

  test('a default name fits too, however deep the construct', () => {
    const { sales } = longRunningFixture();
    const scope = new Construct(sales, 'AVeryLongScopeNameThatGoesOnAndOnAndOnAndOn');
    const deep = new SecretMountedStatefulSet(scope, 'AnotherLongLedgerNameForGoodMeasure', { image: 'i' });
    expect(deep.workloadName.length).toBeLessThanOrEqual(52);
    expect(deep.serviceName).toBe(deep.workloadName);
    expect(deep.workloadName).toMatch(/^[a-z]/);
  });

  test('two StatefulSets with one name in a domain', () => {
    const { sales } = longRunningFixture();
    new SecretMountedStatefulSet(sales, 'A', { name: 'ledger', image: 'i' });
    expect(() => new SecretMountedStatefulSet(sales, 'B', { name: 'ledger', image: 'i' })).toThrow(
      /^sales\/B: StatefulSet name "ledger" is already used in namespace floe-sales by sales\/A; give one of them another name$/,
    );
  });

  test('a Vault Agent sidecar stays: a StatefulSet does not run to completion', () => {
    const { sales } = longRunningFixture();
    const vault = new VaultSecretSource(sales, 'Vault', { role: 'floe-sales', path: 'ledger/db', keys: ['password'], name: 'ledger-db' });
    vault.injectInto(new SecretMountedStatefulSet(sales, 'Ledger', { name: 'ledger', image: 'i', automountServiceAccountToken: true }));
    const annotations = find(synth(sales), 'StatefulSet', 'ledger').spec.template.metadata.annotations;
    expect(annotations['vault.hashicorp.com/agent-inject']).toBe('true');
    expect(annotations['vault.hashicorp.com/agent-pre-populate-only']).toBeUndefined();
  });
});

describe('SecretMountedStatefulSet auto reload', () => {
  test('carries the operator annotation on its own metadata, not on its pod template or Service, when it reads an Infisical-managed Secret', () => {
    const { sales, managed } = longRunningFixture();
    const ledger = new SecretMountedStatefulSet(sales, 'Ledger', { name: 'ledger', image: 'i', secretEnvFrom: [managed] });
    const manifests = synth(sales);
    const sts = find(manifests, 'StatefulSet', 'ledger');
    expect(ledger.autoReload).toBe(true);
    expect(sts.metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBe('true');
    expect(sts.spec.template.metadata.annotations).toBeUndefined();
    expect(find(manifests, 'Service', 'ledger').metadata.annotations).toBeUndefined();
    expect(JSON.parse(sts.metadata.annotations['floe.dev/secret-sources'])).toEqual({
      'api-token': { kind: 'infisical', source: 'sales/Src', refreshInterval: '60s' },
    });
  });

  test('a managed Secret added after construction turns it on too', () => {
    const { sales, managed, manual } = longRunningFixture();
    const ledger = new SecretMountedStatefulSet(sales, 'Ledger', { name: 'ledger', image: 'i', secretFiles: [{ secret: manual }] });
    expect(ledger.autoReload).toBe(false);
    expect(find(synth(sales), 'StatefulSet', 'ledger').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();
    ledger.addSecretEnv(SecretReference.fromSecret(managed, 'TOKEN'));
    expect(ledger.autoReload).toBe(true);
    expect(find(synth(sales), 'StatefulSet', 'ledger').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBe('true');
  });

  test('it can be forced on or off', () => {
    const { sales, managed, manual } = longRunningFixture();
    expect(new SecretMountedStatefulSet(sales, 'On', { name: 'on', image: 'i', autoReload: true, secretFiles: [{ secret: manual }] }).autoReload).toBe(true);
    const off = new SecretMountedStatefulSet(sales, 'Off', { name: 'off', image: 'i', autoReload: false, secretEnvFrom: [managed] });
    off.mountSecret(managed);
    expect(off.autoReload).toBe(false);
    const manifests = synth(sales);
    expect(find(manifests, 'StatefulSet', 'on').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBe('true');
    expect(find(manifests, 'StatefulSet', 'off').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();
  });

  test('an ESO-managed Secret does not turn it on: ESO restarts nothing', () => {
    const { sales } = longRunningFixture();
    const eso = new ExternalSecretSource(sales, 'Eso', {
      secretStore: { name: 'vault', kind: SecretStoreKind.CLUSTER_SECRET_STORE },
      secretName: 'ledger-db',
      data: [{ secretKey: 'PASSWORD', remoteKey: 'ledger/db', property: 'password' }],
    });
    const ledger = new SecretMountedStatefulSet(sales, 'Ledger', { name: 'ledger', image: 'i', secretEnvFrom: [eso.secret] });
    expect(ledger.autoReload).toBe(false);
    expect(find(synth(sales), 'StatefulSet', 'ledger').metadata.annotations[INFISICAL_AUTO_RELOAD_ANNOTATION]).toBeUndefined();
  });

  test('a rotation period does not constrain it', () => {
    const { sales, managed } = longRunningFixture({ rotationPeriod: '24h' });
    new SecretMountedStatefulSet(sales, 'Ledger', { name: 'ledger', image: 'i', secretEnvFrom: [managed] });
    expect(() => synth(sales)).not.toThrow();
  });
});

describe('SecretMountedStatefulSet bad input', () => {
  test.each<[string, unknown, RegExp]>([
    ['no props', undefined, /^sales\/Ledger: props must be an object, got undefined; pass the props, e.g. \{ image: 'ghcr.io\/acme\/ledger:1.0.0' \}$/],
    ['replicas as a string', { image: 'i', replicas: '2' }, /^sales\/Ledger: replicas must be a number, got a string; pass a whole number of pods$/],
    ['negative replicas', { image: 'i', replicas: -1 }, /^sales\/Ledger: replicas -1 is not a non-negative integer; pass a whole number of pods$/],
    ['replicas NaN', { image: 'i', replicas: NaN }, /^sales\/Ledger: replicas NaN is not a non-negative integer; pass a whole number of pods$/],
    ['serviceName as a number', { image: 'i', serviceName: 5 }, /^sales\/Ledger: serviceName must be a string, got number 5; give the name of a headless Service/],
    [
      'a serviceName that is no Service name',
      { image: 'i', serviceName: '1peers' },
      new RegExp('^sales/Ledger: serviceName "1peers" is not a Service name \\(a DNS-1035 label: at most 63 lower-case letters, digits and "-", starting with a letter ' +
        'and ending with a letter or digit\\); give the name of a headless Service in the workload\'s namespace, e.g. "ledger", or leave serviceName out to have one made$'),
    ],
    ['a serviceName over 63 characters', { image: 'i', serviceName: 'p'.repeat(64) }, /^sales\/Ledger: serviceName "p{64}" is not a Service name/],
    ['a serviceName with a dot', { image: 'i', serviceName: 'ledger.peers' }, /^sales\/Ledger: serviceName "ledger.peers" is not a Service name/],
    [
      'an unknown podManagementPolicy',
      { image: 'i', podManagementPolicy: 'Sometimes' },
      /^sales\/Ledger: podManagementPolicy "Sometimes" is not one of OrderedReady, Parallel; use kplus.PodManagementPolicy.ORDERED_READY or PARALLEL$/,
    ],
    [
      'a name starting with a digit, for the Service it makes',
      { image: 'i', name: '1ledger' },
      /^sales\/Ledger: name "1ledger" starts with a digit, but the headless Service named like the StatefulSet needs a name starting with a letter \(a DNS-1035 label\); start the name with a letter, or pass serviceName to use a Service of your own$/,
    ],
    [
      'several ports, one without name, for the Service it makes',
      { image: 'i', ports: [{ containerPort: 8080, name: 'http' }, { containerPort: 9090 }] },
      /^sales\/Ledger: ports\[1\] has no name, which the headless Service needs for each of several ports; name every port, e.g. "http" and "metrics", or pass serviceName to use a Service of your own$/,
    ],
    ['autoReload as a string', { image: 'i', autoReload: 'true' }, /^sales\/Ledger: autoReload must be true or false, got a string; pass true or false$/],
    ['a port out of range', { image: 'i', ports: [{ containerPort: 70000 }] }, /^sales\/Ledger: port 70000 is not a port number from 1 to 65535; give each port as \{ containerPort: 8080, name: "http" \}$/],
    [
      'a hostPort',
      { image: 'i', ports: [{ containerPort: 80, hostPort: 80 }] },
      /^sales\/Ledger: port 80 sets hostPort 80, which Pod Security "baseline" and "restricted" refuse; leave hostPort out and reach the pod through a Service$/,
    ],
    ['a probe without handler', { image: 'i', livenessProbe: { periodSeconds: 5 } }, /^sales\/Ledger: livenessProbe has no handler; give exactly one of exec, httpGet, tcpSocket or grpc$/],
    ['a name that is no DNS label', { image: 'i', name: 'Ledger' }, /^sales\/Ledger: name "Ledger" is not a DNS-1123 label/],
  ])('%s is refused, leaving nothing behind', (_what, props, message) => {
    const { domains: [sales] } = domains('sales');
    expect(() => new SecretMountedStatefulSet(sales, 'Ledger', props as any)).toThrow(message);
    expect(sales.node.tryFindChild('Ledger')).toBeUndefined();
  });

  test('a default name starting with a digit is refused for the Service it makes', () => {
    const app = Testing.app();
    const domain = new FloeDomain(app, '9sales', { domain: 'sales' });
    expect(() => new SecretMountedStatefulSet(domain, 'Ledger', { image: 'i' })).toThrow(
      /^9sales\/Ledger: the default name "9sales-ledger-[0-9a-f]{8}" starts with a digit, but the headless Service named like the StatefulSet needs a name starting with a letter; give a name starting with a letter, or pass serviceName to use a Service of your own$/,
    );
    expect(new SecretMountedStatefulSet(domain, 'Peers', { image: 'i', serviceName: 'peers' }).workloadName).toMatch(/^9sales-peers-/);
  });
});
