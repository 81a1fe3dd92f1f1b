import { PlexliftError } from '../errors.js';

/** Rewrite paths under `from` to the same place under `to`. */
export interface PathMapping {
  from: string;
  to: string;
}

/** Splits `FROM=TO` at the first `=` (paths may contain `=`; the first one is the separator). */
export function parsePathMapping(argument: string, field = '--map'): PathMapping {
  const at = argument.indexOf('=');
  if (at < 0) {
    throw new PlexliftError('MAPPING_INVALID', `${field} ${JSON.stringify(argument)}: expected FROM=TO, e.g. /media/tv=/mnt/media/tv`, {
      details: { field, value: argument },
    });
  }
  return { from: argument.slice(0, at), to: argument.slice(at + 1) };
}

/**
 * Checks and normalises mappings, longest `from` first (the order they are applied in).
 * Rejected: relative paths, `.`/`..`/empty segments, the root, a mapping onto itself, the same
 * `from` twice, and chains: a `to` inside (or above) any `from`, which a second pass or a
 * careless order would rewrite again (`A→B`, `B→C`). Nested `from`s are fine: the longest wins.
 */
export function validatePathMappings(mappings: readonly PathMapping[], field = '--map'): PathMapping[] {
  if (mappings.length === 0) {
    throw new PlexliftError('MAPPING_INVALID', `${field}: at least one mapping FROM=TO is required`, { details: { field } });
  }
  const normalised = mappings.map((mapping, i) => {
    const name = mappings.length > 1 ? `${field}[${i + 1}] (${mapping.from}=${mapping.to})` : `${field} (${mapping.from}=${mapping.to})`;
    return { name, from: normalisePath(mapping.from, `${name} FROM`), to: normalisePath(mapping.to, `${name} TO`) };
  });
  for (const a of normalised) {
    if (a.from === a.to) fail(`${a.name}: FROM and TO are the same path`);
  }
  for (const [i, a] of normalised.entries()) {
    for (const [j, b] of normalised.entries()) {
      if (i < j && a.from === b.from) fail(`${b.name}: ${b.from} is already mapped by ${a.name}`);
      if (overlaps(a.to, b.from)) {
        const how = a.to === b.from ? 'is' : isInside(a.to, b.from) ? 'is inside' : 'contains';
        fail(
          i === j
            ? `${a.name}: TO ${a.to} ${how} its own FROM, so mapped paths would still match it`
            : `${a.name}: TO ${a.to} ${how} FROM of ${b.name}, so the two mappings chain; map each old prefix straight to its final place`,
        );
      }
    }
  }
  return normalised.map(({ from, to }) => ({ from, to })).sort((a, b) => b.from.length - a.from.length || (a.from < b.from ? -1 : 1));

  function fail(message: string): never {
    throw new PlexliftError('MAPPING_INVALID', message, { details: { field, mappings } });
  }
}

function normalisePath(path: string, name: string): string {
  const fail = (problem: string): never => {
    throw new PlexliftError('MAPPING_INVALID', `${name}: ${problem}`, { details: { path } });
  };
  if (path === '') fail('is empty');
  if (/[\0\n\r]/.test(path)) fail('contains a NUL or line break');
  if (/^file:/i.test(path)) fail('give a plain path, not a file:// URL (URLs in the DB are matched for you)');
  if (!path.startsWith('/')) fail(`${JSON.stringify(path)} is not an absolute path (it must start with /)`);
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') fail('is the filesystem root; map a folder below it');
  const segments = trimmed.slice(1).split('/');
  if (segments.some((s) => s === '')) fail(`${JSON.stringify(path)} has an empty segment (//)`);
  if (segments.some((s) => s === '.' || s === '..')) fail(`${JSON.stringify(path)} has a . or .. segment`);
  return trimmed;
}

function isInside(path: string, parent: string): boolean {
  return path.startsWith(parent + '/');
}

function overlaps(a: string, b: string): boolean {
  return a === b || isInside(a, b) || isInside(b, a);
}
