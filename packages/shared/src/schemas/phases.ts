import { z } from 'zod';

/** The phases of a job, in contract order (DESIGN.md, "A job"): events, CLI and tests use these names. */
export const PHASE_NAMES = [
  'provision',
  'connect',
  'mount',
  'restore',
  'repair',
  'remap',
  'plex-start',
  'preflight',
  'scan',
  'warm',
  'analyze',
  'refresh',
  'stabilize',
  'sonic',
  'plex-stop',
  'export',
  'upload',
  'teardown',
  'install',
] as const;

export const PhaseNameSchema = z.enum(PHASE_NAMES);
export type PhaseName = z.infer<typeof PhaseNameSchema>;

/** The phases the agent runs; the controller runs provision, teardown and install. */
export const AGENT_PHASE_NAMES = PHASE_NAMES.filter(
  (name): name is Exclude<PhaseName, 'provision' | 'teardown' | 'install'> => !['provision', 'teardown', 'install'].includes(name),
);
export type AgentPhaseName = (typeof AGENT_PHASE_NAMES)[number];
