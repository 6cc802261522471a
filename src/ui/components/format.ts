/** Figures as people read them. */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** `1536` → `1.5 KB` (powers of 1024). */
export function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  let unit = 0;
  let scaled = value;
  while (scaled >= 1024 && unit < UNITS.length - 1) {
    scaled /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? scaled : scaled.toFixed(scaled < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/** `12345` → `12,345`. */
export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : value.toLocaleString('en');
}
