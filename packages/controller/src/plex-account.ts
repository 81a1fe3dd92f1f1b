import { join } from 'node:path';
import { PlexliftError } from '@plexlift/shared';
import type { HomeConfig } from '@plexlift/shared';
import { readPreferencesFile } from '@plexlift/shared/plex-api';

/**
 * The owner's plex.tv account: claim tokens minted just in time (they live about four minutes
 * and work once, plex-api.md §1.4) and the Plex Pass check Sonic needs.
 */
export class PlexAccount {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** The owner's token: configured, else the home server's `PlexOnlineToken`. */
  static fromHome(home: HomeConfig): PlexAccount {
    return new PlexAccount(home.plexTvUrl, home.plexToken ?? readOnlineToken(home.plexDataDir));
  }

  async mintClaimToken(): Promise<string> {
    const body = await this.get('/api/claim/token.json');
    const token = (body as { token?: unknown }).token;
    if (typeof token !== 'string' || !token.startsWith('claim-'))
      throw new PlexliftError('PLEX_API_ERROR', 'plex.tv answered the claim request without a claim token');
    return token;
  }

  async hasPlexPass(): Promise<boolean> {
    const body = (await this.get('/api/v2/user')) as { subscription?: { active?: boolean } };
    return body.subscription?.active === true;
  }

  private async get(path: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
        headers: { 'X-Plex-Token': this.token, Accept: 'application/json', 'X-Plex-Client-Identifier': 'plexlift', 'X-Plex-Product': 'plexlift' },
      });
    } catch (error) {
      throw new PlexliftError('PLEX_API_ERROR', `cannot reach plex.tv at ${this.baseUrl}: ${(error as Error).message}`, { cause: error });
    }
    if (response.status === 401) {
      throw new PlexliftError(
        'PLEX_UNAUTHORIZED',
        "plex.tv refused the owner's token (home.plexToken, or the home server's PlexOnlineToken): sign the home server in again or set home.plexToken",
      );
    }
    if (!response.ok) throw new PlexliftError('PLEX_API_ERROR', `plex.tv answered ${path} with HTTP ${response.status}`);
    return response.json();
  }
}

/** `PlexOnlineToken` from the home server's Preferences.xml (read, never written). */
export function readOnlineToken(pmsDir: string): string {
  const path = join(pmsDir, 'Preferences.xml');
  let preferences: Map<string, string>;
  try {
    preferences = readPreferencesFile(pmsDir);
  } catch (error) {
    throw new PlexliftError(
      'CONFIG_INVALID',
      `home.plexDataDir: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); set home.plexToken instead`,
    );
  }
  const token = preferences.get('PlexOnlineToken') || undefined;
  if (!token)
    throw new PlexliftError(
      'CONFIG_INVALID',
      `home.plexToken: the home server is not signed in to plex.tv (no PlexOnlineToken in ${path}); sign it in or set home.plexToken`,
    );
  return token;
}
