import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTable } from '../../runner/table-writer.js';
import { clientFor, removeBuckets } from '../../services/s3-admin.js';
import { S3ObjectStore } from '../../storage/s3.js';
import { decodeDeltaPath, DeltaTable } from '../../table/delta-table.js';
import { vacuumTable } from '../../table/vacuum.js';
import { commitQuery } from '../../testing/delta-tables.js';
import { freshBucketName, s3EnvFor, s3ServerOrSkip } from '../../testing/minio.js';
import { sparkLakeServerOrSkip } from '../../testing/spark.js';
import { DuckDbEngine } from '../duckdb/engine.js';
import type { StatementTrace } from '../engine.js';
import { SparkEngine } from './engine.js';

const suite = 'the Spark engine with its tables on MinIO';
const s3 = s3ServerOrSkip(suite);
const spark = sparkLakeServerOrSkip(suite);

describe.skipIf(!s3 || !spark)(suite, () => {
  const bucket = freshBucketName('spark-stage');
  let dir: string;
  let admin: S3Client;
  let store: S3ObjectStore;
  let duckdb: DuckDbEngine;
  let engine: SparkEngine;
  const traces: StatementTrace[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-spark-s3-staging-'));
    admin = clientFor(s3!);
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    store = S3ObjectStore.fromUrl(`s3://${bucket}/lake/silver`, {
      env: s3EnvFor(s3!, path.join(dir, 'cache')),
      cacheDir: path.join(dir, 'cache'),
      cacheMaxBytes: 1024 ** 3,
    });
    duckdb = await DuckDbEngine.create({ scratchDir: path.join(dir, 'duckdb') });
    // The session is given nothing of S3: it learns the bucket's settings from the store it is handed.
    engine = await SparkEngine.create({
      remote: spark!.remote,
      scratchDir: path.join(dir, 'spark'),
      localQuery: (sql) => duckdb.all(sql),
      tracer: (trace) => traces.push(trace),
    });
  }, 120_000);

  afterAll(async () => {
    engine?.close();
    duckdb?.close();
    store?.destroy();
    if (admin) await removeBuckets(admin, bucket);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The rows of the table's current version, as medallion's DuckDB reads them. */
  const rowsOf = async (table: DeltaTable): Promise<unknown[]> => {
    const snapshot = await table.snapshot();
    if (!snapshot) return [];
    await duckdb.registerSnapshot('current', snapshot, table.store, table.root);
    return duckdb.all('SELECT * FROM current ORDER BY id');
  };

  const dataKeys = async (table: DeltaTable): Promise<string[]> =>
    (await store.list(`${table.root}/`))
      .map((object) => object.key)
      .filter((key) => !key.startsWith(`${table.root}/_delta_log/`));

  it('reads a version medallion wrote on MinIO through s3a', async () => {
    const table = new DeltaTable(store, 'regions');
    await commitQuery(
      duckdb,
      table,
      "SELECT * FROM (VALUES (1, 'north'), (2, 'south')) AS t(id, name)",
      'overwrite',
    );
    const snapshot = await table.snapshot();
    await engine.registerSnapshot('regions', snapshot!, store, table.root);
    expect(await engine.all('SELECT * FROM regions ORDER BY id')).toEqual([
      { id: 1, name: 'north' },
      { id: 2, name: 'south' },
    ]);
  });

  it("stages into the table's own directory and commits the files where Spark wrote them", async () => {
    const table = new DeltaTable(store, 'orders');
    const result = await writeTable(
      engine,
      "(SELECT id, CASE WHEN id % 3 = 0 THEN NULL ELSE concat('r', id % 3) END AS region FROM range(0, 3000, 1, 3))",
      table,
      { mode: 'overwrite', partitionBy: ['region'], runId: 'run_1', task: 'silver.orders' },
    );
    expect(result).toMatchObject({ version: 0, rows: 3000 });
    const snapshot = await table.snapshot();
    const paths = snapshot!.files.map((file) => decodeDeltaPath(file.path));
    expect(paths.every((file) => /^spark-\d+-[0-9a-f]{8}\/region=[^/]+\/part-.*\.parquet$/.test(file))).toBe(
      true,
    );
    expect(new Set(snapshot!.files.map((file) => file.partitionValues.region))).toEqual(
      new Set(['r1', 'r2', null]),
    );
    expect(snapshot!.files.reduce((sum, file) => sum + JSON.parse(file.stats!).numRecords, 0)).toBe(3000);
    // The version names every object in the table's directory: no marker, no empty file, no copy.
    expect(await dataKeys(table)).toEqual(paths.map((file) => `orders/${file}`).sort());
    await rowsOf(table);
    const counts = await duckdb.all(
      'SELECT region, count(*)::BIGINT AS n FROM current GROUP BY region ORDER BY region',
    );
    expect(counts).toEqual([
      { region: 'r1', n: '1000' },
      { region: 'r2', n: '1000' },
      { region: null, n: '1000' },
    ]);
    // Nothing Spark staged passed through this process's disk.
    expect(await readdir(path.join(dir, 'spark'), { recursive: true })).toEqual([]);
  });

  it('removes what it staged when the audit refuses it, and keeps the previous version', async () => {
    const table = new DeltaTable(store, 'audited');
    await commitQuery(duckdb, table, 'SELECT 1 AS id', 'overwrite');
    const before = await dataKeys(table);
    await expect(
      writeTable(engine, '(SELECT id FROM range(0, 10))', table, {
        mode: 'overwrite',
        runId: 'run_1',
        task: 'silver.audited',
        audit: async () => {
          throw new Error('the audit found a broken expectation');
        },
      }),
    ).rejects.toThrow(/broken expectation/);
    expect(await dataKeys(table)).toEqual(before);
    expect(await rowsOf(table)).toEqual([{ id: 1 }]);
  });

  it('leaves files no commit names invisible to readers, for vacuum to remove as a dead try’s', async () => {
    const table = new DeltaTable(store, 'crashed');
    await commitQuery(duckdb, table, 'SELECT 1 AS id', 'overwrite');
    // A try that staged and died before its commit.
    const staged = await engine.stage('(SELECT id FROM range(5, 8))', [], table);
    expect(staged.rows).toBe(3);
    const leftovers = staged.files.map((file) => `${table.root}/${file.relativePath}`);
    expect((await dataKeys(table)).filter((key) => leftovers.includes(key))).toHaveLength(leftovers.length);
    expect(await rowsOf(table)).toEqual([{ id: 1 }]);

    const later = Date.now() + 2 * 86_400_000;
    const vacuumed = await vacuumTable(table, { now: new Date(later), retainMs: 86_400_000 });
    expect(vacuumed.deleted).toEqual(leftovers.sort());
    expect(await rowsOf(table)).toEqual([{ id: 1 }]);
  });

  it("never puts the store's secret in a statement it traces", () => {
    const statements = traces.map((trace) => trace.sql).join('\n');
    expect(statements).toContain(`s3a://${bucket}/lake/silver/`);
    expect(statements).not.toContain(s3!.secretAccessKey);
  });
});
