import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLocalProvider } from '../../packages/controller/src/providers/local-provider.js';
import { createTempDir } from '../utils/temp-dir.js';

const planted = {
  SCW_SECRET_KEY: 'scw-secret-0123',
  SCW_ACCESS_KEY: 'SCWACCESS',
  PLEXLIFT_TOKEN: 'plx_a_admin',
  RCLONE_CONFIG_S3_SECRET_ACCESS_KEY: 'rclone-secret',
};

describe('an agent started on this machine (local provider)', () => {
  afterEach(() => {
    for (const name of Object.keys(planted)) delete process.env[name];
  });

  it("gets none of the daemon's secrets in its environment, only the basics", async () => {
    Object.assign(process.env, planted);
    const dir = createTempDir();
    const provider = createLocalProvider({ workRoot: join(dir, 'agents'), plexCommand: ['/bin/false'] });
    // Nothing listens there: the agent keeps trying to call home while its environment is read.
    const resource = await provider.provision({
      jobId: 'job-env-0001',
      controllerUrl: 'http://127.0.0.1:9',
      bootstrapToken: 'plx_b_boot',
      record: () => undefined,
    });
    try {
      const pid = resource.pid as number;
      // Read once the agent has exec'd: a process caught between fork and exec shows no environment yet.
      const environ = await vi.waitFor(
        () => {
          const text = readFileSync(`/proc/${pid}/environ`, 'utf8');
          if (!text) throw new Error(`agent ${pid} shows no environment yet`);
          return text;
        },
        { timeout: 10_000 },
      );
      const names = environ
        .split('\0')
        .filter(Boolean)
        .map((entry) => entry.slice(0, entry.indexOf('=')));
      expect(names).toContain('PATH');
      for (const name of Object.keys(planted)) expect(names).not.toContain(name);
      expect(environ).not.toMatch(/scw-secret|plx_a_admin|rclone-secret/);
    } finally {
      await provider.teardown(resource, { keep: false });
    }
  });
});
