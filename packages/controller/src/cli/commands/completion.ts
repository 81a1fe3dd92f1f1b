import { Argument, type Command } from 'commander';
import { createCommandAction } from '../command-action.js';
import { createBashScript } from '../completion/bash-script.js';
import { readCompletionTree, type CompletionCommand } from '../completion/command-tree.js';
import { createFishScript } from '../completion/fish-script.js';
import { createZshScript } from '../completion/zsh-script.js';

const SCRIPTS = { bash: createBashScript, zsh: createZshScript, fish: createFishScript } satisfies Record<string, (root: CompletionCommand) => string>;

type Shell = keyof typeof SCRIPTS;

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print the completion script of a shell: commands, options and their fixed values')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(Object.keys(SCRIPTS)))
    .addHelpText(
      'after',
      `
Install it once (again after an update), e.g. as root:
  plexlift completion bash > /etc/bash_completion.d/plexlift
  plexlift completion zsh > /usr/local/share/zsh/site-functions/_plexlift
  plexlift completion fish > /etc/fish/completions/plexlift.fish`,
    )
    .action(
      createCommandAction<object, [shell: Shell]>(({ args: [shell], output, command }) => {
        // Made from the program as it is, so it always knows this version's commands.
        let program = command;
        while (program.parent) program = program.parent;
        output.result(SCRIPTS[shell](readCompletionTree(program)));
      }),
    );
}
