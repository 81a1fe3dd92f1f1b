import cliProgress from 'cli-progress';
import { toTerminalJson } from './terminal-text.js';

/**
 * How much the CLI says besides results and errors (`-q`, `-v`): `quiet` drops info lines and
 * progress, `verbose` adds every job event as a line (also on a terminal) and where an error
 * came from (its stack).
 */
export type Verbosity = 'quiet' | 'normal' | 'verbose';

/**
 * Everything the CLI prints goes through here: results to stdout, progress and messages to
 * stderr, so `--json` output stays clean for scripts.
 */
export interface Output {
  json: boolean;
  verbosity: Verbosity;
  result(text: string): void;
  printJson(value: unknown): void;
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
  /** Said only with -v: where an error came from, and the like. */
  detail(text: string): void;
  progress(): Progress;
}

export function createOutput(options: { json: boolean; verbosity?: Verbosity; stdout?: NodeJS.WriteStream; stderr?: NodeJS.WriteStream }): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const verbosity = options.verbosity ?? 'normal';
  // A warning still shows with --quiet: it says something may be wrong, as an error does.
  const isSilent = options.json || verbosity === 'quiet';
  return {
    json: options.json,
    verbosity,
    result: (text) => stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    // Whatever a VM wrote in it (a section's title) reaches the terminal without its controls.
    printJson: (value) => stdout.write(`${toTerminalJson(value, 2)}\n`),
    info: (text) => {
      if (!isSilent) stderr.write(`${text}\n`);
    },
    warn: (text) => stderr.write(`warning: ${text}\n`),
    error: (text) => stderr.write(`plexlift: ${text}\n`),
    detail: (text) => {
      if (verbosity === 'verbose') stderr.write(`${text}\n`);
    },
    // Progress only on a terminal, never with --json or --quiet; elsewhere phases print as lines.
    progress: () => createProgress(stderr, !isSilent && stderr.isTTY === true, isSilent),
  };
}

/** Phase, percent, rate and ETA of long work. */
export interface Progress {
  phase(name: string): void;
  update(done: number, total: number, unit?: 'pages' | 'bytes' | 'steps'): void;
  stop(): void;
}

function createProgress(stream: NodeJS.WriteStream, isTty: boolean, quiet: boolean): Progress {
  let bar: cliProgress.SingleBar | undefined;
  let current = '';
  let startedAt = 0;
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    phase(name) {
      if (name === current) return;
      stopBar();
      current = name;
      if (!quiet) stream.write(`${isTty ? '› ' : ''}${name}\n`);
    },
    update(done, total, unit = 'steps') {
      if (!isTty || total <= 0) return;
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `  {bar} {percentage}% | {value}/{total} ${unit} | {speed} | ETA {eta_formatted}`,
            hideCursor: true,
            clearOnComplete: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, { speed: '' });
        startedAt = performance.now();
      }
      const seconds = (performance.now() - startedAt) / 1000;
      const rate = seconds > 0 ? done / seconds : 0;
      bar.setTotal(total);
      bar.update(done, { speed: `${formatRate(rate, unit)}` });
    },
    stop: stopBar,
  };
}

function formatRate(perSecond: number, unit: string): string {
  if (unit === 'bytes') return `${(perSecond / 1024 / 1024).toFixed(1)} MiB/s`;
  return `${Math.round(perSecond)} ${unit}/s`;
}

/** Aligns columns; the first row is the header. */
export function formatTable(rows: (string | number)[][]): string {
  const cells = rows.map((row) => row.map(String));
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((row) => [...(row[i] ?? '')].length))) ?? [];
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A list as JSON with --json; else `empty` when it has no items, else a table: `header`, then a `row` per item. */
export function printList<T>(output: Output, items: T[], table: { empty: string; header: string[]; row: (item: T) => (string | number)[] }): void {
  if (output.json) return output.printJson(items);
  if (items.length === 0) return output.result(table.empty);
  output.result(formatTable([table.header, ...items.map(table.row)]));
}

/** How long ago `ms` (epoch) was, as people say it: "12 min", "5 h", "3 days". */
export function formatAge(ms: number, now = Date.now()): string {
  const minutes = Math.max(0, Math.round((now - ms) / 60_000));
  return minutes < 60 ? `${minutes} min` : minutes < 48 * 60 ? `${Math.round(minutes / 60)} h` : `${Math.round(minutes / 1440)} days`;
}

/** A duration as people say it: "45 s", "12 min", "3 h 20 min", "2 days 4 h". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 90) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 > 0 ? ` ${minutes % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} days${hours % 24 > 0 ? ` ${hours % 24} h` : ''}`;
}
