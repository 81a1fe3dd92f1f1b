import { useEffect, useState } from 'preact/hooks';
import type { JobDetail } from '../api.js';
import { formatBytes, formatTime } from '../format.js';

type Meter = NonNullable<JobDetail['meter']>;

/** The states in which the job's machine may exist, and bills (as `plexlift status` counts them). */
const BILLED = new Set(['queued', 'provisioning', 'running', 'tearing-down']);

/**
 * What a job costs so far against its budget, and the bytes it moved: the daemon's meter, with
 * the cost ticking on here between two readings (it grows with the hours at the machine's price).
 */
export function JobMeter({ meter, state, createdAt }: { meter: Meter; state: string; createdAt: number }) {
  const billed = BILLED.has(state);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!billed) return;
    const timer = setInterval(() => setNow(Date.now()), 5_000);
    return () => clearInterval(timer);
  }, [billed]);
  const hours = billed ? Math.max(meter.hours, (now - createdAt) / 3_600_000) : meter.hours;
  const euros = hours * meter.hourlyPrice;
  const { maxCost, maxHours } = meter.budget;
  const limits = [maxCost === undefined ? undefined : `${maxCost} €`, maxHours === undefined ? undefined : `${maxHours} h`].filter(Boolean).join(', ');
  return (
    <section aria-label="Cost and transfers" class="meter">
      <p data-testid="job-cost">
        {billed ? 'Cost so far' : 'Cost'}: ≈ {euros.toFixed(2)} € ({hours.toFixed(2)} h at {meter.hourlyPrice} €/h)
        {limits ? `; limits ${limits}` : ''}
        {billed && meter.budgetEnds ? `; lands before ${meter.budgetEnds.what}, ${formatTime(meter.budgetEnds.at)}` : ''}
      </p>
      <p data-testid="job-bytes">
        Moved: {formatBytes(meter.bytes.restore)} of home's library to the machine, {formatBytes(meter.bytes.export)} of its archive home
      </p>
    </section>
  );
}
