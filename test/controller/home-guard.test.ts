import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { HomeGuard } from '../../packages/controller/src/install/home-guard.js';
import { assertHomeUnlocked, homeLockHolder, withHomeLock } from '../../packages/controller/src/install/home-lock.js';
import { createTempDir } from '../utils/temp-dir.js';

describe('the daemon keeps home Plex to one change at a time', () => {
  it('while a rollback runs, a second one, a new job and an install are refused, and run once it ends', async () => {
    const guard = new HomeGuard(createTempDir());
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

  it('while a job is being started (its checks before it is on record), a rollback is refused', async () => {
    const guard = new HomeGuard(createTempDir());
    let finish!: () => void;
    const starting = guard.whileIdle('start a job', () => new Promise<void>((resolve) => (finish = resolve)));
    await expect(guard.exclusively('roll back', () => Promise.resolve('restored'))).rejects.toThrow(
      'cannot roll back now: a job is being started or installed; nothing was changed',
    );
    finish();
    await starting;
    await expect(guard.exclusively('roll back', () => Promise.resolve('restored'))).resolves.toBe('restored');
  });

  it('a rollback that fails frees home for the next; a stopping daemon waits for the one under way and takes no more', async () => {
    const guard = new HomeGuard(createTempDir());
    await expect(guard.exclusively('roll back', () => Promise.reject(new Error('home Plex did not start')))).rejects.toThrow('home Plex did not start');
    let finish!: () => void;
    let isDone = false;
    const rollback = guard.exclusively('roll back', () => new Promise<void>((resolve) => (finish = resolve)).then(() => (isDone = true)));
    const stopped = guard.stop();
    await expect(guard.whileIdle('start a job', () => Promise.resolve())).rejects.toThrow(/the daemon (is busy|is stopping)/);
    finish();
    await stopped;
    expect(isDone).toBe(true);
    await rollback;
    await expect(guard.whileIdle('start a job', () => Promise.resolve())).rejects.toThrow(
      'cannot start a job now: the daemon is stopping; nothing was changed',
    );
  });
});

describe("home's lock across processes (a CLI rollback beside the daemon)", () => {
  it('is held for the work, refused to another while its process lives, and released after', async () => {
    const stateDir = createTempDir();
    let finish!: () => void;
    const held = withHomeLock(stateDir, 'a rollback', () => new Promise<void>((resolve) => (finish = resolve)));
    expect(homeLockHolder(stateDir)).toMatchObject({ pid: process.pid, what: 'a rollback' });
    await expect(withHomeLock(stateDir, 'a rollback', () => Promise.resolve())).rejects.toThrow(
      new RegExp(`^a rollback refused: a rollback is under way \\(process ${process.pid}, since .+\\); nothing was changed$`),
    );
    expect(() => assertHomeUnlocked(stateDir, 'prune')).toThrow(/^prune refused: a rollback is under way/);
    // A daemon with this state folder starts no job meanwhile.
    await expect(new HomeGuard(stateDir).whileIdle('start a job', () => Promise.resolve())).rejects.toThrow(/^start a job refused: a rollback is under way/);
    finish();
    await held;
    expect(existsSync(join(stateDir, 'home.lock'))).toBe(false);
    expect(() => assertHomeUnlocked(stateDir, 'prune')).not.toThrow();
  });

  it('left by a process that died (a kill, a power cut) is stale and taken over', async () => {
    const stateDir = createTempDir();
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    writeFileSync(join(stateDir, 'home.lock'), JSON.stringify({ pid: child.pid, what: 'a rollback', at: '2026-12-04T00:00:00.000Z' }));
    expect(homeLockHolder(stateDir)).toBeUndefined();
    const seen = await withHomeLock(stateDir, 'a rollback', () => Promise.resolve(readFileSync(join(stateDir, 'home.lock'), 'utf8')));
    expect(JSON.parse(seen)).toMatchObject({ pid: process.pid });
    onTestFinished(() => void child.kill());
  });
});
