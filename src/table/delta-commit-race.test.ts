import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitConflictError } from '../core/errors.js';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import type { ObjectStore } from '../storage/object-store.js';
import { S3ObjectStore } from '../storage/s3.js';
import { freshBucketName, s3ServerOrSkip } from '../testing/minio.js';
import { DeltaTable } from './delta-table.js';

/** Two writers racing for one table version, on each kind of store a lake can live on. */
const server = s3ServerOrSkip('Delta commit races on S3');

let dir: string;
let engine: DuckDbEngine;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'delta-race-'));
  engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'scratch') });
});
afterAll(() => engine.close());

const stores: [string, () => Promise<ObjectStore>][] = [
  ['local disk', async () => new LocalDiskStore(await mkdtemp(path.join(dir, 'lake-')))],
];
if (server) {
  stores.push([
    'MinIO',
    async () => {
      const store = new S3ObjectStore({
        bucket: freshBucketName('race'),
        endpoint: server.endpoint,
        region: server.region,
        forcePathStyle: true,
        credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
        cacheDir: path.join(dir, 'cache'),
        cacheMaxBytes: 1 << 30,
      });
      await store.ensureBucket();
      return store;
    },
  ]);
}

describe.each(stores)('two writers racing for one version of a table on %s', (_name, open) => {
  async function racers(table: DeltaTable, mode: 'append' | 'overwrite') {
    const [a, b] = [await engine.stage('(SELECT 2 AS id)', []), await engine.stage('(SELECT 3 AS id)', [])];
    const request = { mode, partitionColumns: [], readVersion: 0 };
    return Promise.allSettled([
      table.commit({ ...request, schema: a.schema, files: a.files }),
      table.commit({ ...request, schema: b.schema, files: b.files }),
    ]);
  }

  async function ids(table: DeltaTable): Promise<number[]> {
    await engine.registerSnapshot('t', (await table.snapshot())!, table.store, table.root);
    return (await engine.all<{ id: number }>('SELECT id FROM t ORDER BY id')).map((row) => row.id);
  }

  it('lets exactly one overwrite win; the other fails with a conflict naming the table', async () => {
    const table = new DeltaTable(await open(), 'gold/race');
    const first = await engine.stage('(SELECT 1 AS id)', []);
    await table.commit({
      mode: 'overwrite',
      schema: first.schema,
      partitionColumns: [],
      files: first.files,
      readVersion: -1,
    });
    const results = await racers(table, 'overwrite');
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect(loser.reason).toBeInstanceOf(CommitConflictError);
    expect(String(loser.reason.message)).toContain('gold/race');
    expect((await table.snapshot())?.version).toBe(1);
    expect((await ids(table)).length).toBe(1);
  });

  it('re-reads and retries an append, which still applies: both appends land, one version each', async () => {
    const table = new DeltaTable(await open(), 'bronze/race');
    const first = await engine.stage('(SELECT 1 AS id)', []);
    await table.commit({
      mode: 'append',
      schema: first.schema,
      partitionColumns: [],
      files: first.files,
      readVersion: -1,
    });
    const results = await racers(table, 'append');
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
    const versions = results.map(
      (result) => (result as PromiseFulfilledResult<{ version: number }>).value.version,
    );
    expect(versions.sort()).toEqual([1, 2]);
    expect(await ids(table)).toEqual([1, 2, 3]);
  });
});
