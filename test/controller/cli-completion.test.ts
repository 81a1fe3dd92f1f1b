import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../utils/run-cli.js';

const run = promisify(execFile);

/** What each shell should offer after the words typed (a trailing space: a new word begins). */
const CASES: [typed: string, offered: string[]][] = [
  ['plexlift ru', ['run']],
  ['plexlift run --mo', ['--mode']],
  ['plexlift backups ', ['list', 'prune']],
  ['plexlift run --mode ', ['delta', 'scan']],
  // A subcommand under a global option and its value; the global options after a subcommand.
  ['plexlift --config /etc/x.json db ', ['check', 'remap', 'repair', 'stats']],
  ['plexlift db stats --q', ['--quiet']],
  ['plexlift serve --log-format ', ['json', 'text']],
  ['plexlift completion ', ['bash', 'fish', 'zsh']],
  // A command that does something itself and has subcommands too.
  ['plexlift dashboard ', ['revoke', 'sessions']],
  ['plexlift dashboard revoke --a', ['--all']],
];

describe('plexlift completion: a script each shell loads and completes with', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plexlift-completion-'));
  const scripts: Record<'bash' | 'zsh' | 'fish', string> = { bash: '', zsh: '', fish: '' };
  beforeAll(async () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const result = await runCli(['completion', shell]);
      expect(result, shell).toMatchObject({ status: 0, stderr: '' });
      scripts[shell] = join(dir, `plexlift.${shell}`);
      writeFileSync(scripts[shell], result.stdout);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an unknown shell is a usage error naming the argument and the shells, exit 2', async () => {
    const result = await runCli(['completion', 'tcsh']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^plexlift: .*'tcsh' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish\.\n/);
    expect(result.stdout).toBe('');
  });

  it.each(CASES)('bash (no bash-completion package): %j', async (typed, offered) => {
    // The completion function is called as bash calls it on Tab: the words so far, the cursor's word last.
    const words = typed.split(' ');
    const { stdout } = await run('bash', [
      '--norc',
      '--noprofile',
      '-c',
      'source "$0" && complete -p plexlift && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && _plexlift && printf "%s\\n" "${COMPREPLY[@]}"',
      scripts.bash,
      ...words,
    ]);
    const [registration, ...lines] = stdout.trim().split('\n');
    // -o default: where the script offers nothing (a file, a job id), bash completes file names.
    expect(registration).toBe('complete -o default -F _plexlift plexlift');
    expect(lines.sort()).toEqual(offered);
  });

  it.each(CASES)('fish: %j', async (typed, offered) => {
    const { stdout } = await run('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', scripts.fish, typed]);
    // Each line is a candidate, a tab, and its description.
    expect(
      stdout
        .trim()
        .split('\n')
        .map((line) => line.split('\t')[0])
        .sort(),
    ).toEqual(offered);
  });

  it('zsh: parses (zsh -n)', async () => {
    await expect(run('zsh', ['-n', scripts.zsh])).resolves.toMatchObject({ stderr: '' });
  });

  it('zsh: Tab on a real terminal completes a command, lists subcommands with their descriptions and an option values', async () => {
    const zsh = startZshOnTerminal(scripts.zsh);
    try {
      await vi.waitFor(() => expect(zsh.screen()).toContain('READY'), { timeout: 15_000 });
      // One candidate is put on the line; several are listed under it.
      const expectations: [typed: string, shown: RegExp][] = [
        ['plexlift ru', /plexlift run $/],
        ['plexlift run --mo', /plexlift run --mode $/],
        ['plexlift backups ', /\nlist +-- newest first\s*\nprune +-- keep the newest N backups\s*\n/],
        ['plexlift run --mode ', /\ndelta +scan\s*\n/],
      ];
      for (const [typed, shown] of expectations) {
        const from = zsh.screen().length;
        zsh.type(`${typed}\t`);
        await vi.waitFor(() => expect(zsh.screen().slice(from)).toMatch(shown), { timeout: 10_000 });
        // Ctrl-C drops the line; the next is typed at the new prompt.
        const dropped = zsh.screen().length;
        zsh.type('\x03');
        await vi.waitFor(() => expect(zsh.screen().slice(dropped)).toMatch(/> $/), { timeout: 10_000 });
      }
    } finally {
      zsh.close();
    }
  });
});

/** An interactive zsh (no rc files) on a pseudo-terminal with compinit and the script sourced. */
function startZshOnTerminal(script: string) {
  let screen = '';
  const child = spawn('script', ['-qfc', 'zsh -f -i', '/dev/null'], { env: { ...process.env, TERM: 'dumb' } });
  // Without \r and the terminal's control sequences (bracketed paste on and off).
  child.stdout.on('data', (chunk: Buffer) => (screen += stripVTControlCharacters(chunk.toString()).replace(/\r/g, '')));
  // READY split in two, so the echo of the command line does not look like its output.
  child.stdin.write(`PS1='> '; autoload -Uz compinit && compinit -u -D && source '${script}' && print RE''ADY\n`);
  return {
    screen: () => screen,
    type: (text: string) => child.stdin.write(text),
    close: () => child.kill('SIGKILL'),
  };
}
