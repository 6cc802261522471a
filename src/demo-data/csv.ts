/**
 * Minimal CSV quoting (what Python's csv and pandas write by default): a field is quoted only when
 * it holds the delimiter, a quote or a line break, and inner quotes are doubled.
 */
export function csvField(value: string, delimiter: string): string {
  if (value.includes(delimiter) || value.includes('"') || value.includes('\n') || value.includes('\r')) {
    return `"${value.replace(/"/g, '""')}"`;
  }
  return value;
}
