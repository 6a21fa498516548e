import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Cron, Testing } from 'cdk8s';
import { parseAllDocuments, stringify } from 'yaml';
import { buildExampleApp } from '../../examples/app';
import { runCli } from '../../plugins/floe-secrets-cli/test/run-cli';
import { FloeDomain, FloeSecret, SecretMountedJob, SecretReference } from '../../src';
import { TestCluster } from '../integration/cluster';
import { Manifest, podSpec, randomValue } from '../util';
import {
  expectedReport, forNode, logsOf, parseProbe, podsOf, Promised, promisedTo, ProbeLine, runnable, sha256, waitFor, WORKLOAD_KINDS,
} from './pods';

/**
 * The synthesized example app on a real node (kubelet, containerd, runc; scripts/kube-cluster.sh):
 * every workload's containers are replaced by floe-probe in the local busybox image, which reports
 * what the pod really received (presence, sha256 of values, file modes and owners, writable
 * directories), and the report is compared with what the manifest promises. No operator runs:
 * the test creates the Secrets the operators would manage, with random values.
 */
const ROOT = join(__dirname, '../..');

// Pods start, run and end for real here: each step waits (with its own deadline) for the node.
jest.setTimeout(300_000);

describe('the example app on a real node', () => {
  let cluster: TestCluster;
  let manifests: Manifest[];
  const values = new Map<string, Map<string, string>>();
  const promised = new Map<string, Map<string, Promised>>();

  const SYSCTLS = ['net/ipv4/ip_forward', 'vm/overcommit_memory', 'vm/panic_on_oom', 'kernel/panic', 'kernel/panic_on_oops'];
  const sysctls = () => Object.fromEntries(SYSCTLS.map((name) => [name, readFileSync(`/proc/sys/${name}`, 'utf8').trim()]));
  let hostBefore: { [name: string]: string };
  let stopped = false;

  beforeAll(() => {
    hostBefore = sysctls();
    cluster = TestCluster.startNode();
    const app = buildExampleApp(Testing.app());
    manifests = app.charts.flatMap((chart) => Testing.synth(chart)) as Manifest[];
    const secrets = app.node.findAll().filter((c): c is FloeSecret => c instanceof FloeSecret);
    const objects: Manifest[] = [];
    for (const secret of secrets) {
      const data = new Map(secret.keys.map((key) => [key, randomValue()]));
      values.set(secret.secretName, data);
      objects.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secret.secretName, namespace: secret.domain.namespace }, stringData: Object.fromEntries(data) });
    }
    // Namespaces, ServiceAccounts, Roles, ConfigMaps, Services first; custom resources need their
    // operators, which do not run here (the Secrets above stand in for what they would write).
    const builtIn = manifests.filter((m) => !m.apiVersion.includes('.') || m.apiVersion.includes('.k8s.io/'));
    const setup = builtIn.filter((m) => !WORKLOAD_KINDS.includes(m.kind));
    cluster.kubectlOk(['apply', '-f', '-'], setup.filter((m) => m.kind === 'Namespace').map((m) => stringify(m)).join('---\n'));
    cluster.kubectlOk(['apply', '-f', '-'], [...setup.filter((m) => m.kind !== 'Namespace'), ...objects].map((m) => stringify(m)).join('---\n'));
    const workloads = builtIn.filter((m) => WORKLOAD_KINDS.includes(m.kind));
    for (const w of workloads) promised.set(`${w.kind}/${w.metadata.name}`, promisedTo(w, values));
    cluster.kubectlOk(['apply', '-f', '-'], workloads.map((w) => stringify(forNode(w, promised.get(`${w.kind}/${w.metadata.name}`)!, values))).join('---\n'));
  }, 400_000);

  afterAll(() => {
    if (!stopped) cluster?.stop();
  }, 300_000);

  /** Each container's report, once the pod of the workload has run floe-probe. */
  async function reportsOf(workload: Manifest, podSelector: string): Promise<Map<string, ProbeLine[]>> {
    const namespace = workload.metadata.namespace!;
    const containers = [...promised.get(`${workload.kind}/${workload.metadata.name}`)!.keys()];
    const pod = await waitFor(`a pod of ${workload.kind} ${workload.metadata.name} that has run floe-probe`, () => {
      const pods = podsOf(cluster, namespace, podSelector);
      for (const p of pods) {
        const waiting = [...(p.status.initContainerStatuses ?? []), ...(p.status.containerStatuses ?? [])].map((s: any) => s.state?.waiting?.reason).find((r: string | undefined) => r && r !== 'ContainerCreating' && r !== 'PodInitializing');
        if (waiting) throw new Error(`pod ${p.metadata.name} of ${workload.kind} ${workload.metadata.name} is waiting: ${waiting}`);
        const done = p.status.phase === 'Succeeded' || p.status.phase === 'Failed' || (p.status.phase === 'Running' && (p.status.containerStatuses ?? []).every((s: any) => s.state?.running));
        if (done) return p;
      }
      return undefined;
    }, 180_000);
    const reports = new Map<string, ProbeLine[]>();
    for (const container of containers) {
      const report = await waitFor(`the report of container ${container}`, () => {
        const lines = parseProbe(logsOf(cluster, namespace, pod.metadata.name, container));
        return lines.some((l) => 'uid' in l && 'groups' in l) ? lines : undefined;
      });
      reports.set(container, report);
    }
    return reports;
  }

  /** A label selector for the pods of a Deployment, StatefulSet or DaemonSet. */
  function selectorOf(workload: Manifest): string {
    return Object.entries(workload.spec.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(',');
  }

  function checkReports(workload: Manifest, reports: Map<string, ProbeLine[]>): void {
    for (const [container, promise] of promised.get(`${workload.kind}/${workload.metadata.name}`)!) {
      const report = reports.get(container)!;
      const expected = expectedReport(promise);
      const what = `${workload.kind} ${workload.metadata.name}, container ${container}`;
      // Exactly the promised env vars, files and directories, in order; then dbt's lines, then the user.
      expect({ what, report: report.slice(0, expected.length) }).toEqual({ what, report: expected });
      const rest = report.slice(expected.length);
      if (promise.dbt) {
        expect({ what, dbt: rest.filter((l) => 'dbt' in l) }).toEqual({
          what,
          dbt: [
            { dbt: 'profiles', path: expect.stringMatching(/\/profiles\.yml$/), ok: true },
            { dbt: 'write', dir: expect.any(String), cwd: expect.any(String), ok: true },
            { dbt: 'write', dir: expect.any(String), cwd: expect.any(String), ok: true },
          ],
        });
        // Every env_var() of the profile resolved from the container's env.
        const envLines = rest.filter((l): l is { env: string; set: boolean; sha256?: string } => 'env' in l);
        expect(envLines.length).toBeGreaterThan(0);
        expect({ what, unset: envLines.filter((l) => !l.set).map((l) => l.env) }).toEqual({ what, unset: [] });
      }
      const who = rest.find((l): l is { uid: number; gid: number; groups: number[] } => 'groups' in l)!;
      const spec = podSpec(workload);
      const declared = [...(spec.initContainers ?? []), ...spec.containers].find((c: any) => c.name === container);
      expect({ what, uid: who.uid }).toEqual({ what, uid: declared.securityContext?.runAsUser ?? spec.securityContext?.runAsUser });
    }
  }

  test('the manifests hold every kind the library makes, and the node runs them', () => {
    expect([...new Set(manifests.map((m) => m.kind))]).toEqual(expect.arrayContaining(['Job', 'CronJob', 'Deployment', 'StatefulSet']));
    const nodes = JSON.parse(cluster.kubectlOk(['get', 'nodes', '-o', 'json'])).items;
    expect(nodes.map((n: any) => n.status.conditions.find((c: any) => c.type === 'Ready').status)).toEqual(['True']);
  });

  test('Jobs: every env var, envFrom key and secret file arrives as promised, with the stated mode and owner, and /tmp is writable', async () => {
    const jobs = manifests.filter((m) => m.kind === 'Job');
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    for (const job of jobs) {
      const reports = await reportsOf(job, `job-name=${job.metadata.name}`);
      checkReports(job, reports);
      // The job controller marks the Job once the pod has ended: wait for it, and fail on a failed run.
      const succeeded = await waitFor(`Job ${job.metadata.name} to end`, () => {
        const status = JSON.parse(cluster.kubectlOk(['get', 'job', job.metadata.name, '-n', job.metadata.namespace!, '-o', 'json'])).status;
        return status.succeeded || status.failed ? status.succeeded ?? 0 : undefined;
      }, 60_000);
      expect({ job: job.metadata.name, succeeded }).toEqual({ job: job.metadata.name, succeeded: 1 });
    }
  });

  test('CronJobs: a Job created from each (as `kubectl create job --from=cronjob/...`) receives what the CronJob promises; the dbt run reads its profile and writes target/ and logs/', async () => {
    const cronJobs = manifests.filter((m) => m.kind === 'CronJob');
    expect(cronJobs.map((c) => c.metadata.name)).toEqual(expect.arrayContaining(['nightly-dbt']));
    for (const cron of cronJobs) {
      const jobName = `${cron.metadata.name}-manual`;
      cluster.kubectlOk(['create', 'job', jobName, `--from=cronjob/${cron.metadata.name}`, '-n', cron.metadata.namespace!]);
      const reports = await reportsOf(cron, `job-name=${jobName}`);
      checkReports(cron, reports);
      if (cron.spec.jobTemplate.spec.template.metadata.annotations?.['vault.hashicorp.com/agent-enable-quit'] === 'true') {
        // The Vault Agent sidecar (stood in for by a listener on its port) keeps the pod running until the
        // wrapped command asks it to quit: the Job completes only then, and the agent saw the request.
        const succeeded = await waitFor(`Job ${jobName} to end`, () => {
          const status = JSON.parse(cluster.kubectlOk(['get', 'job', jobName, '-n', cron.metadata.namespace!, '-o', 'json'])).status;
          return status.succeeded || status.failed ? status.succeeded ?? 0 : undefined;
        }, 60_000);
        expect({ job: jobName, succeeded }).toEqual({ job: jobName, succeeded: 1 });
        const [pod] = podsOf(cluster, cron.metadata.namespace!, `job-name=${jobName}`);
        expect(logsOf(cluster, cron.metadata.namespace!, pod.metadata.name, 'vault-agent')).toMatch(/^POST \/agent\/v1\/quit HTTP\/1\.1\r?$/m);
      }
    }
    expect(cronJobs.some((c) => c.spec.jobTemplate.spec.template.metadata.annotations?.['vault.hashicorp.com/agent-enable-quit'] === 'true')).toBe(true);
  });

  test('Deployments and StatefulSets: every container (sidecars too) receives what it is promised', async () => {
    const longRunning = manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'StatefulSet' || m.kind === 'DaemonSet');
    expect(longRunning.map((m) => m.kind)).toEqual(expect.arrayContaining(['Deployment', 'StatefulSet']));
    for (const workload of longRunning) {
      checkReports(workload, await reportsOf(workload, selectorOf(workload)));
    }
  });

  test('a Secret update reaches the files of a running pod within the kubelet\'s sync period, never its env vars; the next pod reads the new value', async () => {
    // GIVEN the StatefulSet ledger, running: key.json of google-sa as a file, snowflake-credentials as env
    const ledger = manifests.find((m) => m.kind === 'StatefulSet' && m.metadata.name === 'ledger')!;
    await reportsOf(ledger, selectorOf(ledger));
    const file = '/run/secrets/google-sa/key.json';
    const probe = (...args: string[]) => parseProbe(cluster.kubectlOk(['exec', '-n', 'floe-sales', 'ledger-0', '-c', 'ledger', '--', 'floe-probe', ...args]));
    const envName = 'FLOE_SECRET_SNOWFLAKE_CREDENTIALS_PASSWORD';
    const oldEnv = probe('env', envName);
    expect(oldEnv).toEqual([{ env: envName, set: true, sha256: sha256(values.get('snowflake-credentials')!.get('password')!) }]);

    // WHEN both Secrets get new values
    const newKey = randomValue();
    const newPassword = randomValue();
    const updatedAt = Date.now();
    // (through stdin, and by replace: a value in kubectl's arguments, or in the patch a failed apply
    // prints, would be in the error of a failed call)
    values.get('google-sa')!.set('key.json', newKey);
    values.get('snowflake-credentials')!.set('password', newPassword);
    for (const name of ['google-sa', 'snowflake-credentials']) {
      const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'floe-sales' }, stringData: Object.fromEntries(values.get(name)!) };
      cluster.kubectlOk(['replace', '-f', '-'], JSON.stringify(secret));
    }

    // THEN the mounted file changes in place (the kubelet runs with syncFrequency 10s), the env var does not
    await waitFor(`${file} to hold the new value`, () => {
      const [line] = probe('file', file);
      return 'sha256' in line && line.sha256 === sha256(newKey) ? line : undefined;
    }, 90_000, 1000);
    const delaySeconds = (Date.now() - updatedAt) / 1000;
    console.log(`a Secret update reached the mounted file of a running pod after ${delaySeconds.toFixed(1)} s`);
    expect(delaySeconds).toBeLessThan(40); // syncFrequency 10 s plus the kubelet's Secret cache; measured 4.7-11.1 s
    expect(probe('env', envName)).toEqual(oldEnv);

    // AND the next pod reads the new value from its env
    const before = JSON.parse(cluster.kubectlOk(['get', 'pod', 'ledger-0', '-n', 'floe-sales', '-o', 'json'])).metadata.uid;
    cluster.kubectlOk(['delete', 'pod', 'ledger-0', '-n', 'floe-sales', '--grace-period=1', '--wait=true']);
    await waitFor('a new ledger-0 that runs', () => {
      const pod = podsOf(cluster, 'floe-sales', selectorOf(ledger)).find((p) => p.metadata.name === 'ledger-0');
      return pod && pod.metadata.uid !== before && pod.status.phase === 'Running' ? pod : undefined;
    }, 120_000);
    expect(probe('env', envName)).toEqual([{ env: envName, set: true, sha256: sha256(newPassword) }]);
    expect(probe('file', file)).toEqual([expect.objectContaining({ file, readable: true, sha256: sha256(newKey) })]);
  });

  test('a missing Secret or key leaves the pod in CreateContainerConfigError, and `floe-secrets validate` reported both on the same YAML before the apply', async () => {
    // GIVEN an app whose Jobs read a Secret nobody created, and a key the Secret lacks
    const dir = mkdtempSync(join(tmpdir(), 'floe-node-missing-'));
    try {
      const app = new App({ outdir: join(dir, 'dist') });
      const orders = new FloeDomain(app, 'orders', { domain: 'orders' });
      const absent = FloeSecret.fromSecretName(orders, 'Absent', 'absent-creds', { keys: ['token'] });
      const partial = FloeSecret.fromSecretName(orders, 'Partial', 'partial-creds', { keys: ['user', 'password'] });
      new SecretMountedJob(orders, 'NoSecret', { name: 'no-secret', image: 'busybox:1.35', secretEnv: [SecretReference.fromSecret(absent, 'token')] });
      new SecretMountedJob(orders, 'NoKey', { name: 'no-key', image: 'busybox:1.35', secretEnv: [SecretReference.fromSecret(partial, 'password')] });
      app.synth();
      const yaml = readFileSync(join(dir, 'dist', 'orders.k8s.yaml'), 'utf8');
      cluster.kubectlOk(['create', 'namespace', 'floe-orders']);
      const user = randomValue();
      cluster.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'partial-creds', namespace: 'floe-orders' }, stringData: { user } }));
      writeFileSync(join(dir, 'manifest.yaml'), 'plugins:\n  secrets: { type: k8s, namespace: floe-orders }\ndomains:\n  - name: orders\n');

      // WHEN validate checks the YAML against the cluster, as CI would before deploying
      const run = await runCli(['validate', 'dist', '-m', 'manifest.yaml', '-o', 'json', '--kubeconfig', join(cluster.dir, 'kubeconfig')], { cwd: dir });

      // THEN it fails naming both problems, and prints no value
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 1, stderr: '' });
      expect(run.stdout).not.toContain(user);
      const problems: string[] = JSON.parse(run.stdout).problems.map((p: { message: string }) => p.message);
      expect(problems).toEqual(expect.arrayContaining([expect.stringContaining('absent-creds'), expect.stringMatching(/partial-creds.*password|password.*partial-creds/)]));

      // AND on the node, each Job's pod waits in CreateContainerConfigError
      const objects = parseAllDocuments(yaml).map((d) => d.toJS() as Manifest);
      const jobs = objects.filter((m) => m.kind === 'Job');
      cluster.kubectlOk(['apply', '-f', '-'], objects.map((m) => stringify(m.kind === 'Job' ? runnable(m) : m)).join('---\n'));
      for (const job of jobs) {
        const reason = await waitFor(`the pod of Job ${job.metadata.name} to wait`, () => {
          const [pod] = podsOf(cluster, 'floe-orders', `job-name=${job.metadata.name}`);
          const waiting = pod?.status.containerStatuses?.[0]?.state?.waiting?.reason as string | undefined;
          return waiting === 'ContainerCreating' ? undefined : waiting ?? (pod?.status.phase === 'Running' || pod?.status.phase === 'Succeeded' ? pod.status.phase : undefined);
        }, 120_000);
        expect({ job: job.metadata.name, reason }).toEqual({ job: job.metadata.name, reason: 'CreateContainerConfigError' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('activeDeadlineSeconds fails a Job that runs too long', async () => {
    const app = new App();
    const orders = new FloeDomain(app, 'late', { domain: 'late' });
    new SecretMountedJob(orders, 'Slow', { name: 'slow', image: 'busybox:1.35', command: ['floe-probe', 'sleep', '300'], activeDeadlineSeconds: 5 });
    const objects = (Testing.synth(orders) as Manifest[]).map((m) => (m.kind === 'Job' ? runnable(m) : m));
    cluster.kubectlOk(['apply', '-f', '-'], objects.map((m) => stringify(m)).join('---\n'));
    const started = Date.now();
    const failed = await waitFor('Job slow to fail', () => {
      const job = JSON.parse(cluster.kubectlOk(['get', 'job', 'slow', '-n', 'floe-late', '-o', 'json']));
      return (job.status.conditions ?? []).find((c: any) => c.type === 'Failed' && c.status === 'True');
    }, 120_000);
    expect(failed.reason).toBe('DeadlineExceeded');
    expect((Date.now() - started) / 1000).toBeLessThan(40); // the 5 s deadline plus the job controller's reaction
  });

  test('the K8s runtime plugin in a pod: in-cluster configuration, its granted Secret read, any other Secret of its namespace or of another domain refused with a PermissionError', async () => {
    // GIVEN a pod of the Node image running as the Job orders-load's ServiceAccount (token mounted),
    // with the repository's built plugin packages mounted read-only
    cluster.kubectlOk(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'decoy', namespace: 'floe-sales' }, stringData: { token: randomValue() } }));
    const script = [
      "const { createHash } = require('node:crypto');",
      "const { K8sSecretsPlugin } = require('/repo/plugins/floe-secrets-k8s/lib');",
      'const hash = (v) => v === undefined ? null : createHash(\'sha256\').update(v).digest(\'hex\');',
      'const attempt = async (namespace, key) => {',
      '  try { return { key, sha256: hash(await new K8sSecretsPlugin({ namespace }).getSecret(key)) }; }',
      '  catch (e) { return { key, error: e.name }; }',
      '};',
      '(async () => {',
      "  for (const [ns, key] of [['floe-sales', 'google-sa/key.json'], ['floe-sales', 'decoy/token'], ['floe-marketing', 'ga4-sa/key.json']]) console.log(JSON.stringify({ ns, ...(await attempt(ns, key)) }));",
      '})();',
    ].join('\n');
    const nodeImage = cluster.env.FLOE_KUBE_NODE_IMAGE;
    if (!nodeImage) throw new Error(`${cluster.dir}/env names no FLOE_KUBE_NODE_IMAGE: scripts/kube-cluster.sh made no Node.js image`);
    cluster.kubectlOk(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'plugin-probe', namespace: 'floe-sales' },
      spec: {
        serviceAccountName: 'orders-load',
        automountServiceAccountToken: true,
        restartPolicy: 'Never',
        securityContext: { runAsUser: 10001, runAsGroup: 10001, runAsNonRoot: true },
        containers: [{
          name: 'node',
          image: nodeImage,
          imagePullPolicy: 'IfNotPresent',
          command: ['node', '-e', script],
          volumeMounts: [{ name: 'repo', mountPath: '/repo', readOnly: true }],
          resources: { requests: { cpu: '10m', memory: '32Mi' } },
        }],
        volumes: [{ name: 'repo', hostPath: { path: ROOT, type: 'Directory' } }],
      },
    }));

    // WHEN it has run
    const phase = await waitFor('pod plugin-probe to end', () => {
      const pod = JSON.parse(cluster.kubectlOk(['get', 'pod', 'plugin-probe', '-n', 'floe-sales', '-o', 'json']));
      return ['Succeeded', 'Failed'].includes(pod.status.phase) ? pod.status.phase as string : undefined;
    }, 120_000);
    const lines = logsOf(cluster, 'floe-sales', 'plugin-probe', 'node').trim().split('\n').map((l) => JSON.parse(l));

    // THEN exactly its granted Secret was read
    expect(phase).toBe('Succeeded');
    expect(lines).toEqual([
      { ns: 'floe-sales', key: 'google-sa/key.json', sha256: sha256(values.get('google-sa')!.get('key.json')!) },
      { ns: 'floe-sales', key: 'decoy/token', error: 'PermissionError' },
      { ns: 'floe-marketing', key: 'ga4-sa/key.json', error: 'PermissionError' },
    ]);
  });

  test('file modes on the node are the ones the library states: the default, fileMode 0o600, and root without fsGroup', async () => {
    // GIVEN three Jobs mounting one Secret: the default, fileMode 0o600, and root with fsGroup null
    const app = new App();
    const modes = new FloeDomain(app, 'modes', { domain: 'modes' });
    const creds = FloeSecret.fromSecretName(modes, 'Creds', 'mode-creds', { keys: ['token'] });
    new SecretMountedJob(modes, 'Default', { name: 'mode-default', image: 'busybox:1.35', secretFiles: [{ secret: creds }] });
    new SecretMountedJob(modes, 'Owner', { name: 'mode-owner', image: 'busybox:1.35', secretFiles: [{ secret: creds }], fileMode: 0o600 });
    new SecretMountedJob(modes, 'Root', { name: 'mode-root', image: 'busybox:1.35', secretFiles: [{ secret: creds }], runAsUser: 0, fsGroup: null });
    const objects = Testing.synth(modes) as Manifest[];
    values.set('mode-creds', new Map([['token', randomValue()]]));
    const jobs = objects.filter((m) => m.kind === 'Job');
    expect(jobs.map((j) => [j.metadata.name, j.metadata.annotations?.['floe.dev/secret-file-mode']])).toEqual([
      ['mode-default', '0440 root:10001'], ['mode-owner', '0640 root:10001'], ['mode-root', '0400 root:0'],
    ]);
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mode-creds', namespace: 'floe-modes' }, stringData: Object.fromEntries(values.get('mode-creds')!) };
    for (const job of jobs) promised.set(`Job/${job.metadata.name}`, promisedTo(job, values));
    cluster.kubectlOk(['apply', '-f', '-'], objects.filter((m) => m.kind === 'Namespace').map((m) => stringify(m)).join('---\n'));
    cluster.kubectlOk(['apply', '-f', '-'], [secret, ...objects.filter((m) => m.kind !== 'Namespace').map((m) => (m.kind === 'Job' ? forNode(m, promised.get(`Job/${m.metadata.name}`)!) : m))]
      .map((m) => stringify(m)).join('---\n'));

    // THEN each pod sees exactly the stated mode and owner, and reads the file
    for (const job of jobs) checkReports(job, await reportsOf(job, `job-name=${job.metadata.name}`));
  });

  test('a CronJob\'s scheduled run happens and receives what the CronJob promises', async () => {
    const app = new App();
    const timed = new FloeDomain(app, 'timed', { domain: 'timed' });
    const creds = FloeSecret.fromSecretName(timed, 'Creds', 'timed-creds', { keys: ['password'] });
    new SecretMountedJob(timed, 'EveryMinute', {
      name: 'every-minute', image: 'busybox:1.35', schedule: Cron.schedule({ minute: '*' }), secretEnv: [SecretReference.fromSecret(creds, 'password')],
    });
    const objects = Testing.synth(timed) as Manifest[];
    values.set('timed-creds', new Map([['password', randomValue()]]));
    const cron = objects.find((m) => m.kind === 'CronJob')!;
    promised.set(`CronJob/${cron.metadata.name}`, promisedTo(cron, values));
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'timed-creds', namespace: 'floe-timed' }, stringData: Object.fromEntries(values.get('timed-creds')!) };
    cluster.kubectlOk(['apply', '-f', '-'], objects.filter((m) => m.kind === 'Namespace').map((m) => stringify(m)).join('---\n'));
    cluster.kubectlOk(['apply', '-f', '-'], [secret, ...objects.filter((m) => m.kind !== 'Namespace').map((m) => (m.kind === 'CronJob' ? forNode(m, promised.get(`CronJob/${m.metadata.name}`)!) : m))]
      .map((m) => stringify(m)).join('---\n'));

    // The controller starts a Job at the next minute; its pod runs floe-probe.
    const job = await waitFor('a Job the CronJob started on its schedule', () => {
      const items = JSON.parse(cluster.kubectlOk(['get', 'jobs', '-n', 'floe-timed', '-o', 'json'])).items;
      return items.find((j: any) => j.metadata.ownerReferences?.some((o: any) => o.kind === 'CronJob' && o.name === 'every-minute'));
    }, 90_000, 2000);
    checkReports(cron, await reportsOf(cron, `job-name=${job.metadata.name}`));
  });

  test('a Deployment reading an Infisical-managed Secret carries the auto-reload annotation on its own metadata; after a restart its env has the new value', async () => {
    const api = manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === 'orders-api')!;
    expect(api.metadata.annotations?.['secrets.infisical.com/auto-reload']).toBe('true');
    expect(api.spec.template.metadata.annotations?.['secrets.infisical.com/auto-reload']).toBeUndefined();
    const envName = 'FLOE_SECRET_SNOWFLAKE_CREDENTIALS_PASSWORD';
    const newPassword = randomValue();
    values.get('snowflake-credentials')!.set('password', newPassword);
    cluster.kubectlOk(['replace', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'snowflake-credentials', namespace: 'floe-sales' }, stringData: Object.fromEntries(values.get('snowflake-credentials')!),
    }));
    const before = podsOf(cluster, 'floe-sales', selectorOf(api)).map((p) => p.metadata.uid);

    // WHEN the Deployment restarts, as the operator restarts it on a change of the Secret
    cluster.kubectlOk(['rollout', 'restart', `deployment/${api.metadata.name}`, '-n', 'floe-sales']);

    // THEN its new pod's env holds the new value
    const pod = await waitFor('a new orders-api pod that runs', () => podsOf(cluster, 'floe-sales', selectorOf(api))
      .find((p) => !before.includes(p.metadata.uid) && p.status.phase === 'Running' && p.status.containerStatuses?.every((c: any) => c.state?.running)), 120_000);
    const report = await waitFor('its report', () => {
      const lines = parseProbe(logsOf(cluster, 'floe-sales', pod.metadata.name, 'main'));
      return lines.some((l) => 'groups' in l) ? lines : undefined;
    });
    expect(report.filter((l) => 'env' in l && l.env === envName)).toEqual([{ env: envName, set: true, sha256: sha256(newPassword) }]);
  });

  test('stop leaves no process, mount, network namespace or kernel setting of the cluster behind', () => {
    const netns = cluster.env.FLOE_KUBE_NETNS;
    expect(netns).toMatch(/^floe-kube-/);
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).toContain(netns);
    const dir = cluster.dir;

    cluster.stop();
    stopped = true;

    expect(existsSync(dir)).toBe(false);
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain(netns);
    const processes = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout.split('\n').filter((line) => line.includes(dir));
    expect(processes).toEqual([]);
    expect(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => line.includes(dir))).toEqual([]);
    expect(sysctls()).toEqual(hostBefore);
  });
});
