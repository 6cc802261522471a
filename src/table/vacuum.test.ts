import { access, mkdir, mkdtemp, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { skipWithoutDeltaRs } from '../testing/delta-rs.js';
import { commitQuery, compareWithDeltaRs } from '../testing/delta-tables.js';
import { DeltaTable } from './delta-table.js';
import { LakeLayout, localLake } from './lake-layout.js';
import { STALE_TEMP_FILE_MS, vacuumLake, vacuumTable } from './vacuum.js';

const DAY = 86_400_000;

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

let dir: string;
let engine: DuckDbEngine;
let store: LocalDiskStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vacuum-'));
  engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'scratch') });
  store = new LocalDiskStore(path.join(dir, 'lake'));
});
afterAll(() => engine.close());

/** Commits the query, then waits: each version gets its own commit timestamp, later than the files before it. */
async function write(
  table: DeltaTable,
  sql: string,
  mode: 'append' | 'overwrite',
  partitionBy: string[] = [],
) {
  await commitQuery(engine, table, sql, mode, partitionBy);
  await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A table overwritten three times: version v holds v + 1 rows, over two partitions. */
async function overwrittenThrice(name: string): Promise<DeltaTable> {
  const table = new DeltaTable(store, name);
  for (const rows of [1, 2, 3])
    await write(table, `SELECT i AS id, i % 2 AS part FROM range(${rows}) t(i)`, 'overwrite', ['part']);
  return table;
}

async function count(table: DeltaTable, version?: number): Promise<number> {
  const snapshot = await table.snapshot(version);
  await engine.registerSnapshot('counted', snapshot!, table.store, table.root);
  const [row] = await engine.all<{ n: number }>('SELECT count(*)::INTEGER AS n FROM counted');
  return row!.n;
}

async function timestamp(table: DeltaTable, version: number): Promise<number> {
  return (await table.snapshot(version))!.timestamp;
}

/** Options whose window starts at `cutoff`: versions committed after it are retained. */
function windowFrom(cutoff: number, dryRun = false) {
  return { now: new Date(cutoff + DAY), retainMs: DAY, dryRun };
}

async function dataKeys(table: DeltaTable): Promise<string[]> {
  return (await store.list(`${table.root}/`))
    .map((object) => object.key)
    .filter((key) => key.endsWith('.parquet'));
}

function keysOf(table: DeltaTable, snapshotFiles: { path: string }[]): string[] {
  return snapshotFiles.map((file) => `${table.root}/${decodeURIComponent(file.path)}`).sort();
}

describe('vacuumTable', () => {
  it("deletes the old versions' files when the retention covers only the latest version, which reads the same rows", async () => {
    const table = await overwrittenThrice('silver/thrice');
    const latest = (await table.snapshot())!;
    const before = await dataKeys(table);

    const result = await vacuumTable(table, windowFrom(latest.timestamp));

    expect(result.deleted).toEqual(before.filter((key) => !keysOf(table, latest.files).includes(key)));
    expect(result.deleted).toHaveLength(3); // version 0: one file; version 1: two partitions
    expect(result.bytes).toBeGreaterThan(0);
    expect(result.kept).toBe(2);
    expect(await dataKeys(table)).toEqual(keysOf(table, latest.files));
    expect(await count(table)).toBe(3);
    expect(await table.versions()).toEqual([0, 1, 2]);
  });

  it('deletes nothing when the retention covers every version', async () => {
    const table = await overwrittenThrice('silver/covered');
    const before = await dataKeys(table);
    const result = await vacuumTable(table, windowFrom((await timestamp(table, 0)) - 1));
    expect(result).toEqual({ deleted: [], bytes: 0, kept: before.length });
    expect(await dataKeys(table)).toEqual(before);
    for (const version of [0, 1, 2]) expect(await count(table, version)).toBe(version + 1);
  });

  it('keeps the latest version older than the window, so time travel to the start of the window still works', async () => {
    const table = await overwrittenThrice('silver/travel');
    const v0 = (await table.snapshot(0))!;
    // The window starts between versions 1 and 2: version 1 is what a reader saw at its start.
    const result = await vacuumTable(table, windowFrom((await timestamp(table, 1)) + 1));
    expect(result.deleted).toEqual(keysOf(table, v0.files));
    expect(await count(table, 1)).toBe(2);
    expect(await count(table, 2)).toBe(3);
  });

  it('keeps the files of a version older than the window that the current version still references', async () => {
    const table = new DeltaTable(store, 'bronze/appended');
    await write(table, 'SELECT 1 AS id', 'append');
    await write(table, 'SELECT 2 AS id', 'overwrite');
    const overwritten = (await table.snapshot())!;
    await write(table, 'SELECT 3 AS id', 'append');
    const latest = (await table.snapshot())!;
    const result = await vacuumTable(table, windowFrom(latest.timestamp));
    expect(result.deleted).toEqual(keysOf(table, (await table.snapshot(0))!.files));
    expect(result.kept).toBe(2);
    expect(await dataKeys(table)).toEqual(keysOf(table, latest.files));
    expect(keysOf(table, latest.files)).toEqual(expect.arrayContaining(keysOf(table, overwritten.files)));
    expect(await count(table)).toBe(2);
  });

  it('leaves a recent unreferenced file alone (staged by a writer that has not committed yet) until it is older than the window', async () => {
    const table = await overwrittenThrice('gold/staging');
    const cutoff = await timestamp(table, 2);
    const staged = await engine.stage('(SELECT 99 AS id, 0 AS part)', []);
    const orphan = `${table.root}/${staged.files[0]!.relativePath}`;
    await store.putFile(staged.files[0]!.localPath, orphan);
    const local = path.join(store.location, orphan);

    await utimes(local, new Date(cutoff + 1000), new Date(cutoff + 1000));
    const recent = await vacuumTable(table, windowFrom(cutoff));
    expect(recent.deleted).toHaveLength(3);
    expect(recent.deleted).not.toContain(orphan);
    expect(await dataKeys(table)).toContain(orphan);

    await utimes(local, new Date(cutoff - 1000), new Date(cutoff - 1000));
    expect((await vacuumTable(table, windowFrom(cutoff))).deleted).toEqual([orphan]);
    expect(await count(table)).toBe(3);
  });

  it('with a safety window shorter than the retention, deletes a file no version references once older than it, and keeps the versions in the window whole', async () => {
    const table = await overwrittenThrice('gold/crashed');
    const cutoff = await timestamp(table, 1);
    const staged = await engine.stage('(SELECT 7 AS id, 1 AS part)', []);
    const crashed = `${table.root}/${staged.files[0]!.relativePath}`;
    await store.putFile(staged.files[0]!.localPath, crashed);
    const options = { ...windowFrom(cutoff), safetyMs: 60_000 };

    // Written just now: a writer may be about to commit it.
    await utimes(path.join(store.location, crashed), options.now, options.now);
    const first = await vacuumTable(table, options);
    expect(first.deleted).toEqual(keysOf(table, (await table.snapshot(0))!.files));
    expect(await dataKeys(table)).toContain(crashed);
    // Written after the versions' window started, but an hour before now: no writer is still at it.
    const hourAgo = new Date(cutoff + DAY - 3_600_000);
    await utimes(path.join(store.location, crashed), hourAgo, hourAgo);
    expect((await vacuumTable(table, options)).deleted).toEqual([crashed]);
    for (const version of [1, 2]) expect(await count(table, version)).toBe(version + 1);
  });

  it('never touches the log, hidden entries or files that are not Parquet, but vacuums partitions named _…', async () => {
    const table = new DeltaTable(store, 'silver/hidden');
    for (const rows of [1, 2])
      await write(table, `SELECT i AS id, i AS _day FROM range(${rows}) t(i)`, 'overwrite', ['_day']);
    const cutoff = await timestamp(table, 1);
    const old = new Date(cutoff - DAY);
    const others = ['_tmp/part-x.parquet', '.part-y.parquet', '_delta_log/stray.parquet', 'notes.txt'];
    for (const key of others) {
      await store.put(`${table.root}/${key}`, 'not data');
      await utimes(path.join(store.location, table.root, key), old, old);
    }
    const result = await vacuumTable(table, windowFrom(cutoff));
    expect(result.deleted).toEqual(keysOf(table, (await table.snapshot(0))!.files));
    expect(result.deleted[0]).toMatch(/^silver\/hidden\/_day=0\//);
    for (const key of others) expect(await store.exists(`${table.root}/${key}`)).toBe(true);
    expect(await count(table)).toBe(2);
  });

  it('vacuums a table past a checkpoint and leaves the checkpoint in the log', async () => {
    const table = new DeltaTable(store, 'silver/checkpointed');
    for (let rows = 1; rows <= 12; rows++)
      await write(table, `SELECT i AS id FROM range(${rows}) t(i)`, 'overwrite');
    const log = (await store.list(`${table.root}/_delta_log/`)).map((object) => object.key);
    expect(log.some((key) => key.endsWith('.checkpoint.parquet'))).toBe(true);
    const result = await vacuumTable(table, windowFrom(await timestamp(table, 11)));
    expect(result).toMatchObject({ kept: 1 });
    expect(result.deleted).toHaveLength(11);
    expect((await store.list(`${table.root}/_delta_log/`)).map((object) => object.key)).toEqual(log);
    expect(await count(table)).toBe(12);
  });

  it('deletes nothing with dryRun but lists the files a real run deletes', async () => {
    const table = await overwrittenThrice('silver/dry');
    const before = await dataKeys(table);
    const options = windowFrom(await timestamp(table, 2));
    const dry = await vacuumTable(table, { ...options, dryRun: true });
    expect(dry.deleted).toHaveLength(3);
    expect(await dataKeys(table)).toEqual(before);
    expect(await vacuumTable(table, options)).toEqual(dry);
    expect(await dataKeys(table)).toHaveLength(before.length - 3);
  });

  it('reports nothing for a directory without a Delta log', async () => {
    expect(await vacuumTable(new DeltaTable(store, 'silver/nothing'), windowFrom(Date.now()))).toEqual({
      deleted: [],
      bytes: 0,
      kept: 0,
    });
  });

  it.skipIf(skipWithoutDeltaRs())('leaves a table delta-rs reads with the same rows', async () => {
    const table = await overwrittenThrice('gold/compat');
    await vacuumTable(table, windowFrom(await timestamp(table, 2)));
    const { read, different } = await compareWithDeltaRs(engine, table, path.join(dir, 'vacuumed.parquet'));
    expect(read).toMatchObject({ version: 2, rows: 3, partitionColumns: ['part'] });
    expect(different).toBe(0);
  });
});

describe('vacuumLake', () => {
  it('vacuums every table of each layer, the landing manifest and the dedupe states, skipping directories without a log', async () => {
    const lake = new LakeLayout(localLake(path.join(dir, 'whole-lake')));
    const tables = [
      lake.table({ layer: 'silver', table: 'orders' }),
      lake.table({ layer: 'gold', table: 'revenue' }),
      lake.manifest(),
      lake.winners({ layer: 'silver', table: 'orders' }),
    ];
    for (const table of tables) {
      await write(table, 'SELECT 1 AS n', 'overwrite');
      await write(table, 'SELECT 2 AS n', 'overwrite');
    }
    await lake.stores.store('bronze').put('loose/file.parquet', 'not a table');
    await lake.landing().put('orders/2024-05-01/orders.csv', 'id\n1\n');
    const results = await vacuumLake(lake, { now: new Date(Date.now() + 2 * DAY), retainMs: DAY });
    expect(
      results.map(({ area, table, deleted, kept }) => ({ area, table, deleted: deleted.length, kept })),
    ).toEqual([
      { area: 'landing', table: '_manifest', deleted: 1, kept: 1 },
      { area: 'silver', table: 'orders', deleted: 1, kept: 1 },
      { area: 'gold', table: 'revenue', deleted: 1, kept: 1 },
      { area: 'system', table: 'winners/silver_orders', deleted: 1, kept: 1 },
    ]);
    expect(await lake.stores.store('bronze').exists('loose/file.parquet')).toBe(true);
  });

  it('keeps the versions of an area with a longer retention of its own (the quarantine) readable', async () => {
    const lake = new LakeLayout(localLake(path.join(dir, 'area-lake')));
    const tables = [
      lake.table({ layer: 'silver', table: 'orders' }),
      lake.quarantine({ layer: 'silver', table: 'orders' }),
    ];
    for (const table of tables) {
      await write(table, 'SELECT 1 AS n', 'overwrite');
      await write(table, 'SELECT 2 AS n', 'overwrite');
    }
    const now = new Date(Date.now() + 2 * DAY);
    const results = await vacuumLake(lake, { now, retainMs: DAY, retainMsByArea: { quarantine: 30 * DAY } });
    expect(results.map(({ area, deleted, kept }) => ({ area, deleted: deleted.length, kept }))).toEqual([
      { area: 'silver', deleted: 1, kept: 1 },
      { area: 'quarantine', deleted: 0, kept: 2 },
    ]);
    expect(await count(tables[1]!, 0)).toBe(1);
  });

  it('deletes the temp files writers left, in tables and outside them, once stale, and reports them', async () => {
    const root = path.join(dir, 'temp-lake');
    const lake = new LakeLayout(localLake(root));
    const orders = lake.table({ layer: 'silver', table: 'orders' });
    await write(orders, 'SELECT 1 AS n', 'overwrite');
    await write(orders, 'SELECT 2 AS n', 'overwrite');
    const now = new Date();
    const stale = new Date(now.getTime() - STALE_TEMP_FILE_MS - 1000);
    // What a killed writer leaves: `<target>.<8 hex>.tmp` beside the object it was writing.
    const leftovers = {
      'silver/orders/_delta_log/00000000000000000002.json.0badf00d.tmp': stale,
      'silver/orders/part-live.parquet.cafe0001.tmp': now, // a writer still at work
      'gold/broken/part-0.parquet.deadbeef.tmp': stale, // a table whose first write never finished
      'landing/orders/20240501T000000Z-abc/orders.csv.12345678.tmp': stale,
      '_medallion/runs/r1.json.9abcdef0.tmp': stale,
    };
    for (const [file, time] of Object.entries(leftovers)) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), 'half a file');
      await utimes(path.join(root, file), time, time);
    }
    const expected = [
      {
        area: 'landing',
        table: 'orders',
        temporary: ['orders/20240501T000000Z-abc/orders.csv.12345678.tmp'],
      },
      {
        area: 'silver',
        table: 'orders',
        temporary: ['orders/_delta_log/00000000000000000002.json.0badf00d.tmp'],
      },
      { area: 'gold', table: 'broken', temporary: ['broken/part-0.parquet.deadbeef.tmp'] },
      { area: 'system', table: 'runs', temporary: ['runs/r1.json.9abcdef0.tmp'] },
    ];

    const dry = await vacuumLake(lake, { now, retainMs: DAY, dryRun: true });
    expect(dry.map(({ area, table, temporary }) => ({ area, table, temporary }))).toEqual(expected);
    expect(dry.every((result) => result.deleted.join() === result.temporary.join())).toBe(true);
    expect(dry.find((result) => result.table === 'orders' && result.area === 'silver')?.kept).toBe(2);
    for (const file of Object.keys(leftovers)) expect(await exists(path.join(root, file))).toBe(true);

    expect(await vacuumLake(lake, { now, retainMs: DAY })).toEqual(dry);
    for (const [file, time] of Object.entries(leftovers))
      expect(await exists(path.join(root, file))).toBe(time === now);
    expect(await count(orders)).toBe(1);
  });
});
