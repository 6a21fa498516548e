import { join, resolve } from 'node:path';
import { parseYamlQuietly, readTextFileCapped, yamlErrors, yamlToJS } from '@floe-secrets/core';
import { LineCounter } from 'yaml';
import { analyzeAccess } from '../access-map/analyze';
import { renderSvg } from '../access-map/graphviz';
import { ACCESS_MAP_FORMATS, AccessMapFormat, renderAccessMap, renderDot } from '../access-map/render';
import { CliError, CliIO, Command, ExitCode } from '../io';
import { readManifests } from '../manifests';
import { expandHome } from '../paths';

/** `floe-secrets access-map --help`. */
export const ACCESS_MAP_USAGE = `usage: floe-secrets access-map [dir|file ...] [--format table|mermaid|dot|json] [--svg FILE]

Who can read which secret, for a security review, from synthesized cdk8s output or any Kubernetes
manifests (.yaml, .yml, .json; directories are read recursively). Without a path it reads the
output directory of ./cdk8s.yaml, else ./dist.

For every ServiceAccount (and User/Group subject of a RoleBinding/ClusterRoleBinding) it lists
  - the Secrets its pods receive from the kubelet (env secretKeyRef, envFrom, secret and projected volumes),
    per workload (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob),
  - the Secrets RBAC lets it read (get, list, watch, *), flagging over-broad grants,
  - the Vault paths the Vault Agent injector writes into its pods (no Kubernetes Secret involved),
and for every Secret where it comes from (InfisicalSecret, InfisicalStaticSecret, ExternalSecret,
VaultStaticSecret, SealedSecret, a Secret in the manifests, or external).

It reads names, keys and metadata only: secret values are never printed.

options:
  --format FORMAT   table (default), mermaid (flowchart LR), dot (Graphviz digraph) or json
  --svg FILE        also write the graph as SVG with Graphviz "dot" (must be on PATH)

exit codes: 0 no over-broad grant, 1 over-broad grant found (list/watch/*, no resourceNames,
ClusterRoleBinding, wildcard resources, granted to everyone), 2 bad arguments or input
`;

interface AccessMapOptions {
  readonly paths: string[];
  readonly format: AccessMapFormat;
  readonly svg?: string;
  readonly help: boolean;
}

/** `floe-secrets access-map [dir...] [--format table|mermaid|dot|json] [--svg FILE]`: who can read what. */
export const accessMap: Command = async (args: string[], io: CliIO): Promise<ExitCode> => {
  const parsed = parseAccessMapArgs(args);
  const options = { ...parsed, svg: expandHome(parsed.svg, io.env) };
  if (options.help) {
    io.stdout.write(ACCESS_MAP_USAGE);
    return ExitCode.OK;
  }
  const defaulted = options.paths.length === 0;
  const paths = defaulted ? [defaultOutputDir(io.cwd)] : options.paths;
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
  if (options.svg !== undefined) {
    await renderSvg(renderDot(map), resolve(io.cwd, options.svg), io.env);
  }
  io.stdout.write(renderAccessMap(map, options.format));
  for (const warning of manifests.warnings) io.stderr.write(`floe-secrets access-map: warning: doubtful YAML, read anyway: ${warning}\n`);
  for (const warning of map.warnings) io.stderr.write(`floe-secrets access-map: warning: ${warning}\n`);
  if (options.svg !== undefined) io.stderr.write(`floe-secrets access-map: wrote ${options.svg}\n`);
  if (map.findings.length > 0) {
    if (options.format !== 'table') {
      for (const f of map.findings) io.stderr.write(`floe-secrets access-map: OVER-BROAD: ${f.binding} -> ${f.role}: ${f.reasons.join('; ')}\n`);
    }
    io.stderr.write(`floe-secrets access-map: ${map.findings.length} over-broad secret grant(s)\n`);
    return ExitCode.PROBLEMS;
  }
  return ExitCode.OK;
};

/** With --format json, a failure is reported on stdout as JSON too. */
accessMap.jsonOutput = (args) => {
  const end = args.indexOf('--');
  const options = end < 0 ? args : args.slice(0, end);
  return options.some((arg, i) => arg === '--format=json' || arg === '-f=json' || ((arg === '--format' || arg === '-f') && options[i + 1] === 'json'));
};

/** Parses the command line; throws a CliError (exit 2) on a bad option. */
export function parseAccessMapArgs(args: string[]): AccessMapOptions {
  const paths: string[] = [];
  let format: AccessMapFormat = 'table';
  let svg: string | undefined;
  let help = false;
  let optionsEnded = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (optionsEnded || !arg.startsWith('-') || arg === '-') {
      if (arg === '-') throw new CliError('access-map reads files and directories, not standard input');
      paths.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      const next = args[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) throw new CliError(`${name} needs a value`);
      i++;
      return next;
    };
    switch (name) {
      case '--':
        optionsEnded = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      case '--format':
      case '-f': {
        const f = value();
        if (!(ACCESS_MAP_FORMATS as readonly string[]).includes(f)) {
          throw new CliError(`unknown format ${JSON.stringify(f)}: use one of ${ACCESS_MAP_FORMATS.join(', ')}`);
        }
        format = f as AccessMapFormat;
        break;
      }
      case '--svg':
        svg = value();
        if (svg === '') throw new CliError('--svg needs a file name');
        break;
      default:
        throw new CliError(`unknown option ${JSON.stringify(name)}; run "floe-secrets access-map --help"`);
    }
  }
  return { paths, format, svg, help };
}

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
