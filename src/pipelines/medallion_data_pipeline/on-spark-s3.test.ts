import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDemoData } from '../../demo-data/generate.js';
import type { MetadataStore } from '../../metadata/metadata-store.js';
import { openMetadataStore } from '../../metadata/open.js';
import { openLake, storeSettings } from '../../project/locations.js';
import { runPipeline } from '../../runner/run-pipeline.js';
import type { RunSummary } from '../../runner/run-summary.js';
import type { SparkTryRecord } from '../../runner/task-engine.js';
import { clientFor, removeBuckets } from '../../services/s3-admin.js';
import { LocalDiskStore } from '../../storage/local-disk.js';
import { decodeDeltaPath } from '../../table/delta-table.js';
import { LakeLayout, localLake, type LakeStores } from '../../table/lake-layout.js';
import { compareLakeTables } from '../../testing/delta-tables.js';
import { freshBucketName, s3EnvFor, s3ServerOrSkip } from '../../testing/minio.js';
import { sparkLakeServerOrSkip } from '../../testing/spark.js';
import pipeline from './pipeline.js';

const suite = 'pipeline on Spark with the lake on MinIO';
const s3 = s3ServerOrSkip(suite);
const spark = sparkLakeServerOrSkip(suite);

const refined = pipeline.tables.map((table) => ({ layer: table.layer, table: table.name }));

/** Files under the scratch directory that sit in a Spark session's scratch area (`…/spark/…`). */
function sparkScratchFiles(scratch: string): string[] {
  return (
    readdirSync(scratch, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(scratch, path.join(entry.parentPath, entry.name)))
      .filter((file) => file.split(path.sep).includes('spark'))
      // Footer copies (sparse files of zeros but the footer, removed once read) are how stats are read, not data:
      // another task may be reading them when one ends.
      .filter((file) => !file.split(path.sep).some((part) => part.startsWith('footers-')))
  );
}

describe.skipIf(!s3 || !spark)('medallion_data_pipeline on Spark with its lake on MinIO', () => {
  const bucket = freshBucketName('spark-lake');
  let dir: string;
  let store: MetadataStore;
  let duckdb: RunSummary;
  let onSpark: RunSummary;
  let lake: LakeStores;
  /** What the Spark session's scratch area held whenever a silver or gold task ended. */
  const seenInScratch: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-spark-s3-'));
    const source = path.join(dir, 'source');
    await generateDemoData({ scale: 0.1, seed: 21, outDir: source });
    const options = { pipeline, logicalDate: '2026-11-26', source: new LocalDiskStore(source) };
    duckdb = await runPipeline({ ...options, lake: localLake(path.join(dir, 'duckdb-lake')) });

    const location = `s3://${bucket}/lake`;
    lake = await openLake(location, storeSettings(s3EnvFor(s3!, path.join(dir, 'cache'))));
    store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
    const scratch = path.join(dir, 'scratch');
    onSpark = await runPipeline({
      ...options,
      lake,
      store,
      scratchDir: scratch,
      locations: {
        source: options.source.location,
        lake: location,
        engine: { kind: 'spark', spark: { remote: spark!.remote } },
      },
      progress: (event) => {
        if (event.type === 'task-finished' && /^(silver|gold)\./.test(event.task)) {
          seenInScratch.push(...sparkScratchFiles(scratch));
        }
      },
    });
  }, 900_000);

  afterAll(async () => {
    await store?.close();
    if (s3) await removeBuckets(clientFor(s3), bucket);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs with the same headline and row counts as DuckDB on local disk', () => {
    expect(onSpark.error).toBeUndefined();
    expect(onSpark.status).toBe('success');
    expect(onSpark.headline).toEqual(duckdb.headline);
    const rows = (of: RunSummary) => of.tables.map((table) => [table.layer, table.table, table.rows]);
    expect(rows(onSpark)).toEqual(rows(duckdb));
  });

  it('writes silver and gold tables equal, row for row, to those DuckDB writes', async () => {
    const compared = await compareLakeTables(
      path.join(dir, 'compare'),
      refined,
      localLake(path.join(dir, 'duckdb-lake')),
      lake,
    );
    for (const { table, rows, different } of compared) {
      expect(different, table).toBe(0);
      expect(rows, table).toBeGreaterThan(0);
    }
  });

  it('commits the files Spark staged through s3a where Spark wrote them, none through local disk', async () => {
    const layout = new LakeLayout(lake);
    for (const id of refined) {
      const snapshot = await layout.table(id).snapshot();
      const paths = snapshot?.files.map((file) => file.path) ?? [];
      expect(paths.length, `${id.layer}.${id.table}`).toBeGreaterThan(0);
      for (const file of paths) expect(file, `${id.layer}.${id.table}`).toMatch(/^spark-\d+-[0-9a-f]{8}\//);
    }
    // Bronze is DuckDB's: its files went through this process's disk, and are named so.
    const bronze = await layout.table({ layer: 'bronze', table: 'etablissements' }).snapshot();
    expect(bronze?.files[0]?.path).not.toMatch(/^spark-/);
    expect(seenInScratch).toEqual([]);
  });

  it('leaves no staged file behind in the lake: every data file of a table is one its version names', async () => {
    const layout = new LakeLayout(lake);
    for (const id of refined) {
      const table = layout.table(id);
      const named = new Set(
        (await table.snapshot())?.files.map((file) => `${table.root}/${decodeDeltaPath(file.path)}`),
      );
      const stored = (await table.store.list(`${table.root}/`)).filter(
        (object) => !object.key.startsWith(`${table.root}/_delta_log/`),
      );
      expect(
        stored.filter((object) => !named.has(object.key)).map((object) => object.key),
        table.root,
      ).toEqual([]);
    }
  });

  it("records each Spark try's application, jobs and stages, and never the lake's secret", async () => {
    const attempts = await store.listAttempts(onSpark.runId);
    const sparkTries = attempts.filter((attempt) => /^(silver|gold)\./.test(attempt.taskId));
    expect(sparkTries.length).toBe(refined.length);
    for (const attempt of sparkTries) {
      const record = (attempt.output as { data?: { spark?: SparkTryRecord } }).data?.spark;
      expect(record?.applicationId, attempt.taskId).toMatch(/^app-/);
      expect(record?.jobIds?.length, attempt.taskId).toBeGreaterThan(0);
      expect(record?.stageIds.length, attempt.taskId).toBeGreaterThan(0);
      const log = (await store.readLog(onSpark.runId, attempt.taskId, attempt.attempt, 0, 10_000)).lines;
      expect(log.join('\n'), attempt.taskId).toContain(`spark application ${record?.applicationId} ran job`);
      expect(log.join('\n')).toContain('s3a://');
      expect(log.join('\n')).not.toContain(s3!.secretAccessKey);
    }
    const run = await store.getRun(onSpark.runId);
    expect(JSON.stringify(run)).not.toContain(s3!.secretAccessKey);
  });
});
