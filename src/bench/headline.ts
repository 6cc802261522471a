/** The pipeline's headline figures, as runPipeline reports them, and how two of them are compared. */
export type Headline = Record<string, number | string | null> | null;

/** Numeric strings (BIGINT, DECIMAL, HUGEINT as JSON) become numbers, as in runPipeline's summary. */
export function headlineFromRow(row: Record<string, unknown>): Headline {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => {
      if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value)) return [key, Number(value)];
      if (typeof value === 'number' || typeof value === 'string' || value === null) return [key, value];
      return [key, JSON.stringify(value)];
    }),
  );
}

/**
 * Differences between two headlines, empty when they agree. Counts must be equal; a fractional
 * figure (a sum of DOUBLEs, whose last bits depend on the order DuckDB's threads add them) may
 * differ by at most one part in 10^12.
 */
export function headlineDifferences(a: Headline, b: Headline): string[] {
  if (a === null || b === null) return a === b ? [] : ['one headline is missing'];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.flatMap((key) => {
    const x = a[key];
    const y = b[key];
    if (x === y) return [];
    if (typeof x === 'number' && typeof y === 'number' && !(Number.isInteger(x) && Number.isInteger(y))) {
      if (Math.abs(x - y) <= 1e-12 * Math.max(Math.abs(x), Math.abs(y))) return [];
    }
    return [`${key}: ${String(x)} ≠ ${String(y)}`];
  });
}

/** Like the headline line of the report: "1,234 companies · 5,678 contracts · 9,012,345.67 total_value". */
export function formatHeadline(headline: Headline): string {
  if (!headline) return '—';
  return Object.entries(headline)
    .map(([key, value]) => `${key} ${typeof value === 'number' ? formatFigure(value) : String(value)}`)
    .join(' · ');
}

export function formatFigure(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}
