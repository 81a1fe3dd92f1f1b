import { fileURLToPath } from 'node:url';

const SIM = fileURLToPath(new URL('./main.ts', import.meta.url));

/** The command line of plex-sim as a process, for the agent's local Plex runtime. */
export function plexSimCommand(knobsFile: string, plexTvUrl: string): string[] {
  // tsx by its full address: the command may run from any folder (an agent's work folder).
  return [
    process.execPath,
    '--conditions=source',
    '--import',
    import.meta.resolve('tsx'),
    SIM,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    '--config',
    knobsFile,
    '--plex-tv-url',
    plexTvUrl,
  ];
}
