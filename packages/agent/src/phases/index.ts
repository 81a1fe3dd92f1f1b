import type { AgentPhaseName } from '@plexlift/shared/protocol';
import type { JobState } from '../job-state.js';
import { analyze } from './analyze.js';
import { connect } from './connect.js';
import { exportPhase } from './export.js';
import { mount } from './mount.js';
import type { Phase } from './phase.js';
import { plexStart } from './plex-start.js';
import { plexStop } from './plex-stop.js';
import { preflight } from './preflight.js';
import { refresh } from './refresh.js';
import { remap } from './remap.js';
import { repair } from './repair.js';
import { restore } from './restore.js';
import { scan } from './scan.js';
import { sonic } from './sonic.js';
import { stabilize } from './stabilize.js';
import { upload } from './upload.js';
import { warm } from './warm.js';

/** The agent's phases in contract order; a missing one fails to compile. */
export const AGENT_PHASES = {
  connect,
  mount,
  restore,
  repair,
  remap,
  'plex-start': plexStart,
  preflight,
  scan,
  warm,
  analyze,
  refresh,
  stabilize,
  sonic,
  'plex-stop': plexStop,
  export: exportPhase,
  upload,
} satisfies Record<AgentPhaseName, Phase<JobState>>;

export const AGENT_PHASE_LIST: Phase<JobState>[] = Object.values(AGENT_PHASES);
