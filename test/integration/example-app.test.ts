import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Testing } from 'cdk8s';
import { parseAllDocuments, stringify } from 'yaml';
import { buildExampleApp } from '../../examples/app';
import { FloeSecret } from '../../src';
import { Manifest, podSpec, randomValue, secretsReadByPod } from '../util';
import { TestCluster } from './cluster';
import { CRD_FILES, formatLostFields, installCrds, lostFields } from './crds';

const ROOT = resolve(__dirname, '../..');

/**
 * The example app, synthesized by the real `cdk8s synth` of the README quick start, applied to a
 * real kube-apiserver (RBAC authorizer, token auth) with the operators' real CRDs installed; then
 * every object is read back, and every ServiceAccount is checked against every Secret in the
 * cluster. No operator runs here: the test creates the Secrets the operators would manage.
 */
describe('example app on a real kube-apiserver', () => {
  let cluster: TestCluster;
  let outdir: string;
  let manifests: Manifest[];
  let yamlText: string;
  const values: string[] = [];

  beforeAll(() => {
    cluster = TestCluster.start();
    installCrds(cluster, CRD_FILES, { log: () => undefined });
    outdir = mkdtempSync(join(tmpdir(), 'floe-dist-'));
    const synth = spawnSync('npx', ['cdk8s', 'synth', '--check-upgrade=false', '--output', outdir], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    if (synth.status !== 0) throw new Error(`cdk8s synth failed: ${synth.stderr}`);
    yamlText = readdirSync(outdir).sort().map((f) => readFileSync(join(outdir, f), 'utf8')).join('---\n');
    manifests = parseAllDocuments(yamlText).map((d) => d.toJS()).filter((m) => m);
  }, 240_000);

  afterAll(() => {
    cluster?.stop();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  test('kubectl apply creates every synthesized object, and the server stores every field that was sent', () => {
    // The test server is Kubernetes 1.20, which serves CronJob only as batch/v1beta1; the fields we
    // set are the same in both versions, so CronJobs are applied under that version here. cdk8s-plus-28
    // writes a StatefulSet's minReadySeconds (Kubernetes 1.22+), which 1.20 refuses as unknown: it is
    // left out only when it is 0, the default of the servers that know it, so nothing is lost.
    const forServer = manifests.map((m) => {
      if (m.kind === 'CronJob') return { ...m, apiVersion: 'batch/v1beta1' };
      if (m.kind === 'StatefulSet' && m.spec.minReadySeconds === 0) {
        const { minReadySeconds, ...spec } = m.spec;
        return { ...m, spec };
      }
      return m;
    });
    const applied = cluster.kubectlOk(['apply', '-f', '-'], forServer.map((m) => stringify(m)).join('---\n'));
    expect(applied.trim().split('\n')).toHaveLength(manifests.length);

    expect(manifests.map((m) => m.kind)).toEqual(expect.arrayContaining(['InfisicalSecret', 'ExternalSecret', 'Deployment', 'StatefulSet', 'CronJob', 'Job']));
    for (const m of forServer) {
      const got = JSON.parse(cluster.kubectlOk(['get', '-f', '-', '-o', 'json'], stringify(m)));
      const stored = got.kind === 'List' ? got.items[0] : got;
      // Structural-schema pruning drops unknown fields of custom resources silently: compare all.
      // Two exceptions: Kubernetes 1.20 drops a Job's ttlSecondsAfterFinished (the TTL-after-finished
      // controller is alpha there, off by default; beta and on from 1.21, which the library needs); and
      // in a built-in kind the server omits a false or an empty list (omitempty), the same as unset, which
      // cdk8s-plus writes (hostNetwork: false, externalIPs: []). Custom resources get no such leniency.
      const builtIn = !m.apiVersion.includes('.') || m.apiVersion.includes('.k8s.io/');
      const lost = formatLostFields(lostFields(m, stored).filter((field) => !(field.how === 'missing' && (
        (m.kind === 'Job' && field.path.join('.') === 'spec.ttlSecondsAfterFinished') ||
        (builtIn && (field.sent === false || (Array.isArray(field.sent) && field.sent.length === 0)))))));
      expect({ object: `${m.kind}/${m.metadata.name}`, lost }).toEqual({ object: `${m.kind}/${m.metadata.name}`, lost: [] });
    }
  });

  test('secrets created outside the app, as the README shows, hold only what the platform team put there', () => {
    // GIVEN the Secrets the app declares as external, created with random values through stdin
    const declared = buildExampleApp(Testing.app()).node.findAll().filter((c): c is FloeSecret => c instanceof FloeSecret);
    expect(declared.length).toBeGreaterThanOrEqual(5);
    const secrets = declared.map((s) => {
      const stringData = Object.fromEntries(s.keys.map((k) => {
        const value = randomValue();
        values.push(value);
        return [k, value];
      }));
      return { apiVersion: 'v1', kind: 'Secret', metadata: { name: s.secretName, namespace: s.domain.namespace }, stringData };
    });
    // Decoys: a Secret no workload uses in every namespace, to prove nobody can read it.
    for (const ns of ['floe-sales', 'floe-marketing', 'default']) {
      const value = randomValue();
      values.push(value);
      secrets.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'decoy', namespace: ns }, stringData: { token: value } });
    }
    const out = cluster.kubectlOk(['apply', '-f', '-'], secrets.map((s) => stringify(s)).join('---\n'));

    // THEN no value was echoed, and the synthesized YAML holds none of them
    for (const value of values) {
      expect(out).not.toContain(value);
      expect(yamlText).not.toContain(value);
    }
  });

  test('each ServiceAccount can get exactly the secrets its workload declares, and nothing else anywhere', async () => {
    const serviceAccounts = manifests.filter((m) => m.kind === 'ServiceAccount');
    const workloads = manifests.filter((m) => ['Job', 'CronJob', 'Deployment', 'StatefulSet', 'DaemonSet'].includes(m.kind));
    // What each ServiceAccount's pods read, derived from the pod specs rather than from the Roles.
    const secretsOf = (sa: Manifest) => new Set(workloads
      .filter((w) => w.metadata.namespace === sa.metadata.namespace && podSpec(w).serviceAccountName === sa.metadata.name)
      .flatMap((w) => secretsReadByPod(podSpec(w))));
    const allSecrets: Array<{ namespace: string; name: string }> = JSON.parse(cluster.kubectlOk(['get', 'secrets', '-A', '-o', 'json']))
      .items.map((s: any) => ({ namespace: s.metadata.namespace, name: s.metadata.name }));
    const namespaces = ['default', 'kube-system', ...new Set(manifests.filter((m) => m.kind === 'Namespace').map((m) => m.metadata.name))];
    expect(serviceAccounts.length).toBeGreaterThanOrEqual(3);

    const checks: Array<{ what: string; expected: boolean; actual: Promise<boolean> }> = [];
    for (const sa of serviceAccounts) {
      const ns = sa.metadata.namespace!;
      const user = `system:serviceaccount:${ns}:${sa.metadata.name}`;
      const declared = secretsOf(sa);
      // A workload's ServiceAccount reads Secrets; a SecretStore's, or one whose pods get only Vault
      // Agent files, logs in to Vault and may read none.
      const ofStore = manifests.some((m) => m.kind === 'SecretStore' && m.metadata.namespace === ns
        && m.spec.provider.vault.auth.kubernetes.serviceAccountRef.name === sa.metadata.name);
      const vaultOnly = workloads.some((w) => w.metadata.namespace === ns && podSpec(w).serviceAccountName === sa.metadata.name
        && (w.kind === 'CronJob' ? w.spec.jobTemplate.spec.template : w.spec.template).metadata.annotations?.['vault.hashicorp.com/agent-inject'] === 'true');
      expect(declared.size > 0 || ofStore || vaultOnly).toBe(true);
      for (const secret of allSecrets) {
        const mayGet = secret.namespace === ns && declared.has(secret.name);
        checks.push({ what: `${user} get ${secret.namespace}/${secret.name}`, expected: mayGet, actual: cluster.canI(user, 'get', secret.namespace, secret.name) });
        for (const verb of ['list', 'watch', 'update', 'patch', 'delete']) {
          checks.push({ what: `${user} ${verb} ${secret.namespace}/${secret.name}`, expected: false, actual: cluster.canI(user, verb, secret.namespace, secret.name) });
        }
      }
      for (const namespace of [...namespaces, '']) {
        for (const verb of ['list', 'watch', 'create', 'deletecollection']) {
          checks.push({ what: `${user} ${verb} secrets in ${namespace || 'all namespaces'}`, expected: false, actual: cluster.canI(user, verb, namespace) });
        }
      }
    }
    const results = await Promise.all(checks.map(async (c) => ({ ...c, actual: await c.actual })));
    const wrong = results.filter((r) => r.actual !== r.expected).map((r) => `${r.what}: expected ${r.expected}, got ${r.actual}`);
    expect(wrong).toEqual([]);
    expect(results.filter((r) => r.expected).length).toBe(serviceAccounts.reduce((n, sa) => n + secretsOf(sa).size, 0));
    process.stdout.write(`RBAC matrix: ${serviceAccounts.length} service accounts x ${allSecrets.length} secrets in ${namespaces.length} namespaces = ${results.length} SubjectAccessReviews (${results.filter((r) => r.expected).length} allowed)\n`);
  });

  test('with a real ServiceAccount token, reading a declared secret works and every other read is forbidden', async () => {
    const sales = manifests.find((m) => m.kind === 'Job' && m.metadata.name === 'orders-load')!;
    const token = await cluster.serviceAccountToken('floe-sales', podSpec(sales).serviceAccountName);
    const own = await cluster.api('GET', '/api/v1/namespaces/floe-sales/secrets/snowflake-credentials', undefined, token);
    expect(own.status).toBe(200);
    expect(Object.keys(own.body.data).sort()).toEqual(['account', 'password', 'user']);

    for (const path of [
      '/api/v1/namespaces/floe-sales/secrets/decoy',
      '/api/v1/namespaces/floe-sales/secrets',
      '/api/v1/namespaces/floe-marketing/secrets/hubspot-api',
      '/api/v1/namespaces/floe-marketing/secrets',
      '/api/v1/secrets',
      '/api/v1/namespaces/floe-sales/secrets?fieldSelector=metadata.name%3Dsnowflake-credentials',
    ]) {
      const res = await cluster.api('GET', path, undefined, token);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
      expect(res.body.reason).toBe('Forbidden');
    }
  });
});
