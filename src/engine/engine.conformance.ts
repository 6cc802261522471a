/**
 * The behaviour every engine adapter must have, as one vitest suite that each adapter's test runs against its
 * engine: `describeEngineConformance('DuckDB', { open, close })`. Fixture tables are written, and staged files read
 * back, by a DuckDB engine of the suite's own, so an adapter is checked against Delta tables and Parquet files
 * whatever it is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalDiskStore } from '../storage/local-disk.js';
import { DeltaTable, type TableSnapshot } from '../table/delta-table.js';
import { parseStats } from '../table/delta-protocol.js';
import type { DeltaType } from '../table/delta-protocol.js';
import { commitQuery } from '../testing/delta-tables.js';
import { DuckDbEngine } from './duckdb/engine.js';
import { describeDialectConformance } from './dialect.conformance.js';
import type { Engine, SqlRow, StagedTable } from './engine.js';

export interface EngineConformanceTarget {
  /** A fresh session of the engine under test, using `scratchDir` for its spill and staged files. */
  open(scratchDir: string): Promise<Engine>;
  /** Ends the session and whatever `open` started for it. */
  close(engine: Engine): Promise<void>;
}

/** What each test is given: the session under test, and the suite's means to make inputs and check outputs. */
export interface EngineTest {
  engine: Engine;
  scratchDir: string;
  /** Commits the rows of a DuckDB query as a new version of a Delta table and registers it as view `name`. */
  table(
    name: string,
    duckdbSql: string,
    options?: { partitionBy?: string[]; append?: boolean; fileColumn?: string },
  ): Promise<TableSnapshot>;
  /** The rows of staged Parquet files as DuckDB reads them, ordered by the first column. */
  readStaged(staged: StagedTable): Promise<SqlRow[]>;
}

export function describeEngineConformance(name: string, target: EngineConformanceTarget): void {
  describe(`${name} engine conformance`, () => {
    let dir: string;
    let fixtures: DuckDbEngine;
    let store: LocalDiskStore;
    const open: { engine: Engine; scratchDir: string }[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-engine-conformance-'));
      fixtures = await DuckDbEngine.create({ scratchDir: path.join(dir, 'fixtures') });
      store = new LocalDiskStore(path.join(dir, 'lake'));
    });
    afterEach(async () => {
      for (const session of open.splice(0)) await target.close(session.engine);
    });
    afterAll(async () => {
      fixtures.close();
      await rm(dir, { recursive: true, force: true });
    });

    const setup = async (): Promise<EngineTest> => {
      const scratchDir = await mkdtemp(path.join(dir, 'session-'));
      const engine = await target.open(scratchDir);
      open.push({ engine, scratchDir });
      return {
        engine,
        scratchDir,
        table: async (view, sql, options = {}) => {
          const table = new DeltaTable(store, `${view}_${path.basename(scratchDir)}`);
          await commitQuery(
            fixtures,
            table,
            sql,
            options.append ? 'append' : 'overwrite',
            options.partitionBy,
          );
          const snapshot = await table.snapshot();
          if (!snapshot) throw new Error(`fixture ${view} was not committed`);
          await engine.registerSnapshot(
            view,
            snapshot,
            store,
            table.root,
            options.fileColumn ? { fileColumn: options.fileColumn } : {},
          );
          return snapshot;
        },
        readStaged: async (staged) => {
          await fixtures.registerStaged('staged', staged);
          return fixtures.all('SELECT * FROM staged ORDER BY 1');
        },
      };
    };

    describeSnapshots(setup);
    describeResults(setup);
    describeStaging(setup);
    describeSessions(setup);
    describeDialectConformance(setup);
  });
}

function describeSnapshots(setup: () => Promise<EngineTest>): void {
  describe('registering table versions', () => {
    it('makes an unpartitioned version queryable with its rows and columns in schema order', async () => {
      const { engine, table } = await setup();
      await table('items', `SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, NULL)) AS t(id, name)`);
      expect(await engine.count('items')).toBe(3);
      expect(await engine.all('SELECT * FROM items ORDER BY id')).toEqual([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
        { id: 3, name: null },
      ]);
    });

    it('gives a partitioned version its partition values, NULL included', async () => {
      const { engine, table } = await setup();
      await table(
        'sales',
        `SELECT * FROM (VALUES (1, 'north', 10), (2, 'south', 20), (3, NULL, 30), (4, 'north', 40)) AS t(id, region, amount)`,
        { partitionBy: ['region'] },
      );
      expect(await engine.all('SELECT id, region, amount FROM sales ORDER BY id')).toEqual([
        { id: 1, region: 'north', amount: 10 },
        { id: 2, region: 'south', amount: 20 },
        { id: 3, region: null, amount: 30 },
        { id: 4, region: 'north', amount: 40 },
      ]);
    });

    it("names each row's data file as the Delta log does when asked, partitions and empty versions included", async () => {
      const { engine, table } = await setup();
      await table('filed', `SELECT * FROM (VALUES (1, 'north'), (2, NULL)) AS t(id, region)`, {
        partitionBy: ['region'],
      });
      const snapshot = await table('filed', `SELECT * FROM (VALUES (3, 'north')) AS t(id, region)`, {
        partitionBy: ['region'],
        append: true,
        fileColumn: '__file',
      });
      const perFile = await engine.all<{ file: string; n: string | number }>(
        'SELECT __file AS file, count(*) AS n FROM filed GROUP BY __file ORDER BY __file',
      );
      expect(perFile.map((row) => ({ file: row.file, n: Number(row.n) }))).toEqual(
        snapshot.files
          .map((file) => ({ file: file.path, n: parseStats(file)?.numRecords }))
          .sort((a, b) => (a.file < b.file ? -1 : 1)),
      );
      expect(await engine.all('SELECT id, region FROM filed ORDER BY id')).toHaveLength(3);
      await table('unfiled', `SELECT 1 AS id WHERE false`, { fileColumn: '__file' });
      expect((await engine.columns('unfiled')).map((column) => column.name)).toEqual(['id', '__file']);
    });

    it('makes a version without data files an empty view of its columns and types', async () => {
      const { engine, table } = await setup();
      await table('nothing', `SELECT 1 AS id, DATE '2024-01-01' AS day, 'x' AS name WHERE false`);
      expect(await engine.count('nothing')).toBe(0);
      expect((await engine.columns('nothing')).map(({ name, type }) => ({ name, type }))).toEqual([
        { name: 'id', type: 'integer' },
        { name: 'day', type: 'date' },
        { name: 'name', type: 'string' },
      ]);
    });

    it('reads files written before a column was added as NULL in that column', async () => {
      const { engine, table } = await setup();
      await table('grown', `SELECT 1 AS id, 'a' AS name`);
      await table('grown', `SELECT 2 AS id, 'b' AS name, 7 AS extra`, { append: true });
      expect(await engine.all('SELECT * FROM grown ORDER BY id')).toEqual([
        { id: 1, name: 'a', extra: null },
        { id: 2, name: 'b', extra: 7 },
      ]);
    });
  });
}

/** One row of every kind of value, as a DuckDB query (the fixture) and as the engine must return it. */
const TYPED_ROW = `SELECT CAST(9007199254740993 AS BIGINT) AS big, CAST(42 AS BIGINT) AS small, 7 AS int,
  CAST(1.5 AS DOUBLE) AS dbl, true AS flag, DATE '2024-02-29' AS day, TIMESTAMPTZ '2024-02-29 12:34:56+00' AS at,
  CAST(NULL AS VARCHAR) AS nothing, CAST(12.34 AS DECIMAL(10,2)) AS price, [1, 2] AS list,
  {'a': 'x', 'b': 2} AS record`;

const TYPED_COLUMNS: Record<string, DeltaType> = {
  big: 'long',
  small: 'long',
  int: 'integer',
  dbl: 'double',
  flag: 'boolean',
  day: 'date',
  at: 'timestamp',
  nothing: 'string',
  price: 'decimal(10,2)',
  list: { type: 'array', elementType: 'integer', containsNull: true },
  record: {
    type: 'struct',
    fields: [
      { name: 'a', type: 'string', nullable: true, metadata: {} },
      { name: 'b', type: 'integer', nullable: true, metadata: {} },
    ],
  },
};

function describeResults(setup: () => Promise<EngineTest>): void {
  describe('query results', () => {
    it('returns BIGINTs as text, dates as YYYY-MM-DD, NULLs as null, nested values as JS values', async () => {
      const { engine, table } = await setup();
      await table('typed', TYPED_ROW);
      const [row] = await engine.all('SELECT * FROM typed');
      expect(row).toMatchObject({
        big: '9007199254740993',
        small: '42',
        int: 7,
        dbl: 1.5,
        flag: true,
        day: '2024-02-29',
        nothing: null,
        list: [1, 2],
        record: { a: 'x', b: 2 },
      });
      expect(Number(row?.price)).toBe(12.34);
      expect(Date.parse(String(row?.at).replace(' ', 'T').replace(/\+00$/, 'Z'))).toBe(
        Date.parse('2024-02-29T12:34:56Z'),
      );
    });

    it('describes columns by the Delta types they are written as', async () => {
      const { engine, table } = await setup();
      await table('typed', TYPED_ROW);
      const columns = await engine.columns('typed');
      expect(Object.fromEntries(columns.map((column) => [column.name, column.type]))).toEqual(TYPED_COLUMNS);
    });

    it('counts rows and fails one() on an empty result', async () => {
      const { engine, table } = await setup();
      await table('items', `SELECT * FROM (VALUES (1), (2)) AS t(id)`);
      expect(await engine.count('items')).toBe(2);
      await expect(engine.one('SELECT * FROM items WHERE id > 5')).rejects.toThrow(/no row/);
    });
  });
}

function describeStaging(setup: () => Promise<EngineTest>): void {
  describe('staging', () => {
    it('writes a relation as Parquet with row counts, null counts and numeric and date bounds', async () => {
      const { engine, table, readStaged } = await setup();
      await table(
        'events',
        `SELECT * FROM (VALUES (1, DATE '2024-01-05', 'a'), (5, DATE '2024-03-01', NULL), (3, NULL, 'c'))
          AS t(id, day, label)`,
      );
      const staged = await engine.stage('events', []);
      expect(staged.rows).toBe(3);
      expect(staged.schema.fields.map((field) => [field.name, field.type])).toEqual([
        ['id', 'integer'],
        ['day', 'date'],
        ['label', 'string'],
      ]);
      expect(staged.files.reduce((sum, file) => sum + file.stats.numRecords, 0)).toBe(3);
      const [file] = staged.files;
      expect(file?.stats).toMatchObject({
        nullCount: { id: 0, day: 1, label: 1 },
        minValues: { id: 1, day: '2024-01-05' },
        maxValues: { id: 5, day: '2024-03-01' },
      });
      expect(file?.size).toBeGreaterThan(0);
      expect(await readStaged(staged)).toEqual(await engine.all('SELECT * FROM events ORDER BY 1'));
    });

    it('writes one file per partition, each with its partition values, and no file for an empty result', async () => {
      const { engine, table, readStaged } = await setup();
      await table(
        'sales',
        `SELECT * FROM (VALUES (1, 'north'), (2, 'south'), (3, 'north')) AS t(id, region)`,
      );
      const staged = await engine.stage('sales', ['region']);
      const byRegion = Object.fromEntries(
        staged.files.map((file) => [file.partitionValues.region, file.stats.numRecords]),
      );
      expect(byRegion).toEqual({ north: 2, south: 1 });
      expect(staged.files.every((file) => file.relativePath.startsWith('region='))).toBe(true);
      expect(await readStaged(staged)).toEqual(await engine.all('SELECT id, region FROM sales ORDER BY 1'));
      expect((await engine.stage('(SELECT * FROM sales WHERE false)', [])).files).toEqual([]);
    });

    it('writes an unpartitioned relation in files of about the most rows asked for', async () => {
      const { engine, table, readStaged } = await setup();
      await table('numbers', 'SELECT CAST(id AS INTEGER) AS id FROM range(40000) AS t(id)');
      // Read from Parquet written in larger row groups, as a merge reads a table's files.
      await engine.registerStaged('written', await engine.stage('numbers', []));
      const staged = await engine.stage('written', [], undefined, { maxRowsPerFile: 10_000 });
      expect(staged.rows).toBe(40_000);
      expect(staged.files.length).toBeGreaterThanOrEqual(4);
      // DuckDB rounds a file's rows up to its vector size (2,048).
      for (const file of staged.files) expect(file.stats.numRecords).toBeLessThanOrEqual(12_288);
      expect((await readStaged(staged)).length).toBe(40_000);
    });

    it('makes staged files queryable as a view, empty ones as an empty view of their columns', async () => {
      const { engine, table } = await setup();
      await table('sales', `SELECT * FROM (VALUES (1, 'north'), (2, 'south')) AS t(id, region)`);
      await engine.registerStaged('audited', await engine.stage('sales', ['region']));
      expect(await engine.all('SELECT id, region FROM audited ORDER BY id')).toEqual([
        { id: 1, region: 'north' },
        { id: 2, region: 'south' },
      ]);
      await engine.registerStaged('none', await engine.stage('(SELECT * FROM sales WHERE false)', []));
      expect(await engine.count('none')).toBe(0);
      expect((await engine.columns('none')).map((column) => column.name)).toEqual(['id', 'region']);
    });
  });
}

/** A statement that runs for many seconds on any engine: a large cross join. */
const SLOW_QUERY = 'SELECT count(*) AS n FROM range(1000000) AS a CROSS JOIN range(1000000) AS b';

function describeSessions(setup: () => Promise<EngineTest>): void {
  describe('sessions', () => {
    it('stops a long query with an error when interrupted', async () => {
      const { engine } = await setup();
      const started = Date.now();
      const running = engine.all(SLOW_QUERY);
      setTimeout(() => engine.interrupt(), 300);
      await expect(running).rejects.toThrow(/interrupt|cancel/i);
      expect(Date.now() - started).toBeLessThan(30_000);
    });

    it('keeps temporary views to their session, and drops the named ones or all of them', async () => {
      const { engine, scratchDir } = await setup();
      const other = await engine.connect({ scratchDir });
      try {
        await engine.run('CREATE OR REPLACE TEMP VIEW mine AS SELECT 1 AS n');
        await engine.materialize('kept', 'SELECT 2 AS n');
        await engine.run('CREATE OR REPLACE TEMP VIEW also_mine AS SELECT 3 AS n');
        await expect(other.count('mine')).rejects.toThrow();
        await engine.dropTemporaries(['mine']);
        await expect(engine.count('mine')).rejects.toThrow();
        expect(await engine.count('kept')).toBe(1);
        await engine.dropTemporaries();
        await expect(engine.count('kept')).rejects.toThrow();
        await expect(engine.count('also_mine')).rejects.toThrow();
      } finally {
        other.close();
      }
    });

    it('materializes a query once: later statements see the same rows', async () => {
      const { engine } = await setup();
      await engine.materialize('numbers', 'SELECT * FROM range(5) AS t(n)');
      await engine.materialize('numbers', 'SELECT * FROM range(3) AS t(n)');
      expect(await engine.count('numbers')).toBe(3);
    });
  });
}
