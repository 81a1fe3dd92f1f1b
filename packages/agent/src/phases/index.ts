import type { AgentPhaseName, PHASE_NAMES } from '@plexlift/shared/protocol';
import type { ProductName } from '../job-state.js';
import { analyze } from './analyze.js';
import { connect } from './connect.js';
import { exportPhase } from './export.js';
import { mount } from './mount.js';
import type { AnyPhase, Phase } from './phase.js';
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
const AGENT_PHASES = {
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
} satisfies Record<AgentPhaseName, AnyPhase>;

type NeedsOf<P> = P extends Phase<infer Needs, ProductName> ? Needs : never;
type MakesOf<P> = P extends Phase<ProductName, infer Makes> ? Makes : never;

/** Walks the phases in contract order: the first need no earlier phase makes, as a message. */
type UnmetNeed<Names extends readonly unknown[], Made extends ProductName = never> = Names extends readonly [infer Name, ...infer Rest]
  ? Name extends keyof typeof AGENT_PHASES
    ? [Exclude<NeedsOf<(typeof AGENT_PHASES)[Name]>, Made>] extends [never]
      ? UnmetNeed<Rest, Made | MakesOf<(typeof AGENT_PHASES)[Name]>>
      : `${Name} needs ${Exclude<NeedsOf<(typeof AGENT_PHASES)[Name]>, Made>}, which no phase before it makes`
    : UnmetNeed<Rest, Made>
  : never;

/** The registry as it compiles: a phase that needs what no earlier phase makes fails here, named. */
type CheckedRegistry = [UnmetNeed<typeof PHASE_NAMES>] extends [never] ? Record<AgentPhaseName, AnyPhase> : UnmetNeed<typeof PHASE_NAMES>;

export const AGENT_PHASE_LIST: AnyPhase[] = Object.values(AGENT_PHASES satisfies CheckedRegistry);
