import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { openControllerCore } from '../../packages/controller/src/controller.js';
import { startDailyHousekeeping } from '../../packages/controller/src/housekeeping.js';
import { createLogger } from '../../packages/controller/src/logger.js';
import { createTempDir } from '../utils/temp-dir.js';

const DAY_MS = 86_400_000;

/** The daemon's store in a fresh state folder, its daily housekeeping on a fake clock, and its log. */
function setup() {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  const stateDir = createTempDir();
  const core = openControllerCore({ stateDir });
  onTestFinished(() => {
    core.db.close();
  });
  const log: string[] = [];
  const timer = startDailyHousekeeping({ core, keepJobsDays: 90, logger: createLogger((level, line) => log.push(`${level}: ${line}`)) });
  onTestFinished(() => clearInterval(timer));
  const staging = join(stateDir, 'transfers');
  /** A folder of a job the store forgot, left by a daemon that stopped before deleting it. */
  const orphan = () => {
    mkdirSync(join(staging, 'job-pruned-export'), { recursive: true });
    writeFileSync(join(staging, 'job-pruned-export', '0.chunk'), 'old');
    return join(staging, 'job-pruned-export');
  };
  return { core, log, staging, orphan };
}

afterEach(() => vi.useRealTimers());

describe('the daily housekeeping of the daemon', () => {
  it('sweeps the transfer folders no job needs on a day with no old job to forget', () => {
    const { log, orphan } = setup();
    const folder = orphan();
    vi.advanceTimersByTime(DAY_MS);
    expect(existsSync(folder)).toBe(false);
    expect(log).toEqual(['info: deleted transfer folder job-pruned-export: no job needs it']);
  });

  it('logs a failure instead of throwing from its timer (which would stop the daemon), and tries again the next day', () => {
    const { log, staging, orphan } = setup();
    // The staging folder is not a folder today: the sweep cannot read it.
    rmSync(staging, { recursive: true });
    writeFileSync(staging, 'not a folder');
    expect(() => vi.advanceTimersByTime(DAY_MS)).not.toThrow();
    expect(log).toEqual([expect.stringMatching(/^error: daily housekeeping: deleting unneeded transfer folders failed, tried again tomorrow: ENOTDIR/)]);

    rmSync(staging);
    const folder = orphan();
    vi.advanceTimersByTime(DAY_MS);
    expect(existsSync(folder)).toBe(false);
    expect(log.slice(1)).toEqual(['info: deleted transfer folder job-pruned-export: no job needs it']);
  });
});
