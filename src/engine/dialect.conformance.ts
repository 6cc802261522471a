/**
 * The part of the engine conformance suite (engine.conformance.ts) that evaluates what the engine's dialect
 * generates, and the portable constructs medallion's generated SQL relies on: the same inputs must give the same
 * results on every engine.
 */
import { describe, expect, it } from 'vitest';
import type { DeltaType } from '../table/delta-protocol.js';
import type { EngineTest } from './engine.conformance.js';

const CAST_TYPES: DeltaType[] = [
  'string',
  'long',
  'integer',
  'double',
  'boolean',
  'date',
  'timestamp',
  'decimal(12,3)',
  { type: 'array', elementType: 'string', containsNull: true },
  {
    type: 'struct',
    fields: [{ name: 'odd name', type: 'long', nullable: true, metadata: {} }],
  },
];

export function describeDialectConformance(setup: () => Promise<EngineTest>): void {
  describe('dialect', () => {
    it('quotes identifiers and string literals whatever characters they hold', async () => {
      const { engine } = await setup();
      const { quoteIdent, string } = engine.dialect;
      const text = `it's a \\ back"slash\` and 'quotes'`;
      const [row] = await engine.all(`SELECT ${string(text)} AS ${quoteIdent('a "b` c')}`);
      expect(row).toEqual({ 'a "b` c': text });
    });

    it('writes parameter values and timestamps as literals of their types', async () => {
      const { engine } = await setup();
      const { literal, timestampLiteral, isoTimestamp } = engine.dialect;
      const row = await engine.one(
        `SELECT ${literal('x')} AS s, ${literal(3)} AS n, ${literal(true)} AS b, ${literal(undefined)} AS u,
          ${isoTimestamp(timestampLiteral('2024-03-01T12:30:00Z'))} AS at, ${isoTimestamp("DATE '2024-03-02'")} AS day`,
      );
      expect(row).toEqual({
        s: 'x',
        n: 3,
        b: true,
        u: null,
        at: '2024-03-01T12:30:00Z',
        day: '2024-03-02T00:00:00Z',
      });
    });

    it('casts to the SQL type of each Delta type', async () => {
      const { engine } = await setup();
      const casts = CAST_TYPES.map(
        (type, index) => `CAST(NULL AS ${engine.dialect.sqlType(type)}) AS c${index}`,
      );
      const columns = await engine.columns(`(SELECT ${casts.join(', ')}) AS t`);
      expect(columns.map((column) => column.type)).toEqual(CAST_TYPES);
    });

    it('renders the named columns of a row as JSON text, NULLs kept', async () => {
      const { engine, table } = await setup();
      await table(
        'people',
        `SELECT * FROM (VALUES (1, 'Zoé "Z"', NULL, DATE '2024-01-02', 2.5)) AS t(id, name, missing, day, score)`,
      );
      const [row] = await engine.all(
        `SELECT ${engine.dialect.jsonObject(['id', 'name', 'missing', 'day', 'score'])} AS j FROM people`,
      );
      expect(JSON.parse(String(row?.j))).toEqual({
        id: 1,
        name: 'Zoé "Z"',
        missing: null,
        day: '2024-01-02',
        score: 2.5,
      });
    });

    it('matches a regular expression against the whole text only', async () => {
      const { engine, table } = await setup();
      await table(
        'codes',
        `SELECT * FROM (VALUES (1, 'A-001'), (2, 'xA-001'), (3, 'A-0012'), (4, 'A-001\n')) AS t(id, code)`,
      );
      const rows = await engine.all(
        `SELECT id, ${engine.dialect.regexFullMatch('code', 'A-\\d{3}')} AS ok FROM codes ORDER BY id`,
      );
      expect(rows.map((row) => row.ok)).toEqual([true, false, false, false]);
    });

    it('keeps the first row per key with row_number filtered outside its subquery', async () => {
      const { engine, table } = await setup();
      await table(
        'orders',
        `SELECT * FROM (VALUES (1, 'a', 3), (2, 'a', 1), (3, 'b', 2), (4, NULL, 5)) AS t(id, k, o)`,
      );
      const rows = await engine.all(`
        SELECT id FROM (
          SELECT *, row_number() OVER (PARTITION BY CASE WHEN k IS NULL THEN 'record:' || CAST(id AS STRING)
            ELSE 'key:' || CAST(k AS STRING) END ORDER BY o) AS __rank FROM orders) AS numbered
        WHERE __rank = 1 ORDER BY id`);
      expect(rows.map((row) => row.id)).toEqual([2, 3, 4]);
    });

    it('counts with FILTER, counts distinct values and compares with NOT IN as medallion does', async () => {
      const { engine, table } = await setup();
      await table('orders', `SELECT * FROM (VALUES (1, 10), (2, 20), (2, 30), (3, NULL)) AS t(id, amount)`);
      const row = await engine.one(`
        SELECT (SELECT count(DISTINCT id) FROM orders) AS ids,
          (SELECT count(*) FILTER (WHERE amount > 15) FROM orders) AS big,
          (SELECT count(*) FROM orders WHERE id NOT IN (SELECT id FROM orders WHERE amount = 10)) AS others,
          (SELECT CAST(coalesce(sum(amount), 0) AS BIGINT) FROM orders WHERE id > 9) AS none`);
      expect(Object.values(row).map(Number)).toEqual([3, 2, 3, 0]);
    });
  });
}
