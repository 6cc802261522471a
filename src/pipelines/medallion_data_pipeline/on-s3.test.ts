import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLake, openSource, storeSettings } from '../../project/locations.js';
import { generateDemoData } from '../../demo-data/generate.js';
import { runPipeline } from '../../runner/run-pipeline.js';
import type { RunSummary } from '../../runner/run-summary.js';
import { LocalDiskStore } from '../../storage/local-disk.js';
import { LakeLayout, localLake, type LakeStores } from '../../table/lake-layout.js';
import { compareLakeTables } from '../../testing/delta-tables.js';
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
    const gold = pipeline.tables
      .filter((table) => table.layer === 'gold')
      .map((table) => ({ layer: table.layer, table: table.name }));
    for (const { table, rows, different } of await compareLakeTables(
      path.join(dir, 'compare'),
      gold,
      local.lake,
      s3.lake,
    )) {
      expect(different, table).toBe(0);
      expect(rows, table).toBeGreaterThan(0);
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
