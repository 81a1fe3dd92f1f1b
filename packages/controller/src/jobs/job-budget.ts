import { PlexliftError, type JobRunOptions } from '@plexlift/shared';
import type { PhaseName } from '@plexlift/shared/protocol';
import type { Provider } from '../providers/provider.js';

/** Once a job is in these, its work is on its way home (or there): a landing changes nothing. */
export const HOMEWARD_PHASES: ReadonlySet<PhaseName> = new Set(['plex-stop', 'export', 'upload', 'teardown', 'install']);

/** A job's limits: the provider's hard caps, tightened by this run's budget and a schedule's window. */
export interface JobBudget {
  maxHours?: number;
  maxCost?: number;
  /** A scheduled window's end (epoch ms). */
  deadline?: number;
}

/** The run's own budget must sit within the provider's caps; said with the flag's name, before anything exists. */
export function checkRunBudget(options: Pick<JobRunOptions, 'maxHours' | 'maxCost' | 'deadline'>, provider: Provider, now = Date.now()): void {
  const caps = provider.caps;
  if (caps && options.maxHours !== undefined && options.maxHours > caps.maxHours)
    throw new PlexliftError(
      'BAD_ARGUMENT',
      `--max-hours: ${options.maxHours} is above providers.${provider.name}.maxHours (${caps.maxHours}); the provider's cap is the limit`,
    );
  if (caps && options.maxCost !== undefined && options.maxCost > caps.maxCost)
    throw new PlexliftError(
      'BAD_ARGUMENT',
      `--max-cost: ${options.maxCost} is above providers.${provider.name}.maxCost (${caps.maxCost}); the provider's cap is the limit`,
    );
  if (options.deadline !== undefined && options.deadline <= now) throw new PlexliftError('BAD_ARGUMENT', 'deadline: already past; nothing would run');
}

/** The tightest of the provider's caps and the run's budget. */
export function budgetOf(options: Pick<JobRunOptions, 'maxHours' | 'maxCost' | 'deadline'>, provider: Provider): JobBudget {
  const least = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
  const maxHours = least(provider.caps?.maxHours, options.maxHours);
  const maxCost = least(provider.caps?.maxCost, options.maxCost);
  return {
    ...(maxHours === undefined ? {} : { maxHours }),
    ...(maxCost === undefined ? {} : { maxCost }),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
  };
}

/**
 * When the budget ends (epoch ms), and which limit ends it: the earliest of the lifetime, the cost
 * at the machine's price and the window's end. Undefined for a job without limits.
 */
export function budgetEnd(budget: JobBudget, startedAt: number, hourlyPrice: number): { at: number; what: string } | undefined {
  const ends: { at: number; what: string }[] = [];
  if (budget.maxHours !== undefined) ends.push({ at: startedAt + budget.maxHours * 3_600_000, what: `its lifetime cap of ${budget.maxHours} h` });
  if (budget.maxCost !== undefined && hourlyPrice > 0)
    ends.push({ at: startedAt + (budget.maxCost / hourlyPrice) * 3_600_000, what: `its cost cap of ${budget.maxCost} € (at ${hourlyPrice} €/h)` });
  if (budget.deadline !== undefined) ends.push({ at: budget.deadline, what: `its window's end (${new Date(budget.deadline).toISOString()})` });
  return ends.sort((a, b) => a.at - b.at)[0];
}
