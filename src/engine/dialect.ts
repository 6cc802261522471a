/**
 * The SQL medallion generates for refined tables, expectations and quality checks is written once; where engines
 * disagree, it asks the dialect. Everything else it generates is SQL both DuckDB and Spark accept: `CAST(x AS
 * STRING)` and `CAST(x AS BIGINT)` (never `x::T`), `CREATE OR REPLACE TEMP VIEW`, `row_number()` filtered in an
 * outer query (never QUALIFY), explicit column lists (never `* EXCLUDE`), `count(*) FILTER (WHERE …)`,
 * `current_timestamp`, `DATE '…'` literals.
 */
import type { EngineKind } from '../core/pipeline.js';
import type { DeltaType } from '../table/delta-protocol.js';

export interface Dialect {
  readonly kind: EngineKind;
  /** A column or view name: DuckDB `"a b"`, Spark `` `a b` ``. */
  quoteIdent(name: string): string;
  /** A string literal: Spark reads backslashes in literals as escapes, DuckDB does not. */
  string(value: string): string;
  /** A run parameter's value as a literal (NULL when undefined). */
  literal(value: string | number | boolean | undefined): string;
  /** The SQL type of a Delta type, for casts: DuckDB `TIMESTAMPTZ`, `VARCHAR[]`; Spark `TIMESTAMP`, `ARRAY<STRING>`. */
  sqlType(type: DeltaType): string;
  /** A UTC instant (ISO 8601) as a timestamp literal. */
  timestampLiteral(iso: string): string;
  /**
   * The named columns of the current row as JSON text, nulls kept (`{"a":1,"b":null}`): DuckDB
   * `to_json({...})`, Spark `to_json(named_struct(...))`, which would drop null fields unless told.
   */
  jsonObject(columns: readonly string[]): string;
  /** True when the text of `expression` matches `pattern` whole (DuckDB RE2, Spark Java regular expressions). */
  regexFullMatch(expression: string, pattern: string): string;
  /** A date or timestamp as UTC ISO text to the second: `2024-03-01T12:00:00Z`. */
  isoTimestamp(expression: string): string;
}

/** A run parameter's value as a literal: the same text in every dialect but for strings. */
export function parameterLiteral(
  string: (value: string) => string,
  value: string | number | boolean | undefined,
): string {
  if (value === undefined) return 'NULL';
  if (typeof value === 'string') return string(value);
  return String(value).toUpperCase();
}

/** A Delta primitive type's name in a dialect (`decimal(p,s)` written out), or an error naming it. */
export function primitiveSqlType(type: string, names: Readonly<Record<string, string>>): string {
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) return `DECIMAL(${decimal[1]},${decimal[2]})`;
  const name = names[type];
  if (!name) throw new Error(`unsupported Delta type ${type}`);
  return name;
}
