import { copyFile, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { commitQuery } from '../testing/delta-tables.js';
import { DeltaLogGapError } from './delta-log.js';
import { commitFileName, LOG_DIR } from './delta-protocol.js';
import { DeltaTable } from './delta-table.js';

let dir: string;
let engine: DuckDbEngine;
let store: LocalDiskStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'delta-log-'));
  engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'scratch') });
  store = new LocalDiskStore(path.join(dir, 'lake'));
});
afterAll(async () => {
  await engine.close();
  await rm(dir, { recursive: true, force: true });
});

/** A table of `commits` appended versions: version v adds the row v. */
async function appended(name: string, commits: number): Promise<DeltaTable> {
  const table = new DeltaTable(store, name);
  for (let n = 0; n < commits; n += 1) await commitQuery(engine, table, `SELECT ${n} AS n`, 'append');
  return table;
}

function logFile(table: DeltaTable, version: number): string {
  return path.join(store.location, table.root, LOG_DIR, commitFileName(version));
}

async function logNames(table: DeltaTable): Promise<string[]> {
  return (await readdir(path.join(store.location, table.root, LOG_DIR))).sort();
}

/** The error `work` fails with. */
async function failure(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => expect.fail('expected a failure'),
    (error: unknown) => error,
  );
}

/** Expects a DeltaLogGapError naming the table and `missing` (e.g. `commit 1`, `2 commits 3–4`). */
async function expectGap(work: Promise<unknown>, table: DeltaTable, missing: string): Promise<void> {
  const error = await failure(work);
  expect(error).toBeInstanceOf(DeltaLogGapError);
  const gap = error as DeltaLogGapError;
  expect(gap.context.file).toBe(`${store.location}/${table.root}`);
  expect(gap.message).toContain(`lacks ${missing} `);
  expect(gap.hint).toContain('restore the missing commit file');
  expect(gap.permanent).toBe(true);
}

describe('a Delta log with a gap', () => {
  it('refuses a snapshot and the version list when a middle commit is missing, and reads again once it is restored', async () => {
    const table = await appended('silver/middle', 4);
    expect((await table.snapshot())?.files).toHaveLength(4); // every commit read (and kept in the process cache)
    const aside = path.join(dir, 'middle-1.json');
    await rename(logFile(table, 1), aside);

    await expectGap(table.snapshot(), table, 'commit 1');
    await expectGap(table.versions(), table, 'commit 1');
    await expectGap(table.exists(), table, 'commit 1');

    await rename(aside, logFile(table, 1));
    expect((await table.snapshot())?.files).toHaveLength(4);
    expect(await table.versions()).toEqual([0, 1, 2, 3]);
  });

  it('refuses a stray commit after the latest one, and time travel to it, but reads the versions below the gap', async () => {
    const table = await appended('silver/stray', 3);
    await copyFile(logFile(table, 2), logFile(table, 5));

    await expectGap(table.snapshot(), table, '2 commits 3–4');
    await expectGap(table.snapshot(5), table, '2 commits 3–4');
    await expectGap(table.snapshot(3), table, 'commit 3');
    expect((await table.snapshot(2))?.files).toHaveLength(3);
  });

  it('refuses time travel to a version above a missing commit it is built from', async () => {
    const table = await appended('silver/travel', 4);
    await rm(logFile(table, 1));

    await expectGap(table.snapshot(2), table, 'commit 1');
    expect((await table.snapshot(0))?.files).toHaveLength(1);
  });

  it('reads a table whose commits before its checkpoint were removed, and refuses one missing a commit after it', async () => {
    const table = await appended('silver/checkpointed', 13);
    expect(await logNames(table)).toContain('00000000000000000010.checkpoint.parquet');
    // Log retention: the commits the checkpoint of version 10 replaces, its own included, may go.
    for (let version = 0; version <= 10; version += 1) await rm(logFile(table, version));

    expect((await table.snapshot())?.files).toHaveLength(13);
    expect((await table.snapshot(10))?.files).toHaveLength(11);
    expect(await table.versions()).toEqual([10, 11, 12]);

    await rm(logFile(table, 11));
    await expectGap(table.snapshot(), table, 'commit 11');
    await expectGap(table.versions(), table, 'commit 11');
    expect((await table.snapshot(10))?.files).toHaveLength(11);
  });

  it('refuses to commit on a log with a gap, writing neither a commit nor a data file', async () => {
    const table = await appended('silver/sealed', 3);
    await copyFile(logFile(table, 2), logFile(table, 5));
    const before = await readdir(path.join(store.location, table.root));
    const staged = await engine.stage('(SELECT 99 AS n)', []);

    const commit = table.commit({
      mode: 'append',
      schema: staged.schema,
      partitionColumns: [],
      files: staged.files,
      readVersion: 2, // what a reader of the versions below the gap would pass
    });

    await expectGap(commit, table, '2 commits 3–4');
    expect(await logNames(table)).not.toContain(commitFileName(3));
    expect(await readdir(path.join(store.location, table.root))).toEqual(before);
  });

  it('refuses to commit on top of a version that is no longer there, rather than start a log at version 1', async () => {
    const table = await appended('silver/removed', 1);
    await rm(path.join(store.location, table.root), { recursive: true });
    const staged = await engine.stage('(SELECT 1 AS n)', []);

    const error = await failure(
      table.commit({
        mode: 'append',
        schema: staged.schema,
        partitionColumns: [],
        files: staged.files,
        readVersion: 0,
      }),
    );

    expect((error as Error).message).toContain('version 0 of silver/removed is gone');
    expect(await table.versions()).toEqual([]);
  });
});
