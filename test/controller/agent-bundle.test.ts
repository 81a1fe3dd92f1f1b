import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseJobSpec } from '@plexlift/shared/protocol';
import { startController } from '../../packages/controller/src/controller.js';
import { createTempDir } from '../utils/temp-dir.js';

const MACHINE = execFileSync('uname', ['-m']).toString().trim();

describe('the agent bundle a VM downloads (GET /agent/bundle)', () => {
  it('serves the agent, its package.json and this Node to the holder of a live job token, without spending it; refuses anything else', async () => {
    const dir = createTempDir();
    const refused: string[] = [];
    const controller = await startController({
      stateDir: join(dir, 'state'),
      adminToken: 'admin-secret-0123456789',
      host: '127.0.0.1',
      agentJob: () => Promise.reject(new Error('not used')),
      onRefused: (where, reason) => refused.push(`${where}: ${reason}`),
    });
    onTestFinished(() => controller.close());
    const spec = parseJobSpec({ jobId: 'job-1', mode: 'delta', plex: { version: '1.43.2.10687-563d026ea' }, media: { mountPath: '/media', remote: 's3:m' } });
    controller.jobs.create({ id: 'job-1', library: 'home', provider: 'scaleway', spec, options: { keep: false, noInstall: false } });
    const token = controller.tokens.issue('job-1', 'bootstrap', { ttlMs: 600_000 });
    const get = (auth: string | undefined, arch = MACHINE) =>
      fetch(`${controller.server.url}/agent/bundle?arch=${arch}`, { headers: auth ? { Authorization: `Bearer ${auth}` } : {} });

    const response = await get(token);
    expect(response.status).toBe(200);
    const file = join(dir, 'bundle.tar.gz');
    writeFileSync(file, Buffer.from(await response.arrayBuffer()));
    const listing = execFileSync('tar', ['-tzvf', file]).toString();
    expect(listing).toMatch(/^-\S+ .* bin\/node$/m); // the binary itself, not a link to it
    expect(listing).toMatch(/ agent\/main\.mjs$/m);
    expect(listing).toMatch(/ agent\/node_modules\/better-sqlite3\/build\/Release\/better_sqlite3\.node$/m);
    expect(listing).toMatch(/ package\.json$/m);
    // Downloading does not spend the one-time token: the agent's hello still can.
    expect(controller.tokens.check(token, ['bootstrap']).ok).toBe(true);

    expect((await get(token, 'riscv64')).status).toBe(409);
    expect(await (await get(token, 'riscv64')).text()).toMatch(/this controller runs on x64 and serves a Node runtime for it; the VM is riscv64/);
    const expired = controller.tokens.issue('job-1', 'bootstrap', { ttlMs: -1 });
    expect((await get(expired)).status).toBe(401);
    expect((await get(undefined)).status).toBe(401);
    expect((await get('plx_b_made-up')).status).toBe(401);
    controller.tokens.consume(token);
    expect((await get(token)).status).toBe(401);
    expect(refused).toEqual(['agent bundle: expired', 'agent bundle: no token', 'agent bundle: unknown', 'agent bundle: used']);
  });
});
