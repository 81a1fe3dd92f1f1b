import { describe, expect, it } from 'vitest';
import { HomeGuard } from '../../packages/controller/src/install/home-guard.js';

describe('the daemon keeps home Plex to one change at a time', () => {
  it('while a rollback runs, a second one, a new job and an install are refused, and run once it ends', async () => {
    const guard = new HomeGuard();
    let finish!: () => void;
    const rollback = guard.exclusively('roll back', () => new Promise<string>((resolve) => (finish = () => resolve('restored'))));
    const started: string[] = [];
    await expect(guard.exclusively('roll back', () => Promise.resolve(started.push('rollback')))).rejects.toThrow(
      'cannot roll back now: the daemon is busy with home Plex (roll back under way); nothing was changed',
    );
    await expect(guard.whileIdle('start a job', () => Promise.resolve(started.push('job')))).rejects.toMatchObject({ code: 'SAFETY_STOP' });
    await expect(guard.whileIdle('install', () => Promise.resolve(started.push('install')))).rejects.toThrow(/^cannot install now/);
    expect(started).toEqual([]);
    finish();
    await expect(rollback).resolves.toBe('restored');
    await guard.whileIdle('start a job', () => Promise.resolve(started.push('job')));
    expect(started).toEqual(['job']);
  });

  it('a rollback that fails frees home for the next', async () => {
    const guard = new HomeGuard();
    await expect(guard.exclusively('roll back', () => Promise.reject(new Error('home Plex did not start')))).rejects.toThrow('home Plex did not start');
    await expect(guard.exclusively('roll back', () => Promise.resolve('again'))).resolves.toBe('again');
  });
});
