/**
 * Date formatting from day numbers (days since 1970-01-01, UTC). Hinnant's civil-from-days avoids a
 * Date object per field, which matters at millions of rows.
 */

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "YYYY-MM-DD" for a day number. */
export function isoDay(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${y}-${pad2(m)}-${pad2(d)}`;
}

/** Day number of January 1st of a year. */
export function dayOfYearStart(year: number): number {
  return Math.round(Date.UTC(year, 0, 1) / 86_400_000);
}

/** "YYYY-MM-DDTHH:MM:SS" for a second count since the epoch. */
export function isoSecond(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  let rest = seconds - days * 86_400;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  return `${isoDay(days)}T${pad2(h)}:${pad2(m)}:${pad2(rest - m * 60)}`;
}

/** Month (1-12) of a day number, for choosing summer (+02:00) or winter (+01:00) offsets. */
export function monthOf(days: number): number {
  return Number(isoDay(days).slice(5, 7));
}
