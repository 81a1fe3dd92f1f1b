import { InvalidArgumentError } from 'commander';

/**
 * Option values checked as commander parses them: a wrong one is a usage error naming the
 * option and the value (commander prefixes "option '--port <port>' argument 'abc' is invalid").
 */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER ? `must be a whole number of at least ${min}.` : `must be a whole number from ${min} to ${max}.`,
      );
    }
    return number;
  };
}

/** A TCP port: 1 to 65535. */
export const port = wholeNumber(1, 65_535);

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A point in time as `--since` takes it: a duration back from now (`90s`, `10m`, `2h`, `1d`) or a date (`2026-12-04T06:00`). */
export function pointInTime(value: string, now = Date.now()): number {
  const ago = /^(\d+(?:\.\d+)?)([smhd])$/.exec(value.trim());
  if (ago) return now - Number(ago[1]) * UNIT_MS[ago[2]!]!;
  const at = Date.parse(value);
  if (Number.isNaN(at)) throw new InvalidArgumentError('must be a duration back from now (90s, 10m, 2h, 1d) or a date and time (2026-12-04T06:00).');
  return at;
}
