import Conf from 'conf';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { PlexliftError, parseConfig, type Config } from '@plexlift/shared';

/** Where the service keeps its config (DESIGN.md, "Config"). */
export const SERVICE_CONFIG_PATH = '/etc/plexlift/config.json';

export interface LoadedConfig {
  config: Config;
  /** The file read, or undefined when none exists and defaults apply. */
  path: string | undefined;
}

/**
 * Loads the config once: `--config`, else `PLEXLIFT_CONFIG`, else the service's file when it
 * exists, else defaults. A file named explicitly must exist. Reading never writes anything.
 */
export function loadConfig(options: { path?: string | undefined; env?: NodeJS.ProcessEnv } = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const explicit = options.path ?? env.PLEXLIFT_CONFIG;
  const source = options.path ? '--config' : 'PLEXLIFT_CONFIG';
  if (explicit !== undefined) {
    const path = resolve(explicit);
    if (!existsSync(path)) {
      throw new PlexliftError('CONFIG_INVALID', `${source}: ${path} does not exist`, { details: { field: source, path } });
    }
    return { config: readConfigFile(path), path };
  }
  if (existsSync(SERVICE_CONFIG_PATH)) return { config: readConfigFile(SERVICE_CONFIG_PATH), path: SERVICE_CONFIG_PATH };
  return { config: parseConfig({}, '(defaults)'), path: undefined };
}

function readConfigFile(path: string): Config {
  return parseConfig(readConfigValues(path), path);
}

/**
 * The config file's values, or an error a person can act on: a folder, an unreadable file and a
 * syntax error (with its line and column) are each said as what they are.
 */
function readConfigValues(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EISDIR'
        ? 'is a folder, not a file'
        : code === 'EACCES'
          ? 'cannot be read (permission denied): run as its owner, or with sudo'
          : `cannot be read (${code ?? (error as Error).message})`;
    throw new PlexliftError('CONFIG_INVALID', `config ${path} ${why}`, { cause: error, details: { path } });
  }
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const where = jsonErrorPosition(text, (error as Error).message);
    throw new PlexliftError(
      'CONFIG_INVALID',
      `config ${path}: not valid JSON${where ? ` at line ${where.line}, column ${where.column}` : ''} (${(error as Error).message})`,
      {
        cause: error,
        details: { path, ...where },
      },
    );
  }
}

/** Line and column (1-based) of a JSON.parse error, from the offset or the line/column Node gives. */
function jsonErrorPosition(text: string, message: string): { line: number; column: number } | undefined {
  const stated = /line (\d+) column (\d+)/.exec(message);
  if (stated) return { line: Number(stated[1]), column: Number(stated[2]) };
  const offset = /position (\d+)/.exec(message);
  if (!offset) return undefined;
  const before = text.slice(0, Number(offset[1])).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/** The config file through `conf` (atomic writes), for reading and for `plexlift config set`. */
export function openConfigStore(path: string) {
  // Conf's own read errors all say "not valid JSON": read it first for a clear one.
  if (existsSync(path)) readConfigValues(path);
  // An empty file is an empty config (as `config get` reads it); Conf would take it for broken JSON.
  if (existsSync(path) && readFileSync(path, 'utf8').trim() === '') {
    try {
      writeFileSync(path, '{}\n');
    } catch (error) {
      throw cannotWrite(path, error);
    }
  }
  let conf: Conf<Record<string, unknown>>;
  try {
    const extension = extname(path);
    conf = new Conf<Record<string, unknown>>({
      cwd: dirname(path),
      configName: basename(path, extension),
      fileExtension: extension.replace(/^\./, ''),
      projectName: 'plexlift',
      clearInvalidConfig: false,
      // The config holds tokens (home.plexToken, the Scaleway secret key): readable by its owner only.
      configFileMode: CONFIG_FILE_MODE,
    });
  } catch (error) {
    throw new PlexliftError('CONFIG_INVALID', `config ${path}: not valid JSON (${(error as Error).message})`, {
      cause: error,
      details: { path },
    });
  }
  return {
    values: (): Record<string, unknown> => Object.fromEntries(Object.entries(conf.store).filter(([key]) => !key.startsWith('__internal__'))),
    /** Writes the whole, already validated, config at once. */
    replace: (values: Record<string, unknown>) => {
      try {
        conf.store = values;
        // An existing file keeps its old mode through some writes: a 0644 file becomes 0600 here.
        chmodSync(conf.path, CONFIG_FILE_MODE);
      } catch (error) {
        throw cannotWrite(path, error);
      }
    },
  };
}

const CONFIG_FILE_MODE = 0o600;

/**
 * Creates the folder a config is written to, 0700 (root's only): what it creates is never readable
 * by others. A folder that exists is left as it is (it may be shared, as /etc is); the file is 0600.
 */
export function createConfigFolder(configPath: string): void {
  try {
    mkdirSync(dirname(configPath), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw cannotWrite(configPath, error);
  }
}

function cannotWrite(path: string, error: unknown): PlexliftError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied: run as its owner, or with sudo' : (code ?? (error as Error).message);
  return new PlexliftError('CONFIG_INVALID', `config ${path} cannot be written (${why}); nothing was changed`, { cause: error, details: { path } });
}

/** The file `plexlift config set` edits: the one named, else the service's. */
export function configPathFor(options: { path?: string | undefined; env?: NodeJS.ProcessEnv } = {}): string {
  return resolve(options.path ?? (options.env ?? process.env).PLEXLIFT_CONFIG ?? SERVICE_CONFIG_PATH);
}

/** The toolkit options the config sets (the toolkit reads `PLEXLIFT_SQLITE3` itself). */
export function databaseToolOptions(config: Config) {
  return {
    sqlite3Path: config.database.sqlite3Path,
    plexSqlitePath: config.database.plexSqlitePath,
    scratchDir: config.database.scratchDir,
  };
}
