import { onTestFinished } from 'vitest';
import { createHomePlex, type HomePlex } from './home-plex.js';
import { createTempDir } from './temp-dir.js';

/** A home Plex for one test, stopped when it ends. */
export async function startHomePlex(options: Parameters<typeof createHomePlex>[1] = {}): Promise<HomePlex> {
  const home = await createHomePlex(createTempDir('home-plex-'), options);
  onTestFinished(() => home.close());
  return home;
}
