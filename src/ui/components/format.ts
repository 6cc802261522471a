/** Figures as people read them, on every page. */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** `1536` → `1.5 KB` (powers of 1024, as storage consoles show them); none → `—`. */
export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  let scaled = value;
  let unit = 0;
  while (scaled >= 1024 && unit < UNITS.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? scaled : scaled.toFixed(scaled < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

const counts = new Intl.NumberFormat('en');

/** `12345` → `12,345`; none → `—`. */
export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : counts.format(value);
}

/** `3 files`, `1 file`. */
export function plural(value: number, noun: string): string {
  return `${count(value)} ${noun}${value === 1 ? '' : 's'}`;
}

const figures = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });

/** A metric as it came: `29594870.43` → `29,594,870.43`, a text as it is; none → `—`. */
export function figure(value: number | string | null | undefined): string {
  if (value === undefined || value === null) return '—';
  return typeof value === 'number' ? figures.format(value) : value;
}
