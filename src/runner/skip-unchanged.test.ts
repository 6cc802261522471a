import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { locationOpener, storeSettings } from '../project/locations.js';
import { definePipeline } from '../core/pipeline.js';
import { generateDemoData } from '../demo-data/generate.js';
import { Scheduler } from '../orchestrator/scheduler.js';
import { PipelineTaskRunner } from './pipeline-task-runner.js';
import type { RunSummary } from './run-summary.js';
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
      // Forced, a gold table is recomputed; an incremental silver table finds no new input row and keeps its version.
      expect(after['gold.top_100_companies']).toBe((versions['gold.top_100_companies'] ?? 0) + 1);
      expect(after['silver.marches_publics']).toBe(versions['silver.marches_publics']);
    } finally {
      await store.close();
    }
  });
});

describe('skipping unchanged work across triggers', () => {
  it('skips every table task of a scheduled run after a manual one with nothing new, but those reading its interval or a changed parameter', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'medallion-skip-triggers-'));
    const source = path.join(root, 'source');
    await mkdir(source);
    await writeFile(path.join(source, 'items-1.csv'), 'id,region\n1,eu\n2,us\n3,eu\n');
    const items = definePipeline({
      name: 'items',
      schedule: { every: '1h', startDate: new Date(Date.now() - 3 * 3600_000).toISOString() },
      params: { region: { type: 'string', default: 'eu' } },
      sources: [
        {
          name: 'items',
          pattern: 'items-*.csv',
          bronzeTable: 'items',
          format: { type: 'csv', delimiter: ',', requiredColumns: ['id', 'region'] },
        },
      ],
      tables: [
        {
          name: 'items',
          layer: 'silver',
          sql: ({ ref }) => `SELECT id, region FROM ${ref('bronze', 'items')}`,
        },
        {
          name: 'in_region',
          layer: 'gold',
          sql: ({ ref, param }) =>
            `SELECT count(*) AS n FROM ${ref('silver', 'items')} WHERE region = ${param('region')}`,
        },
        {
          name: 'in_interval',
          layer: 'gold',
          sql: ({ ref, dataIntervalStart }) =>
            `SELECT count(*) AS n, ${dataIntervalStart} AS since FROM ${ref('silver', 'items')}`,
        },
      ],
    });
    const store = await openMetadataStore(`sqlite:${path.join(root, 'metadata.db')}`);
    const locations = { source, lake: path.join(root, 'lake') };
    const runner = new PipelineTaskRunner({ open: locationOpener(storeSettings({})), scratchDir: root });
    const statuses = (summary: RunSummary) =>
      Object.fromEntries(
        summary.tasks.filter((task) => task.id !== 'ingest').map((task) => [task.id, task.status]),
      );
    const manual = (params: Record<string, string> = {}) =>
      runPipeline({
        pipeline: items,
        store,
        params,
        source: new LocalDiskStore(source),
        lake: localLake(locations.lake),
        scratchDir: root,
      });
    try {
      expect((await manual()).status).toBe('success');

      const scheduler = new Scheduler({
        store,
        pipelines: [items],
        runner,
        locations: () => locations,
        pollMs: 50,
      });
      await scheduler.loop(async () =>
        (await store.listRuns({ states: ['success', 'failed'] })).some((run) => run.trigger === 'schedule'),
      );
      await scheduler.finish();
      const scheduled = (await store.listRuns({ pipeline: 'items' })).find(
        (run) => run.trigger === 'schedule',
      );
      expect(statuses(scheduled?.summary as RunSummary)).toEqual({
        'bronze.items': 'skipped',
        'silver.items': 'skipped',
        'gold.in_region': 'skipped',
        'gold.in_interval': 'success',
        quality_check: 'success',
      });

      const otherRegion = await manual({ region: 'us' });
      expect(statuses(otherRegion)).toMatchObject({
        'silver.items': 'skipped',
        'gold.in_region': 'success',
      });
    } finally {
      await runner.close();
      await store.close();
    }
  });
});
