import { parseArgs } from 'node:util';
import { CliError, Command, ExitCode } from '../io';
import { renderReport } from '../validate/report';
import { runValidation } from '../validate/run';

const USAGE = 'floe-secrets validate [dir...] [--manifest manifest.yaml] [--json] [--kubeconfig FILE]';

/**
 * `floe-secrets validate [dir...]`: checks every secret reference of the synthesized YAML (default
 * `dist`) against the live cluster and backend: Secrets created outside the manifests exist with
 * their keys, operator CRDs are installed, Infisical holds the keys its InfisicalSecrets sync, and
 * RBAC grants get on what pods read and nothing broader. Key names only; values are never printed.
 * Exit 0 all good, 1 problems, 2 could not check.
 */
export const validate: Command = async (args, io) => {
  let values: { manifest?: string; json?: boolean; kubeconfig?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: {
        manifest: { type: 'string', short: 'm', default: 'manifest.yaml' },
        json: { type: 'boolean', default: false },
        kubeconfig: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
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
  const result = await runValidation({
    paths: positionals.length > 0 ? positionals : ['dist'],
    manifestPath: values.manifest as string,
    kubeconfig: values.kubeconfig,
    io,
  });
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ problems: result.problems, checked: result.checked, notes: result.notes, errors: result.errors }, null, 2)}\n`);
  } else {
    io.stdout.write(renderReport(result));
  }
  for (const error of result.errors) io.stderr.write(`floe-secrets validate: could not check: ${error}\n`);
  if (result.errors.length > 0) return ExitCode.ERROR;
  return result.problems.length > 0 ? ExitCode.PROBLEMS : ExitCode.OK;
};
