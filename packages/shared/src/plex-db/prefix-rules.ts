import type { PathMapping } from './path-mappings.js';

/** One literal prefix to find at the start of a value, and what replaces it. */
export interface PrefixRule {
  match: string;
  replace: string;
  /** Length of `match` in characters as SQLite counts them (code points, not UTF-16 units). */
  length: number;
}

/**
 * The literal prefixes a mapping rewrites, per storage form. Paths are stored raw; `file://`
 * URLs are stored raw by some PMS versions and percent-encoded by others, so both are matched
 * and each keeps its own form.
 */
export function prefixRules(mapping: PathMapping): { path: PrefixRule[]; 'file-url': PrefixRule[] } {
  const rule = (match: string, replace: string): PrefixRule => ({ match, replace, length: [...match].length });
  const urls = [rule(`file://${mapping.from}`, `file://${mapping.to}`)];
  const encodedFrom = encodeURI(mapping.from);
  if (encodedFrom !== mapping.from) urls.push(rule(`file://${encodedFrom}`, `file://${encodeURI(mapping.to)}`));
  return { path: [rule(mapping.from, mapping.to)], 'file-url': urls };
}
