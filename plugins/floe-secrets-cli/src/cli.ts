import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretsError } from '@floe-secrets/core';
import { CliError, CliIO, Command, ExitCode, writeFailure } from './io';

const USAGE = `usage: floe-secrets <command> [options]

commands:
  validate [dir] --manifest manifest.yaml   check every secret reference in synthesized YAML against the live backends
  get | set | list | health | rotate        read and write secrets in the backend of manifest.yaml
  scan [paths...]                           find plaintext credentials in YAML and repository files
  access-map [dir]                          who can read which secret: table, Mermaid, Graphviz

exit codes: 0 all good, 1 problems found, 2 could not check
with JSON output (--json; access-map --format json), a failure also writes {"error":{"message":...,"exitCode":...}} on stdout
"floe-secrets --version" prints the version
run "floe-secrets <command> --help" (or "floe-secrets help <command>") for a command's options
when manifest.yaml configures plugins.identity, get/set/list/rotate read your access token from FLOE_SECRETS_TOKEN
`;

/** Runs one command line and returns the exit code; never throws, never prints a stack trace. */
export async function runCli(argv: string[], io: CliIO, commands: { readonly [name: string]: Command }): Promise<ExitCode> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (args.length === 1) return runCli([args[0], '--help'], io, commands); // help validate; an unknown command says so
    if (args.length > 1) {
      io.stderr.write(`floe-secrets: ${name} takes at most one argument, a command name; run "floe-secrets ${name}" for the list of commands\n`);
      return ExitCode.ERROR;
    }
    (name === undefined ? io.stderr : io.stdout).write(USAGE);
    return name === undefined ? ExitCode.ERROR : ExitCode.OK;
  }
  if (name === '--version') {
    if (args.length > 0) {
      io.stderr.write('floe-secrets: --version takes no arguments\n');
      return ExitCode.ERROR;
    }
    try {
      io.stdout.write(`floe-secrets ${cliVersion()}\n`);
    } catch (error) {
      io.stderr.write(`floe-secrets: ${(error as Error).message}\n`);
      return ExitCode.ERROR;
    }
    return ExitCode.OK;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`floe-secrets: unknown command ${JSON.stringify(name)}\n${USAGE}`);
    return ExitCode.ERROR;
  }
  try {
    return await command(args, io);
  } catch (error) {
    const json = command.jsonOutput?.(args) ?? false;
    if (error instanceof CliError) {
      writeFailure(io, name, error.message, error.exitCode, json);
      return error.exitCode;
    }
    if (error instanceof SecretsError) {
      writeFailure(io, name, `${error.name}: ${error.message}`, ExitCode.ERROR, json);
      return ExitCode.ERROR;
    }
    // An unexpected failure: say what kind, never dump internals that could hold a value.
    writeFailure(io, name, `internal error (${(error as Error)?.name ?? typeof error}); please report it`, ExitCode.ERROR, json);
    return ExitCode.ERROR;
  }
}

/**
 * The version of this package, from its package.json, read next to the running code (lib/ when
 * built or installed, src/ under ts-jest), so that an installed tarball reports its own version.
 */
export function cliVersion(): string {
  const file = join(__dirname, '..', 'package.json');
  try {
    const version = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
    if (typeof version === 'string' && version !== '') return version;
  } catch {
    // reported below
  }
  throw new CliError(`cannot read the version from ${file}; reinstall @floe-secrets/cli`);
}
