import { Command as Commander } from 'commander';
import { CliCommand, contextOption, kubeconfigOption, manifestOption, outputOption, PathArgument } from '../command';
import { ExitCode } from '../io';
import { styleFor } from '../style';
import { TerminalProgress } from '../validate/progress';
import { renderReport } from '../validate/report';
import { runValidation } from '../validate/run';

/** What `floe-secrets validate` checks: its help text. */
const DESCRIPTION = `Checks every secret reference of synthesized YAML against the live cluster and
backend, before deploy: Secrets created outside the manifests exist with their
keys, operator CRDs are installed, Infisical holds the keys its InfisicalSecrets
and InfisicalStaticSecrets sync, Vault holds the fields Vault Agent templates
read, ExternalSecrets write the keys workloads read from remote keys that
exist, RBAC grants get on what pods read and nothing broader, and the operators'
backend access is no broader than the domains need (no ClusterSecretStore open
to every namespace, an Infisical identity and scope per domain; see
access-map). Directories are read recursively, without cdk8s's
construct-metadata.json.

Key names only: values are never printed. On a terminal, progress is drawn on
stderr and erased before the report. The cluster is the one of --kubeconfig
and --context, as kubectl's; the backend is the one manifest.yaml configures.`;

interface ValidateOptions {
  readonly manifest: string;
  readonly output: 'text' | 'json';
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly progress: boolean;
}

/**
 * `floe-secrets validate [paths...]`: checks every secret reference of the synthesized YAML
 * (default `dist`) against the live cluster and backend. Exit 0 all good, 1 problems, 2 could not
 * check.
 */
export const validate: CliCommand = {
  name: 'validate',
  examples: [
    ['floe-secrets validate dist -m manifest.yaml', 'check dist/ against the cluster and backend'],
    ['floe-secrets validate dist -o json', 'the report as JSON, for CI'],
    ['floe-secrets validate dist --context staging', 'against the cluster of another kubeconfig context'],
  ],
  define: () => new Commander('validate')
    .summary('check every secret reference of synthesized YAML against the live cluster and backend')
    .description(DESCRIPTION)
    .addArgument(new PathArgument('[paths...]', 'files or directories of synthesized YAML (default: dist)'))
    .addOption(manifestOption())
    .addOption(outputOption(['text', 'json'], 'text'))
    .addOption(kubeconfigOption())
    .addOption(contextOption())
    .option('--no-progress', 'draw no progress on a terminal'),
  run: async (paths, options, io) => {
    const { manifest, output, kubeconfig, context, progress: drawProgress } = options as ValidateOptions;
    // Progress on stderr when it is a terminal, so that stdout stays the report (or JSON) alone.
    const progress = io.stderrIsTTY && drawProgress ? new TerminalProgress((text) => io.stderr.write(text)) : undefined;
    let result;
    try {
      result = await runValidation({ paths: paths.length > 0 ? paths : ['dist'], manifestPath: manifest, kubeconfig, context, io, progress });
    } finally {
      progress?.finish();
    }
    if (output === 'json') {
      io.stdout.write(`${JSON.stringify({ problems: result.problems, checked: result.checked, notes: result.notes, errors: result.errors }, null, 2)}\n`);
    } else {
      io.stdout.write(renderReport(result, styleFor(io.env, io.stdoutIsTTY)));
    }
    for (const error of result.errors) io.stderr.write(`floe-secrets validate: could not check: ${error}\n`);
    if (result.errors.length > 0) return ExitCode.ERROR;
    return result.problems.length > 0 ? ExitCode.PROBLEMS : ExitCode.OK;
  },
};
