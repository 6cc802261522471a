import { mkdtemp, readdir, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { exportWithDeltaRs, skipWithoutDeltaRs } from '../testing/delta-rs.js';
import { commitQuery } from '../testing/delta-tables.js';
import { DeltaTable } from './delta-table.js';

let dir: string;
let engine: DuckDbEngine;
let store: LocalDiskStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'delta-table-'));
  engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'scratch') });
  store = new LocalDiskStore(path.join(dir, 'lake'));
});
afterAll(() => engine.close());

function write(table: DeltaTable, sql: string, mode: 'append' | 'overwrite', partitionBy: string[] = []) {
  return commitQuery(engine, table, sql, mode, partitionBy);
}

async function rows(table: DeltaTable, version?: number): Promise<unknown[]> {
  const snapshot = await table.snapshot(version);
  if (!snapshot) return [];
  await engine.registerSnapshot('t', snapshot, store, table.root);
  return engine.all('SELECT * FROM t ORDER BY ALL');
}

describe('DeltaTable', () => {
  it('reads back what it wrote, version by version (time travel)', async () => {
    const table = new DeltaTable(store, 'silver/people');
    await write(table, "SELECT 1 AS id, 'ada' AS name", 'append');
    await write(table, "SELECT 2 AS id, 'grace' AS name", 'append');
    await write(table, "SELECT 3 AS id, 'linus' AS name", 'overwrite');
    expect(await rows(table, 0)).toEqual([{ id: 1, name: 'ada' }]);
    expect(await rows(table, 1)).toEqual([
      { id: 1, name: 'ada' },
      { id: 2, name: 'grace' },
    ]);
    expect(await rows(table)).toEqual([{ id: 3, name: 'linus' }]);
  });

  it('takes partition values from the log, NULL partitions included', async () => {
    const table = new DeltaTable(store, 'silver/partitioned');
    await write(
      table,
      "SELECT * FROM (VALUES (2022, 'a'), (NULL, 'b'), (2023, 'c')) t(year, v)",
      'overwrite',
      ['year'],
    );
    const snapshot = await table.snapshot();
    expect(snapshot?.partitionColumns).toEqual(['year']);
    expect(snapshot?.files.map((file) => file.partitionValues.year).sort()).toEqual(['2022', '2023', null]);
    expect(await rows(table)).toEqual([
      { year: 2022, v: 'a' },
      { year: 2023, v: 'c' },
      { year: null, v: 'b' },
    ]);
  });

  it('takes partition values from the log when file paths do not spell them (other writers)', async () => {
    const table = new DeltaTable(store, 'silver/flat-paths');
    const a = await engine.stage("(SELECT 'a' AS v)", []);
    const b = await engine.stage("(SELECT 'b' AS v)", []);
    const schema = {
      type: 'struct' as const,
      fields: [
        { name: 'v', type: 'string' as const, nullable: true, metadata: {} },
        { name: 'year', type: 'integer' as const, nullable: true, metadata: {} },
      ],
    };
    await table.commit({
      mode: 'append',
      schema,
      partitionColumns: ['year'],
      files: [
        { ...a.files[0]!, partitionValues: { year: '2022' } },
        { ...b.files[0]!, partitionValues: { year: null } },
      ],
      readVersion: -1,
    });
    expect(await rows(table)).toEqual([
      { v: 'a', year: 2022 },
      { v: 'b', year: null },
    ]);
  });

  it('does not apply a commit twice when its transaction id is already recorded', async () => {
    const table = new DeltaTable(store, 'bronze/once');
    const staged = await engine.stage('(SELECT 1 AS id)', []);
    const request = {
      mode: 'append' as const,
      schema: staged.schema,
      partitionColumns: [],
      files: staged.files,
      readVersion: -1,
      txns: [{ appId: 'file-abc', version: 0 }],
    };
    expect(await table.commit(request)).toEqual({ version: 0, alreadyCommitted: false });
    const again = await engine.stage('(SELECT 1 AS id)', []);
    expect(await table.commit({ ...request, files: again.files, readVersion: 0 })).toEqual({
      version: 0,
      alreadyCommitted: true,
    });
    expect(await rows(table)).toEqual([{ id: 1 }]);
  });

  it('rewrites named files in one commit, brings the files of an old version back, and refuses a stale rewrite', async () => {
    const table = new DeltaTable(store, 'silver/rewrite');
    await write(table, "SELECT 1 AS id, 'a' AS v", 'append');
    await write(table, "SELECT 2 AS id, 'b' AS v", 'append');
    const v1 = (await table.snapshot())!;
    const [first] = (await table.snapshot(0))!.files;
    const staged = await engine.stage("(SELECT 1 AS id, 'a2' AS v)", []);
    const request = {
      mode: 'rewrite' as const,
      schema: v1.schema,
      partitionColumns: [],
      files: staged.files,
      removes: [first!.path],
      readVersion: 1,
      operation: 'MERGE',
    };
    expect(await table.commit(request)).toEqual({ version: 2, alreadyCommitted: false });
    expect(await rows(table)).toEqual([
      { id: 1, v: 'a2' },
      { id: 2, v: 'b' },
    ]);
    // Another rewrite computed from version 1 must not land on version 2.
    await expect(table.commit({ ...request, files: [], removes: [] })).rejects.toThrow(/version 2/);
    const current = (await table.snapshot())!;
    await table.commit({
      mode: 'rewrite',
      schema: v1.schema,
      partitionColumns: [],
      files: [],
      removes: current.files.map((file) => file.path),
      reAdds: (await table.snapshot(0))!.files,
      readVersion: 2,
      operation: 'RESTORE',
      parameters: { version: '0' },
    });
    expect(await rows(table)).toEqual([{ id: 1, v: 'a' }]);
    await expect(
      table.commit({ ...request, files: [], removes: ['no-such.parquet'], readVersion: 3 }),
    ).rejects.toThrow(/no file no-such.parquet/);
  });

  it('keeps the previous version readable when a writer dies before its commit', async () => {
    const table = new DeltaTable(store, 'silver/crash');
    await write(table, 'SELECT 1 AS id', 'overwrite');
    // A writer that staged and uploaded data files but never wrote its log entry.
    const staged = await engine.stage('(SELECT 2 AS id)', []);
    for (const file of staged.files)
      await store.putFile(file.localPath, `${table.root}/${file.relativePath}`);
    expect(await rows(table)).toEqual([{ id: 1 }]);
    expect(
      (await readdir(path.join(store.location, table.root))).filter((name) => name.endsWith('.parquet')),
    ).toHaveLength(2);
  });

  it.skipIf(skipWithoutDeltaRs())(
    'writes tables delta-rs reads with the same rows, types and partitions',
    async () => {
      const table = new DeltaTable(store, 'gold/compat');
      await write(
        table,
        `SELECT * FROM (VALUES
         (1, 'a', DATE '2022-01-03', TIMESTAMPTZ '2022-01-03 10:00:00+00', 1.5, true, ['x', 'y'], {'k': 'v'}, 2022),
         (2, NULL, NULL, NULL, NULL, NULL, [], NULL, NULL)
       ) t(id, name, day, at_time, amount, flag, tags, attrs, year)`,
        'overwrite',
        ['year'],
      );
      const out = path.join(dir, 'compat.parquet');
      const read = exportWithDeltaRs(path.join(store.location, table.root), out);
      expect(read).toMatchObject({
        version: 0,
        rows: 2,
        minReaderVersion: 1,
        minWriterVersion: 2,
        partitionColumns: ['year'],
      });
      const snapshot = await table.snapshot();
      await engine.registerSnapshot('mine', snapshot!, store, table.root);
      const diff = await engine.all(`
      SELECT count(*)::INTEGER AS n FROM (
        (SELECT * FROM mine EXCEPT ALL SELECT COLUMNS(c -> true) FROM read_parquet('${out}'))
        UNION ALL
        (SELECT COLUMNS(c -> true) FROM read_parquet('${out}') EXCEPT ALL SELECT * FROM mine))`);
      expect(diff).toEqual([{ n: 0 }]);
    },
  );
});

describe('reading the log', () => {
  it('fetches each commit once per process, however many table objects read it, and afresh once rewritten', async () => {
    const counted = new LocalDiskStore(path.join(dir, 'counted'));
    const gets: string[] = [];
    const get = counted.get.bind(counted);
    counted.get = async (key) => {
      gets.push(key);
      return get(key);
    };
    await write(new DeltaTable(counted, 'events'), 'SELECT 1 AS n', 'append');
    await write(new DeltaTable(counted, 'events'), 'SELECT 2 AS n', 'append');
    expect((await new DeltaTable(counted, 'events').snapshot())?.version).toBe(1);
    gets.length = 0;
    expect((await new DeltaTable(counted, 'events').snapshot())?.version).toBe(1);
    expect((await new DeltaTable(counted, 'events').snapshot())?.version).toBe(1);
    expect(gets.filter((key) => key.includes('_delta_log'))).toEqual([]);

    // The table deleted and written again: its new commit 0 is read, not the remembered one.
    await counted.delete((await counted.list('events/')).map((object) => object.key));
    await new Promise((resolve) => setTimeout(resolve, 5));
    await write(new DeltaTable(counted, 'events'), 'SELECT 3 AS n, 4 AS m', 'append');
    const snapshot = await new DeltaTable(counted, 'events').snapshot();
    expect(snapshot?.version).toBe(0);
    expect(snapshot?.schema.fields.map((field) => field.name)).toEqual(['n', 'm']);
  });
});

describe('checkpoints', () => {
  it('writes one every 10 commits, from which a reader rebuilds the same version without the older commits', async () => {
    const counted = new LocalDiskStore(path.join(dir, 'checkpointed'));
    const table = new DeltaTable(counted, 'events');
    for (let n = 0; n < 12; n += 1) {
      const before = await table.snapshot();
      const staged = await engine.stage(`(SELECT ${n} AS n, 'row ${n}' AS label)`, []);
      await table.commit({
        mode: 'append',
        schema: staged.schema,
        partitionColumns: [],
        files: staged.files,
        readVersion: before?.version ?? -1,
        txns: [{ appId: `load-${n}`, version: 0 }],
      });
    }
    const log = await readdir(path.join(counted.location, 'events', '_delta_log'));
    expect(log).toContain('00000000000000000010.checkpoint.parquet');
    expect(log).toContain('_last_checkpoint');

    // Another process, as it were: the same files seen through another path, so nothing read so far is reused.
    const link = path.join(dir, 'checkpointed-link');
    await symlink(counted.location, link);
    const other = new LocalDiskStore(link);
    const gets: string[] = [];
    const get = other.get.bind(other);
    other.get = async (key) => {
      gets.push(key);
      return get(key);
    };
    const fresh = new DeltaTable(other, 'events');
    const snapshot = await fresh.snapshot();
    expect(snapshot?.version).toBe(11);
    expect(snapshot?.files).toHaveLength(12);
    expect(snapshot?.txns.get('load-0')).toBe(0);
    expect(snapshot?.txns.get('load-11')).toBe(0);
    expect(gets.map((key) => key.split('/').pop()).sort()).toEqual([
      '00000000000000000010.json',
      '00000000000000000011.json',
    ]);
    // Time travel before the checkpoint replays the commits.
    expect((await fresh.snapshot(4))?.files).toHaveLength(5);
    await engine.registerSnapshot('checkpointed', snapshot!, other, 'events');
    expect(await engine.count('checkpointed')).toBe(12);
  });

  it.skipIf(skipWithoutDeltaRs())(
    'leaves a checkpointed table that delta-rs reads with the same rows',
    async () => {
      const store = new LocalDiskStore(path.join(dir, 'checkpointed'));
      const out = path.join(dir, 'checkpointed.parquet');
      const read = exportWithDeltaRs(path.join(store.location, 'events'), out);
      expect(read).toMatchObject({ version: 11, rows: 12 });
    },
  );
});
