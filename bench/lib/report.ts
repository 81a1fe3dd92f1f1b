/** One benchmark's part of `bench/RESULTS.md`, also printed as it is made. */
export class Report {
  private readonly lines: string[] = [];
  readonly targets: { target: string; value: string; met: boolean }[] = [];

  constructor(readonly title: string) {
    console.log(`\n== ${title}`);
  }

  line(text = ''): void {
    this.lines.push(text);
    console.log(text);
  }

  table(header: string[], rows: string[][]): void {
    this.line(`| ${header.join(' | ')} |`);
    this.line(`|${header.map(() => '---').join('|')}|`);
    for (const row of rows) this.line(`| ${row.join(' | ')} |`);
    this.line();
  }

  /** A target of the issue, and whether this run met it. */
  target(target: string, value: string, met: boolean): void {
    this.targets.push({ target, value, met });
  }

  markdown(): string {
    const targets = this.targets.length
      ? ['| target | this run | |', '|---|---|---|', ...this.targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? 'met' : '**missed**'} |`), '']
      : [];
    return [`## ${this.title}`, '', ...targets, ...this.lines, ''].join('\n');
  }
}

/** "3 → 4 → 5" for the frames' levels ("3 throughout" for one; first, last and highest for many). */
export function describeLevels(levels: number[]): string {
  if (levels.length <= 1) return `${levels[0] ?? 3} throughout`;
  if (levels.length <= 8) return levels.join(' → ');
  return `${levels[0]} → … → ${levels.at(-1)} (${levels.length} frames, highest ${Math.max(...levels)})`;
}
