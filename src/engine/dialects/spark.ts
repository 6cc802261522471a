/**
 * Spark SQL's dialect (Spark 4, ANSI mode on). Its timestamps are rendered in the session's time zone: the Spark
 * adapter sets `spark.sql.session.timeZone` to UTC, as the DuckDB adapter sets its TimeZone.
 */
import type { DeltaType } from '../../table/delta-protocol.js';
import { parameterLiteral, primitiveSqlType, type Dialect } from '../dialect.js';

function quoteIdent(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/**
 * Backslashes are escapes in Spark literals, and a doubled quote is no escape (`'it''s'` is two literals that
 * Spark concatenates into `its`): both are escaped with a backslash.
 */
function sparkString(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

const PRIMITIVES: Record<string, string> = {
  string: 'STRING',
  long: 'BIGINT',
  integer: 'INT',
  short: 'SMALLINT',
  byte: 'TINYINT',
  float: 'FLOAT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  binary: 'BINARY',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  timestamp_ntz: 'TIMESTAMP_NTZ',
};

function sparkSqlType(type: DeltaType): string {
  if (typeof type === 'string') return primitiveSqlType(type, PRIMITIVES);
  switch (type.type) {
    case 'array':
      return `ARRAY<${sparkSqlType(type.elementType)}>`;
    case 'map':
      return `MAP<${sparkSqlType(type.keyType)}, ${sparkSqlType(type.valueType)}>`;
    case 'struct':
      return `STRUCT<${type.fields.map((field) => `${quoteIdent(field.name)}: ${sparkSqlType(field.type)}`).join(', ')}>`;
  }
}

export const sparkDialect: Dialect = {
  kind: 'spark',
  quoteIdent,
  string: sparkString,
  literal: (value) => parameterLiteral(sparkString, value),
  sqlType: sparkSqlType,
  timestampLiteral: (iso) => `TIMESTAMP ${sparkString(iso)}`,
  jsonObject: (columns) =>
    `to_json(named_struct(${columns.map((name) => `${sparkString(name)}, ${quoteIdent(name)}`).join(', ')}), ` +
    `map('ignoreNullFields', 'false'))`,
  // RLIKE finds a match anywhere: anchored at the start (^) and the very end of the text (\z, not $).
  regexFullMatch: (expression, pattern) =>
    `(CAST(${expression} AS STRING) RLIKE ${sparkString(`^(?:${pattern})\\z`)})`,
  isoTimestamp: (expression) =>
    `date_format(CAST(${expression} AS TIMESTAMP), ${sparkString("yyyy-MM-dd'T'HH:mm:ss'Z'")})`,
};
