import { Command as Commander, Option } from 'commander';
import { PathArgument, PathOption } from './command';

/** The shells `floe-secrets completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh'] as const;

/** One of {@link COMPLETION_SHELLS}. */
export type CompletionShell = typeof COMPLETION_SHELLS[number];

/** What follows an option or stands as an operand: nothing to complete, file names, or a few words. */
type Completion = { readonly kind: 'none' } | { readonly kind: 'files' } | { readonly kind: 'words'; readonly words: readonly string[] };

interface OptionModel {
  readonly short?: string;
  readonly long?: string;
  readonly description: string;
  /** What its value is completed with; undefined for a flag that takes no value. */
  readonly value?: Completion;
}

interface CommandModel {
  readonly name: string;
  readonly summary: string;
  readonly options: readonly OptionModel[];
  /** What its operands are completed with (those of its first argument, for bash). */
  readonly operands: Completion;
  /** What each of its arguments is completed with, in order (for zsh). */
  readonly positions: readonly Completion[];
  /** Whether its last argument takes any number of operands. */
  readonly variadic: boolean;
}

const HELP: OptionModel = { short: '-h', long: '--help', description: 'show this help' };

/**
 * The completion script for `shell`, made from the program's own definition: its commands, each
 * command's options, file names for path options and arguments, and the allowed values of
 * `-o/--output` and other options with a fixed set of values.
 */
export function completionScript(program: Commander, shell: CompletionShell): string {
  const commands = program.commands.map(commandModel);
  const globals = [HELP, ...program.options.map(optionModel)];
  return shell === 'bash' ? bashScript(globals, commands) : zshScript(globals, commands);
}

function commandModel(command: Commander): CommandModel {
  const positions = command.registeredArguments.map((argument): Completion => (argument instanceof PathArgument ? { kind: 'files' }
    : argument.argChoices ? { kind: 'words', words: argument.argChoices } : { kind: 'none' }));
  const last = command.registeredArguments[command.registeredArguments.length - 1];
  return {
    name: command.name(),
    summary: command.summary() || command.description(),
    options: [...command.options.map(optionModel), HELP],
    operands: positions[0] ?? { kind: 'none' },
    positions,
    variadic: last?.variadic ?? false,
  };
}

function optionModel(option: Option): OptionModel {
  const takesValue = option.required || option.optional;
  const value: Completion | undefined = !takesValue ? undefined
    : option instanceof PathOption ? { kind: 'files' }
      : option.argChoices ? { kind: 'words', words: option.argChoices } : { kind: 'none' };
  return { short: option.short, long: option.long, description: option.description, value };
}

function flagsOf(option: OptionModel): string[] {
  return [option.short, option.long].filter((flag): flag is string => flag !== undefined);
}

function bashScript(globals: readonly OptionModel[], commands: readonly CommandModel[]): string {
  const complete = (completion: Completion): string => completion.kind === 'files' ? '_floe_secrets_files'
    : completion.kind === 'words' ? `_floe_secrets_words ${shellWords(completion.words)}` : ':';
  const cases = commands.map((command) => {
    const valued = command.options.filter((option) => option.value !== undefined);
    const valueCases = valued.map((option) => `        ${flagsOf(option).join('|')}) ${complete(option.value!)}; return ;;`);
    const flags = command.options.flatMap(flagsOf);
    return [
      `    ${command.name})`,
      ...(valueCases.length > 0 ? ['      case "$prev" in', ...valueCases, '      esac'] : []),
      `      if [[ "$cur" == -* ]]; then _floe_secrets_words ${shellWords(flags)}; else ${complete(command.operands)}; fi ;;`,
    ].join('\n');
  });
  const topWords = [...commands.map((command) => command.name), ...globals.flatMap(flagsOf)];
  return `# floe-secrets completion for bash: commands, their options, file names for paths, output formats.
# In this shell:         source <(floe-secrets completion bash)
# In every new shell:    floe-secrets completion bash > ~/.local/share/bash-completion/completions/floe-secrets
_floe_secrets_words() { mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur"); }
_floe_secrets_files() { mapfile -t COMPREPLY < <(compgen -f -- "$cur"); }
_floe_secrets() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" command="" i
  if (( COMP_CWORD > 0 )); then prev="\${COMP_WORDS[COMP_CWORD-1]}"; fi
  # bash splits --option=value at "=": complete the value of the option before it
  if [[ "$cur" == "=" ]]; then
    cur=""
  elif [[ "$prev" == "=" ]] && (( COMP_CWORD > 1 )); then
    prev="\${COMP_WORDS[COMP_CWORD-2]}"
  fi
  for (( i = 1; i < COMP_CWORD; i++ )); do
    case "\${COMP_WORDS[i]}" in
      -*) ;;
      *) command="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  COMPREPLY=()
  case "$command" in
    "") _floe_secrets_words ${shellWords(topWords)} ;;
${cases.join('\n')}
  esac
}
complete -o filenames -F _floe_secrets floe-secrets
`;
}

function zshScript(globals: readonly OptionModel[], commands: readonly CommandModel[]): string {
  const spec = (option: OptionModel, exclusive: boolean): string => {
    const flags = flagsOf(option);
    const description = `[${zshEscape(option.description)}]`;
    const value = option.value === undefined ? '' : `:${option.long?.slice(2) ?? 'value'}:${zshAction(option.value)}`;
    const exclusion = exclusive ? '(- *)' : flags.length > 1 ? `(${flags.join(' ')})` : '';
    if (flags.length === 1) {
      const suffix = option.value === undefined ? '' : option.long !== undefined ? '=' : '+';
      return `'${exclusion}${flags[0]}${suffix}${description}${value}'`;
    }
    const names = option.value === undefined ? flags : [`${option.short}+`, `${option.long}=`];
    return `'${exclusion}'{${names.join(',')}}'${description}${value}'`;
  };
  const cases = commands.map((command) => {
    const operand = command.positions.flatMap((completion, i) => {
      if (completion.kind === 'none') return [];
      const position = command.variadic && i === command.positions.length - 1 ? '*' : `${i + 1}`;
      return [`'${position}:${completion.kind === 'files' ? 'path' : 'argument'}:${zshAction(completion)}'`];
    });
    const specs = [...command.options.map((option) => spec(option, option === HELP)), ...operand];
    return `        ${command.name})\n          _arguments -s \\\n            ${specs.join(' \\\n            ')} ;;`;
  });
  const described = commands.map((command) => `    '${command.name}:${zshQuote(command.summary)}'`);
  return `#compdef floe-secrets
# floe-secrets completion for zsh: commands, their options, file names for paths, output formats.
# In this shell (after compinit):   source <(floe-secrets completion zsh)
# In every new shell:               floe-secrets completion zsh > "\${fpath[1]}/_floe-secrets"
_floe_secrets() {
  local curcontext="$curcontext" state line
  local -a commands
  commands=(
${described.join('\n')}
  )
  _arguments -C \\
    ${globals.map((option) => spec(option, true)).join(' \\\n    ')} \\
    '1: :->command' \\
    '*:: :->argument'
  case $state in
    command) _describe -t commands 'floe-secrets command' commands ;;
    argument)
      case $words[1] in
${cases.join('\n')}
      esac ;;
  esac
}
if [ "$funcstack[1]" = "_floe_secrets" ]; then
  _floe_secrets "$@"
else
  compdef _floe_secrets floe-secrets
fi
`;
}

function zshAction(completion: Completion): string {
  if (completion.kind === 'files') return '_files';
  if (completion.kind === 'words') return `(${completion.words.join(' ')})`;
  return ' ';
}

/** Words for `compgen -W`, quoted for bash. */
function shellWords(words: readonly string[]): string {
  return `"${words.join(' ')}"`;
}

/** A description inside `[...]` of an `_arguments` spec, inside single quotes. */
function zshEscape(text: string): string {
  return zshQuote(text.replace(/[[\]:\\]/g, (c) => `\\${c}`));
}

/** Text inside single quotes. */
function zshQuote(text: string): string {
  return text.replace(/'/g, "'\\''");
}
