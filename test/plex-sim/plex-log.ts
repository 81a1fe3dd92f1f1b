import { appendFileSync } from 'node:fs';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Thread ids as PMS prints them; one per role so lines group like the real log. */
const THREADS = {
  main: 140443274078864,
  http: 140443190213432,
  butler: 140443251936056,
  scanner: 140443234695992,
  activity: 140443219913528,
} as const;
export type LogThread = keyof typeof THREADS;

/**
 * Writes `Logs/Plex Media Server.log` in PMS's format (plex-api.md §7):
 * `Jun 04, 2026 03:41:13.606 [140443271535416] INFO - message`, in the server's time zone.
 */
export class PlexLog {
  private readonly format: Intl.DateTimeFormat;

  constructor(
    private readonly path: string,
    private readonly now: () => Date,
    timeZone: string,
  ) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      month: 'short',
      day: '2-digit',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
  }

  write(level: LogLevel, message: string, thread: LogThread = 'main'): void {
    const date = this.now();
    const parts = Object.fromEntries(this.format.formatToParts(date).map((p) => [p.type, p.value]));
    const millis = String(date.getMilliseconds()).padStart(3, '0');
    const stamp = `${parts.month} ${parts.day}, ${parts.year} ${parts.hour}:${parts.minute}:${parts.second}.${millis}`;
    appendFileSync(this.path, `${stamp} [${THREADS[thread]}] ${level} - ${message}\n`);
  }

  debug(message: string, thread?: LogThread): void {
    this.write('DEBUG', message, thread);
  }

  info(message: string, thread?: LogThread): void {
    this.write('INFO', message, thread);
  }

  warn(message: string, thread?: LogThread): void {
    this.write('WARN', message, thread);
  }

  error(message: string, thread?: LogThread): void {
    this.write('ERROR', message, thread);
  }
}
