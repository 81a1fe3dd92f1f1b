import { readFileSync } from 'node:fs';
import { PlexliftError } from '@plexlift/shared';
import type { JobSpec } from '@plexlift/shared/protocol';

/** An rclone.conf encrypted with `rclone config encryption`: its sections cannot be read. */
const ENCRYPTED_HEADER = 'RCLONE_ENCRYPT_V0:';

/** Keys whose value names other remotes: crypt, alias, chunker, compress, hasher, cache (`remote`); union, combine (`upstreams`). */
const WRAPPING_KEYS = new Set(['remote', 'upstreams']);

interface Section {
  name: string;
  /** The section's lines as written, its header included. */
  lines: string[];
  values: Map<string, string>;
}

/** A remote path the VM uses, with the setting it comes from (named in messages). */
export interface UsedRemote {
  field: string;
  remote: string;
}

/**
 * What the VM of a job gets of the rclone config at `rcloneConfigPath` (none without one): read
 * when the job starts (a missing section fails it before its machine exists) and when its agent
 * asks for it.
 */
export function rcloneConfigForJob(rcloneConfigPath: string | undefined, spec: Pick<JobSpec, 'media' | 'offline'>): string | undefined {
  if (!rcloneConfigPath) return undefined;
  const used = [
    { field: 'media.remote', remote: spec.media.remote },
    ...(spec.offline.archiveRemote ? [{ field: 'offline.archiveRemote', remote: spec.offline.archiveRemote }] : []),
  ];
  let text: string;
  try {
    text = readFileSync(rcloneConfigPath, 'utf8');
  } catch (error) {
    throw new PlexliftError('PATH_INVALID', `media.rcloneConfigPath: cannot read ${rcloneConfigPath} (${(error as Error).message})`, {
      cause: error,
      details: { field: 'media.rcloneConfigPath', path: rcloneConfigPath },
    });
  }
  return selectRemoteConfig(text, used, rcloneConfigPath);
}

/**
 * The part of the user's rclone.conf a job's VM needs: the sections of the remotes it uses (the
 * media, and where a held archive is copied) and of the remotes they wrap (a crypt over an S3
 * remote, a union of several), followed transitively. Every other remote and its credentials stay
 * home (issue 16, item 13). Sections are copied as written, in the file's order.
 *
 * A remote is `name:path`; an on-the-fly one (`:s3,…:path`) needs no section. `source` names the
 * file in messages.
 */
export function selectRemoteConfig(configText: string, used: readonly UsedRemote[], source: string): string {
  if (configText.trimStart().startsWith(ENCRYPTED_HEADER)) {
    throw new PlexliftError(
      'CONFIG_INVALID',
      `media.rcloneConfigPath: ${source} is encrypted (rclone config encryption); plexlift needs a plain config to send the VM only the section of media.remote`,
      { details: { field: 'media.rcloneConfigPath', path: source } },
    );
  }
  const sections = parseSections(configText);
  const wanted = new Set<string>();
  const visit = (name: string, from: UsedRemote, via: string | undefined) => {
    if (wanted.has(name)) return;
    const section = sections.get(name);
    if (!section) {
      const why = via ? `remote "${via}" wraps "${name}", which` : `"${from.remote}" names remote "${name}", which`;
      throw new PlexliftError('CONFIG_INVALID', `${from.field}: ${why} has no [${name}] section in ${source}`, {
        details: { field: from.field, remote: name, path: source },
      });
    }
    wanted.add(name);
    for (const [key, value] of section.values) {
      if (WRAPPING_KEYS.has(key)) for (const wrapped of remotesNamedIn(value)) visit(wrapped, from, name);
    }
  };
  for (const from of used) {
    const name = remoteName(from.remote);
    if (name !== undefined) visit(name, from, undefined);
  }
  return [...sections.values()]
    .filter((section) => wanted.has(section.name))
    .map((section) => section.lines.join('\n').trimEnd() + '\n')
    .join('\n');
}

/** `name` of `name:path`; undefined for an on-the-fly remote (`:backend…:`) or a local path. */
function remoteName(remotePath: string): string | undefined {
  const match = /^([^:/\\\s=][^:/\\]*):/.exec(remotePath);
  return match?.[1];
}

/** The remotes a `remote =` or `upstreams =` value names: `other:path`, or `dir=other:path:ro …` for union and combine. */
function remotesNamedIn(value: string): string[] {
  return value
    .split(/\s+/)
    .filter(Boolean)
    .map((entry) => entry.replace(/^[^:=]*=/, '')) // combine's `dir=remote:path`
    .map((entry) => entry.replace(/^["']|["']$/g, ''))
    .flatMap((entry) => remoteName(entry) ?? []);
}

/** rclone.conf as INI: `[name]` headers, `key = value` lines, `#` and `;` comments. */
function parseSections(text: string): Map<string, Section> {
  const sections = new Map<string, Section>();
  let current: Section | undefined;
  for (const line of text.split(/\r?\n/)) {
    const header = /^\s*\[(.+)\]\s*$/.exec(line);
    if (header) {
      current = { name: header[1]!, lines: [line], values: new Map() };
      sections.set(current.name, current);
      continue;
    }
    if (!current) continue; // comments before the first section belong to no remote
    current.lines.push(line);
    const entry = /^\s*([^#;=\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (entry) current.values.set(entry[1]!.toLowerCase(), entry[2]!);
  }
  return sections;
}
