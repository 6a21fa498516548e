import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdk8s';
import { buildExampleApp } from '../../../examples/app';
import { analyzeAccess } from '../src/access-map/analyze';
import { findExecutable, GRAPHVIZ_MISSING } from '../src/access-map/graphviz';
import { dotString, mermaidText, renderDot, renderMermaid, renderTable } from '../src/access-map/render';
import { runCli } from '../src/cli';
import { accessMap } from '../src/commands/access-map';
import { CliIO, ExitCode } from '../src/io';
import { readManifests } from '../src/manifests';

const COMMANDS = [accessMap];

interface Run {
  readonly code: ExitCode;
  readonly stdout: string;
  readonly stderr: string;
}

async function run(args: string[], cwd: string, env: { [name: string]: string | undefined } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdoutIsTTY: false,
    stderrIsTTY: false,
    readStdin: async () => '',
    env,
    cwd,
  };
  const code = await runCli(['access-map', ...args], io, COMMANDS);
  return { code, stdout, stderr };
}

/** The rows of the ACCESS table, split on runs of 2+ spaces. */
function accessRows(stdout: string): string[][] {
  const section = stdout.split('\n\n')[0].split('\n').slice(2);
  return section.map((line) => line.split(/ {2,}/));
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'floe-access-map-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function write(dir: string, file: string, text: string): string {
  const path = join(root, dir, file);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return join(root, dir);
}

// Values that must never appear in any output.
const PASSWORD = 's3cr3t-PASSWORD-value';
const USERNAME = 'admin-USER-value';
const B64 = Buffer.from(PASSWORD).toString('base64');

const PLAIN = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
  namespace: shop
automountServiceAccountToken: false
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: web-reader
  namespace: shop
rules:
  - apiGroups: [""]
    resources: [secrets]
    resourceNames: [db.credentials, api-keys]
    verbs: [get]
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: web-reader
  namespace: shop
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: web-reader
subjects:
  - kind: ServiceAccount
    name: web
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      serviceAccountName: web
      containers:
        - name: web
          image: nginx
          envFrom:
            - secretRef:
                name: db.credentials
          env:
            - name: STRIPE
              valueFrom:
                secretKeyRef: { name: api-keys, key: STRIPE_KEY }
            - name: PLAIN
              value: not-a-secret
          volumeMounts:
            - { name: certs, mountPath: /etc/tls }
      volumes:
        - name: certs
          projected:
            sources:
              - secret:
                  name: tls-cert
                  items: [{ key: tls.crt, path: tls.crt }]
---
apiVersion: v1
kind: Secret
metadata:
  name: db.credentials
  namespace: shop
type: Opaque
data:
  password: ${B64}
stringData:
  username: ${USERNAME}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: api-keys-es
  namespace: shop
spec:
  secretStoreRef: { name: aws, kind: SecretStore }
  target:
    name: api-keys
  data:
    - secretKey: STRIPE_KEY
      remoteRef: { key: prod/payments, property: stripe }
  dataFrom:
    - extract: { key: prod/shared }
---
apiVersion: v1
kind: Pod
metadata:
  name: vault-demo
  namespace: shop
  annotations:
    vault.hashicorp.com/agent-inject: "true"
    vault.hashicorp.com/role: shop-web
    vault.hashicorp.com/agent-inject-secret-config: secret/data/shop/config
    vault.hashicorp.com/agent-inject-template-config: |
      {{- with secret "secret/data/shop/config" -}}{{ .Data.data.api_key }}{{- end }}
spec:
  containers:
    - name: app
      image: busybox
`;

const OVER_BROAD = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: secret-lister
rules:
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ci-can-list-secrets
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: secret-lister
subjects:
  - kind: ServiceAccount
    name: ci
    namespace: tools
  - kind: Group
    name: platform-admins
    apiGroup: rbac.authorization.k8s.io
`;

describe('our synthesized example', () => {
  let dist: string;
  beforeAll(() => {
    dist = join(root, 'example-dist');
    const app = buildExampleApp(new App({ outdir: dist }));
    app.synth();
  });

  test('table: env, envFrom, file, rbac-get and vault-agent, with their sources; exit 0', async () => {
    const result = await run([dist], root);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(ExitCode.OK);
    const rows = accessRows(result.stdout);
    expect(result.stdout.split('\n')[1].split(/ {2,}/)).toEqual(['NAMESPACE', 'SERVICE ACCOUNT', 'WORKLOAD', 'SECRET', 'HOW', 'SOURCE / BACKEND PATH', 'NOTES']);
    const find = (sa: string, workload: string, secret: string, how: string) =>
      rows.find((r) => r[1] === sa && r[2] === workload && r[3] === secret && r[4] === how);

    const env = find('orders-load', 'Job/orders-load', 'snowflake-credentials', 'env');
    expect(env?.[0]).toBe('floe-sales');
    expect(env?.[5]).toBe('infisical floe-analytics/prod:/compute/snowflake');
    expect(env?.[6]).toContain('keys password, user');
    expect(find('orders-load', 'Job/orders-load', 'shop-api', 'envFrom')?.[5]).toBe('external (created outside the manifests)');
    expect(find('orders-load', 'Job/orders-load', 'google-sa', 'file')?.[6]).toContain('mounted at /run/secrets/google-sa');
    expect(find('nightly-dbt', 'CronJob/nightly-dbt', 'snowflake-credentials', 'env')?.[6]).toContain('keys account, password, user');
    expect(find('orders-api', 'Deployment/orders-api', 'snowflake-credentials', 'env')).toBeDefined();
    expect(find('campaign-sync', 'Job/campaign-sync', 'ads-api', 'envFrom')?.[5]).toBe('external-secrets SecretStore/vault: marketing/ads#ADS_TOKEN');
    expect(find('campaign-sync', 'Job/campaign-sync', 'hubspot-api', 'envFrom')?.[5]).toBe('infisical floe-analytics/prod:/compute/hubspot');
    expect(find('campaign-sync', 'Job/campaign-sync', 'ga4-sa', 'file')?.[6]).toContain('keys key.json');

    const rbac = find('orders-load', '-', 'shop-api', 'rbac-get');
    expect(rbac?.[6]).toContain('via Role floe-sales/orders-load-secret-reader');
    expect(rbac?.[6]).toContain('API token not mounted in its pods');
    expect(rbac?.[6]).not.toContain('OVER-BROAD');
    expect(find('audience-export', '-', 'ga4-sa', 'rbac-get')?.[6]).toContain('API token mounted in CronJob/audience-export');

    const vault = find('audience-export', 'CronJob/audience-export', '-', 'vault-agent');
    expect(vault?.[5]).toBe('vault secret/data/marketing/warehouse-export');
    expect(vault?.[6]).toContain('vault role floe-marketing');
    expect(vault?.[6]).toContain('files /run/secrets/warehouse-export/password, /run/secrets/warehouse-export/user');
    expect(vault?.[6]).toContain('no Kubernetes Secret');
    expect(vault?.[6]).toContain('keys password, user');

    expect(result.stdout).toContain('SECRETS\nNAMESPACE');
    expect(result.stdout).toMatch(/floe-sales +snowflake-credentials +infisical floe-analytics\/prod:\/compute\/snowflake +InfisicalSecret floe-sales\/sales-compute-snowflake-[0-9a-f]+, floe.dev\/source sales\/Compute-snowflake/);
    expect(result.stdout).toContain('floe-sales/orders-load (env, rbac-get)');
    expect(result.stdout).toContain('no over-broad secret grant');
    expect(result.stdout).toContain('no over-broad backend access');
    expect(rows.some((r) => r.join(' ').includes('OVER-BROAD'))).toBe(false);
  });

  test('json: every service account of the example, structured', async () => {
    const result = await run([dist, '-o', 'json'], root);
    expect(result.code).toBe(ExitCode.OK);
    const json = JSON.parse(result.stdout);
    expect(json.overBroad).toBe(false);
    expect(json.findings).toEqual([]);
    expect(json.backendFindings).toEqual([]);
    expect(json.files).toEqual(['example-dist/marketing.k8s.yaml', 'example-dist/sales.k8s.yaml']);
    const principals = new Set(json.accesses.map((a: any) => `${a.principal.namespace}/${a.principal.name}`));
    // The SecretStore's own ServiceAccount reads Vault, no Kubernetes Secret.
    expect(json.accesses.find((a: any) => a.principal.name === 'external-secrets-vault')).toMatchObject({ how: 'none', namespace: 'floe-marketing' });
    expect([...principals].sort()).toEqual([
      'floe-marketing/audience-export', 'floe-marketing/campaign-sync', 'floe-marketing/external-secrets-vault', 'floe-marketing/nightly-dbt-pg', 'floe-sales/ledger', 'floe-sales/nightly-dbt', 'floe-sales/orders-api', 'floe-sales/orders-load',
    ]);
    const vault = json.accesses.find((a: any) => a.how === 'vault-agent');
    expect(vault.vault).toEqual({
      role: 'floe-marketing',
      path: 'secret/data/marketing/warehouse-export',
      files: ['/run/secrets/warehouse-export/password', '/run/secrets/warehouse-export/user'],
      active: true,
    });
    expect(vault.secret).toBeUndefined();
    const ads = json.secrets.find((s: any) => s.name === 'ads-api');
    expect(ads.sources[0]).toMatchObject({ kind: 'external-secrets', paths: ['marketing/ads#ADS_TOKEN'], floeSource: 'marketing/AdsApi' });
    expect(ads.keys).toEqual(['ADS_TOKEN']);
    const snowflake = json.secrets.find((s: any) => s.name === 'snowflake-credentials');
    expect(snowflake.sources[0]).toMatchObject({ kind: 'infisical', paths: ['floe-analytics/prod:/compute/snowflake'], file: 'example-dist/sales.k8s.yaml' });
    expect(json.secrets.find((s: any) => s.name === 'google-sa').sources[0].kind).toBe('external');
  });

  test('mermaid and dot: ServiceAccount -> Secret -> backend path', async () => {
    const mermaid = await run([dist, '-o', 'mermaid'], root);
    expect(mermaid.code).toBe(ExitCode.OK);
    const lines = mermaid.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('flowchart LR');
    const id = (label: string) => {
      const line = lines.find((l) => l.includes(`"${label}"`));
      return line?.trim().match(/^([a-z]+_\d+)/)?.[1];
    };
    const sa = id('ServiceAccount<br/>floe-sales/orders-load');
    const secret = id('Secret<br/>floe-sales/snowflake-credentials');
    const backend = id('infisical floe-analytics/prod:/compute/snowflake');
    expect(sa).toMatch(/^sa_\d+$/);
    expect(secret).toMatch(/^secret_\d+$/);
    expect(backend).toMatch(/^backend_\d+$/);
    expect(lines).toContain(`  ${sa} -->|"env<br/>Job/orders-load"| ${secret}`);
    expect(lines).toContain(`  ${sa} -->|"rbac-get"| ${secret}`);
    expect(lines).toContain(`  ${secret} --> ${backend}`);
    expect(lines).toContain('  subgraph ns_2["namespace floe-sales"]');
    const vaultNode = id('vault secret/data/marketing/warehouse-export');
    expect(mermaid.stdout).toContain(`-->|"vault-agent<br/>CronJob/audience-export"| ${vaultNode}`);
    expect(mermaid.stdout).toContain('marketing/ads#35;ADS_TOKEN'); // '#' is escaped in labels
    expect(mermaid.stdout).not.toContain('linkStyle');

    const dot = await run([dist, '-o', 'dot'], root);
    expect(dot.code).toBe(ExitCode.OK);
    expect(dot.stdout.startsWith('digraph "floe-secrets access-map" {\n')).toBe(true);
    expect(dot.stdout.trimEnd().endsWith('}')).toBe(true);
    expect(dot.stdout).toContain('subgraph "cluster_ns:floe-sales" {');
    expect(dot.stdout).toContain('"sa:floe-sales/orders-load" -> "secret:floe-sales/snowflake-credentials" [label="env\\nJob/orders-load"];');
    expect(dot.stdout).toContain('"secret:floe-sales/snowflake-credentials" -> "backend:infisical floe-analytics/prod:/compute/snowflake" [label=""];');
    expect(dot.stdout).toContain('"sa:floe-marketing/audience-export" -> "vault:vault secret/data/marketing/warehouse-export" [label="vault-agent\\nCronJob/audience-export"];');
  });
});

describe('plain hand-written manifests', () => {
  beforeAll(() => {
    write('plain', 'app.yaml', PLAIN);
    write('over-broad', 'rbac.yml', OVER_BROAD);
  });

  test('a Role with resourceNames, a Deployment with envFrom, a Vault-annotated pod and an ExternalSecret: exit 0', async () => {
    const result = await run(['plain'], root);
    expect(result.code).toBe(ExitCode.OK);
    const rows = accessRows(result.stdout);
    const row = (secret: string, how: string) => rows.find((r) => r[3] === secret && r[4] === how);
    expect(row('db.credentials', 'envFrom')?.slice(0, 3)).toEqual(['shop', 'web', 'Deployment/web']);
    expect(row('db.credentials', 'envFrom')?.[5]).toBe('Secret in the manifests (plain/app.yaml)');
    expect(row('api-keys', 'env')?.[5]).toBe('external-secrets SecretStore/aws: prod/payments#stripe, prod/shared (all properties)');
    expect(row('api-keys', 'env')?.[6]).toBe('keys STRIPE_KEY');
    expect(row('tls-cert', 'file')?.[5]).toBe('external (created outside the manifests)');
    expect(row('tls-cert', 'file')?.[6]).toBe('keys tls.crt; mounted at /etc/tls; projected volume');
    expect(row('db.credentials', 'rbac-get')?.[6]).toBe('via Role shop/web-reader; API token not mounted in its pods');
    expect(row('api-keys', 'rbac-get')).toBeDefined();
    const vault = rows.find((r) => r[4] === 'vault-agent');
    expect(vault?.slice(0, 4)).toEqual(['shop', 'default', 'Pod/vault-demo', '-']);
    expect(vault?.[5]).toBe('vault secret/data/shop/config');
    expect(vault?.[6]).toBe('keys api_key; vault role shop-web; files /vault/secrets/config; no Kubernetes Secret');
    // the Secret's key names are shown, never its values
    expect(result.stdout).toMatch(/shop +db\.credentials +Secret in the manifests \(plain\/app\.yaml\) +Secret shop\/db\.credentials +password, username/);
    expect(result.stdout).not.toContain('not-a-secret');
  });

  test('a ClusterRole granting list on secrets, bound cluster-wide: flagged OVER-BROAD, exit 1', async () => {
    const result = await run(['plain', 'over-broad'], root);
    expect(result.code).toBe(ExitCode.PROBLEMS);
    const rows = accessRows(result.stdout);
    const ci = rows.find((r) => r[1] === 'tools/ci');
    expect(ci?.slice(0, 5)).toEqual(['*', 'tools/ci', '-', '*', 'rbac-get,list']);
    expect(ci?.[6]).toContain('OVER-BROAD: verb list, all secrets of all namespaces, cluster-wide (ClusterRoleBinding)');
    expect(ci?.[6]).toContain('via ClusterRole secret-lister');
    expect(ci?.[6]).toContain('no workload in the input runs as it');
    expect(rows.find((r) => r[1] === 'Group:platform-admins')?.[6]).toContain('OVER-BROAD');
    expect(rows.find((r) => r[3] === 'db.credentials' && r[4] === 'rbac-get')?.[6]).not.toContain('OVER-BROAD');
    expect(result.stdout).toContain('OVER-BROAD GRANTS (1)\n- ClusterRoleBinding ci-can-list-secrets -> ClusterRole secret-lister: get,list on all secrets (all namespaces) '
      + 'for tools/ci, Group:platform-admins: verb list; all secrets of all namespaces; cluster-wide (ClusterRoleBinding)');
    expect(result.stderr).toContain('1 over-broad secret grant(s)');
    // who can read db.credentials includes the cluster-wide listers
    const secretsLine = result.stdout.split('\n').find((l) => /^shop +db\.credentials /.test(l));
    expect(secretsLine).toContain('Group:platform-admins (rbac-get,list), shop/web (envFrom, rbac-get), tools/ci (rbac-get,list)');

    const json = JSON.parse((await run(['plain', 'over-broad', '-o', 'json'], root)).stdout);
    expect(json.overBroad).toBe(true);
    expect(json.findings).toEqual([{
      binding: 'ClusterRoleBinding ci-can-list-secrets',
      role: 'ClusterRole secret-lister',
      subjects: ['tools/ci', 'Group:platform-admins'],
      scope: 'all namespaces',
      verbs: ['get', 'list'],
      reasons: ['verb list', 'all secrets of all namespaces', 'cluster-wide (ClusterRoleBinding)'],
    }]);
    const db = json.secrets.find((s: any) => s.name === 'db.credentials');
    expect(db.readBy).toEqual(['Group:platform-admins (rbac-get,list)', 'shop/web (envFrom, rbac-get)', 'tools/ci (rbac-get,list)']);
  });

  test('over-broad grants are drawn in red (mermaid, dot) and reported on stderr', async () => {
    const mermaid = await run(['over-broad', '-o', 'mermaid'], root);
    expect(mermaid.code).toBe(ExitCode.PROBLEMS);
    expect(mermaid.stdout).toMatch(/sa_1 ==>\|"rbac-get,list<br\/>OVER-BROAD"\| all_1/);
    expect(mermaid.stdout).toContain('all_1["Secrets<br/>all secrets of all namespaces"]');
    expect(mermaid.stdout).toContain('linkStyle 0,1 stroke:#d93025,stroke-width:3px');
    expect(mermaid.stderr).toContain('OVER-BROAD: ClusterRoleBinding ci-can-list-secrets -> ClusterRole secret-lister');
    const dot = await run(['over-broad', '-o', 'dot'], root);
    expect(dot.code).toBe(ExitCode.PROBLEMS);
    expect(dot.stdout).toContain('"group:platform-admins" -> "all:*" [label="rbac-get,list\\nOVER-BROAD", color="#d93025", fontcolor="#d93025", penwidth=2];');
  });

  test('secret values never reach any output', async () => {
    for (const format of ['table', 'mermaid', 'dot', 'json']) {
      const result = await run(['plain', 'over-broad', '-o', format], root);
      for (const value of [PASSWORD, USERNAME, B64]) {
        expect(result.stdout).not.toContain(value);
        expect(result.stderr).not.toContain(value);
      }
    }
  });

  test('more RBAC: wildcard rules, built-in roles, everyone groups, aggregation, missing roles', () => {
    const docs = readManifests([write('rbac-more', 'rbac.yaml', `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: all-the-things, namespace: team }
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    resourceNames: [one]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: all-the-things, namespace: team }
roleRef: { kind: Role, name: all-the-things, apiGroup: rbac.authorization.k8s.io }
subjects: [{ kind: Group, name: "system:serviceaccounts:team" }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: editors, namespace: team }
roleRef: { kind: ClusterRole, name: edit, apiGroup: rbac.authorization.k8s.io }
subjects: [{ kind: User, name: alice }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: ghost, namespace: team }
roleRef: { kind: Role, name: not-here, apiGroup: rbac.authorization.k8s.io }
subjects: [{ kind: User, name: bob }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: peek
  labels: { rbac.authorization.k8s.io/aggregate-to-view: "true" }
rules:
  - { apiGroups: [""], resources: [secrets], verbs: [watch] }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: idle, namespace: team }
`)], root).documents;
    const map = analyzeAccess(docs);
    const wildcard = map.findings.find((f) => f.binding === 'RoleBinding team/all-the-things');
    expect(wildcard?.reasons).toEqual(['resources: *', 'granted to every service account of namespace team']);
    const edit = map.findings.find((f) => f.binding === 'RoleBinding team/editors');
    expect(edit?.reasons).toEqual(['verb list', 'verb watch', 'all secrets of the namespace']);
    expect(map.findings.find((f) => f.role === 'ClusterRole peek')?.reasons).toEqual(['adds secret watch to the built-in ClusterRole view']);
    expect(map.warnings).toEqual(['RoleBinding team/ghost refers to Role team/not-here, which is not in the input: its grants could not be checked']);
    expect(map.accesses.find((a) => a.principal.name === 'alice')).toMatchObject({ namespace: 'team', secret: '*', how: 'rbac-get,list,watch' });
    expect(map.accesses.find((a) => a.principal.name === 'idle')).toMatchObject({ namespace: 'team', how: 'none', notes: ['no secret access found in the input'] });
    expect(renderTable(map)).toMatch(/\nteam +idle +- +- +none +- +no secret access found in the input\n/);
  });
});

describe('escaping of node and edge ids', () => {
  test('names with dots, dashes, quotes, pipes and backslashes stay inside quoted labels', () => {
    const object = (kind: string, name: string, extra: object) => ({ file: 'x.yaml', index: 0, object: { apiVersion: 'v1', kind, metadata: { name, namespace: 'my.ns-1' }, ...extra } });
    const map = analyzeAccess([
      object('Pod', 'end', { spec: { serviceAccountName: 'sa.with-dots', containers: [{ name: 'c', envFrom: [{ secretRef: { name: 'we"ird|name\\x' } }] }] } }),
    ]);
    const mermaid = renderMermaid(map);
    expect(mermaid).toContain('sa_1(["ServiceAccount<br/>my.ns-1/sa.with-dots"])');
    expect(mermaid).toContain('secret_1["Secret<br/>my.ns-1/we#34;ird#124;name#92;x"]');
    expect(mermaid).toContain('sa_1 -->|"envFrom<br/>Pod/end"| secret_1');
    for (const line of mermaid.split('\n').slice(1)) {
      expect(line.trim()).toMatch(/^(subgraph [a-z]+_\d+\[|end$|[a-z]+_\d+[[(]|[a-z]+_\d+ -->|classDef |class |$)/);
    }
    const dot = renderDot(map);
    expect(dot).toContain('"sa:my.ns-1/sa.with-dots" -> "secret:my.ns-1/we\\"ird|name\\\\x" [label="envFrom\\nPod/end"];');
    expect(dotString('a"b\\c\nd')).toBe('"a\\"b\\\\c\\nd"');
    expect(mermaidText('a"b|c<d>#e')).toBe('a#34;b#124;c#60;d#62;#35;e');
  });
});

describe('bad input: exit 2 with a clear message, no stack trace', () => {
  test('an unreadable path', async () => {
    const result = await run(['does-not-exist'], root);
    expect(result.code).toBe(ExitCode.ERROR);
    expect(result.stderr).toBe('floe-secrets access-map: cannot read does-not-exist: no such file or directory\n');
    expect(result.stdout).toBe('');
  });

  test('no path given and no dist directory', async () => {
    const cwd = join(root, 'empty-project');
    mkdirSync(cwd, { recursive: true });
    const result = await run([], cwd);
    expect(result.code).toBe(ExitCode.ERROR);
    expect(result.stderr).toContain('cannot read dist: no such file or directory (no path given: run "cdk8s synth" first');
  });

  test('no path given: reads the output directory of cdk8s.yaml', async () => {
    write('with-config', 'cdk8s.yaml', 'language: typescript\noutput: out\n');
    write('with-config', 'out/app.yaml', PLAIN);
    const result = await run([], join(root, 'with-config'));
    expect(result.code).toBe(ExitCode.OK);
    expect(result.stdout).toContain('Deployment/web');
  });

  test('invalid YAML: the file and the line, never the content', async () => {
    write('bad-yaml', 'broken.yaml', `apiVersion: v1
kind: ConfigMap
metadata:
  name: ok
---
apiVersion: v1
kind: Secret
metadata:
  name: broken
stringData:
  user: [${USERNAME}
`);
    const result = await run(['bad-yaml'], root);
    expect(result.code).toBe(ExitCode.ERROR);
    expect(result.stderr).toBe('floe-secrets access-map: bad-yaml/broken.yaml: invalid YAML at line 12, column 1: '
      + 'the indentation is wrong, or a "[" or "{" is not closed; indent the entries of one mapping or list by the same number of spaces, and close every bracket\n');
    expect(result.stderr).not.toContain(USERNAME);
  });

  test('a document that is not a Kubernetes object: the file and the document', async () => {
    write('not-k8s', 'values.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n---\nreplicas: 3\nimage: nginx\n');
    const result = await run(['not-k8s'], root);
    expect(result.code).toBe(ExitCode.ERROR);
    expect(result.stderr).toBe('floe-secrets access-map: not-k8s/values.yaml: document 2 (line 6) is not a Kubernetes object (no apiVersion, no kind, no metadata.name)\n');

    write('not-k8s-list', 'list.json', '[1, 2]');
    const list = await run(['not-k8s-list/list.json'], root);
    expect(list.stderr).toContain('not-k8s-list/list.json: document 1 (line 1) is not a Kubernetes object (it is a list');
    expect(list.code).toBe(ExitCode.ERROR);
  });

  test('a directory without manifests', async () => {
    write('no-manifests', 'README.md', '# nothing here\n');
    const result = await run(['no-manifests'], root);
    expect(result.code).toBe(ExitCode.ERROR);
    expect(result.stderr).toContain('no Kubernetes objects found in no-manifests');
  });

  test('bad arguments', async () => {
    expect((await run(['plain', '-o', 'svg'], root)).stderr).toBe('floe-secrets access-map: -o/--output "svg" is not a format of this command; use one of table, mermaid, dot, json\n');
    expect((await run(['plain', '--output'], root)).stderr).toContain('--output needs a value (<format>)');
    expect((await run(['plain', '--verbose'], root)).code).toBe(ExitCode.ERROR);
    const help = await run(['--help'], root);
    expect(help.code).toBe(ExitCode.OK);
    expect(help.stdout).toContain('Usage: floe-secrets access-map');
    // --output=FORMAT, and "--" ends the options: what follows is a path even when it starts with "-"
    const ended = await run(['plain', '--output=json', '--', '--b'], root);
    expect(ended).toMatchObject({ code: ExitCode.ERROR, stderr: 'floe-secrets access-map: cannot read --b: no such file or directory\n' });
    expect(JSON.parse(ended.stdout)).toEqual({ error: { message: 'cannot read --b: no such file or directory', exitCode: 2 } });
  });
});

describe('readManifests', () => {
  test('directories recursively and sorted, JSON and kind: List, empty documents skipped', () => {
    write('tree', 'b.yaml', '---\n# only a comment\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: { name: b }\n');
    write('tree', 'a/z.yml', 'apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: z }\n');
    write('tree', 'c.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'c' } }] }));
    write('tree', 'notes.txt', 'not read');
    const { documents, files } = readManifests(['tree'], root);
    expect(files).toEqual(['tree/a/z.yml', 'tree/b.yaml', 'tree/c.json']);
    expect(documents.map((d) => [d.file, d.index, d.object.metadata.name])).toEqual([['tree/a/z.yml', 0, 'z'], ['tree/b.yaml', 1, 'b'], ['tree/c.json', 0, 'c']]);
    expect(documents[2].item).toBe(0);
  });
});

describe('--svg', () => {
  let fakeDot: string;
  beforeAll(() => {
    fakeDot = join(root, 'fake-graphviz');
    mkdirSync(fakeDot, { recursive: true });
    // Stands in for Graphviz: writes an SVG around the DOT it reads, to the file after -o.
    writeFileSync(join(fakeDot, 'dot'), [
      '#!/bin/sh',
      'out=""',
      'while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift 2;; -Tsvg) shift;; *) echo "unexpected $1" >&2; exit 3;; esac; done',
      '{ echo "<svg xmlns=\\"http://www.w3.org/2000/svg\\"><!--"; cat; echo "--></svg>"; } > "$out"',
      '',
    ].join('\n'));
    chmodSync(join(fakeDot, 'dot'), 0o755);
  });

  test('with Graphviz: writes the SVG and still prints the chosen format', async () => {
    const result = await run(['plain', '--svg', 'out/map.svg', '-o', 'json'], root, { PATH: `${fakeDot}:/usr/bin:/bin` });
    expect(result.code).toBe(ExitCode.OK);
    expect(JSON.parse(result.stdout).overBroad).toBe(false);
    expect(result.stderr).toBe('floe-secrets access-map: wrote out/map.svg\n');
    const svg = readFileSync(join(root, 'out/map.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('digraph "floe-secrets access-map"');
    expect(svg).toContain('"sa:shop/web" -> "secret:shop/db.credentials"');
  });

  test('without Graphviz: exit 2 and how to get it', async () => {
    const emptyDir = join(root, 'empty-path');
    mkdirSync(emptyDir, { recursive: true });
    const result = await run(['plain', '--svg', 'nothing.svg'], root, { PATH: emptyDir });
    expect(result.code).toBe(ExitCode.ERROR);
    expect(result.stderr).toContain(GRAPHVIZ_MISSING);
    expect(result.stderr).toContain('install graphviz (apt-get install graphviz) or use -o dot');
    expect(result.stdout).toBe('');
    expect(existsSync(join(root, 'nothing.svg'))).toBe(false);
    expect((await run(['plain', '--svg', 'nothing.svg'], root, {})).code).toBe(ExitCode.ERROR);
  });

  test('when dot fails: exit 2 with its first error line', async () => {
    const failing = join(root, 'failing-graphviz');
    mkdirSync(failing, { recursive: true });
    writeFileSync(join(failing, 'dot'), '#!/bin/sh\necho "Error: syntax error in line 1" >&2\nexit 1\n');
    chmodSync(join(failing, 'dot'), 0o755);
    const result = await run(['plain', '--svg', 'x.svg'], root, { PATH: failing });
    expect(result.code).toBe(ExitCode.ERROR);
    expect(result.stderr).toBe('floe-secrets access-map: dot -Tsvg failed (exit 1): Error: syntax error in line 1\n');
  });

  test('findExecutable looks only in the PATH it is given', () => {
    expect(findExecutable('dot', `relative:${fakeDot}`)).toBe(join(fakeDot, 'dot'));
    expect(findExecutable('dot', undefined)).toBeUndefined();
    expect(findExecutable('dot', join(root, 'empty-path'))).toBeUndefined();
  });

  // Graphviz is installed by the test task (scripts/test-tools.sh); without it this fails, it never skips.
  test('with the real Graphviz installed: a valid SVG', async () => {
    expect(findExecutable('dot', process.env.PATH)).toBeDefined();
    const result = await run(['plain', 'over-broad', '--svg', 'real.svg'], root, { PATH: process.env.PATH });
    expect(result.code).toBe(ExitCode.PROBLEMS);
    expect(readFileSync(join(root, 'real.svg'), 'utf8')).toContain('</svg>');
  });
});
