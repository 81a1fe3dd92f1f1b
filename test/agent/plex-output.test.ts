import { describe, expect, it } from 'vitest';
import { maskPlexOutput, OutputTail, reportPlexOutput } from '../../packages/agent/src/plex/plex-output.js';
import type { AgentEvent } from '@plexlift/shared/protocol';

describe("Plex's console output", () => {
  it('masks the claim token it was given and anything shaped like a Plex token', () => {
    const claim = 'claim-AbCdEf123456';
    expect(maskPlexOutput(`Attempting to obtain server token from claim token ${claim}`, [claim])).toBe(
      'Attempting to obtain server token from claim token ***',
    );
    expect(maskPlexOutput('GET /library/sections?X-Plex-Token=xyzSECRET123&type=1')).toBe('GET /library/sections?X-Plex-Token=***&type=1');
    expect(maskPlexOutput('header X-Plex-Token: abcDEF987')).toBe('header X-Plex-Token: ***');
    expect(maskPlexOutput('POST /myplex/claim?token=claim-zzz999')).toBe('POST /myplex/claim?token=***');
    expect(maskPlexOutput('<Preferences PlexOnlineToken="tok3n-value" />')).toBe('<Preferences PlexOnlineToken="***" />');
    expect(maskPlexOutput('env PLEX_CLAIM=claim-qqq PLEX_UID=1000')).toBe('env PLEX_CLAIM=*** PLEX_UID=1000');
    expect(maskPlexOutput('Starting Plex Media Server. . . (you can ignore the libusb_init error)')).toBe(
      'Starting Plex Media Server. . . (you can ignore the libusb_init error)',
    );
  });

  it('keeps the last lines of a stream, joining chunks split mid-line', () => {
    const tail = new OutputTail(3);
    tail.write('one\ntw');
    tail.write('o\r\nthree\nfour\nfi');
    expect(tail.take()).toEqual(['three', 'four', 'fi']);
    expect(tail.take()).toEqual([]);
  });

  it('becomes one log event of the job, and none when Plex printed nothing', () => {
    const events: AgentEvent[] = [];
    reportPlexOutput((event) => events.push(event), ['', '  ']);
    reportPlexOutput((event) => events.push(event), undefined);
    expect(events).toEqual([]);
    reportPlexOutput((event) => events.push(event), ['Starting Plex Media Server.', '']);
    expect(events).toEqual([{ type: 'log', level: 'info', message: "Plex's console output (last line):\nStarting Plex Media Server." }]);
  });
});
