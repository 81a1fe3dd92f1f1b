import { describe, expect, it } from 'vitest';
import { isPlexliftError, parseConfig } from '@plexlift/shared';

const nightly = { name: 'nightly-sonic', cron: '0 22 * * *', windowHours: 6, run: { mode: 'delta' } };

/** The CONFIG_INVALID a config with these `schedule` entries gets (fails the test if it loads). */
function problemsOf(schedule: unknown[]): string[] {
  try {
    parseConfig({ schedule }, 'test.json');
  } catch (error) {
    if (isPlexliftError(error, 'CONFIG_INVALID')) return (error.details?.problems as string[] | undefined) ?? [error.message];
    throw error;
  }
  throw new Error('the config loaded');
}

describe('config: schedule', () => {
  it('is empty by default, and an entry gets the run defaults of `plexlift run`', () => {
    expect(parseConfig({}, 'test').schedule).toEqual([]);
    const config = parseConfig(
      { schedule: [{ ...nightly, maxCost: 3, until: 'complete', run: { mode: 'delta', sections: ['Music'], skipAnalysis: true } }] },
      'test',
    );
    expect(config.schedule).toEqual([
      {
        name: 'nightly-sonic',
        cron: '0 22 * * *',
        windowHours: 6,
        maxCost: 3,
        until: 'complete',
        run: { mode: 'delta', sections: ['Music'], forceRefresh: false, skipAnalysis: true, skipSonic: false, allowDeletions: false },
      },
    ]);
  });

  it('takes seconds-level and named crons, and a window longer than the provider cap (the cap wins)', () => {
    const config = parseConfig(
      {
        providers: { scaleway: { maxHours: 4 } },
        schedule: [
          { ...nightly, name: 'every-two-seconds', cron: '*/2 * * * * *' },
          { ...nightly, name: 'weekdays', cron: '30 1 * * MON-FRI', windowHours: 12, run: { mode: 'delta', provider: 'scaleway' } },
          { ...nightly, name: 'daily', cron: '@daily' },
        ],
      },
      'test',
    );
    expect(config.schedule.map((entry) => entry.name)).toEqual(['every-two-seconds', 'weekdays', 'daily']);
  });

  it("refuses a budget above the provider's cost cap", () => {
    const config = (maxCost: number, provider?: string) => ({
      provider: 'scaleway',
      providers: { scaleway: { maxCost: 5 } },
      schedule: [{ ...nightly, maxCost, run: { mode: 'delta', ...(provider ? { provider } : {}) } }],
    });
    expect(() => parseConfig(config(6), 'test.json')).toThrow(
      /schedule\[0\]\.maxCost: 6 is above providers\.scaleway\.maxCost \(5\); the provider's cap is the limit/,
    );
    expect(parseConfig(config(5), 'test').schedule[0]!.maxCost).toBe(5);
    // The local provider has no cost cap.
    expect(parseConfig(config(6, 'local'), 'test').schedule[0]!.maxCost).toBe(6);
  });

  it('names the entry and the problem of a cron the library cannot read', () => {
    expect(problemsOf([nightly, { ...nightly, name: 'bad', cron: '61 22 * * *' }])).toEqual([
      'schedule[1].cron: not a cron expression: Invalid value for minute: 61 (e.g. "0 22 * * *" for 22:00 every day)',
    ]);
    expect(problemsOf([{ ...nightly, cron: 'every night' }])).toEqual([
      expect.stringMatching(/^schedule\[0\]\.cron: not a cron expression: .*five, six, or seven/),
    ]);
    expect(problemsOf([{ ...nightly, cron: '0 22 * *' }])).toEqual([expect.stringMatching(/^schedule\[0\]\.cron: not a cron expression: /)]);
  });

  it('refuses a date in place of a cron, and a cron that never matches', () => {
    expect(problemsOf([{ ...nightly, cron: '2030-01-01T22:00:00' }])).toEqual([
      expect.stringMatching(/^schedule\[0\]\.cron: must be a cron expression .*not a date$/),
    ]);
    expect(problemsOf([{ ...nightly, cron: '0 0 30 2 *' }])).toEqual(['schedule[0].cron: never matches a date from now on']);
  });

  it('wants unique kebab-case names', () => {
    expect(problemsOf([nightly, { ...nightly, cron: '0 3 * * *' }])).toEqual([
      'schedule[1].name: "nightly-sonic" is already the name of schedule[0]; each entry needs its own',
    ]);
    expect(problemsOf([{ ...nightly, name: 'Nightly Sonic' }])).toEqual([expect.stringMatching(/^schedule\[0\]\.name: must be kebab-case/)]);
    expect(problemsOf([{ ...nightly, name: 'nightly--sonic' }])).toEqual([expect.stringMatching(/^schedule\[0\]\.name: must be kebab-case/)]);
  });

  it('refuses a window or budget that is not positive, an unknown until and unknown keys', () => {
    expect(problemsOf([{ ...nightly, windowHours: 0 }])).toEqual([expect.stringMatching(/^schedule\[0\]\.windowHours: /)]);
    expect(problemsOf([{ ...nightly, maxCost: -1 }])).toEqual([expect.stringMatching(/^schedule\[0\]\.maxCost: /)]);
    expect(problemsOf([{ ...nightly, until: 'forever' }])).toEqual([expect.stringMatching(/^schedule\[0\]\.until: /)]);
    expect(problemsOf([{ ...nightly, window: 6 }])).toEqual([expect.stringMatching(/^schedule\[0\]: .*window/)]);
    // keep and noInstall do not suit an unattended burst: each brings its work home and installs it.
    expect(problemsOf([{ ...nightly, run: { mode: 'delta', keep: true } }])).toEqual([expect.stringMatching(/^schedule\[0\]\.run: .*keep/)]);
    expect(problemsOf([{ ...nightly, run: { mode: 'everything' } }])).toEqual([expect.stringMatching(/^schedule\[0\]\.run\.mode: /)]);
    expect(problemsOf([{ ...nightly, run: { mode: 'delta', provider: 'aws' } }])).toEqual([expect.stringMatching(/^schedule\[0\]\.run\.provider: /)]);
  });

  it('throws CONFIG_INVALID naming the source file', () => {
    expect(() => parseConfig({ schedule: [{ ...nightly, cron: '0 25 * * *' }] }, '/etc/plexlift/config.json')).toThrow(
      /^config \/etc\/plexlift\/config\.json: schedule\[0\]\.cron: not a cron expression: Invalid value for hour: 25/,
    );
  });
});
