import { describe, expect, it } from 'vitest';
import type { DeltaType } from '../../table/delta-protocol.js';
import { duckdbDialect as duckdb } from './duckdb.js';

describe('the DuckDB SQL dialect', () => {
  it('quotes identifiers with double quotes and strings with single ones, backslashes as they are', () => {
    expect(duckdb.quoteIdent('a "b"')).toBe('"a ""b"""');
    expect(duckdb.string("it's C:\\tmp")).toBe("'it''s C:\\tmp'");
    expect(duckdb.literal(true)).toBe('TRUE');
  });

  it('names Delta types as DuckDB types, lists with brackets', () => {
    expect(duckdb.sqlType('timestamp')).toBe('TIMESTAMPTZ');
    expect(duckdb.sqlType({ type: 'array', elementType: 'string', containsNull: true })).toBe('VARCHAR[]');
    expect(() => duckdb.sqlType('variant' as DeltaType)).toThrow(/unsupported Delta type variant/);
  });

  it('builds JSON records from a struct literal and full regular expression matches', () => {
    expect(duckdb.jsonObject(['id'])).toBe(`CAST(to_json({'id': "id"}) AS VARCHAR)`);
    expect(duckdb.regexFullMatch('"code"', 'A.*')).toBe(`regexp_full_match(CAST("code" AS VARCHAR), 'A.*')`);
    expect(duckdb.timestampLiteral('2024-03-01T00:00:00Z')).toBe(`TIMESTAMPTZ '2024-03-01T00:00:00Z'`);
  });
});
