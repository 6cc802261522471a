import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateDemoData } from '../demo-data/generate.js';
import { openMetadataStore } from '../metadata/open.js';
import pipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { runPipeline } from './run-pipeline.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-skip-'));
  await generateDemoData({ scale: 0.02, seed: 5, outDir: path.join(dir, 'source') });
});

async function tableVersions(): Promise<Record<string, number | undefined>> {
  const lake = new LakeLayout(localLake(path.join(dir, 'lake')));
  const versions: Record<string, number | undefined> = {};
  for (const table of pipeline.tables) {
    versions[`${table.layer}.${table.name}`] = (
      await lake.table({ layer: table.layer, table: table.name }).snapshot()
    )?.version;
  }
  for (const source of pipeline.sources) {
    versions[`bronze.${source.bronzeTable}`] = (
      await lake.table({ layer: 'bronze', table: source.bronzeTable }).snapshot()
    )?.version;
  }
  return versions;
}

describe('skipping unchanged work', () => {
  it('does no data work on a second run without new source files, and all of it when forced', async () => {
    const store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
    const run = (force = false) =>
      runPipeline({
        pipeline,
        store,
        force,
        source: new LocalDiskStore(path.join(dir, 'source')),
        lake: localLake(path.join(dir, 'lake')),
      });
    try {
      const first = await run();
      expect(first.status).toBe('success');
      const versions = await tableVersions();

      const second = await run();
      expect(second.status).toBe('success');
      const skipped = second.tasks.filter((task) => task.status === 'skipped').map((task) => task.id);
      expect(skipped.sort()).toEqual(
        [
          ...pipeline.sources.map((source) => `bronze.${source.bronzeTable}`),
          ...pipeline.tables.map((table) => `${table.layer}.${table.name}`),
        ].sort(),
      );
      expect(await tableVersions()).toEqual(versions);
      // The summary still shows the tables as they are, and the same headline.
      const top = (summary: typeof first) =>
        summary.tables.find((table) => table.table === 'top_100_companies');
      expect(top(second)).toMatchObject({
        rows: top(first)?.rows,
        version: top(first)?.version,
        rowsWritten: 0,
      });
      expect(second.headline).toEqual(first.headline);

      const forced = await run(true);
      expect(forced.tasks.filter((task) => task.status === 'skipped')).toEqual([]);
      const after = await tableVersions();
      expect(after['silver.marches_publics']).toBe((versions['silver.marches_publics'] ?? 0) + 1);
    } finally {
      await store.close();
    }
  });
});
