import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { PlexliftError } from '@plexlift/shared';
import { parseDaemonUrl } from './daemon-url.js';

/**
 * What `plexlift login` keeps for the user: where the daemon is, the certificate it showed, and
 * how to get its admin token. The token itself is kept only when it came from stdin (no file the
 * user keeps); a token file given at login is read again at each call.
 */
const CliProfileSchema = z
  .object({
    /** The daemon's `http(s)://host:port` (https, or http on loopback only). */
    url: z.url(),
    /** The SHA-256 pin of its self-signed certificate; absent when a known authority signed it, or for http. */
    fingerprint: z.string().optional(),
    /** The admin token's file, absolute, read at each call. */
    tokenFile: z.string().optional(),
    /** The admin token, when it came from stdin. */
    token: z.string().optional(),
  })
  .strict()
  .refine((profile) => (profile.token === undefined) !== (profile.tokenFile === undefined), { message: 'exactly one of token and tokenFile' });

export type CliProfile = z.output<typeof CliProfileSchema>;

/** `$XDG_CONFIG_HOME/plexlift/profile.json`, else `~/.config/plexlift/profile.json`. */
export function profilePath(env: NodeJS.ProcessEnv = process.env): string {
  // The XDG spec: a relative XDG_CONFIG_HOME is invalid and ignored.
  const base = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return join(base, 'plexlift', 'profile.json');
}

/** The saved profile, or undefined when the user has not logged in. */
export function readProfile(env: NodeJS.ProcessEnv = process.env): CliProfile | undefined {
  const path = profilePath(env);
  const refuse = (why: string) => new PlexliftError('CONFIG_INVALID', `profile ${path} ${why}; run plexlift login again (or plexlift logout)`);
  let fd: number;
  try {
    // Never through a link, never a FIFO: a profile says where the admin token goes.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw refuse(code === 'ELOOP' ? 'is a link' : `cannot be read (${code ?? (error as Error).message})`);
  }
  let text: string;
  try {
    // Only the user's own profile, kept from others (root run with another user's HOME must not
    // take that user's word for where to send the token).
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw refuse('is not a file');
    if (stats.uid !== (process.geteuid?.() ?? stats.uid)) throw refuse(`belongs to another user (uid ${stats.uid})`);
    if ((stats.mode & 0o077) !== 0) throw refuse(`can be read or written by others (mode ${(stats.mode & 0o777).toString(8)})`);
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch {
    // Not kept as the cause: JSON.parse's message quotes the text, the token included.
    throw refuse('is not valid JSON');
  }
  const parsed = CliProfileSchema.safeParse(values);
  // zod's issues may quote the values: the token must not reach the message.
  if (!parsed.success) throw refuse('is not a plexlift profile');
  // The same rule as at login: an edited profile never sends the token in clear to another host.
  try {
    parseDaemonUrl(parsed.data.url);
  } catch (error) {
    throw refuse(`names a daemon plexlift login refuses (${(error as Error).message})`);
  }
  return parsed.data;
}

/**
 * Writes the profile atomically (a temporary file, then a rename): mode 0600 in a 0700 folder,
 * since it may hold the admin token. Returns its path.
 */
export function writeProfile(profile: CliProfile, env: NodeJS.ProcessEnv = process.env): string {
  const path = profilePath(env);
  const folder = dirname(path);
  const temporary = join(folder, `.profile-${randomBytes(6).toString('hex')}.tmp`);
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    // Ours alone: an existing folder made with the umask's mode is narrowed too.
    chmodSync(folder, 0o700);
    const fd = openSync(temporary, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(CliProfileSchema.parse(profile), null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new PlexliftError('CONFIG_INVALID', `profile ${path} cannot be written (${code ?? (error as Error).message}); nothing was saved`, { cause: error });
  }
  return path;
}

/** Removes the profile; false when there was none. */
export function removeProfile(env: NodeJS.ProcessEnv = process.env): boolean {
  const path = profilePath(env);
  try {
    rmSync(path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    throw new PlexliftError('CONFIG_INVALID', `profile ${path} cannot be removed (${code ?? (error as Error).message})`, { cause: error });
  }
}
