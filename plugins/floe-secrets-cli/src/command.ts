import { Argument, Command as Commander, Option, OptionValues } from 'commander';
import { CliError, CliIO, ExitCode } from './io';

/**
 * A command of the CLI: its commander definition and what it runs. {@link runCli} adds the help
 * option, the Examples section, error handling and `~` expansion of path options and arguments.
 */
export interface CliCommand {
  /** The name typed after `floe-secrets`. */
  readonly name: string;
  /**
   * Examples for its help, each a shell command line that runs `floe-secrets` and what it does.
   * The tests parse every one of them with the command's definition.
   */
  readonly examples: ReadonlyArray<readonly [commandLine: string, what: string]>;
  /** A new commander command: summary, description, arguments and options; no action. */
  define(): Commander;
  /**
   * Runs the command on what commander parsed: the operands, and the option values (path options
   * and arguments with `~` already expanded).
   *
   * @param command the parsed commander command (its `parent` is the program)
   */
  run(operands: string[], options: OptionValues, io: CliIO, command: Commander): Promise<ExitCode>;
}

/** An option whose value is a file or directory: `~` expanded, completed as a file name. */
export class PathOption extends Option {}

/** A positional argument that names files or directories: `~` expanded, completed as file names. */
export class PathArgument extends Argument {}

/** `-m, --manifest <file>`: the platform manifest. */
export function manifestOption(): Option {
  return new PathOption('-m, --manifest <file>', 'the platform manifest').default('manifest.yaml');
}

/** `--kubeconfig <file>`, as kubectl's. */
export function kubeconfigOption(): Option {
  return new PathOption('--kubeconfig <file>', 'the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
    .argParser(nonEmpty('--kubeconfig', 'a kubeconfig file, e.g. ~/.kube/config'));
}

/** `--context <name>`, as kubectl's. */
export function contextOption(): Option {
  return new Option('--context <name>', 'the kubeconfig context to use (default: its current context)')
    .argParser(nonEmpty('--context', 'a context of the kubeconfig (kubectl config get-contexts)'));
}

/**
 * `-o, --output <format>`, the one output flag of every command that prints results. An unknown
 * format is an error naming the allowed ones.
 */
export function outputOption(formats: readonly string[], defaultFormat: string): Option {
  return new Option('-o, --output <format>', 'output format')
    .choices(formats)
    .default(defaultFormat)
    .argParser((value: string) => {
      if (!formats.includes(value)) {
        throw new CliError(`-o/--output ${JSON.stringify(value)} is not a format of this command; use one of ${formats.join(', ')}`);
      }
      return value;
    });
}

/** A parser that refuses an empty value (`--context=`). */
function nonEmpty(flag: string, what: string): (value: string) => string {
  return (value) => {
    if (value === '') throw new CliError(`${flag} is empty; give ${what}`);
    return value;
  };
}
