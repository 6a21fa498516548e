import { randomInt } from 'node:crypto';
import { SecretsPlugin } from '@floe-secrets/core';
import { Argument, Command as Commander, Option } from 'commander';
import { pluginFromManifest } from '../backend';
import { CliCommand, contextOption, kubeconfigOption, manifestOption, outputOption } from '../command';
import { CliError, CliIO, ExitCode } from '../io';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** The options every backend command has: where the backend is, and which domain. */
interface BackendOptions {
  readonly manifest: string;
  readonly domain?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
}

const BACKEND = `The backend is the one manifest.yaml configures (--manifest); its credentials
come from the references there. With the k8s backend, --kubeconfig and
--context pick the cluster, as kubectl's; they also apply to { secret_ref }
credentials, which are read through the kubeconfig.`;

/** A backend command: name, summary and help text, plus the backend options every one has. */
function backendCommand(name: string, summary: string, description: string): Commander {
  return new Commander(name)
    .summary(summary)
    .description(`${description}\n\n${BACKEND}`)
    .addOption(manifestOption())
    .addOption(new Option('-d, --domain <name>', 'the Secrets of namespace floe-<name> (k8s backend; a domain of the manifest)'))
    .addOption(kubeconfigOption())
    .addOption(contextOption());
}

/** The backend of `--manifest`, for `--domain`, `--kubeconfig` and `--context` (and the caller's token, when the manifest configures identity). */
async function backendOf(options: BackendOptions, io: CliIO, authenticate = true): Promise<SecretsPlugin> {
  const { manifest, domain, kubeconfig, context } = options;
  return pluginFromManifest(manifest, io, { domain, kubeconfig, context, authenticate });
}

/** `floe-secrets get KEY [--reveal]`: prints the value only to a terminal, or with --reveal. */
export const get: CliCommand = {
  name: 'get',
  examples: [
    ['floe-secrets get compute/snowflake/password', 'shown on a terminal only'],
    ['floe-secrets get app/token --reveal', 'written to a pipe or file on purpose'],
    ['floe-secrets get db-creds/password -d sales', 'k8s backend: Secret db-creds of namespace floe-sales'],
  ],
  define: () => backendCommand('get', 'print the value of a secret (to a terminal, or with --reveal)',
    'Prints the value of KEY. It is written to a terminal only, unless --reveal\nsays to write it to a pipe or a file. Exit 1 when the key does not exist.')
    .addArgument(new Argument('<KEY>', 'the key, e.g. compute/snowflake/password (k8s backend: <secret>/<key>)'))
    .option('--reveal', 'write the value even when stdout is not a terminal'),
  run: async ([key], options, io) => {
    if (!io.stdoutIsTTY && !options.reveal) {
      throw new CliError('refusing to write a secret value to a pipe or a file; pass --reveal to do it on purpose');
    }
    const plugin = await backendOf(options as BackendOptions, io);
    const value = await plugin.getSecret(key);
    if (value === undefined) {
      io.stderr.write(`${key}: not found in the ${plugin.name} backend\n`);
      return ExitCode.PROBLEMS;
    }
    io.stdout.write(`${value}\n`);
    return ExitCode.OK;
  },
};

/** `floe-secrets set KEY`: the value comes from stdin (a hidden prompt on a terminal), never from argv. */
export const set: CliCommand = {
  name: 'set',
  examples: [
    ['floe-secrets set compute/snowflake/password < pw.txt', 'the value from a file'],
    ['floe-secrets set app/token', 'on a terminal: the value at a hidden prompt'],
    ['floe-secrets set db-creds/password -d sales < pw.txt', 'k8s backend: Secret db-creds of namespace floe-sales'],
  ],
  define: () => backendCommand('set', 'write a secret; the value from standard input, never an argument',
    'Writes KEY. The value is read from standard input (one trailing newline\ndropped), or at a hidden prompt on a terminal: never from the command line,\nwhere every user of the machine and the shell history would see it.')
    .addArgument(new Argument('<KEY>', 'the key, e.g. compute/snowflake/password (k8s backend: <secret>/<key>)')),
  run: async ([key], options, io) => {
    const value = (await io.readStdin()).replace(/\r?\n$/, '');
    if (value === '') throw new CliError('no value on standard input; pipe it in (floe-secrets set KEY < file) or type it at the prompt');
    const plugin = await backendOf(options as BackendOptions, io);
    await plugin.setSecret(key, value, { 'set-by': 'floe-secrets-cli' });
    io.stderr.write(`set ${key} in the ${plugin.name} backend (${value.length} characters, not shown)\n`);
    return ExitCode.OK;
  },
};

/** `floe-secrets list [PREFIX] [-o text|json]`: key names only. */
export const list: CliCommand = {
  name: 'list',
  examples: [
    ['floe-secrets list compute/', 'the keys under compute/'],
    ['floe-secrets list -o json', 'every key, as a JSON array'],
    ['floe-secrets list -d sales --context prod', 'k8s backend: the Secrets of floe-sales in context prod'],
  ],
  define: () => backendCommand('list', 'list key names (never values)', 'Lists the keys that start with PREFIX (default: every key), one a line.\nNames only, never values.')
    .addArgument(new Argument('[PREFIX]', 'a key prefix, e.g. compute/'))
    .addOption(outputOption(['text', 'json'], 'text')),
  run: async ([prefix], options, io) => {
    const plugin = await backendOf(options as BackendOptions, io);
    const keys = await plugin.listSecrets(prefix ?? '');
    io.stdout.write(options.output === 'json' ? `${JSON.stringify(keys)}\n` : keys.map((k) => `${k}\n`).join(''));
    return ExitCode.OK;
  },
};

/** `floe-secrets health`: exit 0 when the backend answers, 2 when it does not (within 5 s). */
export const health: CliCommand = {
  name: 'health',
  examples: [
    ['floe-secrets health', 'exit 0 when the backend answers'],
    ['floe-secrets health -m platform/manifest.yaml -o json', 'another manifest; the answer as JSON'],
    ['floe-secrets health --kubeconfig ~/.kube/staging', 'k8s backend: the cluster of another kubeconfig'],
  ],
  define: () => backendCommand('health', 'check that the backend answers (within 5 s)',
    'Checks that the backend answers, within 5 seconds: exit 0 when it does, 2\nwhen it does not. It reads no secret, so no access token is needed.')
    .addOption(outputOption(['text', 'json'], 'text')),
  run: async (_operands, options, io) => {
    // Health reads no secret: no access token needed.
    const plugin = await backendOf(options as BackendOptions, io, false);
    const status = await plugin.healthCheck();
    if (options.output === 'json') {
      io.stdout.write(`${JSON.stringify({ backend: plugin.name, ...status }, null, 2)}\n`);
    } else {
      io.stdout.write(`${plugin.name}: ${status.state} (${status.durationMs} ms)${status.message ? `: ${status.message}` : ''}\n`);
    }
    return status.state === 'healthy' ? ExitCode.OK : ExitCode.ERROR;
  },
};

/** `floe-secrets rotate KEY [--length 32] [--alphabet ...]`: a new random value, set and audited, never shown. */
export const rotate: CliCommand = {
  name: 'rotate',
  examples: [
    ['floe-secrets rotate app/token', 'a new random value of 32 letters and digits'],
    ['floe-secrets rotate app/token --length 48', 'a longer one'],
    ['floe-secrets rotate app/pin --length 16 --alphabet 0123456789', 'digits only'],
  ],
  define: () => backendCommand('rotate', 'write a new random value (never shown)',
    'Writes a new random value to KEY, drawn from a cryptographic random source;\nthe value is never shown.')
    .addArgument(new Argument('<KEY>', 'the key, e.g. app/token (k8s backend: <secret>/<key>)'))
    .option('--length <n>', 'how many characters, 16 to 4096', '32')
    .option('--alphabet <characters>', 'the characters to draw from, at least two different ones (default: A-Z, a-z and 0-9)'),
  run: async ([key], options, io) => {
    const length = Number(options.length);
    if (!Number.isInteger(length) || length < 16 || length > 4096) throw new CliError(`--length ${options.length} is not a whole number from 16 to 4096`);
    const alphabet = [...new Set((options.alphabet as string | undefined) ?? ALPHANUMERIC)];
    if (alphabet.length < 2) throw new CliError('--alphabet needs at least two different characters');
    const value = Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
    const plugin = await backendOf(options as BackendOptions, io);
    await plugin.setSecret(key, value, { 'rotated-by': 'floe-secrets-cli', 'rotated-at': new Date().toISOString() });
    io.stderr.write(`rotated ${key} in the ${plugin.name} backend: a new random value of ${length} characters (not shown)\n`);
    return ExitCode.OK;
  },
};
