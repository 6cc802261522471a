/**
 * Which bounds of a data file's column go into the Delta log: only those that round-trip exactly (whole numbers
 * within JavaScript's safe range, doubles without NaN, dates). Strings and timestamps get none: a truncated bound
 * would make other readers skip files wrongly.
 */

const WHOLE = /^(long|integer|short|byte)$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The column's [min, max] for the log, or undefined when it gets none. */
export function statsBounds(
  type: string,
  min: string | null | undefined,
  max: string | null | undefined,
  hasNan?: string,
): [number | string, number | string] | undefined {
  if (min === undefined || min === null || max === undefined || max === null) return undefined;
  if (type === 'date') return DAY.test(min) && DAY.test(max) ? [min, max] : undefined;
  if ((!WHOLE.test(type) && type !== 'double') || hasNan === 'true') return undefined;
  const [low, high] = [Number(min), Number(max)];
  const exact = (value: number) =>
    Number.isFinite(value) && (Number.isSafeInteger(value) || !WHOLE.test(type));
  return exact(low) && exact(high) ? [low, high] : undefined;
}
