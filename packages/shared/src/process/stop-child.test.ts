import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stopChild } from './stop-child.js';

describe('stopChild', () => {
  it('stops a child with SIGTERM when it obeys', async () => {
    const child = spawn('sleep', ['30']);
    await expect(stopChild(child, { killAfterMs: 5_000 })).resolves.toEqual({ killed: false });
    expect(child.signalCode).toBe('SIGTERM');
  });

  it('kills a child that ignores SIGTERM once the grace is over', async () => {
    const child = spawn('bash', ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done'], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((resolve) => child.stdout.once('data', resolve));
    await expect(stopChild(child, { killAfterMs: 200 })).resolves.toEqual({ killed: true });
    expect(child.signalCode).toBe('SIGKILL');
  });

  it('has nothing to do for a child that already exited', async () => {
    const child = spawn('true');
    await new Promise((resolve) => child.once('exit', resolve));
    await expect(stopChild(child, { killAfterMs: 200 })).resolves.toEqual({ killed: false });
  });
});
