import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { onTestFinished } from 'vitest';

const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * A separate process that holds a Plex DB the way a running Plex Media Server does: WAL mode,
 * connections open, idle. Killed when the test finishes.
 */
export async function holdDatabaseLikePlex(path: string): Promise<ChildProcess> {
  const script = `
    const Database = require(${JSON.stringify(betterSqlite3)});
    const db = new Database(process.argv[1]);
    db.prepare('SELECT count(*) FROM library_sections').get();
    process.stdout.write('holding\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['-e', script, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  onTestFinished(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  const [data] = (await once(child.stdout, 'data')) as unknown as [Buffer];
  if (!data.toString().includes('holding')) throw new Error('the holder did not open the DB');
  return child;
}
