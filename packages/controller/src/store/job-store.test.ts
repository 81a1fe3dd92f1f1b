import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { createTempDir } from '../../../../test/utils/temp-dir.js';
import { JobStore } from './job-store.js';
import { openStoreDatabase } from './schema.js';
import { TokenStore } from './token-store.js';

const spec = parseJobSpec({
  jobId: 'job-0001',
  mode: 'delta',
  plex: { version: '1.43.2.10687-563d026ea' },
  media: { mountPath: '/Media', remote: 's3:media' },
});
const options = { keep: false, noInstall: false };

function open(path = join(createTempDir(), 'state.db'), now = () => 1_000) {
  const db = openStoreDatabase(path);
  return { db, path, jobs: new JobStore(db, now), tokens: new TokenStore(db, now) };
}

describe('JobStore', () => {
  it('is WAL with synchronous FULL, and keeps everything across a reopen', () => {
    const { db, path, jobs } = open();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    jobs.create({ id: 'job-0001', library: 'home', provider: 'local', spec, options });
    db.close();
    const again = open(path);
    expect(again.jobs.get('job-0001')).toMatchObject({ state: 'queued', version: 0, spec, options });
    expect(again.db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('allows one live job per home library (safety rule 7), and a new one once it ended', () => {
    const { jobs } = open();
    const first = jobs.create({ id: 'job-0001', library: 'home', provider: 'local', spec, options });
    expect(() => jobs.create({ id: 'job-0002', library: 'home', provider: 'local', spec, options })).toThrow(
      /job job-0001 is still queued on this library; one job at a time/,
    );
    jobs.create({ id: 'job-0003', library: 'other', provider: 'local', spec, options });
    jobs.transition(first, 'queued', 'aborted');
    expect(jobs.create({ id: 'job-0002', library: 'home', provider: 'local', spec, options }).state).toBe('queued');
  });

  it('moves a job only by compare-and-set: a stale writer loses, an invalid move is refused', () => {
    const { jobs } = open();
    const job = jobs.create({ id: 'job-0001', library: 'home', provider: 'local', spec, options });
    const moved = jobs.transition(job, 'queued', 'provisioning');
    expect(moved).toMatchObject({ state: 'provisioning', version: 1 });
    expect(jobs.transition(job, 'queued', 'provisioning')).toBeUndefined(); // read before the move
    expect(() => jobs.transition(moved!, 'provisioning', 'done')).toThrow('provisioning → done is not a valid move');
    const failed = jobs.transition(moved!, 'provisioning', 'failed', { error: { code: 'PLEX_API_ERROR', message: 'boom' } });
    expect(failed).toMatchObject({ state: 'failed', error: { code: 'PLEX_API_ERROR', message: 'boom' }, finishedAt: 1_000 });
  });

  it('stores each event once per key and keeps the phase table from them', () => {
    const { jobs } = open();
    jobs.create({ id: 'job-0001', library: 'home', provider: 'local', spec, options });
    expect(jobs.appendEvent('job-0001', 'job-0001:1', { type: 'phase:start', phase: 'scan' })).toMatchObject({ id: 1 });
    expect(jobs.appendEvent('job-0001', 'job-0001:1', { type: 'phase:start', phase: 'scan' })).toBeUndefined();
    jobs.appendEvent('job-0001', 'job-0001:2', { type: 'phase:complete', phase: 'scan', summary: { files: 3 } });
    jobs.appendEvent('job-0001', 'job-0001:3', { type: 'phase:complete', phase: 'refresh', summary: { skipped: true } });
    expect(jobs.events('job-0001').map((e) => e.event.type)).toEqual(['phase:start', 'phase:complete', 'phase:complete']);
    expect(jobs.events('job-0001', { afterId: 2 })).toHaveLength(1);
    expect(jobs.get('job-0001')?.phase).toBe('scan');
    expect(jobs.phases('job-0001').map((p) => [p.phase, p.state, p.summary])).toEqual([
      ['scan', 'done', { files: 3 }],
      ['refresh', 'skipped', { skipped: true }],
    ]);
  });

  it('prunes finished jobs by age with what they own', () => {
    let now = 1_000;
    const { jobs } = open(undefined, () => now);
    const job = jobs.create({ id: 'job-0001', library: 'home', provider: 'local', spec, options });
    jobs.appendEvent('job-0001', 'k', { type: 'log', level: 'info', message: 'x' });
    jobs.transition(job, 'queued', 'failed');
    jobs.create({ id: 'job-0002', library: 'other', provider: 'local', spec, options });
    now += 10_000;
    expect(jobs.prune(5_000)).toBe(1);
    expect(jobs.list().map((j) => j.id)).toEqual(['job-0002']);
    expect(jobs.events('job-0001')).toEqual([]);
  });
});

describe('TokenStore', () => {
  it('a bootstrap token works once and expires; only hashes are stored', () => {
    let now = 1_000;
    const { tokens, jobs, db, path } = open(undefined, () => now);
    jobs.create({ id: 'job-0001', library: 'home', provider: 'local', spec, options });
    const bootstrap = tokens.issue('job-0001', 'bootstrap', { ttlMs: 600_000 });
    expect(tokens.check(bootstrap, ['bootstrap', 'session'])).toEqual({ ok: true, jobId: 'job-0001', kind: 'bootstrap' });
    expect(tokens.check(bootstrap, ['transfer'])).toEqual({ ok: false, reason: 'unknown' });
    expect(tokens.consume(bootstrap)).toBe(true);
    expect(tokens.consume(bootstrap)).toBe(false);
    expect(tokens.check(bootstrap, ['bootstrap'])).toEqual({ ok: false, reason: 'used' });
    const late = tokens.issue('job-0001', 'bootstrap', { ttlMs: 600_000 });
    now += 600_001;
    expect(tokens.check(late, ['bootstrap'])).toEqual({ ok: false, reason: 'expired' });
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(path).includes(bootstrap.slice(8))).toBe(false);
  });
});
