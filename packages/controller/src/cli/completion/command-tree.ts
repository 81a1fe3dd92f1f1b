import type { Command, Option } from 'commander';

/** An option as a shell completes it. */
export interface CompletionOption {
  /** `--mode`; absent for an option with a short flag only. */
  long?: string;
  /** `-q`. */
  short?: string;
  description: string;
  takesValue: boolean;
  /** The values it takes, when they are a fixed set (commander's `.choices()`). */
  choices?: readonly string[];
}

/** A command of the program as a shell completes it: where it is, what may follow it. */
export interface CompletionCommand {
  /** Its name: `plexlift` for the program, `stats` for `db stats`. */
  name: string;
  /** The words after the program's name that lead to it: `[]` for the program, `['db', 'stats']`. */
  path: string[];
  description: string;
  subcommands: CompletionCommand[];
  /** Its own options, then those of the commands above it (commander reads them after a subcommand too). */
  options: CompletionOption[];
  /** The values its first argument takes, when they are a fixed set (`completion <shell>`). */
  argumentChoices?: readonly string[];
}

/** The whole tree under `program`, as commander's help shows it (hidden commands and options left out). */
export function readCompletionTree(program: Command): CompletionCommand {
  return readCommand(program, [], []);
}

/** Every command of the tree, the program first. */
export function listCommands(root: CompletionCommand): CompletionCommand[] {
  return [root, ...root.subcommands.flatMap(listCommands)];
}

/** An option's flags, the long one first: `--tail`, `-n`. */
export function flagsOf(option: CompletionOption): string[] {
  return [option.long, option.short].filter((flag) => flag !== undefined);
}

/** The fixed values of every option that has them, by command and flag: `['run --mode', ['scan', 'delta']]`. */
export function listChoices(root: CompletionCommand): [commandAndFlag: string, values: readonly string[]][] {
  const choices: [string, readonly string[]][] = [];
  for (const command of listCommands(root)) {
    for (const option of command.options) {
      if (option.choices) for (const flag of flagsOf(option)) choices.push([[...command.path, flag].join(' '), option.choices]);
    }
  }
  return choices;
}

function readCommand(command: Command, path: string[], inherited: CompletionOption[]): CompletionCommand {
  const help = command.createHelp();
  const own = help.visibleOptions(command).map(toCompletionOption);
  // Only the program answers --version, and every command has its own --help.
  const passedDown = [...own.filter((o) => o.long !== '--help' && o.long !== '--version'), ...inherited];
  const argumentChoices = command.registeredArguments[0]?.argChoices;
  return {
    name: command.name(),
    path,
    description: command.description(),
    subcommands: help
      .visibleCommands(command)
      // commander's own `help [command]`: --help says the same, and a menu stays what the command does.
      .filter((sub) => sub.name() !== 'help')
      .map((sub) => readCommand(sub, [...path, sub.name()], passedDown)),
    options: [...own, ...inherited],
    ...(argumentChoices ? { argumentChoices } : {}),
  };
}

function toCompletionOption(option: Option): CompletionOption {
  return {
    ...(option.long ? { long: option.long } : {}),
    ...(option.short ? { short: option.short } : {}),
    description: option.description,
    takesValue: option.required || option.optional,
    ...(option.argChoices ? { choices: option.argChoices } : {}),
  };
}

/** A description short enough for a completion menu: its first clause, else its first 60 characters. */
export function summarize(description: string): string {
  const clause = description.split(/ \(|; |: /)[0]!;
  if (clause.length >= 8 && clause.length <= 60) return clause;
  if (description.length <= 60) return description;
  return `${description.slice(0, 60).replace(/\s+\S*$/, '')}…`;
}
