import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateLibrary, REAL_DB_DIR } from '../../test/utils/library-generator.js';
import type { LibrarySizeName } from '../../test/utils/library-profile.js';

/** Where benchmarks keep what they generate (git-ignored, reused between runs). */
export const BENCH_CACHE = join(import.meta.dirname, '..', '..', '.cache', 'bench');

/**
 * A generated library of the given size, built by the test generator from the real 1.43.2 DB,
 * once: cached under a key of the generator's sources, older builds of that size removed.
 * Returns the folder holding both DBs.
 */
export function referenceLibrary(size: LibrarySizeName): string {
  const hash = createHash('sha256');
  for (const file of ['../../test/utils/library-generator.ts', '../../test/utils/library-profile.ts'])
    hash.update(readFileSync(join(import.meta.dirname, file)));
  hash.update(readFileSync(join(REAL_DB_DIR, 'com.plexapp.plugins.library.db')));
  const key = `${size}-${hash.digest('hex').slice(0, 12)}`;
  const dir = join(BENCH_CACHE, key);
  const stamp = join(dir, 'complete');
  if (!existsSync(stamp)) {
    if (existsSync(BENCH_CACHE))
      for (const old of readdirSync(BENCH_CACHE)) if (old.startsWith(`${size}-`)) rmSync(join(BENCH_CACHE, old), { recursive: true, force: true });
    console.log(`generating the ${size} library (once; cached in ${dir}) …`);
    const started = performance.now();
    generateLibrary({ dir, size, seed: 1, deletedRatio: 0.002, sonicRatio: 0.18 });
    console.log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    writeFileSync(stamp, '');
  }
  return dir;
}
