/** Browsers by the User-Agent token that names them, the more specific first (Edge and Opera also say Chrome, Chrome also says Safari). */
const BROWSERS: [name: string, token: RegExp][] = [
  ['Edge', /\bEdg(?:e|A|iOS)?\/(\d+)/],
  ['Opera', /\bOPR\/(\d+)/],
  ['Firefox', /\b(?:Firefox|FxiOS)\/(\d+)/],
  ['Chrome', /\b(?:HeadlessChrome|Chrome|Chromium|CriOS)\/(\d+)/],
  ['Safari', /\bVersion\/(\d+)[\d.]* (?:Mobile\/\w+ )?Safari\//],
];

const SYSTEMS: [name: string, token: RegExp][] = [
  ['Android', /\bAndroid\b/],
  ['iPhone', /\biPhone\b/],
  ['iPad', /\biPad\b/],
  ['ChromeOS', /\bCrOS\b/],
  ['Windows', /\bWindows\b/],
  ['macOS', /\bMac OS X\b/],
  ['Linux', /\bLinux\b/],
];

/**
 * A User-Agent header as a person names the browser ("Firefox 128 on Linux"), for the admin's list
 * of sessions: the header is the caller's text, so nothing of it is kept but these names and a
 * number; an unknown one is said so.
 */
export function browserName(userAgent: string | undefined): string {
  if (!userAgent) return 'unknown browser';
  const browser = BROWSERS.map(([name, token]) => [name, token.exec(userAgent)?.[1]] as const).find(([, version]) => version !== undefined);
  const system = SYSTEMS.find(([, token]) => token.test(userAgent))?.[0];
  const named = browser ? `${browser[0]} ${browser[1]!.slice(0, 4)}` : 'unknown browser';
  return system ? `${named} on ${system}` : named;
}
