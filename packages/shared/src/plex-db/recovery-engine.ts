import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PlexliftError } from '../errors.js';
import { firstLine, runSqliteShell, waitForExit, type SqliteShellCommand } from './sqlite-shell.js';

/**
 * A SQLite shell that can `.recover` a damaged DB. `plex-sqlite` is the shell Plex ships, which
 * knows Plex's tokenizer and collations, so its result is complete; `sqlite3` is a stock shell
 * built with the DBPAGE virtual table (Debian's is not, and its `.recover` fails with
 * "SQL logic error"), whose result lacks the Plex-only indexes.
 */
export type RecoveryEngineKind = 'plex-sqlite' | 'sqlite3';
export const RECOVERY_ENGINE_KINDS = ['plex-sqlite', 'sqlite3'] as const satisfies readonly RecoveryEngineKind[];

export interface RecoveryEngine {
  kind: RecoveryEngineKind;
  /** Program and leading arguments (a prefix such as `docker exec ctr` is allowed). */
  command: string[];
  /** Where it was found: `config`, `PLEXLIFT_SQLITE3`, `project build`, `PATH`, … */
  source: string;
  version: string;
}

/** Where Plex installs its shell (plex-db.md §1). */
export const PLEX_SQLITE_PATHS = ['/usr/lib/plexmediaserver/Plex SQLite', '/Applications/Plex Media Server.app/Contents/MacOS/Plex SQLite'];

export interface FindRecoveryEngineOptions {
  /** Only this kind (default: Plex SQLite first, then a stock shell). */
  kind?: RecoveryEngineKind | undefined;
  /** Configured paths (config file). A configured engine that fails its self-test is an error. */
  sqlite3Path?: string | undefined;
  plexSqlitePath?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Folder of the project's own sqlite3 build (default: `.cache/sqlite3` of this checkout). */
  projectBuildDir?: string;
}

interface Candidate {
  kind: RecoveryEngineKind;
  command: string[];
  source: string;
  /** Given by the user: fail loudly instead of moving on. */
  explicit: boolean;
}

/** Finds the first engine whose `.recover` passes a self-test. */
export async function findRecoveryEngine(options: FindRecoveryEngineOptions = {}): Promise<RecoveryEngine> {
  const env = options.env ?? process.env;
  const candidates: Candidate[] = [];
  const add = (kind: RecoveryEngineKind, path: string | undefined, source: string, explicit: boolean) => {
    if (path && (options.kind === undefined || options.kind === kind)) candidates.push({ kind, command: [path], source, explicit });
  };
  add('plex-sqlite', options.plexSqlitePath, 'config (plexSqlitePath)', true);
  add('plex-sqlite', env.PLEXLIFT_PLEX_SQLITE, 'PLEXLIFT_PLEX_SQLITE', true);
  for (const path of PLEX_SQLITE_PATHS) if (existsSync(path)) add('plex-sqlite', path, 'Plex install', false);
  add('sqlite3', options.sqlite3Path, 'config (sqlite3Path)', true);
  add('sqlite3', env.PLEXLIFT_SQLITE3, 'PLEXLIFT_SQLITE3', true);
  const buildDir = options.projectBuildDir ?? (env.PLEXLIFT_CACHE_DIR ? join(env.PLEXLIFT_CACHE_DIR, 'sqlite3') : defaultProjectBuildDir());
  const build = join(buildDir, 'bin', 'sqlite3');
  if (existsSync(build)) add('sqlite3', build, 'project build', false);
  const onPath = findOnPath('sqlite3', env.PATH ?? '');
  if (onPath) add('sqlite3', onPath, 'PATH', false);

  const rejected: string[] = [];
  for (const candidate of candidates) {
    const test = await selfTestRecovery(candidate.command);
    if (test.ok) return { kind: candidate.kind, command: candidate.command, source: candidate.source, version: test.version };
    if (candidate.explicit) {
      throw new PlexliftError(
        'RECOVERY_ENGINE_UNAVAILABLE',
        `${candidate.source}: ${candidate.command.join(' ')} cannot recover databases (${test.error}); point it at a SQLite shell built with DBPAGE, or at Plex SQLite`,
        { details: { field: candidate.source, command: candidate.command } },
      );
    }
    rejected.push(`${candidate.command.join(' ')} [${candidate.source}]: ${test.error}`);
  }
  const wanted = options.kind ?? 'plex-sqlite or sqlite3';
  throw new PlexliftError(
    'RECOVERY_ENGINE_UNAVAILABLE',
    `no ${wanted} shell whose .recover works was found` +
      (rejected.length > 0 ? ` (tried: ${rejected.join('; ')})` : '') +
      ". Set PLEXLIFT_SQLITE3 or the config's sqlite3Path to a shell built with DBPAGE (npm run setup builds one), or run where Plex SQLite is installed",
    { details: { rejected } },
  );
}

const selfTests = new Map<string, Promise<SelfTestResult>>();

export type SelfTestResult = { ok: true; version: string } | { ok: false; error: string };

/**
 * Recovers a tiny DB with the shell and checks every row came back. Debian's stock shell
 * fails here ("SQL logic error"): it lacks the DBPAGE table `.recover` reads pages with.
 * `scratchDir` must be a folder the shell sees at the same path (a bind mount for a shell in a
 * container); default the system's temporary folder. Memoised per command and folder.
 */
export function selfTestRecovery(command: SqliteShellCommand, options: { scratchDir?: string } = {}): Promise<SelfTestResult> {
  const scratchDir = options.scratchDir ?? tmpdir();
  const key = [...command, scratchDir].join('\0');
  let result = selfTests.get(key);
  if (!result) {
    result = runSelfTest(command, scratchDir);
    selfTests.set(key, result);
  }
  return result;
}

/**
 * A given shell as an engine, once its self-test passes; a shell that fails it is an error that
 * says why (the caller may fall back to `findRecoveryEngine`).
 */
export async function testRecoveryEngine(candidate: Omit<RecoveryEngine, 'version'>, options: { scratchDir?: string } = {}): Promise<RecoveryEngine> {
  const test = await selfTestRecovery(candidate.command, options);
  if (!test.ok) {
    throw new PlexliftError('RECOVERY_ENGINE_UNAVAILABLE', `${candidate.source}: ${candidate.command.join(' ')} cannot recover databases (${test.error})`, {
      details: { field: candidate.source, command: candidate.command },
    });
  }
  return { ...candidate, version: test.version };
}

async function runSelfTest(command: SqliteShellCommand, scratchDir: string): Promise<SelfTestResult> {
  let dir: string;
  try {
    dir = mkdtempSync(join(scratchDir, 'plexlift-recover-test-'));
  } catch (error) {
    return { ok: false, error: `cannot make a test folder in ${scratchDir}: ${(error as Error).message}` };
  }
  try {
    const source = join(dir, 'source.db');
    const dest = join(dir, 'dest.db');
    const db = new Database(source);
    db.exec(`CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT); CREATE INDEX t_name ON t(name);
             INSERT INTO t(name) VALUES ('a'), ('b'), ('c');`);
    db.close();
    const version = await runSqliteShell(command, ['--version']);
    if (version.code !== 0) return { ok: false, error: firstLine(version.stderr) || `exit ${version.code}` };
    const outcome = await recoverDatabase({ kind: 'sqlite3', command: [...command], source: 'self-test', version: '' }, source, dest);
    if (outcome.recoverError) return { ok: false, error: outcome.recoverError };
    const check = new Database(dest, { readonly: true });
    try {
      const rows = check.prepare('SELECT count(*) AS n FROM t').get() as { n: number };
      if (rows.n !== 3) return { ok: false, error: `recovered ${rows.n} of 3 rows` };
    } finally {
      check.close();
    }
    return { ok: true, version: firstLine(version.stdout).split(' ')[0] ?? '' };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RecoverOutcome {
  /** Set when `.recover` itself failed (no usable output). */
  recoverError: string | undefined;
  /** What the import reported (statements the engine could not replay, e.g. missing collations). */
  importMessages: string[];
  sqlBytes: number;
}

/**
 * Streams `.recover` of `source` into a new DB at `dest` (two processes joined by a pipe, so
 * memory stays flat whatever the size). `source` is read, never written.
 */
export async function recoverDatabase(
  engine: RecoveryEngine,
  source: string,
  dest: string,
  options: { signal?: AbortSignal; onBytes?: (bytes: number) => void } = {},
): Promise<RecoverOutcome> {
  const [program, ...prefix] = engine.command;
  if (!program) throw new PlexliftError('BAD_ARGUMENT', 'recovery engine: empty command');
  const spawnOptions = options.signal ? { signal: options.signal } : {};
  const recover = spawn(program, [...prefix, source, '.recover'], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
  const importer = spawn(program, [...prefix, dest], { stdio: ['pipe', 'ignore', 'pipe'], ...spawnOptions });
  let sqlBytes = 0;
  recover.stdout.on('data', (chunk: Buffer) => {
    sqlBytes += chunk.length;
    options.onBytes?.(sqlBytes);
  });
  recover.stdout.pipe(importer.stdin);
  importer.stdin.on('error', () => {
    // The importer died early; its exit code and stderr tell why.
  });
  const [recovered, imported] = await Promise.all([waitForExit(recover), waitForExit(importer)]);
  options.signal?.throwIfAborted();
  const recoverError = recovered.code !== 0 ? firstLine(recovered.stderr) || `.recover exited with ${recovered.code}` : undefined;
  const importMessages = imported.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  if (!recoverError && imported.code !== 0 && importMessages.length === 0) {
    importMessages.push(`import exited with ${imported.code}`);
  }
  return { recoverError, importMessages, sqlBytes };
}

function findOnPath(program: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** `.cache/sqlite3` at the root of the checkout this module runs from (built by `npm run setup`). */
function defaultProjectBuildDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package-lock.json'))) return join(dir, '.cache', 'sqlite3');
    dir = dirname(dir);
  }
  return join(process.cwd(), '.cache', 'sqlite3');
}
