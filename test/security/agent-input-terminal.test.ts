import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '@plexlift/shared/protocol';
import { createJobProgress } from '../../packages/controller/src/cli/job-progress.js';
import { runCli } from '../utils/run-cli.js';
import { ADMIN_TOKEN, JOB_ID, startPortController } from './port-controller.js';

/** What a terminal acts on: ESC, the 8-bit CSI/OSC, BEL, a carriage return, backspace, bidi overrides. */
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const hostile = [
  'title \u001b]0;pwned\u0007 set',
  'clear \u001b[2J\u001b[H screen',
  'eight-bit \u009b31m red',
  'fake\rline',
  'new\nline: 10:00:00 info: all good',
  'back\u0008space and \u202eoverride',
].join(' | ');

const events: AgentEvent[] = [
  { type: 'log', level: 'info', message: hostile },
  { type: 'phase:progress', phase: 'scan', percent: 10, rate: { value: 3, unit: 'items/s\u001b[1A' }, message: hostile },
  { type: 'phase:fail', phase: 'scan', code: 'X\u001b[31m', message: hostile },
  { type: 'phase:complete', phase: 'warm', summary: { note: hostile } },
];

describe("an agent's text on the admin's terminal (issue 16 item 20)", () => {
  it('`plexlift logs` prints no escape sequence or control character the agent sent, in text or JSON', async () => {
    const { controller } = await startPortController();
    events.forEach((event, i) => controller.jobs.appendEvent(JOB_ID, `${JOB_ID}:${i}`, event));
    const env = { env: { PLEXLIFT_URL: controller.server.url, PLEXLIFT_TOKEN: ADMIN_TOKEN } };
    const text = await runCli(['logs', JOB_ID], env);
    expect(text.status, text.stderr).toBe(0);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(events.length);
    for (const line of lines) expect(line).not.toMatch(TERMINAL_CONTROLS);
    expect(lines[0]).toContain('title  set | clear  screen | eight-bit  red | fake line | new line: 10:00:00 info: all good');

    const json = await runCli(['logs', JOB_ID, '--json'], env);
    const jsonLines = json.stdout.trimEnd().split('\n');
    for (const line of jsonLines) expect(line).not.toMatch(TERMINAL_CONTROLS);
    // Still JSON, and still what the agent sent (for tools that read it).
    expect((JSON.parse(jsonLines[0]!) as { event: AgentEvent }).event).toEqual(events[0]);
  });

  it('the progress display of `plexlift run` prints none either', () => {
    const stream = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream & PassThrough;
    const progress = createJobProgress(stream);
    for (const event of events) progress.event(event);
    const printed = String((stream as PassThrough).read());
    expect(printed.split('\n').filter(Boolean)).toHaveLength(events.length);
    expect(printed.replaceAll('\n', '')).not.toMatch(TERMINAL_CONTROLS);
  });
});
