/** The known, finite values, smallest first (a run that did not measure a phase gives undefined). */
function measured(values: readonly (number | undefined)[]): number[] {
  return values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
}

/** The middle of the measured values (the mean of the middle two for an even count); undefined when none was measured. */
export function median(values: readonly (number | undefined)[]): number | undefined {
  const known = measured(values);
  if (known.length === 0) return undefined;
  const middle = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? known[middle] : (known[middle - 1]! + known[middle]!) / 2;
}

/** The upper of the middle two for an even count: a value one of the runs really took (a reserve errs long). */
export function upperMedian(values: readonly (number | undefined)[]): number | undefined {
  const known = measured(values);
  return known.length === 0 ? undefined : known[Math.floor(known.length / 2)];
}
