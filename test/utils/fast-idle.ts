/**
 * The agent's idle profiles for tests: Plex's own signals (activities, `refreshing`, the update
 * queue) decide in a fraction of a second. The CPU reading is the whole test machine's, shared
 * with every other test running beside this one, so it never holds a wait: the threshold is
 * above what any reading can be.
 */
const FAST = { graceMs: 150, intervalMs: 50, consecutive: 3, cpuThresholdPercent: 101, timeoutMs: 120_000 };

export const FAST_IDLE = { scan: FAST, analyze: FAST, refresh: FAST };
