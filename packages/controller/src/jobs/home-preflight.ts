import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PlexliftError, type Config } from '@plexlift/shared';
import { lastStderrLine } from '@plexlift/shared/process';
import { PROVIDERS } from '../providers/registry.js';
import type { ProviderName } from '../providers/provider.js';
import { homeSections } from './home-library.js';

type MediaConfig = NonNullable<Config['media']>;

const run = promisify(execFile);

/** How long the remote may take to list its top folder (a cold bucket takes a few seconds). */
const REMOTE_LIST_TIMEOUT_MS = 30_000;

/**
 * What home can check before anything is rented, so a wrong section name or a dead remote costs
 * a second here rather than a booted, paid VM: the sections asked for exist at home, their folders
 * are where the VM mounts the media, the remote lists, the provider's config holds. Each failure
 * names the flag or field and changes nothing.
 */
export async function checkHomeBeforeRenting(input: { config: Config; providerName: ProviderName; sections: string[] }): Promise<void> {
  const { config } = input;
  const home = config.home!;
  const media = config.media!;
  checkSections(home.plexDataDir, media, input.sections);
  await listRemote(media);
  try {
    await PROVIDERS[input.providerName].check(config);
  } catch (error) {
    throw new PlexliftError('CONFIG_INVALID', (error as Error).message, { cause: error });
  }
}

/** The sections asked for, by name or id, exist at home; their folders lie where the VM mounts the media. */
function checkSections(pmsDir: string, media: MediaConfig, wanted: string[]): void {
  const all = homeSections(pmsDir);
  const known = all.map((s) => `"${s.name}" (${s.id})`).join(', ');
  const selected =
    wanted.length === 0
      ? all
      : wanted.map((name) => {
          const section = all.find((s) => String(s.id) === name || s.name === name);
          if (!section)
            throw new PlexliftError(
              'BAD_ARGUMENT',
              `--section: "${name}" is not a section of the home library (it has ${known || 'none'}); nothing was started`,
              { details: { field: 'sections', value: name } },
            );
          return section;
        });
  const roots = [media.mountPath, ...media.mappings.map((m) => m.from)];
  for (const section of selected) {
    const outside = section.locations.find((location) => !roots.some((root) => isUnder(location, root)));
    if (outside) {
      throw new PlexliftError(
        'PATH_INVALID',
        `media.mountPath: the section "${section.name}" has its folder ${outside} outside ${media.mountPath}${media.mappings.length > 0 ? ' and every media.mappings "from"' : ''}: the VM would not see its files; set media.mountPath (or a mapping) to cover it; nothing was started`,
        { details: { field: 'media.mountPath', section: section.name, location: outside } },
      );
    }
  }
}

function isUnder(path: string, root: string): boolean {
  const base = root.endsWith('/') ? root : `${root}/`;
  return path === root || path.startsWith(base);
}

/** The remote lists its top folder (credentials, bucket and name right), within a bound time. */
export async function listRemote(media: MediaConfig): Promise<number> {
  try {
    const { stdout } = await run('rclone', ['lsf', '--max-depth', '1', media.remote, ...(media.rcloneConfigPath ? ['--config', media.rcloneConfigPath] : [])], {
      timeout: REMOTE_LIST_TIMEOUT_MS,
    });
    return stdout.split('\n').filter(Boolean).length;
  } catch (error) {
    const why = (error as { killed?: boolean }).killed ? `no answer within ${REMOTE_LIST_TIMEOUT_MS / 1000} s` : lastStderrLine(error);
    throw new PlexliftError('CONFIG_INVALID', `media.remote: rclone cannot list ${media.remote}: ${why}`, { cause: error, details: { field: 'media.remote' } });
  }
}
