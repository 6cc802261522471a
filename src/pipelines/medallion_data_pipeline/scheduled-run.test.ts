/**
 * The example pipeline on a short schedule: a scheduler left alone, on the system clock, creates its run when the
 * first interval ends and carries it to success, gold tables included — nothing triggered by hand.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { definePipeline } from '../../core/pipeline.js';
import { generateDemoData } from '../../demo-data/generate.js';
import type { MetadataStore, RunRecord } from '../../metadata/metadata-store.js';
import { openMetadataStore } from '../../metadata/open.js';
import { Scheduler } from '../../orchestrator/scheduler.js';
import { PipelineTaskRunner } from '../../runner/pipeline-task-runner.js';
import type { RunSummary } from '../../runner/run-summary.js';
import { locationOpener, storeSettings } from '../../project/locations.js';
import { LakeLayout, localLake } from '../../table/lake-layout.js';
import { waitFor } from '../../testing/scheduler-process.js';
import example from './pipeline.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('medallion_data_pipeline on a 2-second schedule', () => {
  it('runs by itself once its first interval has ended, and the run succeeds with its gold tables', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-scheduled-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await generateDemoData({ scale: 0.05, seed: 3, outDir: path.join(dir, 'source') });
    const startDate = new Date(Date.now() - 1_000);
    const pipeline = definePipeline({
      ...example,
      schedule: { every: '2s', startDate: startDate.toISOString(), catchup: false },
    });
    const store: MetadataStore = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
    cleanups.push(() => store.close());
    const lake = localLake(path.join(dir, 'lake'));
    const runner = new PipelineTaskRunner({
      open: locationOpener(storeSettings({})),
      scratchDir: path.join(dir, 'scratch'),
    });
    cleanups.push(() => runner.close());
    const errors: unknown[] = [];
    const scheduler = new Scheduler({
      store,
      pipelines: [pipeline],
      runner,
      pollMs: 100,
      locations: () => ({ source: path.join(dir, 'source'), lake: lake.location }),
      onError: (error) => errors.push(error),
    });
    const loop = scheduler.loop();
    cleanups.push(async () => {
      await scheduler.stop({ abortRunning: true });
      await loop;
    });

    const run = await waitFor(
      async () => {
        const [first] = (await store.listRuns({ pipeline: pipeline.name })).slice(-1);
        return first && (first.state === 'success' || first.state === 'failed') ? first : undefined;
      },
      { what: 'a scheduled run to finish', timeoutMs: 15_000, intervalMs: 100, detail: () => String(errors) },
    );

    expect(errors).toEqual([]);
    expect(run).toMatchObject<Partial<RunRecord>>({ trigger: 'schedule', state: 'success' });
    // The run of an interval that had ended: [startDate + 2k s, startDate + 2(k+1) s), created after its end.
    const start = Date.parse(run.dataIntervalStart);
    expect((start - startDate.getTime()) % 2_000).toBe(0);
    expect(Date.parse(run.dataIntervalEnd) - start).toBe(2_000);
    expect(run.logicalDate).toBe(run.dataIntervalStart);
    expect(Date.parse(run.createdAt)).toBeGreaterThanOrEqual(Date.parse(run.dataIntervalEnd));
    const summary = run.summary as RunSummary;
    expect(summary.status).toBe('success');
    expect(summary.tasks.every((task) => task.status === 'success')).toBe(true);
    // Every run there is came from the schedule: nothing was triggered.
    expect((await store.listRuns()).every((candidate) => candidate.trigger === 'schedule')).toBe(true);
    const gold = await new LakeLayout(lake)
      .table({ layer: 'gold', table: 'active_companies_with_contracts_2022' })
      .snapshot();
    expect(gold?.files.length).toBeGreaterThan(0);
    expect(summary.tables.filter((table) => table.layer === 'gold').map((table) => table.table)).toEqual([
      'active_companies_with_contracts_2022',
      'summary_by_sector',
      'summary_by_region',
      'summary_by_company_size',
      'top_100_companies',
    ]);
  });
});
