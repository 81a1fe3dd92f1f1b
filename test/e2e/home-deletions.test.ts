import { describe, expect, it } from 'vitest';

/** SQLite's shared-memory index (rewritten by every reader, Plex's own included) and empty sidecars are not the library. */
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const lasting = (prints: Record<string, string>) =>
  Object.fromEntries(Object.entries(prints).filter(([path, hash]) => !path.endsWith('-shm') && hash !== EMPTY));
import { libraryFingerprint } from '../utils/home-plex.js';
import { runCli } from '../utils/run-cli.js';
import { readStatsOf } from '../utils/sqlite-files.js';
import { prepare } from './plexlift-fixture.js';

/**
 * Issue 18: a bucket whose films that sort last list but do not read. Home has 40 films (the cap:
 * 5 % of 40 = 2) plus two new ones the job finds. The VM's preflight is told to tolerate a fifth
 * of its probe missing, as a probe that missed them would, so the deletion cap at home is what
 * stands between that library and home.
 */
async function degradedHome(unreadable: number, options: { probeTolerates?: boolean } = {}) {
  const films = 40;
  const names = new Set<string>();
  const setup = await prepare({
    media: { movies: films },
    unreadable: (path) => names.has(path.split('/').at(-1)!),
    ...(options.probeTolerates === false ? {} : { tuning: { maxMissingPercent: 20 } }),
  });
  const home = [...setup.home.media.movies].sort();
  for (const file of home.slice(films - unreadable)) names.add(file.split('/').at(-1)!);
  return { ...setup, films };
}

const jobIdOf = (stdout: string, stderr: string) => /job (job-[\w-]+)/.exec(`${stdout}\n${stderr}`)?.[1];

describe('the deletion cap at home, in every mode', () => {
  it(
    'a scan job that lacks more films than the cap stops with exit 6, home byte-identical and the archive kept; install --allow-deletions puts it in',
    { timeout: 240_000 },
    async () => {
      const { home, configPath, films } = await degradedHome(4);
      const before = lasting(libraryFingerprint(home.paths.pms));
      const run = await runCli(['run', '--mode', 'scan', '--wait', '--config', configPath]);
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(6);
      expect(run.stderr).toMatch(/home section "Movies" would lose 4 of its 40 items \(cap 2\), e\.g\. "[^"]+"/);
      expect(run.stderr).toMatch(/plexlift install job-[\w-]+ --allow-deletions/);
      expect(lasting(libraryFingerprint(home.paths.pms))).toEqual(before);
      const jobId = jobIdOf(run.stdout, run.stderr)!;

      const install = await runCli(['install', jobId, '--allow-deletions', '--config', configPath]);
      expect(install.status, install.stderr).toBe(0);
      // The 36 films that read, and the two new ones.
      expect(readStatsOf(home.paths.mainDb).library.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(films - 4 + 2);
      const [job] = JSON.parse((await runCli(['jobs', '--json', '--config', configPath])).stdout) as { state: string; error?: unknown }[];
      expect(job).toMatchObject({ state: 'done' });
      expect(job?.error).toBeUndefined();
    },
  );

  it(
    'a scan job that lacks no more than the cap installs, and a delta job over a bucket that lost more stops with exit 6, home byte-identical',
    { timeout: 240_000 },
    async () => {
      const under = await degradedHome(2);
      const scan = await runCli(['run', '--mode', 'scan', '--wait', '--config', under.configPath]);
      expect(scan.status, scan.stderr).toBe(0);
      // Within the cap, yet said: what home had that the new library lacks.
      expect(scan.stdout).toMatch(/^not in the new library: 2 of the 40 items home had in Movies \(within the cap of 2\), e\.g\. "Film 8", "Film 9"; /m);
      expect(readStatsOf(under.home.paths.mainDb).library.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(40 - 2 + 2);

      const over = await degradedHome(4);
      const before = lasting(libraryFingerprint(over.home.paths.pms));
      const delta = await runCli(['run', '--mode', 'delta', '--wait', '--config', over.configPath]);
      expect(delta.status, `${delta.stdout}\n${delta.stderr}`).toBe(6);
      // The VM's own cap counts 40 → 38 films (the two new ones hide two of the four lost); home's, by identity, sees all four.
      expect(delta.stderr).toMatch(/home section "Movies" would lose 4 of its 40 items \(cap 2\), e\.g\. "Film 6", "Film 7", "Film 8", "Film 9"/);
      expect(lasting(libraryFingerprint(over.home.paths.pms))).toEqual(before);

      const allowed = await runCli(['run', '--mode', 'delta', '--wait', '--allow-deletions', '--config', over.configPath]);
      expect(allowed.status, allowed.stderr).toBe(0);
      expect(readStatsOf(over.home.paths.mainDb).library.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(40 - 4 + 2);
    },
  );

  it('a delta job that lacks no more than the cap installs, and says what home had that the new library lacks', { timeout: 120_000 }, async () => {
    const { home, configPath } = await degradedHome(2);
    const delta = await runCli(['run', '--mode', 'delta', '--wait', '--config', configPath]);
    expect(delta.status, `${delta.stdout}\n${delta.stderr}`).toBe(0);
    expect(delta.stdout).toMatch(/^not in the new library: 2 of the 40 items home had in Movies \(within the cap of 2\), e\.g\. "Film 8", "Film 9"; /m);
    expect(readStatsOf(home.paths.mainDb).library.sections.find((s) => s.title === 'Movies')?.counts.movie).toBe(40 - 2 + 2);
  });

  it("the VM's probe, spread over the whole library, finds the unreadable films that sort last before any scan", { timeout: 120_000 }, async () => {
    const { home, configPath } = await degradedHome(4, { probeTolerates: false });
    const before = lasting(libraryFingerprint(home.paths.pms));
    const scan = await runCli(['run', '--mode', 'scan', '--wait', '--config', configPath]);
    expect(scan.status, scan.stderr).toBe(6);
    expect(scan.stderr).toMatch(/preflight: section "Movies": 4 of 42 files .* not visible or readable on the mount \(e\.g\. .*Film 6 \(2006\)\.mkv \(EIO\)/);
    expect(lasting(libraryFingerprint(home.paths.pms))).toEqual(before);
  });
});
