import { join, resolve } from 'node:path';
import { parseYamlQuietly, readTextFileCapped, yamlErrors, yamlToJS } from '@floe-secrets/core';
import { Command as Commander } from 'commander';
import { LineCounter } from 'yaml';
import { analyzeAccess } from '../access-map/analyze';
import { renderSvg } from '../access-map/graphviz';
import { ACCESS_MAP_FORMATS, AccessMapFormat, renderAccessMap, renderDot } from '../access-map/render';
import { CliCommand, outputOption, PathArgument, PathOption } from '../command';
import { CliError, ExitCode } from '../io';
import { readManifests } from '../manifests';

/** What `floe-secrets access-map` shows: its help text. */
const DESCRIPTION = `Who can read which secret, for a security review, from synthesized cdk8s output
or any Kubernetes manifests (.yaml, .yml, .json; directories are read
recursively, without cdk8s's construct-metadata.json). Without a path it reads
the output directory of ./cdk8s.yaml, else ./dist.

For every ServiceAccount (and User/Group subject of a RoleBinding or
ClusterRoleBinding) it lists
  - the Secrets its pods receive from the kubelet (env secretKeyRef, envFrom,
    secret and projected volumes), per workload (Pod, Deployment, StatefulSet,
    DaemonSet, ReplicaSet, Job, CronJob),
  - the Secrets RBAC lets it read (get, list, watch, *), flagging over-broad
    grants,
  - the Vault paths the Vault Agent injector writes into its pods (no
    Kubernetes Secret involved),
and for every Secret where it comes from (InfisicalSecret,
InfisicalStaticSecret, ExternalSecret, VaultStaticSecret, SealedSecret, a
Secret in the manifests, or external).

Behind the Secrets, it flags backend access broader than the domains need:
  - cluster-secret-store: ExternalSecrets read through a ClusterSecretStore
    whose spec.conditions do not limit the namespaces that may use it (or
    that is not in the input);
  - shared-infisical-identity: one Infisical identity reads different
    folders for several domains;
  - broad-infisical-scope: an Infisical scope recursive at "/", or naming
    another domain's folder.

It reads names, keys and metadata only: secret values are never printed.

Exit codes: 0 nothing over-broad, 1 an over-broad grant (list/watch/*, no
resourceNames, ClusterRoleBinding, wildcard resources, granted to everyone)
or over-broad backend access, 2 bad arguments or input.`;

interface AccessMapOptions {
  readonly output: AccessMapFormat;
  readonly svg?: string;
}

/** `floe-secrets access-map [paths...] [-o table|mermaid|dot|json] [--svg FILE]`: who can read what. */
export const accessMap: CliCommand = {
  name: 'access-map',
  examples: [
    ['floe-secrets access-map dist', 'the table: who reads which secret, from which source'],
    ['floe-secrets access-map dist -o mermaid', 'a Mermaid flowchart, for a pull request'],
    ['floe-secrets access-map dist -o json --svg map.svg', 'JSON on stdout and an SVG drawn by Graphviz'],
  ],
  define: () => new Commander('access-map')
    .summary('who can read which secret: table, Mermaid, Graphviz or JSON')
    .description(DESCRIPTION)
    .addArgument(new PathArgument('[paths...]', 'files or directories of manifests (default: the output of ./cdk8s.yaml, else dist)'))
    .addOption(outputOption(ACCESS_MAP_FORMATS, 'table'))
    .addOption(new PathOption('--svg <file>', 'also write the graph as SVG with Graphviz "dot" (must be on PATH)')),
  run: async (operands, options, io) => {
    const { output, svg } = options as AccessMapOptions;
    if (operands.includes('-')) throw new CliError('access-map reads files and directories, not standard input');
    if (svg === '') throw new CliError('--svg needs a file name');
    const defaulted = operands.length === 0;
    const paths = defaulted ? [defaultOutputDir(io.cwd)] : operands;
    let manifests;
    try {
      manifests = readManifests(paths, io.cwd);
    } catch (error) {
      if (defaulted && error instanceof CliError) {
        throw new CliError(`${error.message} (no path given: run "cdk8s synth" first, or name the manifests to read)`, error.exitCode);
      }
      throw error;
    }
    if (manifests.documents.length === 0) {
      throw new CliError(`no Kubernetes objects found in ${paths.join(', ')} (looked for .yaml, .yml and .json files)`);
    }

    const map = analyzeAccess(manifests.documents, manifests.files);
    if (svg !== undefined) {
      await renderSvg(renderDot(map), resolve(io.cwd, svg), io.env);
    }
    io.stdout.write(renderAccessMap(map, output));
    for (const warning of manifests.warnings) io.stderr.write(`floe-secrets access-map: warning: doubtful YAML, read anyway: ${warning}\n`);
    for (const warning of map.warnings) io.stderr.write(`floe-secrets access-map: warning: ${warning}\n`);
    if (svg !== undefined) io.stderr.write(`floe-secrets access-map: wrote ${svg}\n`);
    if (output !== 'table') {
      for (const f of map.findings) io.stderr.write(`floe-secrets access-map: OVER-BROAD: ${f.binding} -> ${f.role}: ${f.reasons.join('; ')}\n`);
      for (const f of map.backendFindings) io.stderr.write(`floe-secrets access-map: OVER-BROAD: [${f.flag}] ${f.resource}: ${f.reason}\n`);
    }
    if (map.findings.length > 0) io.stderr.write(`floe-secrets access-map: ${map.findings.length} over-broad secret grant(s)\n`);
    if (map.backendFindings.length > 0) io.stderr.write(`floe-secrets access-map: ${map.backendFindings.length} over-broad backend access(es)\n`);
    if (map.findings.length > 0 || map.backendFindings.length > 0) return ExitCode.PROBLEMS;
    return ExitCode.OK;
  },
};

/** The largest cdk8s.yaml read (64 KiB; a real one is a few lines). */
const MAX_CDK8S_CONFIG_BYTES = 64 * 1024;

/** The `output` of ./cdk8s.yaml, else `dist` (the cdk8s default). Quiet: nothing of the file is printed. */
function defaultOutputDir(cwd: string): string {
  try {
    const lineCounter = new LineCounter();
    const [doc] = parseYamlQuietly(readTextFileCapped(join(cwd, 'cdk8s.yaml'), MAX_CDK8S_CONFIG_BYTES), lineCounter).documents;
    const config = doc && yamlErrors(doc, lineCounter).length === 0 ? yamlToJS(doc, lineCounter) : undefined;
    const output = config && 'value' in config ? (config.value as { output?: unknown } | null)?.output : undefined;
    if (typeof output === 'string' && output !== '') return output;
  } catch {
    // no, unreadable or oversized cdk8s.yaml: the default
  }
  return 'dist';
}
