import type { Outputs } from '../api.js';
import { formatDuration } from '../format.js';

export type JobPlan = Outputs['jobs']['plan'];
type CostEstimate = Pick<JobPlan, 'hourlyPrice' | 'caps' | 'budget'>;

/** What `plexlift run --dry-run` prints: the job, where it runs, what it should take and cost, and each check ok or FIX. */
export function RunPlan({ plan }: { plan: JobPlan }) {
  const { spec, expected } = plan;
  const analyses = Object.entries(spec.analyses)
    .filter(([, on]) => on)
    .map(([name]) => name);
  return (
    <div class="plan" data-testid="run-plan">
      <p>
        A {spec.mode} job on {plan.provider}, Plex {spec.plex.version}, {spec.sections.length > 0 ? `sections ${spec.sections.join(', ')}` : 'every section'};
        analyses: {spec.skipAnalysis ? 'none' : analyses.join(', ') || 'none'}
        {spec.skipSonic ? ' (no Sonic)' : ''}.
      </p>
      <p data-testid="plan-estimate">
        {expected
          ? `Expected: about ${formatDuration(expected.seconds * 1000)}${expected.cost === undefined ? '' : `, ≈ ${expected.cost} €`} (from ${expected.basis}). `
          : ''}
        {costOf(plan)}.
      </p>
      <ul class="checks" aria-label="Checks">
        {plan.checks.map((check) => (
          <li key={check.name}>
            <span class={check.ok ? 'ok' : 'fix'}>{check.ok ? 'ok' : 'FIX'}</span> <strong>{check.name}</strong>: {check.detail}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** "0.2128 €/h, lands its work before 6 h or 3 €, stopped at 12 h or 10 € whatever happens" (as the CLI says it). */
function costOf(estimate: CostEstimate): string {
  const { budget } = estimate;
  const limits = budget
    ? [
        budget.maxHours === undefined ? undefined : `${budget.maxHours} h`,
        budget.maxCost === undefined || estimate.hourlyPrice === 0 ? undefined : `${budget.maxCost} €`,
        budget.deadline === undefined ? undefined : new Date(budget.deadline).toLocaleString(),
      ].filter(Boolean)
    : [];
  const price = estimate.hourlyPrice === 0 && !estimate.caps ? 'Nothing to pay' : `${estimate.hourlyPrice} €/h`;
  const lands = limits.length > 0 ? `lands its work before ${limits.join(' or ')}` : undefined;
  const caps = estimate.caps ? `stopped at ${estimate.caps.maxHours} h or ${estimate.caps.maxCost} € whatever happens` : undefined;
  return [price, lands, caps].filter(Boolean).join(', ');
}
