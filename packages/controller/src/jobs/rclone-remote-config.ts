import { readFileSync } from 'node:fs';
import { PlexliftError } from '@plexlift/shared';
import type { JobSpec } from '@plexlift/shared/protocol';

/** An rclone.conf encrypted with `rclone config encryption`: its sections cannot be read. */
const ENCRYPTED_HEADER = 'RCLONE_ENCRYPT_V0:';

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
 * A remote is `name:path` or, with a connection string, `name,key=value:path`; an on-the-fly one
 * (`:s3,…:path`) needs no section, but the remotes its settings wrap do (`:crypt,remote="vault:"…`).
 * The keys that name other remotes: `remote` (crypt, alias, chunker, compress, hasher, cache) and
 * `upstreams` (union, combine). `source` names the file in messages.
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
  const followed = new Set<string>();
  /** Takes the sections `remotePath` needs: its remote's, and those of the remotes its settings (or its connection string) wrap. */
  const follow = (remotePath: string, from: UsedRemote, via: string | undefined): void => {
    const remote = parseRemotePath(remotePath, from, via);
    if (!remote) return; // a local path
    const key = `${remote.name}\0${JSON.stringify([...remote.params])}`;
    if (followed.has(key)) return;
    followed.add(key);
    let values = remote.params;
    if (!remote.name.startsWith(':')) {
      const section = sections.get(remote.name);
      if (!section) {
        const why = via ? `remote "${via}" wraps "${remote.name}", which` : `"${from.remote}" names remote "${remote.name}", which`;
        throw new PlexliftError('CONFIG_INVALID', `${from.field}: ${why} has no [${remote.name}] section in ${source}`, {
          details: { field: from.field, remote: remote.name, path: source },
        });
      }
      wanted.add(remote.name);
      values = new Map([...section.values, ...remote.params]); // a connection string's values override the section's
    }
    const type = remote.name.startsWith(':') ? remote.name.slice(1) : values.get('type');
    const name = remote.name.startsWith(':') ? `${remote.name} (on the fly)` : remote.name;
    const wrapped = values.get('remote');
    if (wrapped) follow(wrapped, from, name);
    const upstreams = values.get('upstreams');
    if (upstreams) for (const upstream of upstreamRemotes(upstreams, type, from)) follow(upstream, from, name);
  };
  for (const from of used) follow(from.remote, from, undefined);
  return [...sections.values()]
    .filter((section) => wanted.has(section.name))
    .map((section) => section.lines.join('\n').trimEnd() + '\n')
    .join('\n');
}

/** A remote path as rclone reads it: `name:path`, `name,key=value,…:path` or on the fly `:backend,key=value,…:path`. */
interface RemotePath {
  /** The section's name, or `:backend` for an on-the-fly remote. */
  name: string;
  /** The connection string's `key=value` settings (a bare `key` is `true`); quotes removed. */
  params: Map<string, string>;
}

/**
 * `remotePath` parsed as rclone's `fspath.Parse` does; undefined for a local path (no `:`, or a
 * `/` or `\\` before the first `:` or `,`). A value holding `:` or `,` is quoted (`'…'` or `"…"`, a
 * doubled quote being one quote): `:crypt,remote="vault:movies":` wraps `vault`.
 */
function parseRemotePath(remotePath: string, from: UsedRemote, via: string | undefined): RemotePath | undefined {
  const subject = via ? `"${remotePath}", which remote "${via}" wraps` : `the remote "${remotePath}"`;
  const invalid = (why: string) =>
    new PlexliftError('CONFIG_INVALID', `${from.field}: rclone cannot read ${subject}: ${why}`, { details: { field: from.field, remote: remotePath } });
  if (!remotePath.includes(':')) return undefined;
  const onTheFly = remotePath.startsWith(':');
  const nameEnd = remotePath.slice(onTheFly ? 1 : 0).search(/[:,]/) + (onTheFly ? 1 : 0);
  if (nameEnd < (onTheFly ? 1 : 0)) throw invalid('it needs a : after the backend');
  const separator = remotePath.search(/[/\\]/);
  if (separator >= 0 && separator < nameEnd) {
    if (onTheFly) throw invalid('an on-the-fly remote names its backend before any / or \\');
    return undefined;
  }
  const name = remotePath.slice(0, nameEnd);
  let at = nameEnd;
  if (name === '' || name === ':') throw invalid('the remote has no name');
  // rclone's own rule for a name (fspath's configNameRe): a quoted `remote = "…"` is not one.
  if (!/^[\p{L}\p{N}_.+@]+(?:[ -]+[\p{L}\p{N}_.+@-]+)*$/u.test(name.replace(/^:/, ''))) {
    throw invalid(`"${name}" is not a remote name (letters, digits, _ . + @, - and inner spaces; no quotes)`);
  }
  const params = new Map<string, string>();
  while (remotePath[at] === ',') {
    const param = /^[A-Za-z0-9_]+/.exec(remotePath.slice(at + 1))?.[0];
    if (!param) throw invalid(`a setting at position ${at + 1} has no name (letters, digits and _)`);
    at += 1 + param.length;
    if (remotePath[at] !== '=') {
      params.set(param, 'true');
      continue;
    }
    at += 1;
    const quote = remotePath[at];
    if (quote === '"' || quote === "'") {
      let value = '';
      for (at += 1; ; at += 2) {
        const close = remotePath.indexOf(quote, at);
        if (close < 0) throw invalid(`the quoted value of ${param} is not closed`);
        value += remotePath.slice(at, close);
        at = close;
        if (remotePath[close + 1] !== quote) break;
        value += quote; // a doubled quote is one quote
      }
      at += 1;
      params.set(param, value);
    } else {
      const end = remotePath.slice(at).search(/[:,]/);
      if (end < 0) throw invalid(`the value of ${param} must end with , or :`);
      params.set(param, remotePath.slice(at, at + end));
      at += end;
    }
  }
  if (remotePath[at] !== ':') throw invalid(`expected , or : at position ${at}`);
  return { name, params };
}

/**
 * The remote paths of an `upstreams` value: a space-separated list quoted as CSV (`"my s3:a" b2:`,
 * `""` a quote), as rclone's SpaceSepList; combine's entries are `dir=remote:path`, union's may
 * end with `:ro`, `:nc` or `:writeback`, which parse as part of the path.
 */
function upstreamRemotes(value: string, type: string | undefined, from: UsedRemote): string[] {
  const entries: string[] = [];
  let at = 0;
  while (at < value.length) {
    if (value[at] === ' ') {
      at += 1;
      continue;
    }
    if (value[at] === '"') {
      let entry = '';
      for (at += 1; ; at += 2) {
        const close = value.indexOf('"', at);
        if (close < 0) {
          throw new PlexliftError('CONFIG_INVALID', `${from.field}: the upstreams "${value}" open a quote they do not close`, {
            details: { field: from.field },
          });
        }
        entry += value.slice(at, close);
        at = close;
        if (value[close + 1] !== '"') break;
        entry += '"';
      }
      at += 1;
      entries.push(entry);
    } else {
      const end = value.indexOf(' ', at);
      entries.push(value.slice(at, end < 0 ? value.length : end));
      at = end < 0 ? value.length : end;
    }
  }
  return type === 'combine' ? entries.map((entry) => entry.slice(entry.indexOf('=') + 1)) : entries;
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
