import { writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { startScalewaySim } from '../scaleway-sim/scaleway-sim.js';
import { freePort } from '../utils/free-port.js';
import { runCli, startCliOnTerminal } from '../utils/run-cli.js';
import { createTempDir } from '../utils/temp-dir.js';

/** A config whose provider is scaleway, its API at `apiUrl`. */
function scalewayConfig(apiUrl: string): string {
  const dir = createTempDir();
  const path = join(dir, 'config.json');
  writeFileSync(
    path,
    JSON.stringify({
      server: { stateDir: join(dir, 'state'), publicUrl: 'https://home.example:7878' },
      provider: 'scaleway',
      providers: {
        scaleway: {
          apiUrl,
          accessKey: 'SCWD0CT0RTESTKEY0001',
          secretKey: '7d3f1c52-0b8e-4a6f-9c1d-2e5b8a4f6c90',
          projectId: '105bdce1-64c0-48ab-899d-868455867ecf',
          plexCommand: ['/usr/bin/plex'],
        },
      },
    }),
  );
  return path;
}

/** A server that takes connections and never answers (an API behind a black-holing proxy). */
async function silentServer(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** The CLI's own start (tsx) and doctor's other checks, on top of the API's 10 s. */
const DOCTOR_BOUND_MS = 16_000;

describe('doctor: a cloud API that does not answer is a FIX line within about 10 s', () => {
  it('a closed port: connection refused, said after a few quick tries, announced before it starts', { timeout: 60_000 }, async () => {
    const apiUrl = `http://127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const doctor = await runCli(['doctor', '--config', scalewayConfig(apiUrl)]);
    expect(Date.now() - started).toBeLessThan(DOCTOR_BOUND_MS);
    expect(doctor.status).toBe(78);
    expect(doctor.stdout).toMatch(/^ok {3}provider scaleway: POP2-HC-8C-16G in fr-par-1, stopped at 12 h or 10 €$/m);
    expect(doctor.stdout).toMatch(
      new RegExp(
        `^FIX {2}scaleway API: cannot reach ${apiUrl}: connection refused \\(after \\d+ s\\); check the network from here, or providers\\.scaleway\\.apiUrl`,
        'm',
      ),
    );
    // Off a terminal the notice is a line of its own on stderr: stdout keeps the results only.
    expect(doctor.stderr).toContain('checking scaleway API…');
    // The secret key never reaches the output.
    expect(doctor.stdout + doctor.stderr).not.toContain('7d3f1c52');
  });

  it('an API that takes the connection and never answers: given up at 10 s, the notice shown on a terminal meanwhile', { timeout: 60_000 }, async () => {
    const apiUrl = await silentServer();
    const started = Date.now();
    const doctor = startCliOnTerminal(['doctor', '--config', scalewayConfig(apiUrl)]);
    // Announced while it waits: the line is there before the check's own.
    await vi.waitFor(() => expect(doctor.screen()).toContain('checking scaleway API…'), { timeout: 10_000 });
    expect(doctor.screen()).not.toContain('scaleway API:');
    const { status, output } = await doctor.exited;
    expect(Date.now() - started).toBeLessThan(DOCTOR_BOUND_MS);
    expect(status).toBe(78);
    expect(output).toMatch(new RegExp(`FIX {2}scaleway API: cannot reach ${apiUrl}: no answer \\(after 1[01] s\\)`));
  });

  it('an API that answers: its address, the type and its price', { timeout: 60_000 }, async () => {
    const sim = await startScalewaySim();
    onTestFinished(() => sim.close());
    const doctor = await runCli(['doctor', '--config', scalewayConfig(sim.url)]);
    expect(doctor.stdout).toMatch(new RegExp(`^ok {3}scaleway API: ${sim.url} answers; POP2-HC-8C-16G in fr-par-1 at [\\d.]+ €/h$`, 'm'));
  });
});
