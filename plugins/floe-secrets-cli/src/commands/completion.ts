import { Argument, Command as Commander } from 'commander';
import { CliCommand } from '../command';
import { completionScript, COMPLETION_SHELLS, CompletionShell } from '../completion';
import { CliError, ExitCode } from '../io';

/** `floe-secrets completion bash|zsh`: prints the shell completion script. */
export const completion: CliCommand = {
  name: 'completion',
  examples: [
    ['source <(floe-secrets completion bash)', 'bash: complete floe-secrets in this shell'],
    ['floe-secrets completion bash > ~/.local/share/bash-completion/completions/floe-secrets', 'bash: in every new shell'],
    ['floe-secrets completion zsh > "${fpath[1]}/_floe-secrets"', 'zsh: in every new shell (after compinit)'],
  ],
  define: () => new Commander('completion')
    .summary('print the shell completion script (bash or zsh)')
    .description('Prints a completion script for bash or zsh: the commands, each command\'s\noptions, file names for path options and arguments, and the formats of\n-o/--output.')
    .addArgument(new Argument('<shell>', 'the shell').choices(COMPLETION_SHELLS).argParser((shell: string) => {
      if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) {
        const shown = /^[a-z]{1,20}$/.test(shell) ? JSON.stringify(shell) : 'the shell given';
        throw new CliError(`no completion script for ${shown}; use one of ${COMPLETION_SHELLS.join(', ')}`);
      }
      return shell;
    })),
  run: async ([shell], _options, io, command) => {
    io.stdout.write(completionScript(command.parent!, shell as CompletionShell));
    return ExitCode.OK;
  },
};
