import { useEffect, useRef, useState } from 'preact/hooks';
import type { DaemonClient, JobDetail } from '../api.js';
import { formatDuration, formatNumber } from '../format.js';
import { CpuChart, type CpuPoint } from './cpu-chart.js';
import { JobActions } from './job-actions.js';
import { JobMeter } from './job-meter.js';
import { JobReport } from './job-report.js';

/** The readings the chart keeps (a reading every 15 s: more than a day). */
const MAX_CPU_POINTS = 10_000;

type Progress = NonNullable<JobDetail['progress']>;

/** The phases that move an archive: the meter's bytes grow during them. */
const TRANSFERS = new Set(['restore', 'upload']);

/** Final states: nothing more happens to such a job. */
const ENDED = new Set(['done', 'failed', 'aborted']);

/**
 * One job, live: its phases as a timeline, the phase under way with its percent, rate and ETA
 * (the daemon's, as the CLI shows them), and, for the admin, its actions with what each will do.
 */
export function JobView({ client, jobId, canAct }: { client: DaemonClient; jobId: string; canAct: boolean }) {
  const [detail, setDetail] = useState<JobDetail | undefined>();
  const [progress, setProgress] = useState<Progress | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [cpu, setCpu] = useState<CpuPoint[]>([]);
  // The job asked again on demand (after an action), without replaying its events.
  const refresh = useRef<() => void>(() => undefined);

  useEffect(() => {
    let live = true;
    let loadedAt = 0;
    const load = () => {
      loadedAt = Date.now();
      return client.jobs.get
        .query({ jobId })
        .then((got) => {
          if (!live) return;
          setError(undefined);
          setDetail(got);
          setProgress(got.progress);
        })
        .catch((failure: unknown) => live && setError((failure as Error).message));
    };
    refresh.current = () => void load();
    void load();
    // A job's history replays its readings at once: they are drawn in batches, not one by one.
    const readings: CpuPoint[] = [];
    let flush: ReturnType<typeof setTimeout> | undefined;
    // Every event of the job as it is stored: progress moves the bar, a phase's start or end the timeline.
    const subscription = client.jobs.events.subscribe(
      { jobId },
      {
        onData: ({ data }) => {
          const { event } = data;
          if (event.type === 'cpu:sample') {
            readings.push({ at: data.at, percent: event.percent });
            if (readings.length > MAX_CPU_POINTS) readings.splice(0, readings.length - MAX_CPU_POINTS);
            flush ??= setTimeout(() => {
              flush = undefined;
              if (live) setCpu([...readings]);
            }, 250);
          }
          if (event.type === 'phase:progress') {
            setProgress(event);
            // A transfer's bytes are the daemon's to count: asked again, at most every 10 s.
            if (TRANSFERS.has(event.phase) && Date.now() - loadedAt > 10_000) void load();
          }
          if (event.type === 'phase:start' || event.type === 'phase:complete' || event.type === 'phase:fail') void load();
        },
        onError: (failure) => setError(failure.message),
      },
    );
    return () => {
      live = false;
      clearTimeout(flush);
      subscription.unsubscribe();
    };
  }, [client, jobId]);

  if (error)
    return (
      <p role="alert">
        Cannot show job {jobId}: {error}
      </p>
    );
  if (!detail) return <p aria-busy="true">Loading job {jobId}…</p>;
  const { job, phases } = detail;
  const running = phases.find((p) => p.state === 'running');
  const shown = running && progress?.phase === running.phase ? progress : undefined;
  return (
    <article aria-labelledby="job-title">
      <h2 id="job-title">
        Job {job.id} <span class={`state state-${job.state}`}>{job.state}</span>
      </h2>
      <p class="muted">
        A {job.spec.mode} job on {job.provider}
        {job.error ? `: ${job.error.message}` : ''}
      </p>
      {running && (
        <section aria-label="Phase under way" class="now">
          <h3>{running.phase}</h3>
          <progress max={100} value={shown?.percent ?? 0} aria-label={`${running.phase} progress`}>
            {shown?.percent ?? 0}%
          </progress>
          <p class="figures" data-testid="progress-figures">
            {shown?.percent === undefined ? '…' : `${Math.round(shown.percent)}%`}
            {shown?.rate ? ` · ${formatNumber(shown.rate.value)} ${shown.rate.unit}` : ''}
            {shown?.etaMs === undefined ? '' : ` · ETA ${formatDuration(shown.etaMs)}`}
            {shown?.message ? ` · ${shown.message}` : ''}
          </p>
        </section>
      )}
      {detail.meter && <JobMeter meter={detail.meter} state={job.state} createdAt={job.createdAt} />}
      {(running || cpu.length > 0) && <CpuChart points={cpu} />}
      {job.report && (ENDED.has(job.state) || job.state === 'verified') && <JobReport report={job.report} />}
      {phases.length > 0 && (
        <section aria-label="Phases">
          <h3>Phases</h3>
          <ol class="timeline">
            {phases.map((p) => (
              <li key={p.phase} class={`phase phase-${p.state}`}>
                <span class="phase-name">{p.phase}</span> <span class="phase-state">{p.state}</span>
                {p.startedAt !== undefined && p.finishedAt !== undefined ? <span class="muted"> {formatDuration(p.finishedAt - p.startedAt)}</span> : null}
              </li>
            ))}
          </ol>
        </section>
      )}
      {canAct && <JobActions client={client} detail={detail} onChanged={() => refresh.current()} />}
    </article>
  );
}
