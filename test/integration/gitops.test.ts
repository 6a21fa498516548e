import { randomInt } from 'node:crypto';
import { Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { stringify } from 'yaml';
import { FloeDomain, FloeSecret, FloeServiceAccount, IFloeSecret, SecretMountedJob, SecretReference, WorkloadSecrets } from '../../src';
import { canonicalQuantity } from '../../src/internal/workload-spec';
import { buildGitopsApp, GITOPS_CRONJOB, GITOPS_JOB, GitopsSources, sourcesAfter, sourcesBefore } from '../gitops-app';
import { find, Manifest, podSpec, synth } from '../util';
import { Run, TestCluster } from './cluster';
import { CRD_FILES, installCrds } from './crds';

/**
 * What Argo CD does on every sync, done by hand on a real kube-apiserver: synthesize, apply, change
 * every source setting that does not change what the pod receives, synthesize, apply again. A
 * Job's pod template is immutable, so a reviewer-only value in it (such as a source's refresh
 * interval) would make the second apply fail with "field is immutable"; the negative control
 * shows the server does reject a real change, so these tests can fail.
 */
describe('GitOps syncs on a real kube-apiserver', () => {
  let cluster: TestCluster;

  beforeAll(() => {
    cluster = TestCluster.start();
    installCrds(cluster, CRD_FILES, { log: () => undefined });
  }, 240_000);

  afterAll(() => cluster?.stop());

  /** Every manifest of the app, the main domain first. */
  function manifestsOf(domain: string, sources: (copy: FloeDomain) => GitopsSources): Manifest[] {
    const app = buildGitopsApp(Testing.app(), domain, sources);
    return app.charts.flatMap((chart) => synth(chart));
  }

  /**
   * The YAML a GitOps tool applies. The test server is Kubernetes 1.20, which serves CronJob only as
   * batch/v1beta1; the fields set are the same in both versions.
   */
  function yamlFor(manifests: Manifest[]): string {
    return manifests.map((m) => stringify(m.kind === 'CronJob' ? { ...m, apiVersion: 'batch/v1beta1' } : m)).join('---\n');
  }

  function stored(namespace: string, kind: string, name: string): any {
    return JSON.parse(cluster.kubectlOk(['get', kind, name, '-n', namespace, '-o', 'json']));
  }

  /** The pod templates as the server stores them. */
  function storedTemplates(namespace: string): { job: unknown; cronJob: unknown } {
    return {
      job: stored(namespace, 'jobs.batch', GITOPS_JOB).spec.template,
      cronJob: stored(namespace, 'cronjobs.batch', GITOPS_CRONJOB).spec.jobTemplate.spec.template,
    };
  }

  const IMMUTABLE_TEMPLATE = new RegExp(`Job(\\.batch)? "${GITOPS_JOB}" is invalid:[\\s\\S]*spec\\.template: Invalid value: .*field is immutable`);

  const SERVER_SIDE = ['apply', '--server-side', '--force-conflicts', '--field-manager=argocd-controller'];

  test.each([
    ['client-side apply, as Argo CD by default', 'gitops-csa', ['apply']],
    ['server-side apply, as Argo CD with ServerSideApply=true', 'gitops-ssa', SERVER_SIDE],
  ])('%s: changing every source setting that does not reach the pod is accepted and leaves the pod templates as they were', (_how, domain, apply) => {
    const namespace = `floe-${domain}`;
    const keepAuthMethod = apply === SERVER_SIDE;
    const run = (manifests: Manifest[], args: string[] = apply): Run => cluster.kubectl([...args, '-f', '-'], yamlFor(manifests));

    // GIVEN the app as first deployed
    const before = manifestsOf(domain, sourcesBefore);
    const first = run(before);
    expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: '' });
    const templatesBefore = storedTemplates(namespace);

    // WHEN every source setting that does not reach the pod changes, and the new synth is applied
    const after = manifestsOf(domain, (copy) => sourcesAfter(copy, { keepAuthMethod }));
    const second = run(after);

    // THEN nothing is rejected, and the server holds the same pod templates
    expect({ status: second.status, stderr: second.stderr }).toEqual({ status: 0, stderr: '' });
    expect(storedTemplates(namespace)).toEqual(templatesBefore);
    // ... while the sources did change on the server (the test is not vacuous)
    const warehouse = after.find((m) => m.kind === 'InfisicalSecret' && m.metadata.namespace === namespace && m.spec.managedKubeSecretReferences[0].secretName === 'warehouse')!;
    expect(stored(namespace, 'infisicalsecrets.secrets.infisical.com', warehouse.metadata.name).spec.syncConfig.resyncInterval).toBe('5m');
    const ads = after.find((m) => m.kind === 'ExternalSecret' && m.spec.target.name === 'ads')!;
    expect(stored(namespace, 'externalsecrets.external-secrets.io', ads.metadata.name).spec).toMatchObject({ refreshInterval: '15m', secretStoreRef: { name: 'team-store', kind: 'SecretStore' } });
    const crm = after.find((m) => m.kind === 'InfisicalStaticSecret' && m.metadata.namespace === namespace)!;
    expect(stored(namespace, 'infisicalstaticsecrets.secrets.infisical.com', crm.metadata.name).spec.targets[0].name).toBe('crm');
    expect(stored(`${namespace}-copy`, 'infisicalsecrets.secrets.infisical.com', warehouse.metadata.name).spec.managedKubeSecretReferences[0].secretNamespace).toBe(`${namespace}-copy`);

    // Negative control: a setting the pod does receive (the Vault role, read by the injector from the
    // pod template) is refused for the Job, by apply and by replace (Argo CD's Replace=true) alike ...
    const runtimeChange = manifestsOf(domain, (copy) => ({ ...sourcesAfter(copy, { keepAuthMethod }), exportFiles: { ...sourcesBefore().exportFiles, role: 'floe-gitops-v2' } }));
    const refused = run(runtimeChange);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(IMMUTABLE_TEMPLATE);
    expect(refused.stderr.match(/is invalid/g)).toHaveLength(1); // the CronJob's template may change
    const job = runtimeChange.filter((m) => m.kind === 'Job' && m.metadata.namespace === namespace);
    expect(job).toHaveLength(1);
    expect(run(job, ['replace']).stderr).toMatch(IMMUTABLE_TEMPLATE);
    expect(storedTemplates(namespace).job).toEqual(templatesBefore.job);

    // ... and goes through only when the Job is deleted and created again (Argo CD's Force=true,Replace=true)
    const replaced = run(job, ['replace', '--force']);
    expect({ status: replaced.status, stderr: replaced.stderr }).toEqual({ status: 0, stderr: '' });
    expect((storedTemplates(namespace).job as any).metadata.annotations['vault.hashicorp.com/role']).toBe('floe-gitops-v2');
  });

  test('server-side apply refuses to switch an InfisicalSecret from universal to kubernetes auth; replacing that one object works', () => {
    // Server-side apply removes the fields of universalAuth but leaves it as null, which the CRD's
    // schema refuses (kubernetes/kubernetes#103011). Client-side apply, and kubectl replace (Argo CD's
    // Replace=true on that object), send the whole object and are accepted.
    const domain = 'gitops-auth';
    const namespace = `floe-${domain}`;
    const warehouse = (manifests: Manifest[]) => manifests.filter((m) => m.kind === 'InfisicalSecret' && m.metadata.namespace === namespace && m.spec.managedKubeSecretReferences[0].secretName === 'warehouse');
    const before = manifestsOf(domain, sourcesBefore);
    expect(cluster.kubectl([...SERVER_SIDE, '-f', '-'], yamlFor(before)).status).toBe(0);
    const switched = warehouse(manifestsOf(domain, (copy) => ({ ...sourcesBefore(), warehouse: sourcesAfter(copy).warehouse })));
    expect(switched).toHaveLength(1);

    const refused = cluster.kubectl([...SERVER_SIDE, '-f', '-'], yamlFor(switched));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/spec\.authentication\.universalAuth\.\w+: Invalid value: "null"/);

    const replaced = cluster.kubectl(['replace', '-f', '-'], yamlFor(switched));
    expect({ status: replaced.status, stderr: replaced.stderr }).toEqual({ status: 0, stderr: '' });
    const auth = stored(namespace, 'infisicalsecrets.secrets.infisical.com', switched[0].metadata.name).spec.authentication;
    expect(Object.keys(auth)).toEqual(['kubernetesAuth']);
  });

  test('why the SecretMounted* conveniences keep their own rendering: the same Job rebuilt as a cdk8s-plus Job with WorkloadSecrets is refused as immutable', () => {
    // Every prop cdk8s-plus offers is set to match (name, labels, ServiceAccount, user, group, fsGroup,
    // seccomp, capabilities, pull policy, /tmp, TTL, select: false), yet cdk8s-plus always writes the
    // construct-path label cdk8s.io/metadata.addr on the pod template and spells out setHostnameAsFQDN,
    // privileged and fsGroupChangePolicy, none of which the apiserver defaults the same way. A Job's
    // template is immutable, so every Job deployed with the convenience would fail its next sync.
    const namespace = 'floe-gitops-kplus';
    const build = (wire: (domain: FloeDomain, secret: IFloeSecret) => void): Manifest[] => {
      const domain = new FloeDomain(Testing.app(), 'Domain', { domain: 'gitops-kplus' });
      wire(domain, FloeSecret.fromSecretName(domain, 'Db', 'db-creds', { keys: ['user'] }));
      return synth(domain);
    };
    const legacy = build((domain, db) => {
      new SecretMountedJob(domain, 'Load', { name: 'load', image: 'loader:1', command: ['run'], secretEnv: [SecretReference.fromSecret(db, 'user')], secretFiles: [{ secret: db }] });
    });
    const rebuilt = build((domain, db) => {
      const labels = find(legacy, 'Job', 'load').spec.template.metadata.labels;
      const job = new kplus.Job(domain, 'Load', {
        metadata: { name: 'load', labels: find(legacy, 'Job', 'load').metadata.labels },
        podMetadata: { labels },
        select: false,
        serviceAccount: new FloeServiceAccount(domain, 'Sa', { serviceAccountName: 'load' }),
        securityContext: { user: 10001, group: 10001, fsGroup: 10001 },
        ttlAfterFinished: Duration.days(1),
        containers: [{
          name: 'main',
          image: 'loader:1',
          command: ['run'],
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          securityContext: { capabilities: { drop: [kplus.Capability.ALL] }, seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT } },
          volumeMounts: [{ path: '/tmp', volume: kplus.Volume.fromEmptyDir(domain, 'Tmp', 'tmp') }],
        }],
      });
      new WorkloadSecrets(domain, 'Secrets', { workload: job }).addSecretEnv(SecretReference.fromSecret(db, 'user')).mountSecret(db);
    });
    const before = find(legacy, 'Job', 'load');
    const after = find(rebuilt, 'Job', 'load');
    expect(before.spec.template.metadata.labels['cdk8s.io/metadata.addr']).toBeUndefined();
    expect(after.spec.template.metadata.labels['cdk8s.io/metadata.addr']).toMatch(/^Domain-Load-[0-9a-f]{8}$/);
    expect([podSpec(before).setHostnameAsFQDN, podSpec(after).setHostnameAsFQDN]).toEqual([undefined, false]);
    const privileged = (job: Manifest) => podSpec(job).containers[0].securityContext.privileged;
    expect([privileged(before), privileged(after)]).toEqual([undefined, false]);

    const first = cluster.kubectl(['apply', '-f', '-'], yamlFor(legacy));
    expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: '' });
    const refused = cluster.kubectl(['apply', '-f', '-'], yamlFor([after]));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/Job(\.batch)? "load" is invalid:[\s\S]*spec\.template: Invalid value: .*field is immutable/);
    expect(stored(namespace, 'jobs.batch', 'load').spec.template.metadata.labels['cdk8s.io/metadata.addr']).toBeUndefined();
  });

  test('resource quantities are written as the apiserver stores them, so Argo CD sees no difference (random quantities)', () => {
    // The server rounds a resource quantity up to thousandths and may rewrite its form; Argo CD then
    // shows a diff that never syncs away (argoproj/argo-cd#21135). The library writes
    // canonicalQuantity() of what it is given: the server stores exactly that, and it is the amount the
    // server makes of the quantity as given.
    const suffixes = ['', '', 'n', 'u', 'm', 'k', 'M', 'G', 'T', 'Ki', 'Mi', 'Gi', 'Ti', 'e0', 'e3', 'e-3', 'e2', 'e5', 'E6', 'e-7'];
    const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');
    const quantities = new Set<string>();
    while (quantities.size < 150) {
      const fraction = randomInt(3) === 0 ? '' : `.${digits(randomInt(4))}`;
      const quantity = `${randomInt(4) === 0 ? '' : digits(1 + randomInt(5))}${fraction}${suffixes[randomInt(suffixes.length)]}`;
      if (canonicalQuantity(quantity) !== undefined) quantities.add(quantity);
    }
    const given = [...quantities];
    const written = given.map((quantity) => canonicalQuantity(quantity)!);
    const names = ['cpu', 'memory', 'ephemeral-storage'];
    const limitRanges = (prefix: string, list: string[]) => Array.from({ length: list.length / names.length }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'LimitRange',
      metadata: { name: `${prefix}-${i}`, namespace: 'floe-quantities' },
      spec: { limits: [{ type: 'Container', max: Object.fromEntries(names.map((name, j) => [name, list[names.length * i + j]])) }] },
    }));
    cluster.kubectlOk(['create', 'namespace', 'floe-quantities']);
    cluster.kubectlOk(['create', '-f', '-'], yamlFor([...limitRanges('given', given), ...limitRanges('written', written)] as unknown as Manifest[]));
    const items: any[] = JSON.parse(cluster.kubectlOk(['get', 'limitranges', '-n', 'floe-quantities', '-o', 'json'])).items;
    const storedMax = (prefix: string) => limitRanges(prefix, given).flatMap((range) => {
      const max = items.find((item) => item.metadata.name === range.metadata.name).spec.limits[0].max;
      return names.map((name) => max[name] as string);
    });

    const storedGiven = storedMax('given');
    const storedWritten = storedMax('written');
    const problems = given
      .map((quantity, i) => ({ given: quantity, written: written[i], storedWritten: storedWritten[i], storedGiven: storedGiven[i] }))
      .filter((q) => q.storedWritten !== q.written || canonicalQuantity(q.storedGiven) !== q.written);
    expect(problems).toEqual([]);
    expect(given.filter((quantity, i) => storedGiven[i] !== quantity).length).toBeGreaterThan(20); // the server did rewrite many as given
  });
});
