import { describe, expect, it } from 'vitest';
import { sparkDialect as spark } from './spark.js';

describe('the Spark SQL dialect', () => {
  it('quotes identifiers with backticks, doubling those they hold', () => {
    expect(spark.quoteIdent('silver__orders')).toBe('`silver__orders`');
    expect(spark.quoteIdent('a `b` "c"')).toBe('`a ``b`` "c"`');
  });

  it('escapes quotes and backslashes in string literals with a backslash, as Spark reads them', () => {
    expect(spark.string("it's")).toBe("'it\\'s'");
    expect(spark.string('C:\\tmp\\n')).toBe("'C:\\\\tmp\\\\n'");
    expect(spark.literal('x')).toBe("'x'");
    expect(spark.literal(2.5)).toBe('2.5');
    expect(spark.literal(false)).toBe('FALSE');
    expect(spark.literal(undefined)).toBe('NULL');
  });

  it('names Delta types as Spark SQL types, nested ones in angle brackets', () => {
    expect(spark.sqlType('string')).toBe('STRING');
    expect(spark.sqlType('integer')).toBe('INT');
    expect(spark.sqlType('timestamp')).toBe('TIMESTAMP');
    expect(spark.sqlType('decimal(12, 2)')).toBe('DECIMAL(12,2)');
    expect(spark.sqlType({ type: 'array', elementType: 'long', containsNull: true })).toBe('ARRAY<BIGINT>');
    expect(
      spark.sqlType({ type: 'map', keyType: 'string', valueType: 'binary', valueContainsNull: true }),
    ).toBe('MAP<STRING, BINARY>');
    expect(
      spark.sqlType({
        type: 'struct',
        fields: [{ name: 'id', type: 'date', nullable: true, metadata: {} }],
      }),
    ).toBe('STRUCT<`id`: DATE>');
  });

  it('writes timestamps as TIMESTAMP literals, and renders instants as ISO text with a pattern', () => {
    expect(spark.timestampLiteral('2024-03-01T00:00:00.000Z')).toBe("TIMESTAMP '2024-03-01T00:00:00.000Z'");
    expect(spark.isoTimestamp('max(`at`)')).toBe(
      "date_format(CAST(max(`at`) AS TIMESTAMP), 'yyyy-MM-dd\\'T\\'HH:mm:ss\\'Z\\'')",
    );
  });

  it('builds JSON records with named_struct, keeping null fields', () => {
    expect(spark.jsonObject(['id', 'the name'])).toBe(
      "to_json(named_struct('id', `id`, 'the name', `the name`), map('ignoreNullFields', 'false'))",
    );
  });

  it('anchors regular expressions at both ends of the text, RLIKE finding matches anywhere', () => {
    expect(spark.regexFullMatch('`code`', 'A-\\d{3}')).toBe(
      "(CAST(`code` AS STRING) RLIKE '^(?:A-\\\\d{3})\\\\z')",
    );
  });
});
