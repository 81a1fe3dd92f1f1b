import type { AgentEvent } from '@plexlift/shared/protocol';
import type { JobRecord } from '../../store/job-store.js';
import { formatProgress } from '../job-progress.js';
import { formatAge } from '../output.js';
import { formatReport } from './job-report-view.js';

/** What `plexlift status JOB` reads (the admin API's `jobs.get`). */
export interface JobStatus {
  // As it comes over the wire: what is undefined is absent.
  job: Pick<JobRecord, 'id' | 'state' | 'provider' | 'spec' | 'options' | 'createdAt'> & Partial<Pick<JobRecord, 'phase' | 'resource' | 'error' | 'report'>>;
  phases: { phase: string; state: string }[];
  /** The last progress of the phase under way. */
  progress?: Extract<AgentEvent, { type: 'phase:progress' }> | undefined;
  /** What a teardown under way waits for, in the provider's words. */
  waitingFor?: string | undefined;
}

const MARKS: Record<string, string> = { done: '✓', failed: '✗', skipped: '-' };

/** The states in which the job's machine may exist, and bills. */
const BILLED = new Set(['queued', 'provisioning', 'running', 'tearing-down']);

/** `plexlift status JOB` as a person reads it: where the job is, what it costs so far, what it waits for, its phases. */
export function formatJobStatus({ job, phases, progress, waitingFor }: JobStatus, now = Date.now()): string {
  const lines = [
    `job ${job.id}: ${job.state}${job.phase ? ` (${job.phase})` : ''}, ${job.spec.mode} on ${job.provider}, started ${formatAge(job.createdAt, now)} ago`,
  ];
  const price = typeof job.resource?.hourlyPrice === 'number' ? job.resource.hourlyPrice : undefined;
  if (price !== undefined && BILLED.has(job.state)) {
    const hours = Math.max(0, now - job.createdAt) / 3_600_000;
    lines.push(`  cost so far: ≈ ${(hours * price).toFixed(2)} € (${hours.toFixed(2)} h at ${price} €/h)`);
  }
  if (job.state === 'tearing-down') {
    lines.push(`  its machine is being deleted${waitingFor ? `: ${waitingFor}` : ''}; the job ends once nothing is left`);
  } else if (waitingFor) lines.push(`  teardown: ${waitingFor}`);
  if (job.state === 'verified' && job.options.noInstall && phases.some((p) => p.phase === 'install' && p.state === 'skipped'))
    lines.push(`  the archive is verified at home and waits: plexlift install ${job.id}`);
  for (const phase of phases) {
    // The phase under way with its percent, rate and ETA (a teardown's words are said above).
    const shown = progress?.phase === phase.phase && phase.phase !== 'teardown' ? formatProgress(progress).split(' | ').slice(1).join(' | ') : '';
    lines.push(`  ${MARKS[phase.state] ?? '›'} ${phase.phase} ${phase.state}${shown ? `: ${shown}` : ''}`);
  }
  if (job.error) lines.push(`  ${job.state === 'tearing-down' ? 'stopped by ' : ''}${job.error.code}: ${job.error.message}`);
  // A job under way has only the library as it found it: its report comes when it ends.
  if (job.report?.hours !== undefined) lines.push(formatReport(job.id, job.report));
  return lines.join('\n');
}
