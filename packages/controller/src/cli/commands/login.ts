import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { PlexliftError } from '@plexlift/shared';
import { normalizeFingerprint } from '@plexlift/shared/tls';
import { createControllerClient } from '../../client.js';
import { profilePath, removeProfile, writeProfile, type CliProfile } from '../cli-profile.js';
import { createCommandAction } from '../command-action.js';
import { confirmOnTerminal } from '../confirm.js';
import { fromControllerError } from '../controller-connection.js';
import { readDaemonCertificate } from '../daemon-certificate.js';
import { parseDaemonUrl } from '../daemon-url.js';
import type { Output } from '../output.js';
import { readSecretFromStdin } from '../secret-input.js';

interface LoginOptions {
  tokenFile?: string;
  tokenStdin?: boolean;
  fingerprint?: string;
  yes?: boolean;
  json?: boolean;
}

/** How long login waits for the daemon's handshake, then its answer. */
const LOGIN_TIMEOUT_MS = 15_000;

/** `plexlift login URL`: checks the daemon's certificate and the token, then saves the user's profile. */
export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('remember a daemon for this user (its URL, certificate and admin token), checked first: later commands need no PLEXLIFT_* variables')
    .argument('<url>', "the daemon's https://HOST:PORT (http only to this machine)")
    .option('--token-file <file>', 'the admin token is in this file (its path is kept, the file read at each call)')
    .option('--token-stdin', 'read the admin token from stdin (asked, not shown, on a terminal); it is kept in the profile, mode 0600')
    .option('--fingerprint <sha256>', "the certificate's SHA-256 fingerprint you expect (the daemon's log shows it): no question asked")
    .option('--yes', 'trust the certificate the daemon shows without asking')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<LoginOptions, [string]>(async ({ args: [given], options, output }) => {
        // Everything the command line says is checked before any connection.
        const url = parseDaemonUrl(given);
        const expected = parseExpectedFingerprint(url, options.fingerprint);
        const credential = await readCredential(options);
        warnIfShared(credential.kept.tokenFile, output);
        const fingerprint = url.startsWith('https:') ? await chooseFingerprint(url, expected, options, output) : undefined;
        if (fingerprint === null) {
          output.info('the certificate was not trusted; nothing was saved');
          return;
        }
        const daemon = await proveToken(url, credential.token, fingerprint);
        const profile: CliProfile = { url, ...(fingerprint ? { fingerprint } : {}), ...credential.kept };
        const path = writeProfile(profile);
        if (process.env.PLEXLIFT_URL) output.warn('PLEXLIFT_URL is set: it takes precedence over this profile until it is unset');
        if (output.json)
          return output.printJson({ url, fingerprint: fingerprint ?? null, profile: path, tokenFile: profile.tokenFile ?? null, daemon: daemon.version });
        const kept = [
          'the URL',
          ...(fingerprint ? ["the certificate's fingerprint"] : []),
          profile.tokenFile ? `the token file's path (${profile.tokenFile})` : 'the token',
        ];
        output.result(`logged in to ${url} (daemon ${daemon.version}); ${path} (mode 0600) keeps ${kept.slice(0, -1).join(', ')} and ${kept.at(-1)!}`);
      }),
    );
}

/** `plexlift logout`: forgets the profile. */
export function registerLogout(program: Command): void {
  program
    .command('logout')
    .description('forget the daemon plexlift login remembered (its file, with the token when it kept it)')
    .option('--json', 'print JSON')
    .action(
      createCommandAction<{ json?: boolean }>(({ output }) => {
        const path = profilePath();
        const removed = removeProfile();
        if (output.json) return output.printJson({ removed, profile: path });
        output.result(removed ? `removed ${path}` : `not logged in (no ${path})`);
      }),
    );
}

function parseExpectedFingerprint(url: string, given: string | undefined): string | undefined {
  if (given === undefined) return undefined;
  if (!url.startsWith('https:')) throw new PlexliftError('BAD_ARGUMENT', '--fingerprint: only for an https:// daemon');
  try {
    return normalizeFingerprint(given, '--fingerprint');
  } catch (error) {
    throw new PlexliftError('BAD_ARGUMENT', (error as Error).message);
  }
}

/** The token to try, and what the profile keeps of it: the file's path, or the token from stdin. */
async function readCredential(options: LoginOptions): Promise<{ token: string; kept: Pick<CliProfile, 'token' | 'tokenFile'> }> {
  if ((options.tokenFile === undefined) === (options.tokenStdin !== true)) {
    throw new PlexliftError('BAD_ARGUMENT', "give the daemon's admin token with --token-file FILE or --token-stdin (one of them)");
  }
  if (options.tokenStdin) {
    const token = await readSecretFromStdin('admin token: ');
    if (!token) throw new PlexliftError('BAD_ARGUMENT', '--token-stdin: no token was given; nothing was saved');
    return { token, kept: { token } };
  }
  const path = resolve(options.tokenFile!);
  let token: string;
  try {
    token = readFileSync(path, 'utf8').trim();
  } catch (error) {
    throw new PlexliftError('PATH_INVALID', `--token-file: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (!token) throw new PlexliftError('BAD_ARGUMENT', `--token-file: ${path} is empty`);
  return { token, kept: { tokenFile: path } };
}

/** A token file others can read is a token others have: said, not refused (it may be on purpose). */
function warnIfShared(path: string | undefined, output: Output): void {
  if (path === undefined) return;
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) output.warn(`${path} can be read by others (mode ${mode.toString(8).padStart(4, '0')}): chmod 600 ${path}`);
}

/**
 * The fingerprint to pin (undefined when an authority this system trusts signed the certificate),
 * or null when the user did not trust it. Trust on first use: the fingerprint is shown, and a
 * person confirms it, or `--fingerprint` / `--yes` says so; a script with neither is refused.
 */
async function chooseFingerprint(url: string, expected: string | undefined, options: LoginOptions, output: Output): Promise<string | undefined | null> {
  const certificate = await readDaemonCertificate(url, LOGIN_TIMEOUT_MS);
  if (expected) {
    if (certificate.fingerprint !== expected) {
      throw new PlexliftError(
        'AUTH_REFUSED',
        `${url} showed a certificate with fingerprint ${certificate.fingerprint}, not --fingerprint ${expected}; nothing was sent (a different daemon, or someone in between)`,
      );
    }
    return expected;
  }
  if (certificate.isCaSigned) {
    output.info(`${url}: its certificate is signed by an authority this system trusts (SHA-256 ${certificate.fingerprint})`);
    return undefined;
  }
  output.info(`${url} shows a self-signed certificate, SHA-256 fingerprint:\n  ${certificate.fingerprint}`);
  if (options.yes) return certificate.fingerprint;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new PlexliftError(
      'BAD_ARGUMENT',
      `the certificate's fingerprint cannot be confirmed here (no terminal to ask on): compare it with the one in the daemon's log (its first lines), then give --fingerprint ${certificate.fingerprint} (or --yes to trust it as shown); nothing was saved`,
    );
  }
  const isTrusted = await confirmOnTerminal("Is this the daemon's fingerprint (its log shows it in its first lines)?", {});
  return isTrusted ? certificate.fingerprint : null;
}

/** One authenticated call (the daemon's version): a refused token is said, and nothing is saved. */
async function proveToken(url: string, token: string, fingerprint: string | undefined) {
  const client = createControllerClient({ url, token, ...(fingerprint ? { fingerprint } : {}) });
  try {
    return await client.daemon.version.query(undefined, { signal: AbortSignal.timeout(LOGIN_TIMEOUT_MS) });
  } catch (error) {
    const failure = fromControllerError(error, {
      url,
      tokenHint: 'check the token given; nothing was saved',
      certificateHint: 'it changed since the handshake a moment ago; nothing was saved',
    });
    if (failure.code === 'CONTROLLER_UNREACHABLE') throw new PlexliftError(failure.code, `${failure.message}; nothing was saved`);
    throw failure;
  } finally {
    await client.close();
  }
}
