import type { Provider } from '../providers/provider.js';
import type { JobStore } from '../store/job-store.js';

/** The states in which a job's machine may exist and bills. */
const BILLED_STATES = new Set(['queued', 'provisioning', 'running']);

/**
 * The provider's caps (lifetime, cost), enforced by the controller whatever the agent does:
 * `stop` is called once with the reason when the job passes either. Billing runs from
 * provisioning to the teardown, so the watch looks only while the machine may exist. Returns
 * what ends the watch.
 */
export function watchCaps(options: { jobId: string; provider: Provider; jobs: JobStore; stop: (reason: string) => void }): () => void {
  const { provider, jobs } = options;
  const caps = provider.caps;
  if (!caps) return () => undefined;
  let stopped = false;
  const check = () => {
    const job = jobs.get(options.jobId);
    if (stopped || !job || !BILLED_STATES.has(job.state)) return;
    const hours = (Date.now() - job.createdAt) / 3_600_000;
    const price = typeof job.resource?.hourlyPrice === 'number' ? job.resource.hourlyPrice : provider.hourlyPrice;
    const cost = hours * price;
    const over =
      hours >= caps.maxHours
        ? `its lifetime cap of ${caps.maxHours} h`
        : cost >= caps.maxCost
          ? `its cost cap of ${caps.maxCost} € (${cost.toFixed(2)} € at ${price} €/h)`
          : undefined;
    if (!over) return;
    stopped = true;
    options.stop(`the job reached ${over}; its machine is deleted (providers.${provider.name}.maxHours / maxCost)`);
  };
  // Often enough to act within a twentieth of the shorter cap, never busier than 4 times a second.
  const capMs = Math.min(caps.maxHours * 3_600_000, provider.hourlyPrice > 0 ? (caps.maxCost / provider.hourlyPrice) * 3_600_000 : Infinity);
  const timer = setInterval(check, Math.max(250, Math.min(60_000, capMs / 20))).unref();
  return () => clearInterval(timer);
}
