/**
 * A clock offset for a double that a test starts without a clock of its own: in or near the
 * default Butler window (02–05 in the server's zone), the clock is moved six hours on, so the
 * Butler's nightly run (Sonic included) never meets a test by the time of day it runs at. A test
 * about the Butler sets `clockOffsetMs` itself.
 */
export function clearOfButlerWindow(timeZone = 'UTC'): number {
  const hour = Number(new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', hourCycle: 'h23' }).format(new Date()));
  return hour >= 1 && hour < 6 ? 6 * 3_600_000 : 0;
}
