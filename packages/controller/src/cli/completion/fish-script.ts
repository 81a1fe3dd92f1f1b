import { flagsOf, listCommands, summarize, type CompletionCommand } from './command-tree.js';

/** A text as one fish word: single-quoted, a quote or backslash in it escaped. */
const quote = (text: string) => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;

/** A fish `switch` over the command paths: each arm prints its words, one a line. */
function switchOf(commands: CompletionCommand[], words: (command: CompletionCommand) => string[]): string {
  const arms = commands
    .map((command) => [command.path.join(' '), words(command)] as const)
    .filter(([, list]) => list.length > 0)
    .map(([path, list]) => `        case ${quote(path)}\n            printf '%s\\n' ${list.map(quote).join(' ')}`);
  return ['    switch $argv[1]', ...arms, '    end'].join('\n');
}

/**
 * A completion script for fish, for `~/.config/fish/completions/` (or sourced). A helper finds
 * the command the words before the cursor lead to (option values skipped, as the bash script
 * does); each subcommand and option is offered where that command is, with its description.
 */
export function createFishScript(root: CompletionCommand): string {
  const name = root.name;
  const fn = `__${name.replace(/\W/g, '_')}`;
  const commands = listCommands(root);
  const lines: string[] = [];
  for (const command of commands) {
    const at = `-n ${quote(`${fn}_at ${quote(command.path.join(' '))}`)}`;
    for (const sub of command.subcommands) lines.push(`complete -c ${name} -f ${at} -a ${quote(sub.name)} -d ${quote(summarize(sub.description))}`);
    if (command.argumentChoices) lines.push(`complete -c ${name} -f ${at} -a ${quote(command.argumentChoices.join(' '))}`);
    for (const option of command.options) {
      const flags = [option.long ? `-l ${option.long.slice(2)}` : '', option.short ? `-s ${option.short.slice(1)}` : ''].filter(Boolean).join(' ');
      const value = option.choices ? ` -x -a ${quote(option.choices.join(' '))}` : option.takesValue ? ' -r' : '';
      lines.push(`complete -c ${name} ${at} ${flags}${value} -d ${quote(summarize(option.description))}`);
    }
  }
  return `# fish completion for ${name}: put it in ~/.config/fish/completions/${name}.fish (or /etc/fish/completions/)
# (made by \`${name} completion fish\` from this version's commands; make it again after an update)

# The subcommands of a command, one a line.
function ${fn}_subcommands
${switchOf(commands, (c) => c.subcommands.map((s) => s.name))}
end

# A command's options that take a value: the word after one is its value, not a command.
function ${fn}_value_options
${switchOf(commands, (c) => c.options.filter((o) => o.takesValue).flatMap(flagsOf))}
end

# The command the words before the cursor lead to, as its words after "${name}".
function ${fn}_command_path
    set -l command_path
    set -l is_value 0
    for word in (commandline -opc)[2..-1]
        if test $is_value = 1
            set is_value 0
        else if string match -q -- '-*' $word
            contains -- $word (${fn}_value_options "$command_path") && set is_value 1
        else if contains -- $word (${fn}_subcommands "$command_path")
            set command_path $command_path $word
        end
    end
    echo $command_path
end

function ${fn}_at
    set -l command_path (${fn}_command_path)
    test "$command_path" = "$argv[1]"
end

${lines.join('\n')}
`;
}
