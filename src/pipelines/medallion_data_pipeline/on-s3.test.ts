import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLake, openSource, storeSettings } from '../../project/locations.js';
import { generateDemoData } from '../../demo-data/generate.js';
import { DuckDbEngine } from '../../engine/duckdb-engine.js';
import { runPipeline } from '../../runner/run-pipeline.js';
import type { RunSummary } from '../../runner/run-summary.js';
import { LocalDiskStore } from '../../storage/local-disk.js';
import { LakeLayout, localLake, type LakeStores } from '../../table/lake-layout.js';
import { freshBucketName, s3EnvFor, s3ServerOrSkip } from '../../testing/minio.js';
import pipeline from './pipeline.js';

const server = s3ServerOrSkip('pipeline on S3');

describe.skipIf(!server)('medallion_data_pipeline with its source and lake on MinIO', () => {
  let dir: string;
  let local: { summary: RunSummary; lake: LakeStores };
  let s3: { summary: RunSummary; lake: LakeStores };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-on-s3-'));
    const sourceDir = path.join(dir, 'source');
    await generateDemoData({ scale: 0.1, seed: 21, outDir: sourceDir });
    const settings = storeSettings(s3EnvFor(server!, path.join(dir, 'cache')));
    const sourceBucket = freshBucketName('src');
    const upload = await openLake(`s3://${sourceBucket}/incoming`, settings);
    for (const file of await new LocalDiskStore(sourceDir).list('')) {
      await upload.store('landing').putFile(path.join(sourceDir, file.key), file.key);
    }
    const localLakeStores = localLake(path.join(dir, 'lake'));
    const options = { pipeline, logicalDate: '2026-11-26' };
    local = {
      lake: localLakeStores,
      summary: await runPipeline({
        ...options,
        source: new LocalDiskStore(sourceDir),
        lake: localLakeStores,
      }),
    };
    const s3Lake = await openLake(`s3://${freshBucketName('lake').slice(0, 40)}-{layer}`, settings);
    s3 = {
      lake: s3Lake,
      summary: await runPipeline({
        ...options,
        source: await openSource(`s3://${sourceBucket}/incoming/landing`, settings),
        lake: s3Lake,
      }),
    };
  });

  it('runs successfully on both backends with the same figures', () => {
    expect(local.summary.status).toBe('success');
    expect(s3.summary.error).toBeUndefined();
    expect(s3.summary.headline).toEqual(local.summary.headline);
    const rows = (summary: RunSummary) =>
      summary.tables.map((table) => [table.layer, table.table, table.rows]);
    expect(rows(s3.summary)).toEqual(rows(local.summary));
  });

  it('writes identical gold tables on MinIO and on local disk', async () => {
    const engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'compare') });
    try {
      for (const table of pipeline.tables.filter((candidate) => candidate.layer === 'gold')) {
        const id = { layer: table.layer, table: table.name };
        const mine = new LakeLayout(local.lake).table(id);
        const theirs = new LakeLayout(s3.lake).table(id);
        await engine.registerSnapshot('on_disk', (await mine.snapshot())!, mine.store, mine.root);
        await engine.registerSnapshot('on_s3', (await theirs.snapshot())!, theirs.store, theirs.root);
        const diff = await engine.one(`
          SELECT (SELECT count(*) FROM on_disk)::INTEGER AS rows,
            (SELECT count(*) FROM ((SELECT * FROM on_disk EXCEPT ALL SELECT * FROM on_s3)
              UNION ALL (SELECT * FROM on_s3 EXCEPT ALL SELECT * FROM on_disk)))::INTEGER AS different`);
        expect(diff.different, table.name).toBe(0);
        expect(Number(diff.rows), table.name).toBeGreaterThan(0);
      }
    } finally {
      engine.close();
    }
  });

  it('keeps one bucket per layer, as the seed did', async () => {
    const layout = new LakeLayout(s3.lake);
    expect(layout.table({ layer: 'silver', table: 'marches_publics' }).store.location).toMatch(
      /^s3:\/\/[^/]*-silver$/,
    );
    expect(layout.landing().location).toMatch(/-landing$/);
  });
});
