import { tracked, TRPCError } from '@trpc/server';
import { z } from 'zod';
import { isFinal, PlexliftError, RunRequestSchema } from '@plexlift/shared';
import type { JobControl } from '../jobs/job-control.js';
import type { JobStore } from '../store/job-store.js';
import type { JobBus } from '../store/job-bus.js';
import { adminProcedure, needs, router, viewerProcedure } from './trpc.js';

/** The procedures the CLI, the dashboard and other tools call: reads for any viewer, the rest for the admin. */
export function createAdminRouter(options: { jobs: JobStore; bus: JobBus; control: JobControl }) {
  /** A control this controller was started without (a test controller) is said so. */
  const jobId = z.object({ jobId: z.string().min(1) });
  const found = (id: string) => {
    const job = options.jobs.get(id);
    if (!job) throw new TRPCError({ code: 'NOT_FOUND', message: `no job ${id}` });
    return job;
  };
  return router({
    list: viewerProcedure
      .input(z.object({ limit: z.number().int().min(1).max(1000).default(50) }).optional())
      .query(({ input }) => options.jobs.list({ limit: input?.limit ?? 50 })),
    get: viewerProcedure.input(jobId).query(({ input }) => {
      const job = found(input.jobId);
      const phases = options.jobs.phases(input.jobId);
      // The phase under way's last word: percent, rate and ETA (or, for a machine being deleted,
      // what its teardown waits for, in the provider's words).
      const running = phases.filter((p) => p.state === 'running').map((p) => p.phase);
      const said = running.length > 0 ? options.jobs.lastEvent(input.jobId, 'phase:progress')?.event : undefined;
      const progress = said?.type === 'phase:progress' && running.includes(said.phase) ? said : undefined;
      const waitingFor = progress?.phase === 'teardown' ? progress.message : undefined;
      const meter = options.control.meter?.(input.jobId);
      return { job, phases, ...(progress ? { progress } : {}), ...(waitingFor ? { waitingFor } : {}), ...(meter ? { meter } : {}) };
    }),
    /** Stored events of a job after `afterId`, oldest first (`plexlift logs`). */
    log: viewerProcedure
      .input(
        jobId.extend({
          afterId: z.number().int().min(0).default(0),
          limit: z.number().int().min(1).max(10_000).default(1_000),
          /** The newest `limit` events instead of the first ones after `afterId`. */
          last: z.boolean().default(false),
          /** Only events at or after this time (epoch ms). */
          sinceAt: z.number().int().min(0).default(0),
          withCpu: z.boolean().default(true),
        }),
      )
      .query(({ input }) => {
        found(input.jobId);
        return options.jobs
          .events(input.jobId, { afterId: input.afterId, limit: input.limit, last: input.last, sinceAt: input.sinceAt, withoutCpu: !input.withCpu })
          .map((e) => ({ id: e.id, at: e.at, event: e.event }));
      }),
    /** A job's events as they are stored, resumed after `lastEventId` on a reconnect. */
    events: viewerProcedure.input(jobId.extend({ lastEventId: z.string().nullish() })).subscription(async function* ({ input, signal }) {
      found(input.jobId);
      const abort = signal ?? new AbortController().signal;
      const live = options.bus.events(input.jobId, abort);
      let after = input.lastEventId ? Number(input.lastEventId) : 0;
      for (const stored of options.jobs.events(input.jobId, { afterId: after })) {
        after = stored.id;
        yield tracked(String(stored.id), { at: stored.at, event: stored.event });
      }
      for await (const stored of live) {
        if (stored.id <= after) continue;
        after = stored.id;
        yield tracked(String(stored.id), { at: stored.at, event: stored.event });
      }
    }),
    run: adminProcedure.input(RunRequestSchema).mutation(({ input }) => needs(options.control.run, 'run jobs')(input)),
    install: adminProcedure.input(jobId.extend({ allowDeletions: z.boolean().default(false) })).mutation(({ input }) => {
      found(input.jobId);
      return needs(options.control.install, 'install')(input.jobId, { allowDeletions: input.allowDeletions });
    }),
    plan: adminProcedure.input(RunRequestSchema).query(({ input }) => needs(options.control.plan, 'run jobs')(input)),
    abort: adminProcedure.input(jobId.extend({ reason: z.string().default('asked by the user') })).mutation(async ({ input }) => {
      const job = found(input.jobId);
      if (isFinal(job.state))
        throw new PlexliftError('BAD_ARGUMENT', `job ${job.id} is ${job.state} already; there is nothing to abort`, { details: { state: job.state } });
      if (job.state === 'installing') {
        throw new PlexliftError(
          'BAD_ARGUMENT',
          `job ${job.id} is installing into home Plex: an install is never cut short (home would be half-done); it finishes or rolls back by itself`,
          {
            details: { state: job.state },
          },
        );
      }
      await options.control.abort(input.jobId, input.reason);
      return { aborted: input.jobId, state: options.jobs.get(input.jobId)?.state ?? job.state };
    }),
    land: adminProcedure.input(jobId.extend({ reason: z.string().max(500).default('asked by the user') })).mutation(({ input }) => {
      found(input.jobId);
      return needs(options.control.land, 'land jobs')(input.jobId, input.reason);
    }),
    progress: viewerProcedure.query(() => needs(options.control.progress, 'track progress')()),
    schedule: viewerProcedure.query(() => needs(options.control.schedule, 'schedule runs')()),
    vms: viewerProcedure.query(() => needs(options.control.holdings, 'list cloud resources')()),
    reap: adminProcedure
      .input(z.object({ dryRun: z.boolean().default(false) }))
      .mutation(({ input }) => needs(options.control.reap, 'reap orphans')(input.dryRun)),
  });
}
