import { execFile } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createTempDir } from '../utils/temp-dir.js';

const execFileAsync = promisify(execFile);
const CHECKOUT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(CHECKOUT, 'packages/controller/bin/plexlift.js');

describe('the plexlift command of a checkout', () => {
  it("runs with `npx plexlift` after the README's set-up (npm ci && npm run build)", async () => {
    const { version } = JSON.parse(readFileSync(join(CHECKOUT, 'packages/controller/package.json'), 'utf8')) as { version: string };
    // Offline and no: a bin that is not linked fails here instead of npx fetching a package of that name.
    const { stdout } = await execFileAsync('npx', ['plexlift', '--version'], {
      cwd: CHECKOUT,
      env: { ...process.env, npm_config_offline: 'true', npm_config_yes: 'false' },
    });
    expect(stdout.trim()).toBe(version);
  });

  it('says to run `npm run build` when the checkout is not built', async () => {
    const unbuilt = join(createTempDir(), 'packages/controller/bin/plexlift.js');
    cpSync(BIN, unbuilt);
    const failed = await execFileAsync(process.execPath, [unbuilt, '--version']).catch((error: unknown) => error as { code: number; stderr: string });
    expect(failed).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^plexlift: not built yet \(.*dist\/cli\/program\.js is missing\): run `npm run build` in /),
    });
  });
});
