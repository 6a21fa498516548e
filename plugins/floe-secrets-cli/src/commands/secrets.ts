import { randomInt } from 'node:crypto';
import { parseArgs, ParseArgsConfig } from 'node:util';
import { SecretsPlugin } from '@floe-secrets/core';
import { pluginFromManifest } from '../backend';
import { CliError, CliIO, Command, ExitCode, hasOption } from '../io';
import { expandHome } from '../paths';

const MANIFEST = { manifest: { type: 'string', short: 'm', default: 'manifest.yaml' } } as const;
/** `--domain NAME`: the Secrets of namespace floe-NAME (k8s backend). */
const DOMAIN = { domain: { type: 'string', short: 'd' } } as const;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const GET_USAGE = 'floe-secrets get KEY [--manifest manifest.yaml] [--domain NAME] [--reveal]';
const SET_USAGE = 'floe-secrets set KEY [--manifest manifest.yaml] [--domain NAME] < value-file';
const LIST_USAGE = 'floe-secrets list [PREFIX] [--manifest manifest.yaml] [--domain NAME] [--json]';
const HEALTH_USAGE = 'floe-secrets health [--manifest manifest.yaml] [--domain NAME]';
const ROTATE_USAGE = 'floe-secrets rotate KEY [--manifest manifest.yaml] [--domain NAME] [--length 32] [--alphabet A-Za-z0-9]';

/** A command that prints its usage on stdout (exit 0) for --help or -h before any "--". */
function withHelp(usage: string, run: Command): Command {
  return async (args, io) => {
    const end = args.indexOf('--');
    const options = end < 0 ? args : args.slice(0, end);
    if (options.includes('--help') || options.includes('-h')) {
      io.stdout.write(`usage: ${usage}\n`);
      return ExitCode.OK;
    }
    return run(args, io);
  };
}

type Values = { readonly [name: string]: string | boolean | undefined };

function parse(args: string[], options: NonNullable<ParseArgsConfig['options']>, usage: string): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options: { ...MANIFEST, ...DOMAIN, ...options }, allowPositionals: true, strict: true });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (error) {
    throw new CliError(`${(error as Error).message}\nusage: ${usage}`);
  }
}

/** The backend of `--manifest`, for `--domain` (and the caller's token, when the manifest configures identity). */
async function backendOf(values: Values, io: CliIO): Promise<SecretsPlugin> {
  return pluginFromManifest(expandHome(values.manifest as string, io.env), io, { domain: values.domain as string | undefined });
}

/** Refuses arguments a command does not take, without repeating them (one could be a pasted secret). */
function noPositionals(positionals: string[], command: string, usage: string): void {
  if (positionals.length > 0) {
    const count = positionals.length === 1 ? '1 argument' : `${positionals.length} arguments`;
    throw new CliError(`${command} takes no arguments, got ${count} (not shown); remove ${positionals.length === 1 ? 'it' : 'them'}\nusage: ${usage}`);
  }
}

function oneKey(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new CliError(`expected exactly one KEY, got ${positionals.length}\nusage: ${usage}`);
  return positionals[0];
}

/** `floe-secrets get KEY [--reveal]`: prints the value only to a terminal, or with --reveal. */
export const get: Command = withHelp(GET_USAGE, async (args, io) => {
  const usage = GET_USAGE;
  const { values, positionals } = parse(args, { reveal: { type: 'boolean', default: false } }, usage);
  const key = oneKey(positionals, usage);
  if (!io.stdoutIsTTY && !values.reveal) {
    throw new CliError('refusing to write a secret value to a pipe or a file; pass --reveal to do it on purpose');
  }
  const plugin = await backendOf(values, io);
  const value = await plugin.getSecret(key);
  if (value === undefined) {
    io.stderr.write(`${key}: not found in the ${plugin.name} backend\n`);
    return ExitCode.PROBLEMS;
  }
  io.stdout.write(`${value}\n`);
  return ExitCode.OK;
});

/** `floe-secrets set KEY`: the value comes from stdin (a hidden prompt on a terminal), never from argv. */
export const set: Command = withHelp(SET_USAGE, async (args, io) => {
  const usage = SET_USAGE;
  const { values, positionals } = parse(args, {}, usage);
  const key = oneKey(positionals, usage);
  const value = (await io.readStdin()).replace(/\r?\n$/, '');
  if (value === '') throw new CliError('no value on standard input; pipe it in (floe-secrets set KEY < file) or type it at the prompt');
  const plugin = await backendOf(values, io);
  await plugin.setSecret(key, value, { 'set-by': 'floe-secrets-cli' });
  io.stderr.write(`set ${key} in the ${plugin.name} backend (${value.length} characters, not shown)\n`);
  return ExitCode.OK;
});

/** `floe-secrets list [PREFIX] [--json]`: key names only. */
export const list: Command = withHelp(LIST_USAGE, async (args, io) => {
  const usage = LIST_USAGE;
  const { values, positionals } = parse(args, { json: { type: 'boolean', default: false } }, usage);
  if (positionals.length > 1) throw new CliError(`expected at most one PREFIX\nusage: ${usage}`);
  const plugin = await backendOf(values, io);
  const keys = await plugin.listSecrets(positionals[0] ?? '');
  io.stdout.write(values.json ? `${JSON.stringify(keys)}\n` : keys.map((k) => `${k}\n`).join(''));
  return ExitCode.OK;
});
/** With --json, a failure is reported on stdout as JSON too. */
list.jsonOutput = (args) => hasOption(args, '--json');

/** `floe-secrets health`: exit 0 when the backend answers, 2 when it does not (within 5 s). */
export const health: Command = withHelp(HEALTH_USAGE, async (args, io) => {
  const usage = HEALTH_USAGE;
  const { values, positionals } = parse(args, {}, usage);
  noPositionals(positionals, 'health', usage);
  // Health reads no secret: no access token needed.
  const manifest = expandHome(values.manifest as string, io.env);
  const plugin = await pluginFromManifest(manifest, io, { domain: values.domain as string | undefined, authenticate: false });
  const status = await plugin.healthCheck();
  io.stdout.write(`${plugin.name}: ${status.state} (${status.durationMs} ms)${status.message ? `: ${status.message}` : ''}\n`);
  return status.state === 'healthy' ? ExitCode.OK : ExitCode.ERROR;
});

/** `floe-secrets rotate KEY [--length 32] [--alphabet ...]`: a new random value, set and audited, never shown. */
export const rotate: Command = withHelp(ROTATE_USAGE, async (args, io) => {
  const usage = ROTATE_USAGE;
  const { values, positionals } = parse(args, { length: { type: 'string', default: '32' }, alphabet: { type: 'string', default: ALPHANUMERIC } }, usage);
  const key = oneKey(positionals, usage);
  const length = Number(values.length);
  if (!Number.isInteger(length) || length < 16 || length > 4096) throw new CliError(`--length ${values.length} is not a whole number from 16 to 4096`);
  const alphabet = [...new Set(values.alphabet as string)];
  if (alphabet.length < 2) throw new CliError('--alphabet needs at least two different characters');
  const value = Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
  const plugin = await backendOf(values, io);
  await plugin.setSecret(key, value, { 'rotated-by': 'floe-secrets-cli', 'rotated-at': new Date().toISOString() });
  io.stderr.write(`rotated ${key} in the ${plugin.name} backend: a new random value of ${length} characters (not shown)\n`);
  return ExitCode.OK;
});
