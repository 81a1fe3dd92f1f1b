/** What a process on this machine may pass on to an agent: the basics of a shell, locale, Node, Plex and plexlift's own knobs. */
const PASSED = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|TZ|TMPDIR|LC_\w+|NODE_\w+|PLEX_\w+|PLEXLIFT_\w+)$/;
/** Never passed, whatever its prefix: the agent gets its secrets over its authenticated channel. */
const SECRET = /TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|CLAIM/i;

/**
 * The environment of an agent started on this machine (the local provider): the daemon's own
 * holds the cloud's keys (`SCW_*`), the admin token and whatever the service was given, none of
 * which an agent, its rclone or its Plex may see.
 */
export function agentEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name, value]) => value !== undefined && PASSED.test(name) && !SECRET.test(name)));
}
