import { z } from 'zod';
import { MIN_TRANSFER_BYTES_PER_SECOND } from '../transfer/contract.js';

/** rclone's size suffixes, binary (`10M` is 10 MiB). */
const UNIT_BYTES: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/** `10M`, `512K`, `1.5G`, `10MiB`, `10mb`, `65536`, `65536B`: a number and one of rclone's suffixes. */
const RATE = /^(\d+(?:\.\d+)?)\s*(?:([kmgtp])(?:i?b)?|b)?$/i;

const MINIMUM = `${MIN_TRANSFER_BYTES_PER_SECOND / 1024}K`;

/** What a limit reads as: bytes per second, `undefined` for no limit, or why it is not a limit. */
type LimitReading = { bytesPerSecond: number | undefined } | { problem: string };

/**
 * Reads a limit as rclone's `--bwlimit` is written (users know it from there): `10M` is 10 MiB/s,
 * `512K` 512 KiB/s (bytes, binary units), a plain number bytes per second, `off` or 0 no limit.
 */
function readBandwidthLimit(value: string | number): LimitReading {
  const text = String(value).trim();
  if (/^off$/i.test(text)) return { bytesPerSecond: undefined };
  if (text.split(':').length === 2 && text.split(':').every((part) => RATE.test(part.trim()))) {
    return { problem: `one rate for both directions (the restore and the upload), not rclone's UP:DOWN pair "${text}"` };
  }
  const match = RATE.exec(text);
  const bytesPerSecond = match ? Math.floor(Number(match[1]) * (match[2] ? UNIT_BYTES[match[2].toLowerCase()]! : 1)) : Number.NaN;
  if (!Number.isSafeInteger(bytesPerSecond)) {
    return { problem: `must be a rate as rclone writes it: 10M (10 MiB/s), 512K (512 KiB/s), a number of bytes per second, or off; not "${text}"` };
  }
  if (bytesPerSecond === 0) return { bytesPerSecond: undefined };
  // Home cuts a chunk that crosses slower than this (its stall guard, transfer/contract.ts): a
  // lower limit would have every chunk cut and sent again, for ever.
  if (bytesPerSecond < MIN_TRANSFER_BYTES_PER_SECOND) {
    const plain = match && !match[2] && !/b$/i.test(text) ? `; a plain number is bytes per second (rclone reads it as KiB/s: write ${text}K for that)` : '';
    return {
      problem: `${text} is below ${MINIMUM} (${MINIMUM}iB/s), the slowest a chunk may cross before home cuts it as stalled: set at least ${MINIMUM}, or off${plain}`,
    };
  }
  return { bytesPerSecond };
}

/** Why `value` is not a bandwidth limit (for a flag's message), or undefined when it is one. */
export function bandwidthLimitProblem(value: string | number): string | undefined {
  const reading = readBandwidthLimit(value);
  return 'problem' in reading ? reading.problem : undefined;
}

/** The bytes per second a limit allows; undefined for `off` (a value the schema passed). */
export function bytesPerSecondOf(value: string | number): number | undefined {
  const reading = readBandwidthLimit(value);
  if ('problem' in reading) throw new Error(reading.problem);
  return reading.bytesPerSecond;
}

/**
 * A limit on the archive transfers between home and the agent (both ways), kept as written:
 * rclone's `--bwlimit` syntax (`10M`, `512K`, bytes per second, `off`), at least 64K.
 */
export const BandwidthLimitSchema = z.union([z.string(), z.number()]).superRefine((value, context) => {
  const problem = bandwidthLimitProblem(value);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});
