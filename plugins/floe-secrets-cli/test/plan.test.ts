import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { parseAllDocuments, stringify } from 'yaml';
import { CliRun, runCli } from './run-cli';
import { buildExampleApp } from '../../../examples/app';
import {
  FloeDomain, FloeSecret, InfisicalAuthentication, InfisicalSecretSource, SecretMountedJob, SecretReference,
} from '../../../src';
import { Plan, PlanChange } from '../src/plan/model';

// `floe-secrets plan BASE HEAD` through the built binary, on output synthesized with the library
// (a small app and its variants, and the example app), and on edits of that output for RBAC
// changes the library never makes.

let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'floe-cli-plan-'));
  env = { ...process.env, FLOE_SECRETS_AUDIT_DIR: join(root, 'audit') };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What the small app varies. */
interface Variant {
  /** Job load also reads Secret `extra` (key KEY) as an env var. */
  readonly extra?: boolean;
  /** The InfisicalSecret's resync interval (default 60s) and rotation period (default none). */
  readonly resyncInterval?: string;
  readonly rotationPeriod?: string;
  /** Also an InfisicalSecretSource `reports` that nothing reads. */
  readonly reports?: boolean;
}

/**
 * Domain sales: Secrets db-creds and shop-api created outside the app, the Infisical-managed
 * api-token, and Job load that reads db-creds/password and api-token/TOKEN as env vars and shop-api
 * as envFrom. Synthesized into `root/name`.
 */
function smallApp(name: string, variant: Variant = {}): string {
  const outdir = join(root, name);
  const app = new App({ outdir });
  const sales = new FloeDomain(app, 'sales', { domain: 'sales' });
  const db = FloeSecret.fromSecretName(sales, 'Db', 'db-creds', { keys: ['user', 'password'] });
  const shop = FloeSecret.fromSecretName(sales, 'Shop', 'shop-api', { keys: ['SHOP_TOKEN'] });
  const infisical = (id: string, secretName: string, path: string, options: Variant = {}) => new InfisicalSecretSource(sales, id, {
    projectSlug: 'analytics',
    envSlug: 'prod',
    secretsPath: path,
    authentication: InfisicalAuthentication.universalAuth({ name: 'infisical-creds', namespace: 'floe-platform' }),
    secretName,
    keys: ['TOKEN'],
    ...(options.resyncInterval ? { resyncInterval: options.resyncInterval } : {}),
    ...(options.rotationPeriod ? { rotationPeriod: options.rotationPeriod } : {}),
  }).secret;
  const api = infisical('Api', 'api-token', '/compute/api', variant);
  if (variant.reports) infisical('Reports', 'reports-token', '/compute/reports');
  const extra = FloeSecret.fromSecretName(sales, 'Extra', 'extra', { keys: ['KEY'] });
  new SecretMountedJob(sales, 'Load', {
    name: 'load',
    image: 'ghcr.io/acme/load:1.0.0',
    secretEnv: [
      SecretReference.fromSecret(db, 'password'),
      SecretReference.fromSecret(api, 'TOKEN'),
      ...(variant.extra ? [SecretReference.fromSecret(extra, 'KEY')] : []),
    ],
    secretEnvFrom: [shop],
    activeDeadlineSeconds: 3600,
  });
  app.synth();
  return outdir;
}

/** Every object of the YAML files of `dir`. */
function objectsOf(dir: string): any[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).flatMap((f) =>
    parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()).filter((o) => o !== null));
}

/** `root/name/app.yaml`: the objects of `from`, changed by `edit`. */
function edited(from: string, name: string, edit: (objects: any[]) => any[]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'app.yaml'), edit(objectsOf(from)).map((o) => stringify(o)).join('---\n'));
  return dir;
}

/** The one object of `kind` named `name`. */
function find(objects: any[], kind: string, name: string): any {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found).toHaveLength(1);
  return found[0];
}

async function plan(base: string, head: string, ...args: string[]): Promise<CliRun> {
  return runCli(['plan', base, head, ...args], { cwd: root, env });
}

async function planJson(base: string, head: string, ...args: string[]): Promise<{ run: CliRun; plan: Plan }> {
  const run = await plan(base, head, '-o', 'json', ...args);
  return { run, plan: JSON.parse(run.stdout) as Plan };
}

/** The changes of an area, without their summaries (checked apart). */
function changes(result: Plan, area: PlanChange['area']): Array<Omit<PlanChange, 'summary'>> {
  return result.changes.filter((c) => c.area === area).map(({ summary: _summary, ...rest }) => rest);
}

const LOAD = 'ServiceAccount floe-sales/load';
const LOAD_JOB = 'Job floe-sales/load';
const BINDING = 'RoleBinding floe-sales/load-secret-reader -> Role floe-sales/load-secret-reader';

let small: string;
beforeAll(() => {
  small = smallApp('small');
});

describe('floe-secrets plan: nothing changes', () => {
  test('identical inputs: exit 0, one line "no access changes", and an empty change list with -o json', async () => {
    const copy = smallApp('small-again');
    expect(await plan(small, copy)).toMatchObject({ status: 0, stdout: 'no access changes\n', stderr: '' });
    const { run, plan: result } = await planJson(small, copy, '--fail-on-broaden');
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(result.changes).toEqual([]);
    expect(result.broadens).toBe(false);
  });

  test('the same objects in other files, in another order: no access changes', async () => {
    const shuffled = edited(small, 'shuffled', (objects) => [...objects].reverse());
    expect(await plan(small, shuffled)).toMatchObject({ status: 0, stdout: 'no access changes\n', stderr: '' });
  });
});

describe('floe-secrets plan: a workload gains or loses a Secret', () => {
  let withExtra: string;
  beforeAll(() => {
    withExtra = smallApp('with-extra', { extra: true });
  });

  test('gains: its env var and the get its Role grants on the Secret, and the Secret itself; nothing broadens', async () => {
    const { run, plan: result } = await planJson(small, withExtra, '--fail-on-broaden');
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(result.broadens).toBe(false);
    expect(changes(result, 'access')).toEqual([
      {
        area: 'access',
        change: 'added',
        subject: LOAD,
        target: 'Secret floe-sales/extra',
        how: 'rbac',
        after: { verbs: ['get'], via: [BINDING] },
        context: { backend: ['external, created outside the manifests'] },
        broadens: false,
        reasons: [],
      },
      {
        area: 'access',
        change: 'added',
        subject: LOAD,
        target: 'Secret floe-sales/extra',
        workload: LOAD_JOB,
        how: 'env',
        after: { keys: ['KEY'] },
        context: { backend: ['external, created outside the manifests'] },
        broadens: false,
        reasons: [],
      },
    ]);
    expect(changes(result, 'secret')).toEqual([{
      area: 'secret',
      change: 'added',
      subject: 'Secret floe-sales/extra',
      after: { keys: ['KEY'], managedBy: ['external, created outside the manifests'] },
      context: { readBy: ['floe-sales/load (env, rbac-get)'] },
      broadens: false,
      reasons: [],
    }]);
    expect(result.changes.map((c) => c.area)).toEqual(['access', 'access', 'secret']);
    expect(result.changes[1].summary).toBe(`${LOAD} (${LOAD_JOB}) gains Secret floe-sales/extra by env: keys KEY`);
  });

  test('loses: the same changes, removed', async () => {
    const { run, plan: result } = await planJson(withExtra, small, '--fail-on-broaden');
    expect(run.status).toBe(0);
    expect(result.changes.map((c) => [c.area, c.change, c.subject, c.target, c.how, c.broadens])).toEqual([
      ['access', 'removed', LOAD, 'Secret floe-sales/extra', 'rbac', false],
      ['access', 'removed', LOAD, 'Secret floe-sales/extra', 'env', false],
      ['secret', 'removed', 'Secret floe-sales/extra', undefined, undefined, false],
    ]);
    expect(result.changes[0].before).toEqual({ verbs: ['get'], via: [BINDING] });
    expect(result.changes[1].summary).toBe(`${LOAD} (${LOAD_JOB}) loses Secret floe-sales/extra by env: keys KEY`);
  });

  test('a key more or less of a Secret it reads: the access and the Secret change', async () => {
    const moreKeys = edited(small, 'more-keys', (objects) => {
      const job = find(objects, 'Job', 'load');
      job.spec.template.spec.containers[0].env.push({ name: 'DB_USER', valueFrom: { secretKeyRef: { name: 'db-creds', key: 'user' } } });
      return objects;
    });
    const { plan: result } = await planJson(small, moreKeys);
    expect(result.changes.map((c) => [c.area, c.change, c.subject, c.target, c.added, c.removed])).toEqual([
      ['access', 'changed', LOAD, 'Secret floe-sales/db-creds', { keys: ['user'] }, {}],
      ['secret', 'changed', 'Secret floe-sales/db-creds', undefined, { keys: ['user'] }, {}],
    ]);
    expect(result.changes[0].summary).toBe(`${LOAD} (${LOAD_JOB}) changes how it reads Secret floe-sales/db-creds by env: keys +user`);
  });
});

describe('floe-secrets plan: grants that broaden', () => {
  /** The small app with its Role edited. */
  const withRole = (name: string, edit: (role: any, objects: any[]) => void): string => edited(small, name, (objects) => {
    edit(find(objects, 'Role', 'load-secret-reader'), objects);
    return objects;
  });

  test('list added to the Role: every Secret it names broadens; exit 1 only with --fail-on-broaden', async () => {
    const listed = withRole('role-list', (role) => role.rules[0].verbs.push('list'));
    const { run, plan: result } = await planJson(small, listed);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(result.broadens).toBe(true);
    expect(result.changes.map((c) => [c.change, c.target, c.added, c.removed, c.broadens, c.reasons])).toEqual(
      ['api-token', 'db-creds', 'shop-api'].map((secret) => ['changed', `Secret floe-sales/${secret}`, { verbs: ['list'] }, {}, true, ['verb list']]),
    );
    const gated = await plan(small, listed, '--fail-on-broaden');
    expect(gated.status).toBe(1);
    expect(gated.stderr).toBe('floe-secrets plan: 3 changes broaden a grant (--fail-on-broaden)\n');
    // and back: narrowing is a change, not a broadening
    const narrowed = await plan(listed, small, '--fail-on-broaden');
    expect(narrowed.status).toBe(0);
    expect(narrowed.stdout).toMatch(/^### Secret access plan: 3 changes\n/);
  });

  test('backend access: the Infisical identity of sales now also reads another folder for marketing; broadens, and back does not', async () => {
    const shared = edited(small, 'shared-identity', (objects) => {
      const copy = structuredClone(objects.find((o) => o.kind === 'InfisicalSecret'));
      copy.metadata.namespace = 'floe-marketing';
      copy.metadata.labels['floe.dev/domain'] = 'marketing';
      copy.spec.authentication.universalAuth.secretsScope.secretsPath = '/compute/ads';
      copy.spec.managedKubeSecretReferences[0].secretNamespace = 'floe-marketing';
      return [...objects, copy];
    });
    const { run, plan: result } = await planJson(small, shared, '--fail-on-broaden');
    expect(run.status).toBe(1);
    const grant = changes(result, 'grant');
    expect(grant).toEqual([expect.objectContaining({
      change: 'added',
      subject: 'universal-auth credentials Secret floe-platform/infisical-creds',
      target: 'shared-infisical-identity',
      broadens: true,
      reasons: [expect.stringMatching(/^one Infisical identity reads for 2 domains \(marketing: analytics\/prod:\/compute\/ads; sales: analytics\/prod:\/compute\/api\)/)],
    })]);
    expect((await plan(shared, small, '--fail-on-broaden')).status).toBe(0);
  });

  test('the markdown of one broadening, exactly', async () => {
    const listed = withRole('role-list-one', (role) => {
      role.rules[0].resourceNames = ['db-creds'];
      role.rules[0].verbs = ['get', 'list'];
      role.rules.push({ apiGroups: [''], resources: ['secrets'], resourceNames: ['api-token', 'shop-api'], verbs: ['get'] });
    });
    const run = await plan(small, listed);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(run.stdout).toBe(`### Secret access plan: 1 change, 1 broadens a grant

#### Grants that broaden

| who | can now read | how | why |
| --- | --- | --- | --- |
| ServiceAccount \`floe-sales/load\` | Secret \`floe-sales/db-creds\` | get, list via RoleBinding \`floe-sales/load-secret-reader\` → Role \`floe-sales/load-secret-reader\` | verb list |

#### Access

| change | who | workload | reads | how | details |
| --- | --- | --- | --- | --- | --- |
| **changed, broadens** | ServiceAccount \`floe-sales/load\` | - | Secret \`floe-sales/db-creds\` | rbac | verbs +\`list\`; broadens: verb list |
`);
  });

  test('resourceNames dropped: all secrets of the namespace, instead of the three it named', async () => {
    const all = withRole('role-all', (role) => delete role.rules[0].resourceNames);
    const { run, plan: result } = await planJson(small, all, '--fail-on-broaden');
    expect(run.status).toBe(1);
    expect(result.changes.filter((c) => c.area === 'access').map((c) => [c.change, c.target, c.broadens, c.reasons])).toEqual([
      ['removed', 'Secret floe-sales/api-token', false, []],
      ['removed', 'Secret floe-sales/db-creds', false, []],
      ['removed', 'Secret floe-sales/shop-api', false, []],
      ['added', 'all secrets of namespace floe-sales', true, ['all secrets of the namespace']],
    ]);
  });

  test('a ClusterRole bound by a ClusterRoleBinding: cluster-wide; bound by a RoleBinding: granted through a ClusterRole', async () => {
    const toClusterRole = (objects: any[], clusterBinding: boolean) => {
      const role = find(objects, 'Role', 'load-secret-reader');
      role.kind = 'ClusterRole';
      delete role.metadata.namespace;
      const binding = find(objects, 'RoleBinding', 'load-secret-reader');
      binding.roleRef.kind = 'ClusterRole';
      if (clusterBinding) {
        binding.kind = 'ClusterRoleBinding';
        delete binding.metadata.namespace;
      }
      return objects;
    };
    const clusterWide = edited(small, 'cluster-wide', (objects) => toClusterRole(objects, true));
    const { plan: wide } = await planJson(small, clusterWide);
    expect(wide.changes.filter((c) => c.change === 'added').map((c) => [c.target, c.after?.via, c.reasons])).toEqual(
      ['api-token', 'db-creds', 'shop-api'].map((secret) => [
        `Secret ${secret} in every namespace`,
        ['ClusterRoleBinding load-secret-reader -> ClusterRole load-secret-reader'],
        ['cluster-wide (ClusterRoleBinding)'],
      ]),
    );
    expect(wide.changes.filter((c) => c.change === 'removed').map((c) => [c.target, c.broadens])).toEqual(
      ['api-token', 'db-creds', 'shop-api'].map((secret) => [`Secret floe-sales/${secret}`, false]),
    );

    const viaClusterRole = edited(small, 'via-cluster-role', (objects) => toClusterRole(objects, false));
    const { plan: bound } = await planJson(small, viaClusterRole);
    expect(bound.changes.map((c) => [c.change, c.target, c.added, c.removed, c.reasons])).toEqual(
      ['api-token', 'db-creds', 'shop-api'].map((secret) => [
        'changed', `Secret floe-sales/${secret}`,
        { via: ['RoleBinding floe-sales/load-secret-reader -> ClusterRole load-secret-reader'] },
        { via: [BINDING] },
        ['granted through ClusterRole load-secret-reader, a role any namespace can bind'],
      ]),
    );
  });

  test('a second namespace: a RoleBinding in marketing lets the sales job read a Secret there', async () => {
    const crossed = edited(small, 'second-namespace', (objects) => [
      ...objects,
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'peek', namespace: 'floe-marketing' }, rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['ga4-sa'], verbs: ['get'] }] },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'peek', namespace: 'floe-marketing' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'peek' },
        subjects: [{ kind: 'ServiceAccount', name: 'load', namespace: 'floe-sales' }],
      },
    ]);
    const { run, plan: result } = await planJson(small, crossed, '--fail-on-broaden');
    expect(run.status).toBe(1);
    expect(changes(result, 'access')).toEqual([{
      area: 'access',
      change: 'added',
      subject: LOAD,
      target: 'Secret floe-marketing/ga4-sa',
      how: 'rbac',
      after: { verbs: ['get'], via: ['RoleBinding floe-marketing/peek -> Role floe-marketing/peek'] },
      context: { backend: ['external, created outside the manifests'] },
      broadens: true,
      reasons: ['secrets of namespace floe-marketing, not its own (floe-sales)'],
    }]);
  });
});

describe('floe-secrets plan: refresh and rotation', () => {
  test('an InfisicalSecret\'s resync interval and rotation period: one change, with the workloads that declare them', async () => {
    const slower = smallApp('slower', { resyncInterval: '5m', rotationPeriod: '24h' });
    const { run, plan: result } = await planJson(small, slower, '--fail-on-broaden');
    expect(run).toMatchObject({ status: 0, stderr: '' });
    const [source] = objectsOf(small).filter((o) => o.kind === 'InfisicalSecret');
    expect(changes(result, 'refresh')).toEqual([{
      area: 'refresh',
      change: 'changed',
      subject: `InfisicalSecret floe-sales/${source.metadata.name}`,
      before: { refreshInterval: ['60s'], rotationPeriod: [] },
      after: { refreshInterval: ['5m'], rotationPeriod: ['24h'] },
      added: { refreshInterval: ['5m'], rotationPeriod: ['24h'] },
      removed: { refreshInterval: ['60s'] },
      context: { secrets: ['floe-sales/api-token'], workloads: [LOAD_JOB] },
      broadens: false,
      reasons: [],
    }]);
    expect(result.changes.map((c) => c.area)).toEqual(['refresh']);

    const markdown = await plan(small, slower);
    expect(markdown.stdout).toContain(`#### Refresh and rotation

| what | secrets | refresh | rotation | workloads |
| --- | --- | --- | --- | --- |
| InfisicalSecret \`floe-sales/${source.metadata.name}\` | \`floe-sales/api-token\` | \`60s\` → \`5m\` | not set → \`24h\` | Job \`floe-sales/load\` |
`);
  });

  test('an ExternalSecret\'s refreshInterval, and a workload\'s floe.dev/secret-sources alone', async () => {
    const example = join(root, 'example');
    buildExampleApp(new App({ outdir: example })).synth();
    const changed = edited(example, 'example-refresh', (objects) => {
      const external = objects.find((o) => o.kind === 'ExternalSecret');
      external.spec.refreshInterval = '30m';
      const job = find(objects, 'Job', 'orders-load');
      const declared = JSON.parse(job.metadata.annotations['floe.dev/secret-sources']);
      declared['snowflake-credentials'].rotationPeriod = '7d';
      job.metadata.annotations['floe.dev/secret-sources'] = JSON.stringify(declared);
      return objects;
    });
    const { plan: result } = await planJson(example, changed);
    expect(result.changes.map((c) => [c.area, c.subject, c.before, c.after, c.context])).toEqual([
      ['refresh', expect.stringMatching(/^ExternalSecret floe-marketing\/marketing-adsapi-/), { refreshInterval: ['15m'], rotationPeriod: [] },
        { refreshInterval: ['30m'], rotationPeriod: [] }, { secrets: ['floe-marketing/ads-api'] }],
      ['refresh', 'Secret floe-sales/snowflake-credentials', { refreshInterval: ['60s'], rotationPeriod: [] },
        { refreshInterval: ['60s'], rotationPeriod: ['7d'] }, { secrets: ['floe-sales/snowflake-credentials'], workloads: ['Job floe-sales/orders-load'] }],
    ]);
    expect(result.changes[1].summary).toBe('Secret floe-sales/snowflake-credentials, as its readers declare it, read by 1 workload: rotation none -> 7d');
  });
});

describe('floe-secrets plan: Secrets and sources added or removed', () => {
  test('an InfisicalSecretSource nobody reads yet: its Secret and its source', async () => {
    const reports = smallApp('reports', { reports: true });
    const { run, plan: result } = await planJson(small, reports, '--fail-on-broaden');
    expect(run.status).toBe(0);
    const [source] = objectsOf(reports).filter((o) => o.kind === 'InfisicalSecret' && o.spec.managedKubeSecretReferences[0].secretName === 'reports-token');
    expect(result.changes.map(({ summary: _summary, ...c }) => c)).toEqual([
      {
        area: 'secret',
        change: 'added',
        subject: 'Secret floe-sales/reports-token',
        after: { keys: [], managedBy: [`InfisicalSecret floe-sales/${source.metadata.name}`] },
        broadens: false,
        reasons: [],
      },
      {
        area: 'source',
        change: 'added',
        subject: `InfisicalSecret floe-sales/${source.metadata.name}`,
        after: { secrets: ['floe-sales/reports-token'], paths: ['analytics/prod:/compute/reports'] },
        context: { backend: ['infisical analytics/prod:/compute/reports'], floeSource: ['sales/Reports'], refreshInterval: ['60s'] },
        broadens: false,
        reasons: [],
      },
    ]);
    const removed = await planJson(reports, small);
    expect(removed.plan.changes.map((c) => [c.area, c.change, c.subject])).toEqual([
      ['secret', 'removed', 'Secret floe-sales/reports-token'],
      ['source', 'removed', `InfisicalSecret floe-sales/${source.metadata.name}`],
    ]);
  });

  test('a change in one file of several: the other files, read once for both sides, add nothing', async () => {
    const base = join(root, 'files-base');
    buildExampleApp(new App({ outdir: base })).synth();
    const head = join(root, 'files-head');
    buildExampleApp(new App({ outdir: head })).synth();
    const sales = readFileSync(join(head, 'sales.k8s.yaml'), 'utf8');
    expect(sales).toContain('secretsPath: /compute/snowflake\n');
    writeFileSync(join(head, 'sales.k8s.yaml'), sales.replace('secretsPath: /compute/snowflake\n', 'secretsPath: /compute/snowflake-v2\n'));
    expect(readFileSync(join(head, 'marketing.k8s.yaml'), 'utf8')).toBe(readFileSync(join(base, 'marketing.k8s.yaml'), 'utf8'));
    const { plan: result } = await planJson(base, head);
    expect(result.changes.map((c) => [c.area, c.change, c.added, c.removed])).toEqual([
      ['source', 'changed', { paths: ['floe-analytics/prod:/compute/snowflake-v2'] }, { paths: ['floe-analytics/prod:/compute/snowflake'] }],
    ]);
    expect([result.base.files, result.head.files, result.head.objects]).toEqual([2, 2, result.base.objects]);
  });

  test('a source\'s backend path and a Vault Agent injection change', async () => {
    const example = join(root, 'example-sources');
    buildExampleApp(new App({ outdir: example })).synth();
    const changed = edited(example, 'example-paths', (objects) => {
      const infisical = objects.find((o) => o.kind === 'InfisicalSecret' && o.metadata.namespace === 'floe-sales');
      infisical.spec.authentication.universalAuth.secretsScope.secretsPath = '/compute/snowflake-v2';
      const cron = find(objects, 'CronJob', 'audience-export');
      const annotations = cron.spec.jobTemplate.spec.template.metadata.annotations;
      const injected = Object.keys(annotations).filter((k) => k.startsWith('vault.hashicorp.com/agent-inject-secret-'));
      expect(injected).toHaveLength(2); // password and user, two files of one Vault secret
      for (const key of injected) annotations[key] = 'secret/data/marketing/warehouse-export-v2';
      return objects;
    });
    const { plan: result } = await planJson(example, changed);
    expect(result.changes.map((c) => [c.area, c.change, c.subject, c.target ?? '', c.added ?? {}, c.removed ?? {}])).toEqual([
      ['access', 'removed', 'ServiceAccount floe-marketing/audience-export', 'Vault path secret/data/marketing/warehouse-export', {}, {}],
      ['access', 'added', 'ServiceAccount floe-marketing/audience-export', 'Vault path secret/data/marketing/warehouse-export-v2', {}, {}],
      ['source', 'changed', expect.stringMatching(/^InfisicalSecret floe-sales\/sales-compute-snowflake-/), '',
        { paths: ['floe-analytics/prod:/compute/snowflake-v2'] }, { paths: ['floe-analytics/prod:/compute/snowflake'] }],
    ]);
    expect(result.changes[1]).toMatchObject({
      workload: 'CronJob floe-marketing/audience-export',
      how: 'vault-agent',
      after: {
        keys: ['password', 'user'],
        files: ['/run/secrets/warehouse-export/password', '/run/secrets/warehouse-export/user'],
        role: ['floe-marketing'],
        agent: ['active'],
      },
      broadens: false,
    });
  });
});

describe('floe-secrets plan -o json', () => {
  test('its shape: both sides, broadens, changes with their summaries, warnings', async () => {
    const { run, plan: result } = await planJson(small, smallApp('json-extra', { extra: true }));
    expect(run.status).toBe(0);
    expect(Object.keys(result)).toEqual(['base', 'head', 'broadens', 'changes', 'warnings']);
    expect(result.base).toEqual({ paths: [small], files: 1, objects: expect.any(Number) });
    expect(result.head).toEqual({ paths: [join(root, 'json-extra')], files: 1, objects: result.base.objects });
    expect(result.warnings).toEqual([]);
    for (const c of result.changes) {
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['area', 'change', 'subject', 'broadens', 'reasons', 'summary']));
      expect(typeof c.summary).toBe('string');
      for (const fields of [c.before, c.after, c.added, c.removed, c.context]) {
        for (const values of Object.values(fields ?? {})) expect(values.every((v) => typeof v === 'string')).toBe(true);
      }
    }
  });

  test('an unknown format is refused, naming markdown and json', async () => {
    expect(await plan(small, small, '-o', 'yaml')).toMatchObject({
      status: 2, stdout: '', stderr: 'floe-secrets plan: -o/--output "yaml" is not a format of this command; use one of markdown, json\n',
    });
  });
});

describe('floe-secrets plan: bad arguments and unreadable paths exit 2 with a clear message', () => {
  test('a path that does not exist, on either side; with -o json, a JSON error on stdout too', async () => {
    expect(await plan('no/such/dist', small)).toEqual(expect.objectContaining({
      status: 2, stdout: '', stderr: 'floe-secrets plan: base: cannot read no/such/dist: no such file or directory\n',
    }));
    expect(await plan(small, 'no/such/dist')).toEqual(expect.objectContaining({
      status: 2, stdout: '', stderr: 'floe-secrets plan: head: cannot read no/such/dist: no such file or directory\n',
    }));
    const json = await plan(small, 'missing', '-o', 'json');
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { message: 'head: cannot read missing: no such file or directory', exitCode: 2 } });
  });

  test('invalid YAML: the side, the file and the line, never the text', async () => {
    const broken = join(root, 'broken');
    mkdirSync(broken, { recursive: true });
    const value = `v-${randomBytes(12).toString('hex')}`;
    writeFileSync(join(broken, 'app.yaml'), `apiVersion: v1\nkind: Secret\nmetadata: { name: x\nstringData: { password: ${value} }\n`);
    const run = await plan(small, broken);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^floe-secrets plan: head: broken\/app\.yaml: invalid YAML at line \d+, column \d+: /);
    expect(run.stdout + run.stderr).not.toContain(value);
  });

  test('one path, none, standard input: refused', async () => {
    expect(await plan(small, '-')).toMatchObject({ status: 2, stdout: '', stderr: 'floe-secrets plan: plan reads files and directories, not standard input (head)\n' });
    expect(await runCli(['plan', small], { cwd: root, env })).toMatchObject({
      status: 2, stdout: '', stderr: expect.stringMatching(/^floe-secrets plan: missing head: plan takes 2 arguments \(base, head\)/),
    });
    expect((await runCli(['plan'], { cwd: root, env })).stderr).toMatch(/^floe-secrets plan: missing base: /);
  });

  test('an empty directory is an output with nothing in it: everything of the other side is added, with a warning', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    const { run, plan: result } = await planJson(empty, small);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe(`floe-secrets plan: warning: base: no Kubernetes objects found in ${empty} (looked for .yaml, .yml and .json files): everything of the other side counts as added\n`);
    expect(result.changes.length).toBeGreaterThan(0);
    expect(result.changes.every((c) => c.change === 'added')).toBe(true);
  });
});

describe('floe-secrets plan: names in markdown', () => {
  test('a name with a pipe, backticks, HTML, a mention and a newline stays one table cell, in code', async () => {
    const hostile = edited(small, 'hostile-names', (objects) => {
      const binding = find(objects, 'RoleBinding', 'load-secret-reader');
      binding.subjects.push({ kind: 'Group', name: 'a|b`c <img src=x> @team\nx' });
      return objects;
    });
    const run = await plan(small, hostile);
    expect(run.status).toBe(0);
    const rows = run.stdout.split('\n').filter((line) => line.includes('Group'));
    expect(rows).toHaveLength(3); // one row a Secret the Role names
    for (const row of rows) {
      expect(row).toMatch(/^\| added \| Group ``a\\\|b`c <img src=x> @team\?x`` \| - \| Secret `floe-sales\/[a-z-]+` \| rbac \| /);
      // the cells: only escaped pipes inside the code span
      expect(row.replace(/\\\|/g, '').split('|')).toHaveLength(8);
    }
  });
});

describe('floe-secrets plan never prints a value', () => {
  test('Secrets with random data and stringData on both sides: key names only, in every format', async () => {
    const values: string[] = [];
    const random = (): string => {
      const value = `v-${randomBytes(18).toString('base64url')}`;
      values.push(value);
      return value;
    };
    /** Secret objects in floe-sales, read by a Pod through env, envFrom and a volume. */
    const withSecrets = (name: string, keys: string[]) => edited(small, name, (objects) => [
      ...objects,
      ...['inline-a', 'inline-b'].map((secret) => ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: secret, namespace: 'floe-sales', annotations: { note: 'no value here' } },
        type: 'Opaque',
        data: Object.fromEntries(keys.map((k) => [k, Buffer.from(random()).toString('base64')])),
        stringData: Object.fromEntries(keys.map((k) => [`${k}_PLAIN`, random()])),
      })),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'reader', namespace: 'floe-sales' },
        spec: {
          containers: [{
            name: 'c',
            image: 'busybox',
            env: keys.map((k) => ({ name: k, valueFrom: { secretKeyRef: { name: 'inline-a', key: k } } })),
            envFrom: [{ secretRef: { name: 'inline-b' } }],
            volumeMounts: [{ name: 'v', mountPath: '/etc/inline' }],
          }],
          volumes: [{ name: 'v', secret: { secretName: 'inline-a' } }],
        },
      },
    ]);
    const base = withSecrets('leak-base', ['alpha', 'beta']);
    const head = withSecrets('leak-head', ['beta', 'gamma']);
    const runs = [
      await plan(base, head),
      await plan(base, head, '-o', 'json', '--fail-on-broaden'),
      await plan(head, base),
      await plan(base, base, '-o', 'json'),
    ];
    expect(values.length).toBe(16);
    expect(runs.map((r) => r.status)).toEqual([0, 0, 0, 0]);
    // the key names are there, the values are not, nor their base64
    expect(runs[0].stdout).toContain('`gamma`');
    expect(runs[0].stdout).toContain('`gamma_PLAIN`');
    for (const run of runs) {
      for (const value of values) {
        for (const form of [value, Buffer.from(value).toString('base64'), value.slice(2, 14)]) {
          expect(run.stdout).not.toContain(form);
          expect(run.stderr).not.toContain(form);
        }
      }
    }
  });
});

describe('floe-secrets plan in the shell completion', () => {
  test('zsh completes a path for BASE and for HEAD; bash lists plan and its options', async () => {
    const zsh = await runCli(['completion', 'zsh'], { cwd: root, env });
    expect(zsh.stdout).toContain(`        plan)
          _arguments -s \\
            '(-o --output)'{-o+,--output=}'[output format]:output:(markdown json)' \\
            '--fail-on-broaden[exit 1 when any grant broadens]' \\
            '(- *)'{-h,--help}'[show this help]' \\
            '1:path:_files' \\
            '2:path:_files' ;;
`);
    const bash = await runCli(['completion', 'bash'], { cwd: root, env });
    expect(bash.stdout).toContain('if [[ "$cur" == -* ]]; then _floe_secrets_words "-o --output --fail-on-broaden -h --help"; else _floe_secrets_files; fi ;;');
    expect(bash.stdout).toMatch(/_floe_secrets_words "validate access-map plan vault-policies scan /);
  });
});
