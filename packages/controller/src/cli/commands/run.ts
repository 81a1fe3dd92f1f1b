import { Option, type Command } from 'commander';
import {
  bandwidthLimitProblem,
  EXIT_CODES,
  exitStatusOf,
  JobModeSchema,
  PlexliftError,
  PROVIDER_NAMES,
  RUN_FLAGS,
  type JobEstimate,
  type RunRequestInput,
} from '@plexlift/shared';
import { formatBytes } from '@plexlift/shared/plex-db';
import type { CostEstimate } from '../../jobs/job-control.js';
import { withController } from '../controller-connection.js';
import { createCommandAction } from '../command-action.js';
import { formatDuration } from '../output.js';
import { followJob } from './follow-job.js';

interface RunOptions extends Record<string, unknown> {
  mode: string;
  section: string[];
  provider?: string;
  wait?: boolean;
  dryRun?: boolean;
  maxHours?: string;
  maxCost?: string;
  bwlimit?: string;
  json?: boolean;
}

type RunFlag = keyof typeof RUN_FLAGS;

/** `noInstall` is commander's `--no-install`, which it stores as `install` (true by default). */
const negated = (name: string) => /^no[A-Z]/.test(name);
const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
const commanderKey = (name: string) => (negated(name) ? name[2]!.toLowerCase() + name.slice(3) : name);

/** The request's switches as the user set them on the command line (RUN_FLAGS: one flag each). */
function switchesOf(options: RunOptions): Record<RunFlag, boolean> {
  const entries = (Object.keys(RUN_FLAGS) as RunFlag[]).map((name) => {
    const value = options[commanderKey(name)];
    return [name, negated(name) ? value === false : value === true] as const;
  });
  return Object.fromEntries(entries) as Record<RunFlag, boolean>;
}

export function registerRun(program: Command): void {
  const run = program
    .command('run')
    .description('start a job: scan or delta, on the configured provider (the daemon runs it)')
    .addOption(
      offering('--mode <mode>', 'scan (a new library built in the cloud) or delta (home library updated)', JobModeSchema.options).makeOptionMandatory(),
    )
    .option('--section <name>', 'a section by name or id (repeat; default: every section)', (value: string, all: string[]) => [...all, value], [])
    .addOption(offering('--provider <name>', "where it runs (default: the config's provider)", PROVIDER_NAMES));
  for (const [name, field] of Object.entries(RUN_FLAGS)) run.option(`--${kebab(name)}`, field.description ?? name);
  run
    .option('--max-hours <hours>', "this run's time budget: it lands its work before it (within the provider's maxHours)")
    .option('--max-cost <euros>', "this run's cost budget: it lands its work before it (within the provider's maxCost)")
    .option(
      '--bwlimit <rate>',
      "this run's limit on the archive transfers, each way, as rclone writes it: 10M (MiB/s), 512K, bytes/s, off (default: transfers.bwlimit)",
    )
    .option('--wait', "follow the job until it ends; the exit status is the job's")
    .option('--dry-run', 'print the plan, the cost estimate and the checks; start nothing')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<RunOptions>(async ({ options, output, command }) => {
        const mode = JobModeSchema.safeParse(options.mode);
        if (!mode.success) throw new PlexliftError('BAD_ARGUMENT', `--mode: must be ${JobModeSchema.options.join(' or ')}, not "${options.mode}"`);
        const provider = options.provider;
        if (provider !== undefined && !(PROVIDER_NAMES as readonly string[]).includes(provider)) {
          throw new PlexliftError('BAD_ARGUMENT', `--provider: must be ${PROVIDER_NAMES.join(', ')}, not "${provider}"`);
        }
        const maxHours = positiveNumber('--max-hours', options.maxHours);
        const maxCost = positiveNumber('--max-cost', options.maxCost);
        const bwlimitProblem = options.bwlimit === undefined ? undefined : bandwidthLimitProblem(options.bwlimit);
        if (bwlimitProblem) throw new PlexliftError('BAD_ARGUMENT', `--bwlimit: ${bwlimitProblem}`);
        const request: RunRequestInput = {
          mode: mode.data,
          sections: options.section,
          ...switchesOf(options),
          ...(provider ? { provider: provider as (typeof PROVIDER_NAMES)[number] } : {}),
          ...(maxHours === undefined ? {} : { maxHours }),
          ...(maxCost === undefined ? {} : { maxCost }),
          ...(options.bwlimit === undefined ? {} : { bwlimit: options.bwlimit }),
        };
        return withController(command, async (client) => {
          if (options.dryRun) {
            const plan = await client.jobs.plan.query(request);
            if (output.json) return output.printJson(plan);
            const analyses = Object.entries(plan.spec.analyses)
              .filter(([, on]) => on)
              .map(([name]) => name);
            output.result(
              [
                `plan: a ${plan.spec.mode} job on ${plan.provider}, Plex ${plan.spec.plex.version}, sections ${plan.spec.sections.length > 0 ? plan.spec.sections.join(', ') : 'all'}`,
                `  media ${plan.spec.media.remote} at ${plan.spec.media.mountPath} (${plan.spec.media.vfsProfile}); analyses: ${plan.spec.skipAnalysis ? 'none' : analyses.join(', ')}${plan.spec.skipSonic ? ' (no Sonic)' : ''}`,
                `  cost: ${formatEstimate(plan)}`,
                ...(plan.spec.bwlimitBytesPerSecond ? [`  transfers: at most ${formatBytes(plan.spec.bwlimitBytesPerSecond)}/s each way`] : []),
                ...(plan.expected ? formatExpected(plan.expected) : []),
                ...plan.checks.map((c) => `${c.ok ? 'ok ' : 'FIX'}  ${c.name}: ${c.detail}`),
                'nothing was started (--dry-run)',
              ].join('\n'),
            );
            // A check that fails is something to fix in the set-up before any job can run.
            return plan.checks.every((c) => c.ok) ? EXIT_CODES.ok : exitStatusOf('CONFIG_INVALID');
          }
          const job = await client.jobs.run.mutate(request);
          output.info(`job ${job.id} started (${job.spec.mode}, provider ${job.provider}; ${formatEstimate(job.estimate)})`);
          if (job.estimate.expected) output.info(formatExpected(job.estimate.expected).join('\n'));
          if (!options.wait) {
            if (output.json) output.printJson(job);
            else output.result(job.id);
            return;
          }
          return await followJob(client, job.id, output);
        });
      }),
    );
}

/** "0.2128 €/h, lands its work before 6 h or 3 €, stopped at 12 h or 10 € whatever happens" */
function formatEstimate(estimate: CostEstimate): string {
  const { budget } = estimate;
  const limits =
    budget &&
    [
      budget.maxHours === undefined ? undefined : `${budget.maxHours} h`,
      budget.maxCost === undefined || estimate.hourlyPrice === 0 ? undefined : `${budget.maxCost} €`,
      budget.deadline === undefined ? undefined : new Date(budget.deadline).toLocaleString(),
    ].filter(Boolean);
  const lands = limits && limits.length > 0 ? `lands its work before ${limits.join(' or ')}` : undefined;
  const caps = estimate.caps ? `stopped at ${estimate.caps.maxHours} h or ${estimate.caps.maxCost} € whatever happens` : undefined;
  const price = estimate.hourlyPrice === 0 && !estimate.caps ? 'nothing to pay' : `${estimate.hourlyPrice} €/h`;
  return [price, lands, caps].filter(Boolean).join(', ');
}

/** "expected: about 14 min, ≈ 0.05 € (from 2 past delta runs of this library)", then the phases that take time. */
function formatExpected(expected: JobEstimate): string[] {
  const phases = Object.entries(expected.phases)
    .filter(([, seconds]) => seconds >= 1)
    .map(([phase, seconds]) => `${phase} ${formatDuration(seconds)}`);
  return [
    `  expected: about ${formatDuration(expected.seconds)}${expected.cost === undefined ? '' : `, ≈ ${expected.cost} €`} (from ${expected.basis})`,
    `    ${phases.join(', ')}`,
  ];
}

/**
 * An option whose values help and shell completion list, checked by the action (its message names
 * the flag, the values and the one given): `.choices()` records them, the parser after it takes
 * commander's own check back out.
 */
function offering(flags: string, description: string, values: readonly string[]): Option {
  return new Option(flags, description).choices(values).argParser(String);
}

/** A budget flag's value: a positive number, or a usage error naming the flag. */
function positiveNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new PlexliftError('BAD_ARGUMENT', `${flag}: must be a positive number, not "${value}"`);
  return number;
}
