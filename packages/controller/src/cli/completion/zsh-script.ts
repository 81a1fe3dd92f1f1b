import { flagsOf, listChoices, listCommands, summarize, type CompletionCommand } from './command-tree.js';

/** A text as one zsh word: single-quoted, a quote in it closed, escaped and reopened. */
const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** A zsh `case` over the command paths: each arm sets the array `reply` to its words. */
function caseOf(commands: CompletionCommand[], words: (command: CompletionCommand) => string[]): string {
  const arms = commands
    .map((command) => [command.path.join(' '), words(command)] as const)
    .filter(([, list]) => list.length > 0)
    .map(([path, list]) => `    (${quote(path)}) reply=(${list.map(quote).join(' ')}) ;;`);
  return ['  case $1 in', ...arms, '    (*) reply=() ;;', '  esac'].join('\n');
}

/** `name:description`, as `_describe` lists a candidate (a colon in the name escaped). */
const described = (name: string, description: string) => `${name.replace(/:/g, '\\:')}:${summarize(description)}`;

/**
 * A completion script for zsh's completion system (compinit), as a `_plexlift` function file in
 * `$fpath` or sourced after compinit. It completes as the bash script does, with each command's
 * and option's description beside it.
 */
export function createZshScript(root: CompletionCommand): string {
  const name = root.name;
  const fn = `_${name.replace(/\W/g, '_')}`;
  const commands = listCommands(root);
  return `#compdef ${name}
# zsh completion for ${name}: put it in a folder of $fpath as _${name}, or source it after compinit
# (made by \`${name} completion zsh\` from this version's commands; make it again after an update)

# The commands, each by the words that name it.
${fn}_is_command() {
  case $1 in
${commands.map((c) => `    (${quote(c.path.join(' '))}) return 0 ;;`).join('\n')}
  esac
  return 1
}

# What may follow a command, described: its subcommands, or the fixed values of its argument.
${fn}_words() {
${caseOf(commands, (c) => [...c.subcommands.map((s) => described(s.name, s.description)), ...(c.argumentChoices ?? [])])}
}

# A command's long options, described (its own and those of the commands above it).
${fn}_options() {
${caseOf(commands, (c) =>
  c.options.flatMap((o) => {
    const flag = o.long ?? o.short;
    return flag ? [described(flag, o.description)] : [];
  }),
)}
}

# A command's options that take a value: the word after one is its value, not a command.
${fn}_value_options() {
${caseOf(commands, (c) => c.options.filter((o) => o.takesValue).flatMap(flagsOf))}
}

# The fixed values of an option, as "COMMAND OPTION".
${fn}_choices() {
  case $1 in
${listChoices(root)
  .map(([key, values]) => `    (${quote(key)}) reply=(${values.map(quote).join(' ')}) ;;`)
  .join('\n')}
    (*) reply=() ;;
  esac
}

${fn}() {
  local command_path='' word i is_value=0
  local -a reply
  for (( i = 2; i < CURRENT; i++ )); do
    word=\${words[i]}
    if (( is_value )); then
      is_value=0
    elif [[ $word == -* ]]; then
      ${fn}_value_options "$command_path"
      (( \${reply[(Ie)$word]} )) && is_value=1
    elif ${fn}_is_command "\${command_path:+$command_path }$word"; then
      command_path=\${command_path:+$command_path }$word
    fi
  done
  if (( is_value )); then
    ${fn}_choices "\${command_path:+$command_path }\${words[CURRENT-1]}"
    if (( \${#reply} )); then compadd -a reply; else _files; fi
  elif [[ \${words[CURRENT]} == -* ]]; then
    ${fn}_options "$command_path"
    _describe -t options option reply
  else
    ${fn}_words "$command_path"
    if (( \${#reply} )); then _describe -t commands command reply; else _files; fi
  fi
}

# Autoloaded from $fpath the file is the function's body; sourced, it defines and registers it.
if [[ \${funcstack[1]} == ${fn} ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${name}
fi
`;
}
