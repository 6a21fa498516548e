import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SecretsError } from '@floe-secrets/core';
import { Argument, Command as Commander, CommanderError, OptionValues } from 'commander';
import { CliCommand, PathArgument, PathOption } from './command';
import { CliError, CliIO, ExitCode, writeFailure } from './io';
import { expandHome } from './paths';
import { colorEnabled, COLOR } from './style';

/** The width help text is wrapped to, unless stdout is a terminal of another width. */
const HELP_WIDTH = 80;

// Help texts are wrapped by hand at 78 columns; commander rewraps them only on a narrower terminal.
const DESCRIPTION = `floe secrets: check synthesized cdk8s output against the live cluster and
backend, map who can read which secret, find plaintext credentials, and read and
write secrets in the backend of manifest.yaml.`;

const NOTES = `
${COLOR.bold('Exit codes:')}
  0  all good
  1  problems found (missing secrets or keys, over-broad grants, findings)
  2  could not check (bad arguments, unreadable input, unreachable cluster or
     backend)

With -o json, a failure also writes {"error":{"message":...,"exitCode":...}}
on stdout. When manifest.yaml configures plugins.identity, get, set, list and
rotate read your access token from FLOE_SECRETS_TOKEN. Help is coloured on a
terminal; NO_COLOR=1 turns that off. "floe-secrets help <command>" (or
"floe-secrets <command> --help") shows a command's options and examples.`;

/** Runs one command line and returns the exit code; never throws, never prints a stack trace. */
export async function runCli(argv: string[], io: CliIO, commands: readonly CliCommand[]): Promise<ExitCode> {
  let exitCode = ExitCode.OK;
  /** The command being parsed or run; undefined while the program's own options are. */
  let active: Commander | undefined;
  const program = buildProgram(io, commands, (code) => (exitCode = code));
  program.hook('preSubcommand', (_program, subcommand) => {
    if (program.opts().version) throw new CliError('--version takes no arguments');
    active = subcommand;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const name = active?.name();
    const json = active?.opts().output === 'json';
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCode.OK; // help or version, already written
      writeFailure(io, name, commandLineProblem(error, active ?? program, argv), ExitCode.ERROR, json);
      return ExitCode.ERROR;
    }
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

/** The program: its own options (--version, --help), every command, and `help [command]`. */
function buildProgram(io: CliIO, commands: readonly CliCommand[], setExitCode: (code: ExitCode) => void): Commander {
  const program = new Commander('floe-secrets')
    .description(DESCRIPTION)
    .usage('<command> [options]')
    .option('-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .helpCommand(false)
    .enablePositionalOptions()
    .allowExcessArguments()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      getOutHasColors: () => colorEnabled(io.env, io.stdoutIsTTY),
      getErrHasColors: () => colorEnabled(io.env, io.stderrIsTTY),
      getOutHelpWidth: () => (io.stdoutIsTTY && io.columns ? io.columns : HELP_WIDTH),
      getErrHelpWidth: () => HELP_WIDTH,
      // Every error is reported by runCli, in its own words: commander's would repeat arguments.
      outputError: () => undefined,
    })
    .configureHelp({ styleTitle: (title) => COLOR.bold(title), sortOptions: false })
    .addHelpText('after', NOTES)
    .action((options: OptionValues, self: Commander) => {
      const [name] = self.args;
      if (options.version) {
        if (name !== undefined) throw new CliError('--version takes no arguments');
        io.stdout.write(`floe-secrets ${cliVersion()}\n`);
      } else if (name !== undefined) {
        throw unknownCommand(name, commands);
      } else {
        self.outputHelp({ error: true });
        setExitCode(ExitCode.ERROR);
      }
    });

  for (const command of commands) {
    const subcommand = command.define()
      .copyInheritedSettings(program)
      .allowExcessArguments(false)
      .addHelpText('after', examplesHelp(command))
      .action(async (...args: unknown[]) => {
        const self = args[args.length - 1] as Commander;
        const operands = self.registeredArguments.some((argument) => argument instanceof PathArgument)
          ? self.args.map((operand) => expandHome(operand, io.env))
          : [...self.args];
        setExitCode(await command.run(operands, withHomeExpanded(self, io.env), io, self));
      });
    program.addCommand(subcommand);
  }

  program.addCommand(new Commander('help')
    .summary("show a command's help")
    .description('Shows the help of a command, or without one the list of commands.')
    .addArgument(new Argument('[command]', 'a command').choices([...commands.map((command) => command.name), 'help']).argParser((name: string) => name))
    .copyInheritedSettings(program)
    .allowExcessArguments(false)
    .addHelpText('after', examplesHelp({ name: 'help', examples: [['floe-secrets help validate', 'the options of validate'], ['floe-secrets help', 'the list of commands']] }))
    .action((name: string | undefined) => {
      if (name === undefined) {
        program.outputHelp();
        return;
      }
      const subcommand = program.commands.find((command) => command.name() === name);
      if (!subcommand) throw unknownCommand(name, commands);
      subcommand.outputHelp();
    }));
  return program;
}

/** The Examples section of a command's help: each example under a comment saying what it does, as kubectl's. */
function examplesHelp(command: Pick<CliCommand, 'name' | 'examples'>): string {
  const lines = command.examples.map(([line, what]) => `  # ${what}\n  ${line}`);
  return `\n${COLOR.bold('Examples:')}\n${lines.join('\n\n')}`;
}

/** The option values, with `~` expanded in those of path options. */
function withHomeExpanded(command: Commander, env: CliIO['env']): OptionValues {
  const values = { ...command.opts() };
  for (const option of command.options) {
    const key = option.attributeName();
    if (option instanceof PathOption && typeof values[key] === 'string') values[key] = expandHome(values[key] as string, env);
  }
  return values;
}

/**
 * What is wrong with the command line, in the CLI's words. Commander's own messages repeat the
 * arguments (`unknown option '--token=...'`, a pasted value); these never repeat a value: an
 * unknown option is named only when it looks like an option name.
 */
function commandLineProblem(error: CommanderError, command: Commander, argv: readonly string[]): string {
  const invocation = command.parent ? `floe-secrets ${command.name()}` : 'floe-secrets';
  const seeHelp = `run "${invocation} --help"`;
  const declared = command.registeredArguments;
  switch (error.code) {
    case 'commander.unknownOption': {
      const option = command.args.find((arg) => arg.length > 1 && arg.startsWith('-')) ?? '';
      const name = option.split('=')[0];
      const shown = /^(--[a-z][a-z0-9-]{0,40}|-[a-zA-Z])$/.test(name) ? name : '(not shown)';
      return `unknown option ${shown}; ${seeHelp} for its options`;
    }
    case 'commander.excessArguments': {
      const extra = command.args.length - declared.length;
      return `${command.name()} ${takes(declared)} but got ${command.args.length} (not shown); remove the ${extra === 1 ? 'extra one' : `${extra} extra ones`}`;
    }
    case 'commander.missingArgument': {
      const missing = declared.find((argument, index) => argument.required && command.args[index] === undefined);
      return `missing ${missing?.name() ?? 'an argument'}: ${command.name()} ${takes(declared)}; ${seeHelp} for examples`;
    }
    case 'commander.optionMissingArgument': {
      const flag = argv[argv.length - 1];
      const option = command.options.find((candidate) => candidate.short === flag || candidate.long === flag);
      return option ? `${flag} needs a value (${option.flags.replace(/^.*\s/, '')}); ${seeHelp}` : `an option needs a value; ${seeHelp}`;
    }
    default:
      return `the command line cannot be read (${error.code}); ${seeHelp}`;
  }
}

/** `takes 1 argument (KEY)`, `takes at most 1 argument (PREFIX)`, `takes no arguments`. */
function takes(declared: readonly Argument[]): string {
  if (declared.length === 0) return 'takes no arguments';
  const atMost = declared.some((argument) => !argument.required) ? 'at most ' : '';
  return `takes ${atMost}${declared.length} argument${declared.length === 1 ? '' : 's'} (${declared.map((argument) => argument.name()).join(', ')})`;
}

function unknownCommand(name: string, commands: readonly CliCommand[]): CliError {
  const shown = /^[a-z][a-z0-9-]{0,40}$/.test(name) ? JSON.stringify(name) : '(not shown)';
  return new CliError(`unknown command ${shown}; the commands are ${commands.map((command) => command.name).join(', ')}; run "floe-secrets --help"`);
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
