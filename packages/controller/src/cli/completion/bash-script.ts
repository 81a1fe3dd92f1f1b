import { flagsOf, listChoices, listCommands, type CompletionCommand } from './command-tree.js';

/** A text as one bash word: single-quoted, a quote in it closed, escaped and reopened. */
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** A bash `case` over the command paths: each arm sets REPLY to its words. */
function caseOf(commands: CompletionCommand[], words: (command: CompletionCommand) => string[]): string {
  const arms = commands
    .map((command) => [command.path.join(' '), words(command)] as const)
    .filter(([, list]) => list.length > 0)
    .map(([path, list]) => `    ${quote(path)}) REPLY=${quote(list.join(' '))} ;;`);
  return ['  case "$1" in', ...arms, "    *) REPLY='' ;;", '  esac'].join('\n');
}

/**
 * A completion script for bash (builtins only: no bash-completion package needed). The words
 * before the cursor lead to a command (option values skipped); the word at the cursor is
 * completed with that command's subcommands, its options, or an option's fixed values; where
 * none apply (a path, a job id) bash's own file completion takes over.
 */
export function createBashScript(root: CompletionCommand): string {
  const name = root.name;
  const fn = `_${name.replace(/\W/g, '_')}`;
  const commands = listCommands(root);
  return `# bash completion for ${name}: source it, or put it in /etc/bash_completion.d/${name}
# (made by \`${name} completion bash\` from this version's commands; make it again after an update)

# The commands, each by the words that name it.
${fn}_is_command() {
  case "$1" in
${commands.map((c) => `    ${quote(c.path.join(' '))}) return 0 ;;`).join('\n')}
  esac
  return 1
}

# What may follow a command: its subcommands, or the fixed values of its argument.
${fn}_words() {
${caseOf(commands, (c) => [...c.subcommands.map((s) => s.name), ...(c.argumentChoices ?? [])])}
}

# A command's long options (its own and those of the commands above it).
${fn}_options() {
${caseOf(commands, (c) => c.options.flatMap((o) => (o.long ? [o.long] : o.short ? [o.short] : [])))}
}

# A command's options that take a value: the word after one is its value, not a command.
${fn}_value_options() {
${caseOf(commands, (c) => c.options.filter((o) => o.takesValue).flatMap(flagsOf))}
}

# The fixed values of an option, as "COMMAND OPTION".
${fn}_choices() {
  case "$1" in
${listChoices(root)
  .map(([key, values]) => `    ${quote(key)}) REPLY=${quote(values.join(' '))} ;;`)
  .join('\n')}
    *) REPLY='' ;;
  esac
}

${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} command_path='' word i is_value=0 REPLY
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if ((is_value)); then
      is_value=0
    elif [[ $word == -* ]]; then
      ${fn}_value_options "$command_path"
      [[ " $REPLY " == *" $word "* ]] && is_value=1
    elif ${fn}_is_command "\${command_path:+$command_path }$word"; then
      command_path=\${command_path:+$command_path }$word
    fi
  done
  if ((is_value)); then
    ${fn}_choices "\${command_path:+$command_path }\${COMP_WORDS[COMP_CWORD - 1]}"
  elif [[ $cur == -* ]]; then
    ${fn}_options "$command_path"
  else
    ${fn}_words "$command_path"
  fi
  # Nothing offered (a file, a job id): bash's default completion, as \`complete -o default\` says.
  [[ -n $REPLY ]] && mapfile -t COMPREPLY < <(compgen -W "$REPLY" -- "$cur")
  return 0
}

complete -o default -F ${fn} ${name}
`;
}
