/** Cell values and queries not answered yet, as the Lake page shows them. */
import type { ReactNode } from 'react';

/** Numbers are right-aligned, so that their digits line up. */
export function isNumeric(type: string): boolean {
  return /^(long|integer|short|byte|float|double|decimal)/.test(type);
}

/** Long texts are cut, whole in the title. */
const MAX_CELL = 120;

export function Cell({ value }: { value: unknown }): ReactNode {
  if (value === null || value === undefined) return <span className="null">null</span>;
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (text.length <= MAX_CELL) return text;
  return <span title={text}>{`${text.slice(0, MAX_CELL)}…`}</span>;
}

/** A query's place until it has data: its error, or that it is loading. */
export function NotYet({ query, what }: { query: { error: Error | null }; what: string }) {
  return query.error ? (
    <p role="alert" className="error">
      {query.error.message}
    </p>
  ) : (
    <p className="loading">Loading {what}…</p>
  );
}
