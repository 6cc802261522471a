import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PipelineDefinition, TableDefinition } from '../core/pipeline.js';
import type { MetadataStore } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { DeltaTable, type CommitRequest } from '../table/delta-table.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { runPipeline } from './run-pipeline.js';

const stores: MetadataStore[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

async function runWith(silver: TableDefinition, extra: Partial<PipelineDefinition> = {}) {
  const store = await openMetadataStore(':memory:');
  stores.push(store);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-refine-'));
  await mkdir(path.join(dir, 'source'));
  await writeFile(path.join(dir, 'source', 'items-1.csv'), 'id,qty\n1,5\n2,-1\n2,7\n3,x\n');
  const pipeline: PipelineDefinition = {
    name: 'items',
    sources: [
      {
        name: 'items',
        pattern: 'items-*.csv',
        bronzeTable: 'items',
        format: { type: 'csv', delimiter: ',', requiredColumns: ['id', 'qty'] },
      },
    ],
    tables: [silver],
    ...extra,
  };
  const lake = localLake(path.join(dir, 'lake'));
  const summary = await runPipeline({
    pipeline,
    source: new LocalDiskStore(path.join(dir, 'source')),
    lake,
    store,
  });
  /** The log of the first try of the task, as one text. */
  const logOf = async (taskId: string) => (await store.readLog(summary.runId, taskId, 1)).lines.join('\n');
  return { summary, lake: new LakeLayout(lake), logOf };
}

const records: TableDefinition['sql'] = ({ ref }) =>
  `SELECT _row_number AS rid, id, try_cast(qty AS INTEGER) AS qty FROM ${ref('bronze', 'items')}`;

describe('refined tables', () => {
  it('deduplicates, quarantines with a reason, and balances rows in against out', async () => {
    const { summary, lake } = await runWith({
      name: 'items',
      layer: 'silver',
      sql: records,
      refine: {
        input: { layer: 'bronze', table: 'items' },
        recordId: 'rid',
        dedupe: { key: 'id', orderBy: 'rid DESC' },
        quarantine: [{ reason: 'bad_qty', when: 'qty IS NULL OR qty < 0' }],
      },
    });
    expect(summary.status).toBe('success');
    const silver = summary.tables.find((table) => table.layer === 'silver');
    expect(silver?.accounting).toEqual({
      rowsIn: 4,
      recordsOut: 2,
      deduplicated: 1,
      quarantined: 1,
      quarantineReasons: { bad_qty: 1 },
    });
    expect(silver?.rows).toBe(2);
    const quarantine = await lake.quarantine({ layer: 'silver', table: 'items' }).snapshot();
    expect(quarantine?.schema.fields.map((field) => field.name)).toEqual([
      'run_id',
      'reason',
      'record_id',
      'record',
      'detail',
      'quarantined_at',
    ]);
    expect(quarantine?.files.reduce((sum, file) => sum + JSON.parse(file.stats ?? '{}').numRecords, 0)).toBe(
      1,
    );
  });

  it('fails the run when a shape loses records instead of quarantining them', async () => {
    const { summary } = await runWith({
      name: 'items',
      layer: 'silver',
      sql: records,
      refine: {
        input: { layer: 'bronze', table: 'items' },
        recordId: 'rid',
        shape: (survivors) => `SELECT * FROM ${survivors} WHERE qty > 0`,
      },
    });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/silver.items: 4 rows in ≠ 2 out \+ 0 deduplicated \+ 0 quarantined/);
  });

  it('runs the macros given for its engine and tells the table SQL which engine runs it', async () => {
    const { summary, logOf } = await runWith(
      {
        name: 'items',
        layer: 'silver',
        sql: ({ ref, engine }) =>
          `SELECT id, twice(${engine === 'duckdb' ? 21 : 0}) AS n FROM ${ref('bronze', 'items')}`,
      },
      {
        macros: { duckdb: ['CREATE OR REPLACE TEMP MACRO twice(x) AS x * 2'], spark: ['not run on DuckDB'] },
      },
    );
    expect(summary.error).toBeUndefined();
    expect(await logOf('silver.items')).toMatch(/twice\(21\)/);
  });

  it('fails the run when the records SQL filters input rows', async () => {
    const { summary } = await runWith({
      name: 'items',
      layer: 'silver',
      sql: ({ ref }) => `SELECT _row_number AS rid, id FROM ${ref('bronze', 'items')} WHERE id <> '3'`,
      refine: { input: { layer: 'bronze', table: 'items' }, recordId: 'rid' },
    });
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/returned 3 records for 4 input rows/);
  });
});

describe('a table task that loses a commit race', () => {
  it('reads its inputs again, recomputes and commits on the version the other writer made', async () => {
    const commit = DeltaTable.prototype.commit;
    let raced = false;
    // Another writer (a run of another metadata database) commits silver.items just before this run does.
    vi.spyOn(DeltaTable.prototype, 'commit').mockImplementation(async function (
      this: DeltaTable,
      request: CommitRequest,
    ) {
      if (
        !raced &&
        this.root === 'items' &&
        request.mode === 'overwrite' &&
        request.info?.task === 'silver.items'
      ) {
        raced = true;
        await commit.call(new DeltaTable(this.store, this.root), {
          ...request,
          files: [],
          txns: [{ appId: 'another-writer', version: 0 }],
        });
      }
      return commit.call(this, request);
    });
    const { summary, lake, logOf } = await runWith({
      name: 'items',
      layer: 'silver',
      sql: ({ ref }) => `SELECT id FROM ${ref('bronze', 'items')}`,
    });
    expect(raced).toBe(true);
    expect(summary.status).toBe('success');
    const table = await lake.table({ layer: 'silver', table: 'items' }).snapshot();
    expect(table?.version).toBe(1);
    expect(table?.txns.get('another-writer')).toBe(0);
    expect(summary.tables.find((entry) => entry.layer === 'silver')?.rows).toBe(4);
    expect(await logOf('silver.items')).toMatch(
      /lost a commit race .*; reading the inputs again and recomputing \(try 2 of 3\)/,
    );
  });
});

describe("a table task's log", () => {
  it('tells what it read, the SQL it ran, its accounting, what it staged and the version it committed', async () => {
    const { summary, logOf } = await runWith({
      name: 'items',
      layer: 'silver',
      sql: records,
      refine: {
        input: { layer: 'bronze', table: 'items' },
        recordId: 'rid',
        dedupe: { key: 'id', orderBy: 'rid DESC' },
        quarantine: [{ reason: 'bad_qty', when: 'qty IS NULL OR qty < 0' }],
      },
    });
    expect(summary.status).toBe('success');
    const lines = await logOf('silver.items');
    expect(lines).toMatch(/reads bronze\.items version 0 \(4 rows\) as "bronze__items"/);
    expect(lines).toMatch(
      /sql \d+ ms: CREATE OR REPLACE TEMP VIEW __t_silver_items_records AS SELECT _row_number AS rid, id, try_cast\(qty AS INTEGER\) AS qty FROM "bronze__items"/,
    );
    expect(lines).toMatch(
      /accounting: 4 records in = 2 out \+ 1 deduplicated \+ 1 quarantined \(bad_qty 1\)/,
    );
    expect(lines).toMatch(/staged 2 row\(s\) in 1 file\(s\), \d+ bytes \(\d+ ms\)/);
    expect(lines).toMatch(/committed version 0 of items \(overwrite, \d+ ms\)/);
    expect(lines).toMatch(/quarantine: committed version 0 of silver_items/);
  });

  it('names the statement that failed, with its error', async () => {
    const { summary, logOf } = await runWith({
      name: 'items',
      layer: 'silver',
      sql: ({ ref }) => `SELECT no_such_column FROM ${ref('bronze', 'items')}`,
    });
    expect(summary.status).toBe('failed');
    const lines = await logOf('silver.items');
    expect(lines).toMatch(
      /failed statement \(\d+ ms\): CREATE OR REPLACE TEMP VIEW __t_silver_items AS SELECT no_such_column FROM "bronze__items"\n {2}error: .*no_such_column/,
    );
  });
});
