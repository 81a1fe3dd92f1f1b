import cliProgress from 'cli-progress';
import type { AgentEvent } from '@plexlift/shared/protocol';
import { toTerminalText } from './terminal-text.js';

/** How one progress event reads: phase, percent, rate, ETA, message (the agent's text made safe to print). */
export function formatProgress(event: Extract<AgentEvent, { type: 'phase:progress' }>): string {
  const parts: string[] = [event.phase];
  if (event.percent !== undefined) parts.push(`${event.percent.toFixed(0)}%`);
  if (event.rate) parts.push(`${formatNumber(event.rate.value)} ${toTerminalText(event.rate.unit)}`);
  if (event.etaMs !== undefined) parts.push(`ETA ${formatEta(event.etaMs)}`);
  if (event.message) parts.push(toTerminalText(event.message));
  return parts.join(' | ');
}

export function formatEta(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function formatNumber(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : String(Math.round(value * 10) / 10);
}

/**
 * Renders a job's events as it runs: on a terminal a bar for the phase in flight (phase,
 * percent, rate, ETA), elsewhere (or with `asLines`, for -v) one line per event, so logs and
 * captured output read alike.
 */
export function createJobProgress(stream: NodeJS.WriteStream, options: { asLines?: boolean } = {}) {
  const tty = stream.isTTY === true && options.asLines !== true;
  let bar: cliProgress.SingleBar | undefined;
  let lastLine = '';
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    event(event: AgentEvent): void {
      switch (event.type) {
        case 'phase:start':
          stopBar();
          stream.write(`› ${event.phase}\n`);
          return;
        case 'phase:progress':
          // A step with nothing to measure (the install's "home Plex is down: …", a teardown's
          // wait) reads as a line of its own, not as a bar at 0 %; the same line twice is said once.
          if (!tty || (event.percent === undefined && event.rate === undefined)) {
            const line = `  ${formatProgress(event)}`;
            if (line === lastLine) return;
            stopBar();
            stream.write(`${line}\n`);
            lastLine = line;
            return;
          }
          // The daemon's ETA and rate, never cli-progress's own guess: its `{eta}` token is taken.
          bar ??= new cliProgress.SingleBar(
            { stream, format: '  {bar} {percentage}% | {rate} | ETA {timeLeft} | {message}', hideCursor: true, clearOnComplete: true },
            cliProgress.Presets.shades_classic,
          );
          if (!bar.isActive) bar.start(100, 0, { rate: '…', timeLeft: '…', message: '' });
          bar.update(Math.min(100, Math.max(0, event.percent ?? 0)), {
            rate: event.rate ? `${formatNumber(event.rate.value)} ${toTerminalText(event.rate.unit)}` : '…',
            timeLeft: event.etaMs === undefined ? '…' : formatEta(event.etaMs),
            message: toTerminalText(event.message ?? ''),
          });
          return;
        case 'phase:complete':
          // A phase that ends is whole: its bar reaches 100 % (and clears) before the tick.
          bar?.update(100);
          stopBar();
          stream.write(`✓ ${event.phase}${event.summary.skipped === true ? ' (skipped)' : ''}\n`);
          return;
        case 'phase:fail':
          stopBar();
          stream.write(`✗ ${event.phase}: ${toTerminalText(event.message)}\n`);
          return;
        case 'log':
          stopBar();
          stream.write(`  ${event.level === 'info' ? '' : `${event.level}: `}${toTerminalText(event.message)}\n`);
          return;
        case 'cpu:sample':
          return;
      }
    },
    stop: stopBar,
  };
}
