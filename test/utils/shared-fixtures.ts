import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's shared folder (reference facts and real fixtures), beside the checkout as CI
 * and every workplace have it; `PLEXLIFT_SHARED_DIR` points elsewhere.
 */
export function sharedFixture(...path: string[]): string {
  const root = process.env.PLEXLIFT_SHARED_DIR ?? resolve(fileURLToPath(new URL('../../..', import.meta.url)), 'shared');
  const file = join(root, 'fixtures', ...path);
  if (!existsSync(file)) {
    throw new Error(`shared fixture ${file} not found: put the project's shared/ folder beside the checkout or set PLEXLIFT_SHARED_DIR`);
  }
  return file;
}
