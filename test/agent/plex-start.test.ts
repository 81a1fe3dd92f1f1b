import { existsSync, statSync } from 'node:fs';
import type { PlexSimOptions } from '../plex-sim/options.js';
import { readPreferences } from '../plex-sim/preferences-file.js';
import { describe, expect, it } from 'vitest';
import { startPlex } from '../../packages/agent/src/plex/start-plex.js';
import { stopPlex } from '../../packages/agent/src/plex/stop-plex.js';
import { runStockSqlite3 } from '../utils/sqlite-files.js';
import { createLocalPlex } from '../utils/local-plex.js';
import { createTempDir } from '../utils/temp-dir.js';

const VERSION = '1.43.2.10687-563d026ea';

async function setUp(knobs: Partial<PlexSimOptions>) {
  const { runtime, claim, paths, readToken } = await createLocalPlex(createTempDir(), { knobs });
  return { runtime, claim, paths, readToken };
}

describe('plex-start and plex-stop with a local Plex process', () => {
  it('starts the pinned version, claims it, waits until ready and sets the safe preferences', async () => {
    const { runtime, claim, paths, readToken } = await setUp({ speed: 100 });
    const steps: string[] = [];
    const started = await startPlex(runtime, {
      version: VERSION,
      claimToken: claim,
      readToken,
      timeZone: 'UTC',
      readyTimeoutMs: 20_000,
      onStep: (s) => steps.push(s),
    });
    expect(steps).toEqual(['identity', 'claimed', 'started', 'preferences', 'ready', 'preferences-set']);
    expect(started.preferences.find((p) => p.id === 'autoEmptyTrash')).toEqual({ id: 'autoEmptyTrash', before: true, after: false });
    const file = readPreferences(paths.preferences);
    expect(file.get('autoEmptyTrash')).toBe('0');
    expect(file.get('MusicAnalysisBehavior')).toBe('never');
    expect(Math.abs(Number(file.get('ButlerStartHour')) - new Date().getUTCHours())).toBeGreaterThanOrEqual(11);

    const { clean } = await stopPlex(runtime, paths.mainDb);
    expect(clean).toBe(true);
    expect(existsSync(`${paths.mainDb}-wal`)).toBe(false);
    expect(runStockSqlite3(paths.mainDb, 'PRAGMA integrity_check').stderr).toMatch(/icu_root/);
  });

  it('refuses a Plex of another version than home and stops it again', async () => {
    const { runtime, claim, readToken } = await setUp({ speed: 100, version: '1.43.3.10828-00f62d37d' });
    await expect(startPlex(runtime, { version: VERSION, claimToken: claim, readToken, timeZone: 'UTC', readyTimeoutMs: 20_000 })).rejects.toMatchObject({
      code: 'SAFETY_STOP',
      message: expect.stringMatching(/Plex on the VM is 1\.43\.3\.10828-00f62d37d but home runs 1\.43\.2\.10687-563d026ea/),
    });
    expect(runtime.isRunning()).toBe(false);
  });

  it('a Plex that outlives the grace period is killed, and the WAL it left is folded in', async () => {
    const { runtime, claim, paths, readToken } = await setUp({ speed: 100, faults: { slowShutdownMs: 60_000 } });
    await startPlex(runtime, { version: VERSION, claimToken: claim, readToken, timeZone: 'UTC', readyTimeoutMs: 20_000 });
    const { clean } = await stopPlex(runtime, paths.mainDb, { graceMs: 500 });
    expect(clean).toBe(false);
    expect(existsSync(`${paths.mainDb}-wal`) ? statSync(`${paths.mainDb}-wal`).size : 0).toBe(0);
  });
});
