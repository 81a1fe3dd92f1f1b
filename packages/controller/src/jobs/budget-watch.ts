import type { Provider } from '../providers/provider.js';
import type { JobStore } from '../store/job-store.js';
import type { PhaseName } from '@plexlift/shared/protocol';
import { budgetEnd, type JobBudget } from './job-budget.js';
import type { LandingReserve } from './landing-reserve.js';

/** The states in which a job's machine may exist and bills. */
const BILLED_STATES = new Set(['queued', 'provisioning', 'running', 'tearing-down']);
/** The phases whose work a landing brings home: the scan (its section finished) and the long ones. */
const WORK_PHASES: ReadonlySet<PhaseName> = new Set(['scan', 'warm', 'analyze', 'refresh', 'stabilize', 'sonic']);

/**
 * A job's budget, enforced by the controller whatever the agent does. When the time left
 * reaches the landing reserve while the agent is in a phase whose work is worth bringing home
 * (the scan or a long phase), `land` is called once (the agent brings its work home); at the
 * budget's end `stop` is called once (the hard cap: the job is aborted and its machine deleted,
 * as before bursts, when a landing overran it). Billing runs from provisioning to the
 * teardown, so the watch looks only while the machine may exist. Returns what ends the watch.
 */
export function watchBudget(options: {
  jobId: string;
  provider: Provider;
  jobs: JobStore;
  budget: JobBudget;
  /** The landing reserve now; absent for a job that cannot land. */
  reserve?: () => LandingReserve;
  land: (reason: string, reserve: LandingReserve) => void;
  stop: (reason: string) => void;
}): () => void {
  const { provider, jobs, budget } = options;
  if (budget.maxHours === undefined && budget.maxCost === undefined && budget.deadline === undefined) return () => undefined;
  let stopped = false;
  let landed = false;
  // Often enough to act within a twentieth of the budget, never busier than 4 times a second.
  const budgetSpan = budgetEnd(budget, Date.now(), provider.hourlyPrice);
  const tickMs = Math.max(250, Math.min(60_000, (budgetSpan ? Math.max(0, budgetSpan.at - Date.now()) : 3_600_000) / 20));
  const check = () => {
    const job = jobs.get(options.jobId);
    if (stopped || !job || !BILLED_STATES.has(job.state)) return;
    const now = Date.now();
    const hours = (now - job.createdAt) / 3_600_000;
    const price = typeof job.resource?.hourlyPrice === 'number' ? job.resource.hourlyPrice : provider.hourlyPrice;
    const cost = hours * price;
    const over =
      budget.maxHours !== undefined && hours >= budget.maxHours
        ? `its lifetime cap of ${budget.maxHours} h`
        : budget.maxCost !== undefined && cost >= budget.maxCost
          ? `its cost cap of ${budget.maxCost} € (${cost.toFixed(2)} € at ${price} €/h)`
          : budget.deadline !== undefined && now >= budget.deadline
            ? `its window's end`
            : undefined;
    if (over) {
      stopped = true;
      return options.stop(`the job reached ${over}; its machine is deleted (providers.${provider.name}.maxHours / maxCost, or this run's budget)`);
    }
    // Landing brings home the work of the long phases: before them there is none (and this job's
    // link and Plex are measured by then); after them the work is already on its way.
    if (landed || !options.reserve || job.state !== 'running' || job.report?.landed || !job.phase || !WORK_PHASES.has(job.phase)) return;
    const end = budgetEnd(budget, job.createdAt, price);
    if (!end) return;
    const reserve = options.reserve();
    const left = (end.at - now) / 1000;
    // Land at this check if the next one would be too late: a reserve shorter than the time
    // between checks must not slip past them to the cap.
    if (left - tickMs / 1000 > reserve.seconds) return;
    landed = true;
    options.land(`${end.what} is ${Math.max(0, Math.round(left))} s away: the time to bring the work home (about ${reserve.seconds} s)`, reserve);
  };
  const timer = setInterval(check, tickMs).unref();
  return () => clearInterval(timer);
}
