import { describe, expect, it } from 'vitest';
import { parseJobSpec, type JobSpecInput } from './job-spec.js';

const valid: JobSpecInput = {
  jobId: 'job-2026-11-21',
  mode: 'delta',
  plex: { version: '1.43.2.10687-563d026ea' },
  media: { mountPath: '/Media', remote: 's3:media' },
};

describe('parseJobSpec', () => {
  it('fills the defaults of a minimal delta job', () => {
    expect(parseJobSpec(valid)).toEqual({
      ...valid,
      sections: [],
      libraries: [],
      forceRefresh: false,
      skipAnalysis: false,
      skipSonic: false,
      allowDeletions: false,
      deletionCap: { maxPercent: 5, maxItems: 100 },
      media: { mountPath: '/Media', remote: 's3:media', vfsProfile: 'standard' },
      mappings: [],
      analyses: {},
      offline: { holdAfterMinutes: 30 },
    });
  });

  it('names every bad field at once', () => {
    const bad = {
      ...valid,
      jobId: 'X',
      plex: { version: 'latest' },
      media: { mountPath: 'Media', remote: '', vfsProfile: 'huge' },
      deletionCap: { maxPercent: 150 },
      unknownKey: 1,
    };
    let message = '';
    try {
      parseJobSpec(bad);
    } catch (error) {
      expect(error).toMatchObject({ code: 'BAD_ARGUMENT', exitCode: 2 });
      message = (error as Error).message;
    }
    for (const field of [
      'jobId: must be 4–64',
      'plex.version: must be a full PMS version',
      'media.mountPath: must be an absolute path',
      'media.remote',
      'media.vfsProfile',
      'deletionCap.maxPercent',
      'unknownKey',
    ]) {
      expect(message).toContain(field);
    }
  });

  it('needs libraries for a scan job and checks the path mappings', () => {
    expect(() => parseJobSpec({ ...valid, mode: 'scan' })).toThrow('job spec: libraries: a scan job needs at least one library to create');
    expect(() =>
      parseJobSpec({
        ...valid,
        mappings: [
          { from: '/a', to: '/b' },
          { from: '/b', to: '/c' },
        ],
      }),
    ).toThrow(/job spec: mappings: .*chain/);
    expect(parseJobSpec({ ...valid, mode: 'scan', libraries: [{ name: 'Movies', type: 'movie', locations: ['/Media/Movies'] }] }).libraries).toHaveLength(1);
  });

  it('refuses a library outside the media mount and an archive remote that is not an rclone path', () => {
    expect(() =>
      parseJobSpec({ ...valid, mode: 'scan', libraries: [{ name: 'Movies', type: 'movie', locations: ['/Media/Movies', '/MediaX/Films'] }] }),
    ).toThrow('job spec: libraries.0.locations.1: /MediaX/Films is not under the media mount /Media, so Plex on the VM would find nothing there');
    expect(() => parseJobSpec({ ...valid, offline: { archiveRemote: '/tmp/archives' } })).toThrow(
      'job spec: offline.archiveRemote: must be an rclone remote path',
    );
    expect(parseJobSpec({ ...valid, offline: { holdAfterMinutes: 5, archiveRemote: 's3:bucket/plexlift' } }).offline).toEqual({
      holdAfterMinutes: 5,
      archiveRemote: 's3:bucket/plexlift',
    });
  });
});
