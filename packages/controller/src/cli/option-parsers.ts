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
