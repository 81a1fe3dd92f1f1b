/**
 * Builds the demo library for `npm run demo`: a generated Plex library (filled into a copy of
 * a real PMS 1.43.2 DB) and a damaged copy of it for the repair step.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateLibrary } from '../test/utils/library-generator.js';
import type { LibrarySizeName } from '../test/utils/library-profile.js';
import { destroyPage } from '../test/utils/sqlite-files.js';

const { values } = parseArgs({ options: { dir: { type: 'string' }, size: { type: 'string', default: 'small' } } });
if (!values.dir) throw new Error('--dir is required');
rmSync(values.dir, { recursive: true, force: true });
const library = generateLibrary({ dir: join(values.dir, 'Databases'), size: values.size as LibrarySizeName, deletedRatio: 0.01, sonicRatio: 0.4 });
mkdirSync(join(values.dir, 'damaged'), { recursive: true });
const damaged = join(values.dir, 'damaged', 'com.plexapp.plugins.library.db');
copyFileSync(library.mainDb, damaged);
const page = destroyPage(damaged, 'media_parts');
console.log(`generated ${library.mainDb}`);
console.log(`damaged copy ${damaged} (page ${page.pageno} of media_parts overwritten: ${page.cells} rows)`);
