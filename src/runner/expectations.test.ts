import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Expectation } from '../core/expectations.js';
import { definePipeline, type TableDefinition } from '../core/pipeline.js';
import { openMetadataStore } from '../metadata/open.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { runPipeline } from './run-pipeline.js';
import type { RunSummary } from './run-summary.js';

/** Five orders; with `bad`, two more that break things. */
const ORDERS = `
  SELECT * FROM (VALUES
    (1, 'north', 10.0, 'A-001', DATE '2026-11-20', 'c1'),
    (2, 'south', 25.5, 'A-002', DATE '2026-11-21', 'c2'),
    (3, 'north', 99.0, 'A-003', DATE '2026-11-22', 'c1'),
    (4, 'east', -5.0, 'B-4', DATE '2026-11-23', 'c9'),
    (5, NULL, 1000.0, 'A-005', DATE '2026-11-24', 'c2'),
    (5, 'south', 12.0, 'A-006', DATE '2026-11-25', 'c1')
  ) AS t(id, region, amount, code, day, customer)`;

function table(
  sql: string,
  expectations: Expectation[],
  extra: Partial<TableDefinition> = {},
): TableDefinition {
  return { name: 'orders', layer: 'gold', sql: () => sql, expectations, ...extra };
}

async function run(tables: TableDefinition[], dir?: string, params: Record<string, unknown> = {}) {
  const root = dir ?? (await mkdtemp(path.join(os.tmpdir(), 'medallion-expectations-')));
  const pipeline = definePipeline({
    name: 'expectations_test',
    sources: [],
    tables,
    params: { bad: { type: 'boolean', default: false } },
  });
  const lake = localLake(path.join(root, 'lake'));
  const store = await openMetadataStore(':memory:');
  try {
    const summary = await runPipeline({ pipeline, store, params, source: new LocalDiskStore(root), lake });
    const attempts = await store.listAttempts(summary.runId);
    return { summary, attempts, root, layout: new LakeLayout(lake) };
  } finally {
    await store.close();
  }
}

function results(summary: RunSummary, name = 'orders') {
  const found = summary.tables.find((entry) => entry.table === name)?.expectations ?? [];
  return Object.fromEntries(found.map((result) => [result.name, result]));
}

describe('expectations', () => {
  it('counts the rows failing each kind of row check, with samples, and keeps them when the action is warn', async () => {
    const { summary } = await run([
      table(ORDERS, [
        { name: 'region_present', type: 'not_null', column: 'region', action: 'warn' },
        { name: 'id_unique', type: 'unique', columns: ['id'], action: 'warn' },
        {
          name: 'known_region',
          type: 'accepted_values',
          column: 'region',
          values: ['north', 'south'],
          action: 'warn',
        },
        { name: 'amount_range', type: 'between', column: 'amount', min: 0, max: 500, action: 'warn' },
        { name: 'code_format', type: 'regex', column: 'code', pattern: 'A-[0-9]{3}', action: 'warn' },
        {
          name: 'customer_known',
          type: 'references',
          column: 'customer',
          table: { layer: 'gold', table: 'customers' },
          refColumn: 'id',
          action: 'warn',
        },
        {
          name: 'big_orders_in_north',
          type: 'sql',
          predicate: () => "amount < 50 OR region = 'north'",
          action: 'warn',
        },
      ]),
      { name: 'customers', layer: 'gold', sql: () => "SELECT * FROM (VALUES ('c1'), ('c2')) AS t(id)" },
    ]);
    expect(summary.status).toBe('success');
    expect(summary.tables.find((entry) => entry.table === 'orders')?.rows).toBe(6);
    const found = results(summary);
    expect(
      Object.fromEntries(Object.entries(found).map(([name, result]) => [name, result.failingRows])),
    ).toEqual({
      region_present: 1,
      id_unique: 2,
      known_region: 1,
      amount_range: 2,
      code_format: 1,
      customer_known: 1,
      big_orders_in_north: 1,
    });
    expect(found.code_format?.samples).toEqual([expect.objectContaining({ id: 4, code: 'B-4' })]);
    expect(found.region_present?.passed).toBe(false);
  });

  it('moves the rows failing a quarantine check to the quarantine under the check name', async () => {
    const { summary, layout } = await run([
      table(ORDERS, [
        { name: 'amount_not_negative', type: 'between', column: 'amount', min: 0, action: 'quarantine' },
      ]),
    ]);
    expect(summary.status).toBe('success');
    expect(summary.tables.find((entry) => entry.table === 'orders')?.rows).toBe(5);
    expect(results(summary).amount_not_negative).toMatchObject({ failingRows: 1, passed: false });
    const quarantine = layout.quarantine({ layer: 'gold', table: 'orders' });
    const snapshot = await quarantine.snapshot();
    expect(snapshot?.files.length).toBeGreaterThan(0);
  });

  it('keeps the previous version current when a fail check breaks, naming it with counts and a sample row', async () => {
    const sql = ({ param }: { param: (name: string) => string }) =>
      `${ORDERS} WHERE ${param('bad')} OR id <= 3`;
    const tables = [
      {
        name: 'orders',
        layer: 'gold' as const,
        sql,
        expectations: [
          { name: 'amount_not_negative', type: 'between', column: 'amount', min: 0, action: 'fail' } as const,
        ],
      },
    ];
    const first = await run(tables);
    expect(first.summary.status).toBe('success');
    const ordersDir = path.join(first.root, 'lake', 'gold', 'orders');
    const filesBefore = (await readdir(ordersDir)).filter((name) => name.endsWith('.parquet'));

    const second = await run(tables, first.root, { bad: true });
    expect(second.summary.status).toBe('failed');
    const error = second.summary.tasks.find((task) => task.id === 'gold.orders')?.error ?? '';
    expect(error).toMatch(
      /expectation amount_not_negative \(between, fail\) failed: 1 failing row\(s\), e\.g\. \{"id":4/,
    );
    expect(error).toMatch(/not published/);
    // The previous version is still the current one and reads as before; nothing staged was left in the table.
    const snapshot = await second.layout.table({ layer: 'gold', table: 'orders' }).snapshot();
    expect(snapshot?.version).toBe(0);
    expect((await readdir(ordersDir)).filter((name) => name.endsWith('.parquet'))).toEqual(filesBefore);
    // The results are kept with the failed try, and the task is not retried.
    const failed = second.attempts.filter((attempt) => attempt.taskId === 'gold.orders');
    expect(failed).toHaveLength(1);
    const output = failed[0]?.output as { data: { expectations: { name: string; failingRows: number }[] } };
    expect(output.data.expectations).toEqual([
      expect.objectContaining({ name: 'amount_not_negative', failingRows: 1 }),
    ]);
  });

  it('judges a version as a whole with row-count and freshness checks', async () => {
    const { summary } = await run([
      table(ORDERS, [
        { name: 'at_most_five', type: 'row_count', max: 5, action: 'warn' },
        { name: 'some_rows', type: 'row_count', min: 1, action: 'fail' },
        { name: 'recent', type: 'freshness', column: 'day', maxAge: '1d', action: 'warn' },
        { name: 'this_year', type: 'freshness', column: 'day', maxAge: '3650d', action: 'fail' },
      ]),
    ]);
    expect(summary.status).toBe('success');
    const found = results(summary);
    expect(found.at_most_five).toMatchObject({ passed: false, observed: 6 });
    expect(found.some_rows).toMatchObject({ passed: true });
    expect(found.this_year).toMatchObject({ passed: true });
    expect(found.recent?.observed).toMatch(/newest 2026-11-25T00:00:00Z/);
  });

  it('keeps row accounting balanced when a refined table quarantines records by expectation', async () => {
    const { summary, attempts } = await run([
      { name: 'raw_orders', layer: 'silver', sql: () => ORDERS },
      {
        name: 'orders',
        layer: 'silver',
        sql: ({ ref }) => `SELECT *, id || '-' || code AS record_id FROM ${ref('silver', 'raw_orders')}`,
        refine: {
          input: { layer: 'silver', table: 'raw_orders' },
          recordId: 'record_id',
          dedupe: { key: 'id', orderBy: 'code' },
        },
        expectations: [{ name: 'region_present', type: 'not_null', column: 'region', action: 'quarantine' }],
      },
    ]);
    expect(summary.status).toBe('success');
    const accounting = summary.tables.find((entry) => entry.table === 'orders')?.accounting;
    // 6 in: id 5 twice (A-005 kept by code order, A-006 deduplicated), and the kept A-005 has no region.
    expect(accounting).toEqual({
      rowsIn: 6,
      recordsOut: 4,
      deduplicated: 1,
      quarantined: 1,
      quarantineReasons: { region_present: 1 },
    });
    const metrics = attempts.find((attempt) => attempt.taskId === 'silver.orders')?.metrics;
    expect(metrics).toMatchObject({ rowsIn: 6, rowsOut: 4, rowsQuarantined: 1 });
  });

  it('keeps the current version when a new one changes the columns of a table that refuses schema drift', async () => {
    const drifting = (schemaDrift: 'warn' | 'fail'): TableDefinition => ({
      name: 'orders',
      layer: 'gold',
      schemaDrift,
      sql: ({ param }) =>
        `SELECT id, amount${param('bad') === 'TRUE' ? '::VARCHAR' : ''} AS amount FROM (${ORDERS})`,
    });
    const first = await run([drifting('fail')]);
    expect(first.summary.error).toBeUndefined();
    const refused = await run([drifting('fail')], first.root, { bad: true });
    expect(refused.summary.status).toBe('failed');
    expect(refused.summary.error).toMatch(
      /gold\.orders: the new version's columns differ from the current one's: \+\[\] -\[\] ~\[amount\]/,
    );
    expect((await refused.layout.table({ layer: 'gold', table: 'orders' }).snapshot())?.version).toBe(0);

    const warned = await run([drifting('warn')], first.root, { bad: true });
    expect(warned.summary.status).toBe('success');
    const profile = warned.summary.quality.find((entry) => entry.table === 'gold.orders');
    expect(profile?.warnings).toContain('schema changed: +[] -[] ~[amount]');
  });

  it('refuses a table check with the quarantine action, naming the field', () => {
    expect(() =>
      definePipeline({
        name: 'bad',
        sources: [],
        tables: [
          table(ORDERS, [
            { name: 'n', type: 'row_count', max: 1, action: 'quarantine' } as unknown as Expectation,
          ]),
        ],
      }),
    ).toThrow(/tables\.0\.expectations\.0\.action: a table check can only warn or fail/);
  });
});
