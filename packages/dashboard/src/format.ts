/** "2m30s", "1h05m": how long, as the CLI says it. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** 1,234 for large counts, one decimal for small ones. */
export function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : String(Math.round(value * 10) / 10);
}

export function formatTime(at: number): string {
  return new Date(at).toLocaleString();
}

/** "12 min", "3 h", "2 days": an age or a wait, as `plexlift vms` and `schedule` say it. */
export function formatRoughDuration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  return minutes < 60 ? `${minutes} min` : minutes < 48 * 60 ? `${Math.round(minutes / 60)} h` : `${Math.round(minutes / 1440)} days`;
}

/** "1,234 of 5,000 (24.6 %)": rounded down, so 100 % means all of it. */
export function formatDoneOf(done: number, total: number): string {
  const percent = total > 0 ? Math.floor((1000 * done) / total) / 10 : 100;
  return `${formatNumber(done)} of ${formatNumber(total)} (${percent.toFixed(1)} %)`;
}

/** The message of a failed call: the daemon's words for a refused one. */
export function messageOf(failure: unknown): string {
  return failure instanceof Error ? failure.message : String(failure);
}

/** "12.3 MB": bytes in decimal units, as a person reads a download. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
