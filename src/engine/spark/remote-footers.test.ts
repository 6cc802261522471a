import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDiskStore } from '../../storage/local-disk.js';
import { DuckDbEngine } from '../duckdb/engine.js';
import { footerStats } from './footer-stats.js';
import { footerCopies } from './remote-footers.js';

const SCHEMA = {
  type: 'struct' as const,
  fields: [
    { name: 'id', type: 'long' as const, nullable: true, metadata: {} },
    { name: 'day', type: 'date' as const, nullable: true, metadata: {} },
    { name: 'label', type: 'string' as const, nullable: true, metadata: {} },
  ],
};

describe('footers of Parquet files in a store, read without their data', () => {
  let dir: string;
  let duckdb: DuckDbEngine;
  let store: LocalDiskStore;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-remote-footers-'));
    duckdb = await DuckDbEngine.create({ scratchDir: path.join(dir, 'duckdb') });
    store = new LocalDiskStore(path.join(dir, 'store'));
    await mkdir(store.location, { recursive: true });
    await duckdb.run(`COPY (
        SELECT range AS id, DATE '2022-01-01' + (range % 300)::INTEGER AS day,
          CASE WHEN range % 7 = 0 THEN NULL ELSE 'row ' || range END AS label
        FROM range(200000))
      TO '${path.join(dir, 'store', 'big.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 50000)`);
    // A footer larger than the first read from the end: thousands of row groups.
    await duckdb.run(`COPY (SELECT range AS id, NULL::DATE AS day, 'x' AS label FROM range(300000))
      TO '${path.join(dir, 'store', 'many-groups.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 100)`);
  });

  afterAll(async () => {
    duckdb?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const query = <T>(sql: string) => duckdb.all(sql) as Promise<T[]>;

  it('gives the same stats from a sparse copy of the footer as from the file itself', async () => {
    const objects = await store.list('');
    const copies = await footerCopies(store, objects, await mkdtemp(path.join(dir, 'copies-')));
    const fromCopies = await footerStats(query, copies, SCHEMA);
    const fromFiles = await footerStats(
      query,
      objects.map((object) => path.join(store.location, object.key)),
      SCHEMA,
    );
    expect(objects.map((object) => object.key)).toEqual(['big.parquet', 'many-groups.parquet']);
    for (const [index, object] of objects.entries()) {
      const copied = fromCopies.get(copies[index]!);
      expect(copied).toEqual(fromFiles.get(path.join(store.location, object.key)));
      // Only the footer is on disk: the copy is the file's size, its data a hole.
      const copy = await stat(copies[index]!);
      expect(copy.size).toBe(object.size);
      expect(copy.blocks * 512).toBeLessThan(object.size);
    }
    expect(fromCopies.get(copies[0]!)).toMatchObject({
      numRecords: 200000,
      nullCount: { id: 0, day: 0, label: 28572 },
      minValues: { id: 0, day: '2022-01-01' },
      maxValues: { id: 199999, day: '2022-10-27' },
    });
    expect(fromCopies.get(copies[1]!)?.numRecords).toBe(300000);
  });

  it('refuses an object that is not a Parquet file, naming it', async () => {
    await writeFile(path.join(dir, 'store', 'notes.txt'), 'not parquet at all');
    const [notes] = await store.list('notes');
    await expect(footerCopies(store, [notes!], dir)).rejects.toThrow(/notes\.txt is not a Parquet file/);
  });
});
