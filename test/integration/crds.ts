import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Run, TestCluster } from './cluster';
import { crdFile, resolveCrdsSync } from '../../projenrc/crds';

const CRD_NAMES = [
  'infisical/secrets.infisical.com_infisicalsecrets.yaml',
  'infisical/secrets.infisical.com_infisicalconnections.yaml',
  'infisical/secrets.infisical.com_infisicalauths.yaml',
  'infisical/secrets.infisical.com_infisicalstaticsecrets.yaml',
  'external-secrets/external-secrets.io_externalsecrets.yaml',
  'external-secrets/external-secrets.io_secretstores.yaml',
];

/**
 * The operator CRDs (Infisical and External Secrets) pinned in projenrc/crd-pins.ts, taken from
 * FLOE_CRDS_DIR or the download cache and verified against their sha256 (projenrc/crds.ts). Importing
 * this module fails loudly when they cannot be had: these tests never skip without them.
 */
const PINNED_CRDS = resolveCrdsSync();

/** Absolute paths of the six CRD files. */
export const CRD_FILES: readonly string[] = CRD_NAMES.map((name) => crdFile(PINNED_CRDS, name));

/**
 * Schema or version fields that the 1.20 API does not know. A 1.20 apiserver drops them silently when it
 * decodes a CRD (and `kubectl create` refuses them: `unknown field "…" in …JSONSchemaProps`), so they are
 * removed before creating the CRD and reported — but only when this server is seen to drop them, and only
 * these reviewed ones: any other field the server drops makes the install fail, so that nothing is lost
 * unreviewed.
 */
const UNKNOWN_TO_1_20: Record<string, string> = {
  'x-kubernetes-validations':
    'CEL validation rules (beta and on by default since Kubernetes 1.25) are unknown to the 1.20 API; ' +
    'the server drops them silently, so this server does NOT enforce these rules',
  'selectableFields': 'custom-resource field selectors (Kubernetes 1.30+) are unknown to the 1.20 API; they select, they do not validate',
};

const EMPTY_DEFAULT_REASON =
  'this kube-apiserver refuses `default: ""` ("Invalid value: \\"null\\": in body must be of type string: \\"null\\""): ' +
  'Kubernetes 1.20.2 compiled with Go >= 1.16 (Debian builds it with go1.19) takes every empty string for null in ' +
  'schema validation (kubernetes/kubernetes#99804, fixed by kubernetes/kube-openapi#230 in 1.21); ' +
  'dropping it changes only the defaulting of an unset field, not what is validated';

/** One part of a CRD left out to make it acceptable to the test server. */
export interface DroppedPart {
  /** The CRD version the part belongs to. */
  readonly version: string;
  /** What was dropped: `version` (the whole version), or the field name (`x-kubernetes-validations`, `default`, …). */
  readonly what: string;
  /** Where, in the CRD object, e.g. `spec.versions[v1].schema.openAPIV3Schema.properties.spec…`. */
  readonly crdPath: string;
  /** For parts of a schema: the custom-resource field the schema node describes (`*` for any item or map value). */
  readonly objectPath?: readonly string[];
  /** The value that was dropped. */
  readonly value: unknown;
  /** Why it had to go. */
  readonly reason: string;
}

/** A CRD installed by {@link installCrdsWithReport}. */
export interface InstalledCrd {
  readonly file: string;
  /** `<plural>.<group>` */
  readonly name: string;
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  /** The versions the server serves for it, as stored. */
  readonly servedVersions: readonly string[];
  /** Everything left out of the file's CRD, with the reason; empty when it went in unchanged. */
  readonly dropped: readonly DroppedPart[];
}

/** Options of {@link installCrds}. */
export interface InstallOptions {
  /** How long to wait for all the CRDs to be Established, in seconds. Default 60. */
  readonly establishTimeoutSeconds?: number;
  /** Where the summary of what was dropped goes. Default console.log. */
  readonly log?: (summary: string) => void;
}

/**
 * Installs CRDs on a {@link TestCluster} (a Kubernetes 1.20 apiserver) and waits until each is Established.
 * Logs a summary of what had to be dropped per CRD (see {@link installCrdsWithReport}); returns the CRD names.
 */
export function installCrds(cluster: TestCluster, files: readonly string[], options: InstallOptions = {}): string[] {
  const installed = installCrdsWithReport(cluster, files, options);
  (options.log ?? console.log)(formatInstallReport(installed));
  return installed.map((crd) => crd.name);
}

/**
 * Installs CRDs on a 1.20 apiserver without changing what they validate for the versions they serve, by a
 * minimal transformation that is reported, never silent:
 *
 * 1. versions with `served: false` are dropped (they validate nothing a client can send);
 * 2. the CRD is sent to the server as a server-side dry run; `default: ""` at a path the server refuses with
 *    the empty-string-is-null error is dropped (see EMPTY_DEFAULT_REASON), and nothing else it refuses;
 * 3. fields the dry run shows the server would drop silently are removed when they are reviewed ones
 *    (`x-kubernetes-validations`, `selectableFields`); any other silently dropped field fails the install;
 * 4. the CRD is created (`kubectl create`, or `replace` when it exists: the SecretStore CRD, ~690 KB, is too big
 *    for `kubectl apply`'s last-applied annotation) and the stored CRD must hold every field that was sent;
 * 5. all are awaited until Established (bounded; the error names the CRD and its conditions).
 */
export function installCrdsWithReport(cluster: TestCluster, files: readonly string[], options: InstallOptions = {}): InstalledCrd[] {
  const prepared = files.map((file) => installOne(cluster, file));
  waitEstablished(cluster, prepared.map((crd) => crd.name), options.establishTimeoutSeconds ?? 60);
  return prepared;
}

/** A readable summary of what was dropped per CRD. */
export function formatInstallReport(installed: readonly InstalledCrd[]): string {
  const lines = ['CRDs installed on the 1.20 test apiserver:'];
  for (const crd of installed) {
    lines.push(`  ${crd.name} (${crd.kind}), served: ${crd.servedVersions.join(', ')}; dropped: ${crd.dropped.length === 0 ? 'nothing' : crd.dropped.length}`);
    for (const part of crd.dropped) {
      const where = part.objectPath ? `${part.version} .${part.objectPath.join('.')}` : `${part.version} ${part.crdPath}`;
      const value = part.what === 'version' ? '' : ` = ${truncate(JSON.stringify(part.value), 160)}`;
      lines.push(`    - ${part.what} at ${where}${value}\n      because ${part.reason}`);
    }
  }
  return lines.join('\n');
}

/**
 * The dropped rules (such as CEL `x-kubernetes-validations`) that would have applied to a field the manifest
 * sets: empty means the test server validates this manifest exactly as a current cluster would, as far as
 * the CRD's schema goes.
 */
export function droppedRulesApplyingTo(crd: InstalledCrd, manifest: any): DroppedPart[] {
  const version = String(manifest.apiVersion).split('/')[1];
  return crd.dropped.filter((part) => part.version === version && part.objectPath !== undefined && hasPath(manifest, part.objectPath));
}

/** One difference between what was sent and what was stored. */
export interface LostField {
  readonly path: readonly (string | number)[];
  /** `missing`: the field was not stored; `changed`: it was stored with another value or shape. */
  readonly how: 'missing' | 'changed';
  readonly sent: unknown;
  readonly stored: unknown;
}

/**
 * Every field of `sent` that `stored` lacks or holds differently (objects: each key sent; arrays: same length,
 * item by item; scalars: equal). Fields the server added are not differences.
 */
export function lostFields(sent: unknown, stored: unknown, path: readonly (string | number)[] = []): LostField[] {
  if (Array.isArray(sent)) {
    if (!Array.isArray(stored) || stored.length !== sent.length) return [{ path, how: 'changed', sent, stored }];
    return sent.flatMap((item, i) => lostFields(item, stored[i], [...path, i]));
  }
  if (isObject(sent)) {
    if (!isObject(stored)) return [{ path, how: 'changed', sent, stored }];
    return Object.keys(sent).flatMap((key) =>
      key in stored ? lostFields(sent[key], stored[key], [...path, key]) : [{ path: [...path, key], how: 'missing' as const, sent: sent[key], stored: undefined }],
    );
  }
  return Object.is(sent, stored) ? [] : [{ path, how: 'changed', sent, stored }];
}

/** `.spec.a[0].b (missing)` lines, one per lost field. */
export function formatLostFields(lost: readonly LostField[]): string[] {
  return lost.map((l) => `${formatPath(l.path)} (${l.how}${l.how === 'changed' ? `: sent ${JSON.stringify(l.sent)}, stored ${JSON.stringify(l.stored)}` : ''})`);
}

/**
 * Creates an object with `kubectl create` — with client-side validation off, so that only the server decides —
 * then reads it back (`kubectl get -f - -o json`) and returns the object as the server stored it.
 */
export function createAndReadBack(cluster: TestCluster, manifest: any): any {
  const input = JSON.stringify(manifest);
  ok(cluster, ['create', '--validate=false', '-f', '-'], input, `create ${describeManifest(manifest)}`);
  const got = JSON.parse(ok(cluster, ['get', '-f', '-', '-o', 'json'], input, `get ${describeManifest(manifest)}`));
  const stored = got.kind === 'List' ? got.items[0] : got;
  if (stored?.metadata?.name !== manifest.metadata.name) throw new Error(`get ${describeManifest(manifest)} returned ${truncate(JSON.stringify(got), 300)}`);
  return stored;
}

/**
 * Creates the object and expects the server to have stored every field that was sent, unchanged: structural
 * schema pruning drops unknown fields silently, and this comparison is what catches it. Returns the stored object.
 */
export function expectStoredMatchesSent(cluster: TestCluster, manifest: any): any {
  const stored = createAndReadBack(cluster, manifest);
  expect(formatLostFields(lostFields(manifest, stored))).toEqual([]);
  expect(stored).toMatchObject(manifest);
  return stored;
}

/**
 * Sends an object the server must refuse (client-side validation off, so the refusal is the server's) and
 * returns the server's message. Fails when the server accepted it, or when it crashed instead of answering.
 */
export function expectRejected(cluster: TestCluster, manifest: any): string {
  const run = kubectl(cluster, ['create', '--validate=false', '-f', '-'], JSON.stringify(manifest));
  if (run.status === 0) throw new Error(`the server accepted ${describeManifest(manifest)}, which it must refuse: ${run.stdout.trim()}`);
  const crash = serverCrash(cluster);
  if (crash) throw new Error(`create ${describeManifest(manifest)}: ${crash}`);
  const after = kubectl(cluster, ['get', '-f', '-', '-o', 'name'], JSON.stringify(manifest));
  if (after.status === 0) throw new Error(`kubectl create failed, yet ${describeManifest(manifest)} exists: ${run.stderr}`);
  return run.stderr.trim();
}

/**
 * Runs kubectl as the cluster admin like {@link TestCluster.kubectl}, with room for large output (a CRD such as
 * SecretStore is ~0.7 MB of JSON; spawnSync's default limit is 1 MiB) and a kubectl cache inside the cluster's
 * directory.
 */
export function kubectl(cluster: TestCluster, args: string[], input?: string): Run {
  const path = readFileSync(join(cluster.dir, 'env'), 'utf8').match(/^FLOE_KUBECTL=(.*)$/m)?.[1];
  if (!path) throw new Error(`no FLOE_KUBECTL in ${join(cluster.dir, 'env')}`);
  const result = spawnSync(path, ['--kubeconfig', join(cluster.dir, 'kubeconfig'), '--cache-dir', join(cluster.dir, 'kubectl-cache'), ...args], {
    encoding: 'utf8',
    input,
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`kubectl ${args.join(' ')}: ${result.error.message}`);
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * When the test kube-apiserver has died, why (from its log); undefined while it has not. The Debian-built
 * 1.20.2 server (go1.19, vendored modern-go/reflect2 v1.0.1) crashes on every custom-resource write.
 */
export function serverCrash(cluster: TestCluster): string | undefined {
  const logFile = join(cluster.dir, 'apiserver.log');
  const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
  const start = log.search(/^(fatal error|panic):/m);
  if (start < 0) return undefined;
  const head = log.slice(start).split('\n').slice(0, 3).join('\n');
  const frame = log.slice(start).split('\n').find((l) => /reflect2|objectmeta|customresource_handler/.test(l));
  const diagnosis = /modern-go\/reflect2\.\(\*UnsafeMapType\)\.UnsafeIterate/.test(log)
    ? '\nDiagnosis: this kube-apiserver 1.20.2 was compiled with ' + goVersion(log) + ' and vendors modern-go/reflect2 v1.0.1, whose ' +
      'map iteration is broken on Go >= 1.18 (modern-go/reflect2#24, fixed in v1.0.2 / json-iterator v1.1.12): every custom-resource ' +
      'write (create, update, patch, even a dry run) marshals metadata through it and kills the server. The provision step in ' +
      'scripts/kube-apiserver.sh has to build it with reflect2 >= 1.0.2 (Debian: golang-github-modern-go-reflect2-dev 1.0.2) in vendor/.'
    : '';
  return `the test kube-apiserver crashed (${logFile}):\n${head}${frame ? `\n  at ${frame.trim()}` : ''}${diagnosis}`;
}

function goVersion(log: string): string {
  return log.match(/\/usr\/lib\/(go-[0-9.]+)\//)?.[1]?.replace('-', '') ?? 'a Go >= 1.18';
}

function ok(cluster: TestCluster, args: string[], input: string | undefined, what: string): string {
  const run = kubectl(cluster, args, input);
  if (run.status === 0) return run.stdout;
  const crash = serverCrash(cluster);
  throw new Error(crash ? `${what}: ${crash}` : `${what}: kubectl ${args.join(' ')} failed (${run.status}): ${run.stderr.trim()}`);
}

function installOne(cluster: TestCluster, file: string): InstalledCrd {
  const crd = parse(readFileSync(file, 'utf8'));
  const name: string = crd?.metadata?.name;
  if (crd?.kind !== 'CustomResourceDefinition' || crd.apiVersion !== 'apiextensions.k8s.io/v1' || !name) {
    throw new Error(`${file} is not an apiextensions.k8s.io/v1 CustomResourceDefinition`);
  }
  const dropped: DroppedPart[] = [];

  // 1. Versions that are not served.
  const versions: any[] = crd.spec.versions;
  for (const v of versions.filter((x) => x.served === false)) {
    dropped.push({ version: v.name, what: 'version', crdPath: `spec.versions[${v.name}]`, value: { served: v.served, storage: v.storage }, reason: 'served: false — never served, so it validates nothing' });
  }
  crd.spec.versions = versions.filter((v) => v.served !== false);
  if (crd.spec.versions.length === 0) throw new Error(`${name} serves no version`);

  const exists = kubectl(cluster, ['get', 'crd', name, '-o', 'name']).status === 0;
  const verb = exists ? 'replace' : 'create';

  // 2. What the server refuses, by server-side dry run: only `default: ""` may go.
  let preview = kubectl(cluster, [verb, '--dry-run=server', '--validate=false', '-o', 'json', '-f', '-'], JSON.stringify(crd));
  if (preview.status !== 0) {
    const paths = [...new Set([...preview.stderr.matchAll(/([\w$.[\]-]+)\.default: Invalid value: "null":\s+in body must be of type string: "null"/g)].map((m) => m[1]))];
    for (const serverPath of paths) {
      for (const segments of crdPathsOf(crd, parseServerPath(serverPath))) {
        const node = at(crd, segments);
        if (!isObject(node) || node.default !== '') throw new Error(`${name}: the server refused the default at ${serverPath}, which is not "": ${preview.stderr}`);
        delete node.default;
        dropped.push(schemaPart(crd, segments, 'default', '', EMPTY_DEFAULT_REASON));
      }
    }
    if (paths.length > 0) preview = kubectl(cluster, [verb, '--dry-run=server', '--validate=false', '-o', 'json', '-f', '-'], JSON.stringify(crd));
    if (preview.status !== 0) throw new Error(`the test apiserver refuses CRD ${name} (${file}):\n${preview.stderr.trim()}`);
  }

  // 3. What the server would drop silently: only reviewed fields may go, and they are removed from what is sent.
  const previewed = JSON.parse(preview.stdout);
  for (const lost of lostFields(crd.spec, previewed.spec, ['spec'])) {
    const key = lost.path[lost.path.length - 1];
    const reason = typeof key === 'string' ? UNKNOWN_TO_1_20[key] : undefined;
    if (lost.how !== 'missing' || reason === undefined) {
      throw new Error(
        `the test apiserver would store CRD ${name} without ${formatLostFields([lost])[0]}; ` +
          'if it is a field Kubernetes 1.20 does not know, review whether it validates anything and add it to UNKNOWN_TO_1_20 in test/integration/crds.ts',
      );
    }
    const parent = at(crd, lost.path.slice(0, -1));
    delete parent[key as string];
    dropped.push(schemaPart(crd, lost.path.slice(0, -1), key as string, lost.sent, reason));
  }

  // 4. Create (or replace) for real; the stored CRD must hold everything that was sent.
  const stored = JSON.parse(ok(cluster, [verb, '-o', 'json', '-f', '-'], JSON.stringify(crd), `${verb} CRD ${name}`));
  const lost = lostFields(crd.spec, stored.spec, ['spec']);
  if (lost.length > 0) throw new Error(`the test apiserver stored CRD ${name} without:\n${formatLostFields(lost).join('\n')}`);

  return {
    file,
    name,
    group: stored.spec.group,
    kind: stored.spec.names.kind,
    plural: stored.spec.names.plural,
    servedVersions: stored.spec.versions.filter((v: any) => v.served).map((v: any) => v.name),
    dropped,
  };
}

function waitEstablished(cluster: TestCluster, names: string[], timeoutSeconds: number): void {
  if (names.length === 0) return;
  const run = kubectl(cluster, ['wait', '--for', 'condition=Established', `--timeout=${timeoutSeconds}s`, ...names.map((n) => `crd/${n}`)]);
  if (run.status === 0) return;
  const crash = serverCrash(cluster);
  if (crash) throw new Error(`waiting for CRDs to be Established: ${crash}`);
  const states = names.map((n) => {
    const conditions = kubectl(cluster, ['get', 'crd', n, '-o', 'jsonpath={.status.conditions}']);
    return `  ${n}: ${conditions.status === 0 ? conditions.stdout || 'no conditions' : conditions.stderr.trim()}`;
  });
  throw new Error(`CRDs not Established within ${timeoutSeconds} s (${run.stderr.trim()}):\n${states.join('\n')}`);
}

/** A dropped schema (or version) field at `parentSegments` of the CRD being sent. */
function schemaPart(crd: any, parentSegments: readonly (string | number)[], what: string, value: unknown, reason: string): DroppedPart {
  const [spec, versionsKey, index, schemaKey, rootKey, ...rest] = parentSegments;
  if (spec !== 'spec' || versionsKey !== 'versions' || typeof index !== 'number') {
    throw new Error(`dropped ${what} outside spec.versions: ${formatPath(parentSegments)}`);
  }
  const version: string = crd.spec.versions[index].name;
  const crdPath = `spec.versions[${version}]${formatPath(parentSegments.slice(3), '')}.${what}`;
  const inSchema = schemaKey === 'schema' && rootKey === 'openAPIV3Schema';
  return { version, what, crdPath, objectPath: inSchema ? objectPathOf(rest) : undefined, value, reason };
}

/** The custom-resource field a schema node describes, from its path under openAPIV3Schema. */
function objectPathOf(schemaSegments: readonly (string | number)[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < schemaSegments.length; i++) {
    const s = schemaSegments[i];
    if (s === 'properties') out.push(String(schemaSegments[++i]));
    else if (s === 'items' || s === 'additionalProperties') out.push('*');
    else if (s === 'allOf' || s === 'anyOf' || s === 'oneOf') i++;
    else if (s !== 'not') throw new Error(`unexpected schema path segment ${String(s)} in ${formatPath(schemaSegments)}`);
  }
  return out;
}

/** Whether `value` has something at `path` (`*`: any item of an array or value of a map). */
function hasPath(value: unknown, path: readonly string[]): boolean {
  if (path.length === 0) return value !== undefined;
  const [head, ...rest] = path;
  if (head === '*') {
    const children = Array.isArray(value) ? value : isObject(value) ? Object.values(value) : [];
    return children.some((child) => hasPath(child, rest));
  }
  return isObject(value) && head in value && hasPath(value[head], rest);
}

/** `spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[a].default` as path segments. */
function parseServerPath(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[([^\]]*)\]/g)) {
    if (m[1] !== undefined) segments.push(m[1]);
    else segments.push(/^\d+$/.test(m[2]) ? Number(m[2]) : m[2]);
  }
  if (segments[segments.length - 1] === 'default') segments.pop();
  return segments;
}

/**
 * The paths in the sent CRD that a path in a server error stands for. When all versions share one schema, the
 * server validates its internal form, where that schema is hoisted to `spec.validation`: it then stands for
 * `spec.versions[i].schema` of every version.
 */
function crdPathsOf(crd: any, serverSegments: (string | number)[]): (string | number)[][] {
  if (serverSegments[0] !== 'spec' || serverSegments[1] !== 'validation') return [serverSegments];
  return crd.spec.versions.map((_: unknown, i: number) => ['spec', 'versions', i, 'schema', ...serverSegments.slice(2)]);
}

function at(root: any, segments: readonly (string | number)[]): any {
  let node = root;
  for (const s of segments) {
    if (node === null || typeof node !== 'object' || !(s in node)) throw new Error(`no ${formatPath(segments)} in the CRD`);
    node = node[s];
  }
  return node;
}

function formatPath(segments: readonly (string | number)[], root: string = '.'): string {
  return segments.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('') || root;
}

function describeManifest(m: any): string {
  return `${m?.kind}/${m?.metadata?.name}${m?.metadata?.namespace ? ` in ${m.metadata.namespace}` : ''}`;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function isObject(value: unknown): value is Record<string, any> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
