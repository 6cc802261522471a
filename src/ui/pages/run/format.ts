/** Figures as the run page shows them. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB"; undefined → "—". */
export function bytes(value: number | undefined): string {
  if (value === undefined) return '—';
  const unit = Math.min(UNITS.length - 1, Math.floor(Math.log(Math.max(value, 1)) / Math.log(1024)));
  return unit === 0 ? `${value} B` : `${Number((value / 1024 ** unit).toFixed(1))} ${UNITS[unit]}`;
}

const figures = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** 29594870.43 → "29,594,870.43"; undefined → "—". */
export function figure(value: number | string | null | undefined): string {
  if (value === undefined || value === null) return '—';
  return typeof value === 'number' ? figures.format(value) : value;
}
