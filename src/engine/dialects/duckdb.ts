/**
 * DuckDB's SQL dialect. Its quoting functions are also exported alone for the code that only ever talks to DuckDB
 * (landing and bronze ingestion, the app's read paths, tools and tests).
 */
import type { DeltaType } from '../../table/delta-protocol.js';
import { parameterLiteral, primitiveSqlType, type Dialect } from '../dialect.js';

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** DuckDB string literals have no escapes but the doubled quote. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function sqlLiteral(value: string | number | boolean | undefined): string {
  return parameterLiteral(sqlString, value);
}

const PRIMITIVES: Record<string, string> = {
  string: 'VARCHAR',
  long: 'BIGINT',
  integer: 'INTEGER',
  short: 'SMALLINT',
  byte: 'TINYINT',
  float: 'FLOAT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  binary: 'BLOB',
  date: 'DATE',
  timestamp: 'TIMESTAMPTZ',
  timestamp_ntz: 'TIMESTAMP',
};

/** The DuckDB SQL type of a Delta type, to read partition values and empty tables. */
export function duckdbSqlType(type: DeltaType): string {
  if (typeof type === 'string') return primitiveSqlType(type, PRIMITIVES);
  switch (type.type) {
    case 'array':
      return `${duckdbSqlType(type.elementType)}[]`;
    case 'map':
      return `MAP(${duckdbSqlType(type.keyType)}, ${duckdbSqlType(type.valueType)})`;
    case 'struct':
      return `STRUCT(${type.fields.map((field) => `${quoteIdent(field.name)} ${duckdbSqlType(field.type)}`).join(', ')})`;
  }
}

export const duckdbDialect: Dialect = {
  kind: 'duckdb',
  quoteIdent,
  string: sqlString,
  literal: sqlLiteral,
  sqlType: duckdbSqlType,
  timestampLiteral: (iso) => `TIMESTAMPTZ ${sqlString(iso)}`,
  jsonObject: (columns) =>
    `CAST(to_json({${columns.map((name) => `${sqlString(name)}: ${quoteIdent(name)}`).join(', ')}}) AS VARCHAR)`,
  regexFullMatch: (expression, pattern) =>
    `regexp_full_match(CAST(${expression} AS VARCHAR), ${sqlString(pattern)})`,
  isoTimestamp: (expression) => `strftime(CAST(${expression} AS TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%SZ')`,
};
