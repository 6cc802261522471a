import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLake, storeSettings } from '../project/locations.js';
import { generateDemoData } from '../demo-data/generate.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { s3EnvFor, s3ServerOrSkip } from '../testing/minio.js';
import { startMinio } from '../testing/minio-process.js';
import { runPipeline, type RunOptions } from './run-pipeline.js';

const server = s3ServerOrSkip('S3 fault tests');

describe.skipIf(!server)('MinIO stopped in the middle of a run', () => {
  it('fails the task naming the endpoint and object; after a restart a rerun completes with nothing duplicated', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-s3-faults-'));
    const sourceDir = path.join(dir, 'source');
    await generateDemoData({ scale: 0.05, seed: 9, outDir: sourceDir });
    const base: Omit<RunOptions, 'lake'> = {
      pipeline,
      source: new LocalDiskStore(sourceDir),
      logicalDate: '2026-11-26',
    };
    const reference = await runPipeline({ ...base, lake: localLake(path.join(dir, 'local-lake')) });

    const dataDir = path.join(dir, 'minio-data');
    let minio = await startMinio(dataDir);
    const settings = {
      ...storeSettings(s3EnvFor(minio, path.join(dir, 'cache'))),
      s3: { maxAttempts: 2, connectionTimeoutMs: 500 },
    };
    const lakeUrl = 's3://faults-{layer}';
    const interrupted = await runPipeline({
      ...base,
      lake: await openLake(lakeUrl, settings),
      progress: (event) => {
        if (event.type === 'task-started' && event.task === 'silver.etablissements') void minio.kill();
      },
    });
    expect(interrupted.status).toBe('failed');
    // Tasks running beside it (the tasks of a run run in parallel) fail the same way.
    const failed = interrupted.tasks.filter((task) => task.status === 'failed');
    expect(failed.map((task) => task.id)).toContain('silver.etablissements');
    for (const task of failed) {
      expect(task.error).toContain(minio.endpoint);
      expect(task.error).toMatch(/s3:\/\/faults-[a-z]+\//);
    }

    minio = await startMinio(dataDir, minio.port);
    try {
      const lake = await openLake(lakeUrl, settings);
      const layout = new LakeLayout(lake);
      // What the interrupted run committed is whole and readable.
      const bronze = await layout.table({ layer: 'bronze', table: 'etablissements' }).snapshot();
      expect(bronze?.version).toBe(0);
      expect(await layout.table({ layer: 'silver', table: 'etablissements' }).snapshot()).toBeUndefined();

      const rerun = await runPipeline({ ...base, lake });
      expect(rerun.status).toBe('success');
      expect(rerun.ingest.landed).toHaveLength(0);
      const landed = (await layout.landing().list('')).filter(
        // _manifest and _medallion (run summaries) share the landing bucket with the files.
        (object) => !object.key.startsWith('_'),
      );
      expect(landed.map((object) => object.key.split('/').pop()).sort()).toEqual([
        'aws-marchespublics-annee-2022.json',
        'int_courts_naf_rev_2.csv',
        'simulated_etablissements_50000.csv',
      ]);
      const rows = (summary: typeof reference) =>
        summary.tables.map((table) => [table.layer, table.table, table.rows]);
      expect(rows(rerun)).toEqual(rows(reference));
      expect(rerun.headline).toEqual(reference.headline);
    } finally {
      await minio.kill();
    }
  });
});
