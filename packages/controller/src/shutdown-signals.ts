import type { Logger } from './logger.js';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Waits for SIGTERM or SIGINT, then stops gracefully with `stop()`; a second signal, or the
 * stop running past `deadlineMs`, exits at once (as Graphile Worker does: systemd and a
 * ZimaBoard's reboot wait for us, a user pressing Ctrl-C twice means it). Nothing is lost by the
 * forced exit: every job resumes from the store at the next start, as after a kill.
 */
export async function untilShutdown(stop: () => Promise<void>, options: { deadlineMs: number; logger: Logger }): Promise<void> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const name of SIGNALS) process.once(name, () => resolve(name));
  });
  const force = (why: string) => {
    options.logger.warn(`${why}: exiting now; jobs resume at the next start`);
    process.exit(1);
  };
  for (const name of SIGNALS) process.once(name, () => force(`${name} again`));
  const deadline = setTimeout(() => force(`not stopped within ${options.deadlineMs / 1000} s`), options.deadlineMs).unref();
  options.logger.info(`${signal}: stopping; agents keep working and reconnect when plexlift is back`);
  await stop();
  clearTimeout(deadline);
}
