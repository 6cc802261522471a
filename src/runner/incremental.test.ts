import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineDefinition, TableDefinition } from '../core/pipeline.js';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { skipWithoutDeltaRs } from '../testing/delta-rs.js';
import { compareWithDeltaRs } from '../testing/delta-tables.js';
import { runPipeline } from './run-pipeline.js';

/** Orders, republished with a higher revision; each becomes one row per item. */
const orders = (revisionOrder = 'revision DESC'): TableDefinition => ({
  name: 'order_items',
  layer: 'silver',
  key: ['order_id', 'item'],
  incremental: true,
  sql: ({ ref }) =>
    `SELECT _source_checksum || ':' || _row_number AS rid, order_id, CAST(revision AS INTEGER) AS revision, items
    FROM ${ref('bronze', 'orders')}`,
  refine: {
    input: { layer: 'bronze', table: 'orders' },
    recordId: 'rid',
    dedupe: { key: 'order_id', orderBy: `${revisionOrder}, rid` },
    quarantine: [{ reason: 'no_items', when: "coalesce(items, '') = ''" }],
    shape: (records) =>
      `SELECT rid, order_id, revision, unnest(string_split(items, '|')) AS item FROM ${records}`,
  },
});

const pipelineWith = (table: TableDefinition): PipelineDefinition => ({
  name: 'orders',
  sources: [
    {
      name: 'orders',
      pattern: 'orders-*.csv',
      bronzeTable: 'orders',
      format: { type: 'csv', delimiter: ',', requiredColumns: ['order_id', 'revision', 'items'] },
    },
  ],
  tables: [table],
});

let dir: string;
let engine: DuckDbEngine;
let store: MetadataStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-increments-'));
  engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'scratch') });
  store = await openMetadataStore(':memory:');
});
afterAll(async () => {
  engine.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** A lake fed one file per run; each run's summary and the table's rows. */
async function lakeFed(name: string) {
  const source = path.join(dir, name, 'source');
  await mkdir(source, { recursive: true });
  const lake = localLake(path.join(dir, name, 'lake'));
  const layout = new LakeLayout(lake);
  let files = 0;
  const read = async (id: { layer: 'silver' | 'quarantine'; table: string }, columns: string) => {
    const table = layout.table(id);
    await engine.registerSnapshot('t', (await table.snapshot())!, table.store, table.root);
    return engine.all(`SELECT ${columns} FROM t ORDER BY ALL`);
  };
  return {
    layout,
    async run(csv: string, options: { table?: TableDefinition; fullRefresh?: boolean } = {}) {
      files += 1;
      await writeFile(path.join(source, `orders-${files}.csv`), `order_id,revision,items\n${csv}`);
      const summary = await runPipeline({
        pipeline: pipelineWith(options.table ?? orders()),
        source: new LocalDiskStore(source),
        lake,
        store,
        ...(options.fullRefresh && { fullRefresh: true }),
      });
      expect(summary.status).toBe('success');
      const log = (await store.readLog(summary.runId, 'silver.order_items', 1)).lines.join('\n');
      return { summary, log };
    },
    rows: () => read({ layer: 'silver', table: 'order_items' }, 'order_id, revision, item'),
    quarantined: () => read({ layer: 'quarantine', table: 'silver_order_items' }, 'reason, record_id'),
  };
}

describe('incremental refined tables', () => {
  it('merges each new record by key: a later revision replaces all rows of the earlier one, an older one is deduplicated', async () => {
    const lake = await lakeFed('merge');
    await lake.run('o1,1,a|b\no2,2,c\n');
    const second = await lake.run('o1,2,a|x\no2,1,z\no3,1,\n');
    expect(second.log).toContain('increment: bronze.orders after version 0');
    expect(second.summary.tables.find((table) => table.table === 'order_items')?.accounting).toEqual({
      rowsIn: 3,
      recordsOut: 1,
      deduplicated: 1,
      quarantined: 1,
      quarantineReasons: { no_items: 1 },
      replaced: 1,
    });
    // o1's item b went with its first revision, though no new row has its key.
    expect(await lake.rows()).toEqual([
      { order_id: 'o1', revision: 2, item: 'a' },
      { order_id: 'o1', revision: 2, item: 'x' },
      { order_id: 'o2', revision: 2, item: 'c' },
    ]);
    expect((await lake.quarantined()).map((row) => row.reason)).toEqual(['no_items']);
    // A quarantined winner outranked later leaves the quarantine.
    await lake.run('o3,2,q\n');
    expect(await lake.rows()).toContainEqual({ order_id: 'o3', revision: 2, item: 'q' });
    expect(await lake.quarantined()).toEqual([]);
    const operations = (
      await lake.layout.table({ layer: 'silver', table: 'order_items' }).commits(0)
    ).flatMap((commit) =>
      commit.actions.flatMap((action) => ('commitInfo' in action ? [action.commitInfo.operation] : [])),
    );
    expect(operations).toEqual(['WRITE', 'MERGE', 'MERGE']);
    if (skipWithoutDeltaRs()) return;
    // Merges remove and add files: delta-rs reads the same rows.
    const silver = lake.layout.table({ layer: 'silver', table: 'order_items' });
    const { read, different } = await compareWithDeltaRs(engine, silver, path.join(dir, 'merge.parquet'));
    expect(read).toMatchObject({ version: 2, rows: 4, minReaderVersion: 1, minWriterVersion: 2 });
    expect(different).toBe(0);
  });

  it('writes each increment in files of its own, so a republication rewrites the small file of its first publication, and coalesces small files as they pile up', async () => {
    const lake = await lakeFed('files');
    const silver = lake.layout.table({ layer: 'silver', table: 'order_items' });
    // The audit sees the new version once: a coalesced file's rows counted twice would break the key.
    const table: TableDefinition = {
      ...orders(),
      expectations: [
        { name: 'one_row_per_key', type: 'unique', columns: ['order_id', 'item'], action: 'fail' },
      ],
    };
    const run = (csv: string) => lake.run(csv, { table });
    await run(Array.from({ length: 200 }, (_, index) => `b${index},1,a\n`).join(''));
    // Each run adds an order and republishes the one before: only that order's small file holds a replaced key.
    await run('n1,1,a\nb0,2,z\n');
    const republished = await run('n2,1,a\nn1,2,z\n');
    expect(republished.log).toMatch(
      /merge: 1 of 2 file\(s\) hold replaced keys, 0 more coalesced; staged 3 row\(s\) in 2 file\(s\) \(1 kept\)/,
    );
    const logs: string[] = [];
    for (let order = 3; order <= 10; order++) {
      logs.push((await run(`n${order},1,a\nn${order - 1},2,z\n`)).log);
      expect((await silver.snapshot())!.files.length).toBeLessThanOrEqual(5);
    }
    expect(logs.join('\n')).toMatch(/[1-9] more coalesced/);
    const rows = await lake.rows();
    expect(rows).toHaveLength(210);
    expect(rows.filter((row) => row.revision === 2).map((row) => row.order_id)).toEqual(
      ['b0', ...Array.from({ length: 9 }, (_, index) => `n${index + 1}`)].sort(),
    );
  });

  it("counts a warning over the whole merged version and samples it from the merge's new rows first", async () => {
    const lake = await lakeFed('samples');
    const table: TableDefinition = {
      ...orders(),
      expectations: [
        { name: 'early_revision', type: 'sql', predicate: () => 'revision < 5', action: 'warn' },
      ],
    };
    await lake.run('o1,5,a\n', { table });
    const { summary } = await lake.run('o2,7,b\n', { table });
    const [result] = summary.tables.find((report) => report.table === 'order_items')?.expectations ?? [];
    expect(result).toMatchObject({ name: 'early_revision', passed: false, failingRows: 2 });
    expect(result?.samples).toEqual([expect.objectContaining({ order_id: 'o2', revision: 7 })]);
  });

  it('rebuilds from all the input when its rules change or a full refresh is asked for', async () => {
    const lake = await lakeFed('full');
    await lake.run('o1,1,a\n');
    // The lowest revision wins now: the rules changed, so every record competes again.
    const changed = await lake.run('o1,2,b\n', { table: orders('revision ASC') });
    expect(changed.log).toContain('full refresh: its SQL, rules or macros changed');
    expect(await lake.rows()).toEqual([{ order_id: 'o1', revision: 1, item: 'a' }]);
    const asked = await lake.run('o2,1,c\n', { table: orders('revision ASC'), fullRefresh: true });
    expect(asked.log).toContain('full refresh: a full refresh was asked for');
    expect(await lake.rows()).toEqual([
      { order_id: 'o1', revision: 1, item: 'a' },
      { order_id: 'o2', revision: 1, item: 'c' },
    ]);
  });

  it('refuses a table that cannot be merged: no key, no refine rules', async () => {
    const { definePipeline } = await import('../core/pipeline.js');
    const withoutKey: TableDefinition = { ...orders(), key: undefined };
    expect(() => definePipeline(pipelineWith(withoutKey))).toThrow(
      /order_items cannot be incremental: it has no key/,
    );
    const withoutRules: TableDefinition = { ...orders(), refine: undefined };
    expect(() => definePipeline(pipelineWith(withoutRules))).toThrow(
      /cannot be incremental: it has no refine rules/,
    );
  });
});
