import type { AgentEvent } from '@plexlift/shared/protocol';

/** How much of Plex's console output reaches the job's log: the end is what explains a failure. */
export const PLEX_OUTPUT_LINES = 200;

// What a token looks like wherever Plex or its image's init might print one (plex-api.md §1–2).
const SECRET_PATTERNS: RegExp[] = [
  /(X-Plex-Token[=:]\s*)[^\s&"']+/gi,
  /([?&]token=)[^\s&"']+/gi,
  /(PlexOnlineToken=")[^"]*/g,
  /(PLEX_CLAIM=)\S+/g,
  /\bclaim-[\w-]+/g,
];

/**
 * Plex's console output with every secret masked: the tokens this job knows (the claim token),
 * and anything shaped like a Plex token or claim. It goes to the agent's log and the job's
 * events, which must never carry one.
 */
export function maskPlexOutput(line: string, secrets: readonly (string | undefined)[] = []): string {
  let masked = line;
  for (const secret of secrets) if (secret && secret.length >= 4) masked = masked.split(secret).join('***');
  for (const pattern of SECRET_PATTERNS) masked = masked.replace(pattern, (_match, prefix: unknown) => `${typeof prefix === 'string' ? prefix : ''}***`);
  return masked;
}

/** Keeps the last `limit` lines. */
export class OutputTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly limit = PLEX_OUTPUT_LINES) {}

  /** A chunk of a stream: complete lines are kept, the rest waits for its end. */
  write(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.push(line);
  }

  push(line: string): void {
    this.lines.push(line.replace(/\r$/, ''));
    if (this.lines.length > this.limit) this.lines.splice(0, this.lines.length - this.limit);
  }

  /** The lines kept so far (and a last unterminated one), emptying the tail. */
  take(): string[] {
    if (this.partial) this.push(this.partial);
    this.partial = '';
    return this.lines.splice(0);
  }
}

/** Reports Plex's console output as one `log` event of the job, when there is any. */
export function reportPlexOutput(report: (event: AgentEvent) => void, output: readonly string[] | undefined): void {
  const lines = (output ?? []).filter((line) => line.trim() !== '');
  if (lines.length > 0)
    report({
      type: 'log',
      level: 'info',
      message: `Plex's console output (last ${lines.length === 1 ? 'line' : `${lines.length} lines`}):\n${lines.join('\n')}`,
    });
}
