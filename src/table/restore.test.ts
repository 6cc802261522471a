import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { skipWithoutDeltaRs } from '../testing/delta-rs.js';
import { commitQuery, compareWithDeltaRs } from '../testing/delta-tables.js';
import { commitFacts } from './delta-history.js';
import { DeltaTable } from './delta-table.js';
import { commitInfoOf, missingFiles, restoreRequest, writtenVersion } from './restore.js';

let dir: string;
let engine: DuckDbEngine;
let store: LocalDiskStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'delta-restore-'));
  engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'scratch') });
  store = new LocalDiskStore(path.join(dir, 'lake'));
});
afterAll(async () => {
  engine.close();
  await rm(dir, { recursive: true, force: true });
});

async function rows(table: DeltaTable, version?: number): Promise<unknown[]> {
  const snapshot = await table.snapshot(version);
  if (!snapshot) return [];
  await engine.registerSnapshot('t', snapshot, store, table.root);
  return engine.all('SELECT * FROM t ORDER BY ALL');
}

/** Commits a restore of `version` on top of the latest, as `tables restore` does. */
async function restore(table: DeltaTable, version: number) {
  const [current, target] = [await table.snapshot(), await table.snapshot(version)];
  const [commit] = await table.commits(version, version);
  return table.commit(
    restoreRequest(current!, target!, commit && commitInfoOf(commit.actions), { restoredBy: 'test' }),
  );
}

describe('restoring a version', () => {
  it('brings back its rows, schema and partitioning in a new commit, and the medallion facts of its commit', async () => {
    const table = new DeltaTable(store, 'gold/shape');
    const staged = await engine.stage("(SELECT * FROM (VALUES (2022, 'a'), (2023, 'b')) t(year, v))", [
      'year',
    ]);
    await table.commit({
      mode: 'overwrite',
      schema: staged.schema,
      partitionColumns: ['year'],
      files: staged.files,
      readVersion: -1,
      info: { runId: 'run_1', medallionInputs: { 'silver.x': 4 } },
    });
    await commitQuery(engine, table, "SELECT 'c' AS v, 1.5::DOUBLE AS amount", 'overwrite');
    expect(await rows(table)).toEqual([{ v: 'c', amount: 1.5 }]);

    expect(await restore(table, 0)).toEqual({ version: 2, alreadyCommitted: false });
    const restored = (await table.snapshot())!;
    expect(restored.partitionColumns).toEqual(['year']);
    expect(restored.schema).toEqual((await table.snapshot(0))!.schema);
    expect(await rows(table)).toEqual(await rows(table, 0));
    const [commit] = await table.commits(2, 2);
    const info = commitInfoOf(commit!.actions)!;
    expect(info).toMatchObject({
      operation: 'RESTORE',
      operationParameters: { version: '0' },
      medallionInputs: { 'silver.x': 4 },
      restoredBy: 'test',
      readVersion: 1,
    });
    // A run's own facts are the version's, not the restore's.
    expect(info.runId).toBeUndefined();
    expect(commitFacts(commit!.actions)).toMatchObject({ operation: 'RESTORE', restoredVersion: 0 });
  });

  it('leaves the files both versions hold where they are, and is undone by restoring again', async () => {
    const table = new DeltaTable(store, 'bronze/appended');
    for (const id of [1, 2, 3]) await commitQuery(engine, table, `SELECT ${id} AS id`, 'append');
    const request = restoreRequest((await table.snapshot())!, (await table.snapshot(0))!, undefined);
    expect(request.reAdds).toEqual([]);
    expect(request.removes).toHaveLength(2);
    await table.commit(request);
    expect(await rows(table)).toEqual([{ id: 1 }]);
    await restore(table, 2);
    expect(await rows(table)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    const [restoreCommit] = await table.commits(4, 4);
    expect(restoreCommit!.actions.filter((action) => 'remove' in action)).toEqual([]);
  });

  it.skipIf(skipWithoutDeltaRs())(
    'writes a restored table delta-rs reads as the version it restored',
    async () => {
      const table = new DeltaTable(store, 'gold/compat');
      await commitQuery(engine, table, "SELECT * FROM (VALUES (1, 'x'), (2, 'y')) t(id, v)", 'overwrite', [
        'v',
      ]);
      await commitQuery(engine, table, 'SELECT 3 AS id', 'overwrite');
      await restore(table, 0);
      const { read, different } = await compareWithDeltaRs(engine, table, path.join(dir, 'compat.parquet'));
      expect(read).toMatchObject({ version: 2, rows: 2, partitionColumns: ['v'] });
      expect(different).toBe(0);
    },
  );

  it('names the data files of a version that vacuum removed', async () => {
    const table = new DeltaTable(store, 'gold/vacuumed');
    await commitQuery(engine, table, 'SELECT 1 AS id', 'overwrite');
    await commitQuery(engine, table, 'SELECT 2 AS id', 'overwrite');
    const old = (await table.snapshot(0))!;
    expect(await missingFiles(table, old)).toEqual([]);
    await store.delete(old.files.map((file) => `${table.root}/${file.path}`));
    expect(await missingFiles(table, old)).toEqual(old.files.map((file) => file.path));
  });
});

describe('the version a writer last made', () => {
  it('looks past restores on top of it, however many', async () => {
    const table = new DeltaTable(store, 'gold/written');
    expect(await writtenVersion(table)).toBe(-1);
    await commitQuery(engine, table, 'SELECT 1 AS id', 'overwrite');
    await commitQuery(engine, table, 'SELECT 2 AS id', 'overwrite');
    expect(await writtenVersion(table)).toBe(1);
    for (const version of [0, 1, 0, 1, 0, 1]) await restore(table, version);
    expect((await table.snapshot())!.version).toBe(7);
    expect(await writtenVersion(table)).toBe(1);
    await commitQuery(engine, table, 'SELECT 3 AS id', 'overwrite');
    expect(await writtenVersion(table)).toBe(8);
  });
});
