import { parseArgs } from 'node:util';
import { CliError, Command, ExitCode, hasOption } from '../io';
import { expandHome } from '../paths';
import { TerminalProgress } from '../validate/progress';
import { renderReport } from '../validate/report';
import { runValidation } from '../validate/run';

const USAGE = 'floe-secrets validate [dir...] [--manifest manifest.yaml] [--json] [--kubeconfig FILE] [--no-progress]';

/**
 * `floe-secrets validate [dir...]`: checks every secret reference of the synthesized YAML (default
 * `dist`) against the live cluster and backend: Secrets created outside the manifests exist with
 * their keys, operator CRDs are installed, Infisical holds the keys its InfisicalSecrets and
 * InfisicalStaticSecrets sync, Vault holds the fields Vault Agent templates read, ExternalSecrets
 * write the keys workloads read from remote keys that exist, and RBAC grants get on what pods read
 * and nothing broader. Key names only; values are never printed. Progress is drawn on stderr when
 * it is a terminal. Exit 0 all good, 1 problems, 2 could not check.
 */
export const validate: Command = async (args, io) => {
  let values: { 'manifest'?: string; 'json'?: boolean; 'kubeconfig'?: string; 'no-progress'?: boolean; 'help'?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: {
        'manifest': { type: 'string', short: 'm', default: 'manifest.yaml' },
        'json': { type: 'boolean', default: false },
        'kubeconfig': { type: 'string' },
        'no-progress': { type: 'boolean', default: false },
        'help': { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    }));
  } catch (error) {
    throw new CliError(`${(error as Error).message}\nusage: ${USAGE}`);
  }
  if (values.help) {
    io.stdout.write(`usage: ${USAGE}\n`);
    return ExitCode.OK;
  }
  // Progress on stderr when it is a terminal, so that stdout stays the report (or JSON) alone.
  const progress = io.stderrIsTTY && !values['no-progress'] ? new TerminalProgress((text) => io.stderr.write(text)) : undefined;
  let result;
  try {
    result = await runValidation({
      paths: positionals.length > 0 ? positionals : ['dist'],
      manifestPath: expandHome(values.manifest as string, io.env),
      kubeconfig: expandHome(values.kubeconfig, io.env),
      io,
      progress,
    });
  } finally {
    progress?.finish();
  }
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ problems: result.problems, checked: result.checked, notes: result.notes, errors: result.errors }, null, 2)}\n`);
  } else {
    io.stdout.write(renderReport(result));
  }
  for (const error of result.errors) io.stderr.write(`floe-secrets validate: could not check: ${error}\n`);
  if (result.errors.length > 0) return ExitCode.ERROR;
  return result.problems.length > 0 ? ExitCode.PROBLEMS : ExitCode.OK;
};

/** With --json, a failure is reported on stdout as JSON too. */
validate.jsonOutput = (args) => hasOption(args, '--json');
