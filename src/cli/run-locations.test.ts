/**
 * Every process that executes a task of a run uses that run's locations, never its own flags; and one run of a
 * pipeline writes a lake at a time. Real processes from the build on one SQLite database: a `medallion scheduler`
 * configured for lake A beside `medallion run` processes on lake B.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import { LakeLayout, localLake } from '../table/lake-layout.js';
import { snapshotRows } from '../table/delta-table.js';
import { medallion } from '../testing/medallion-cli.js';
import {
  startMedallionProcess,
  startSchedulerProcess,
  stopGracefully,
  waitFor,
  writePipelineModule,
} from '../testing/scheduler-process.js';
import { processWorkspaces, type Workspace } from '../testing/workspace.js';

const { workspace } = processWorkspaces();

interface Space extends Workspace {
  pipeline: string;
  /** While it exists, gold.totals can be computed (its SQL reads it). */
  gate: string;
  lakeA: string;
  lakeB: string;
  sourceA: string;
  sourceB: string;
}

/**
 * items: a CSV source, a silver table and a gold count whose SQL reads the gate file (so that it fails while the
 * gate is missing); with `holdMs`, a custom task after ingest keeps the run busy that long.
 */
async function space(label: string, holdMs = 0): Promise<Space> {
  const base = await workspace(label);
  const { dir } = base;
  const gate = path.join(dir, 'gate');
  const pipeline = await writePipelineModule(
    path.join(dir, 'items.mjs'),
    `
import { setTimeout as sleep } from 'node:timers/promises';
export default definePipeline({
  name: 'items',
  sources: [{ name: 'items', pattern: 'items-*.csv', bronzeTable: 'items',
    format: { type: 'csv', delimiter: ',', requiredColumns: ['id', 'qty'] } }],
  tables: [
    { name: 'items', layer: 'silver', sql: ({ ref }) => \`SELECT id, qty FROM \${ref('bronze', 'items')}\` },
    { name: 'totals', layer: 'gold', sql: ({ ref }) =>
      \`SELECT count(*) AS n FROM \${ref('silver', 'items')}, (SELECT 1 FROM read_csv(${JSON.stringify(gate)}, header = false) LIMIT 1)\` },
  ],
  tasks: [{ name: 'hold', dependsOn: ['ingest'], run: async (ctx) => {
    await sleep(${holdMs}, undefined, { signal: ctx.signal });
    return { detail: 'held' };
  } }],
});
`,
  );
  const sourceA = path.join(dir, 'source-a');
  const sourceB = path.join(dir, 'source-b');
  await mkdir(sourceA);
  await mkdir(sourceB);
  await writeFile(path.join(sourceA, 'items-a.csv'), 'id,qty\na1,1\na2,2\n');
  await writeFile(path.join(sourceB, 'items-b.csv'), 'id,qty\nb1,1\nb2,2\nb3,3\n');
  await writeFile(gate, 'open\n');
  return {
    ...base,
    pipeline,
    gate,
    lakeA: path.join(dir, 'lake-a'),
    lakeB: path.join(dir, 'lake-b'),
    sourceA,
    sourceB,
  };
}

async function rowsOf(lake: string, layer: 'silver' | 'gold', table: string): Promise<number | undefined> {
  const snapshot = await new LakeLayout(localLake(lake)).table({ layer, table }).snapshot();
  return snapshot && snapshotRows(snapshot);
}

async function versionsOf(lake: string, layer: 'silver' | 'gold', table: string): Promise<number[]> {
  return new LakeLayout(localLake(lake)).table({ layer, table }).versions();
}

async function landed(lake: string): Promise<string[]> {
  const dir = path.join(lake, 'landing', 'items');
  if (!existsSync(dir)) return [];
  const ingestions = await readdir(dir);
  return (await Promise.all(ingestions.map((entry) => readdir(path.join(dir, entry))))).flat().sort();
}

async function finished(store: MetadataStore, runId: string, what: string): Promise<RunRecord> {
  return waitFor(
    async () => {
      const run = await store.getRun(runId);
      return run && (run.state === 'success' || run.state === 'failed') ? run : undefined;
    },
    { what, timeoutMs: 60_000, intervalMs: 100 },
  );
}

describe('a scheduler on lake A and `medallion run --lake B` on one database', () => {
  it('each run executes against its own lake, and a cleared run is re-run on its lake by the scheduler', async () => {
    const s = await space('locations');
    const onA = ['--lake', s.lakeA, '--source', s.sourceA];
    const onB = ['--lake', s.lakeB, '--source', s.sourceB];
    const common = ['--pipeline', s.pipeline, '--db', s.db];
    const scheduler = startSchedulerProcess([...onA, ...common, '--poll-ms', '100']);
    const worker = await scheduler.worker();

    const [triggered, direct] = await Promise.all([
      medallion(['trigger', 'items', ...common, ...onA, '--wait', '--poll-ms', '100']),
      medallion(['run', ...common, ...onB, '--json']),
    ]);
    expect(triggered.code, triggered.stderr).toBe(0);
    expect(direct.code, direct.stderr).toBe(0);
    const runOnA = (await s.store.getRun(triggered.stdout.trim()))!;
    const runOnB = (await s.store.getRun((JSON.parse(direct.stdout) as { runId: string }).runId))!;
    expect(runOnA.locations).toEqual({ source: s.sourceA, lake: s.lakeA });
    expect(runOnB.locations).toEqual({ source: s.sourceB, lake: s.lakeB });
    // Each lake holds its own source's rows, and only those.
    expect(await landed(s.lakeA)).toEqual(['items-a.csv']);
    expect(await landed(s.lakeB)).toEqual(['items-b.csv']);
    expect(await rowsOf(s.lakeA, 'silver', 'items')).toBe(2);
    expect(await rowsOf(s.lakeB, 'silver', 'items')).toBe(3);
    // The scheduler executed none of the run that `medallion run` drives.
    expect((await s.store.listAttempts(runOnB.id)).every((attempt) => attempt.worker !== worker)).toBe(true);

    // gold.totals of lake B fails while the gate is shut; cleared once it is open again, the scheduler — whose own
    // flags say lake A — re-runs it on lake B.
    await rm(s.gate);
    const failed = await medallion(['run', ...common, ...onB, '--force', '--json']);
    expect(failed.code).toBe(1);
    const failedRun = (JSON.parse(failed.stdout) as { runId: string }).runId;
    expect((await s.store.getTaskInstance(failedRun, 'gold.totals'))?.state).toBe('failed');
    await writeFile(s.gate, 'open\n');
    const cleared = await medallion(['clear', failedRun, ...common, '--json']);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(JSON.parse(cleared.stdout)).toEqual({
      runId: failedRun,
      cleared: ['gold.totals', 'quality_check'],
    });
    const rerun = await finished(s.store, failedRun, 'the cleared run to finish');
    expect(rerun.state).toBe('success');
    expect(await s.store.listAttempts(failedRun, 'gold.totals')).toMatchObject([
      { attempt: 1, state: 'failed' },
      { attempt: 2, state: 'success', worker },
    ]);
    expect(await versionsOf(s.lakeB, 'gold', 'totals')).toEqual([0, 1]);
    expect(await versionsOf(s.lakeA, 'gold', 'totals')).toEqual([0]);
    expect(await rowsOf(s.lakeA, 'gold', 'totals')).toBe(1);
    expect((await stopGracefully(scheduler)).code).toBe(0);
  });

  it('does not claim the tasks of a run planned from another definition, and says why', async () => {
    const s = await space('definition');
    const common = ['--db', s.db, '--lake', s.lakeA, '--source', s.sourceA];
    const queued = await medallion(['trigger', 'items', '--pipeline', s.pipeline, ...common, '--json']);
    expect(queued.code, queued.stderr).toBe(0);
    const runId = (JSON.parse(queued.stdout) as RunRecord).id;
    // The module changes (a new table) after the run was planned.
    await writePipelineModule(
      s.pipeline,
      `export default definePipeline({ name: 'items', sources: [], tables: [], tasks: [{ name: 'other', run: async () => {} }] });`,
    );
    const scheduler = startSchedulerProcess(['--pipeline', s.pipeline, ...common, '--poll-ms', '100']);
    await waitFor(async () => scheduler.output().includes(`${runId}: not executed by this process`), {
      what: 'the scheduler to say why it does not execute the run',
      detail: () => scheduler.output(),
    });
    expect(scheduler.output()).toContain('the run was planned from another definition of items');
    expect(await s.store.listAttempts(runId)).toEqual([]);
  });
});

describe('two runs of one pipeline on one lake at the same time', () => {
  it('the second waits for the first to release the lake, then runs; with --no-wait it exits 2 naming the first', async () => {
    // The first holds the lake long enough for two more processes to start on a loaded machine.
    const s = await space('lock', 8_000);
    const args = ['run', '--pipeline', s.pipeline, '--db', s.db, '--lake', s.lakeA, '--source', s.sourceA];
    const first = startMedallionProcess([...args, '--json']);
    const firstId = (
      await waitFor(async () => /▶ items (run_\S+):/.exec(first.output())?.[1], {
        what: 'the first run to start',
        detail: () => first.output(),
      })
    ).trim();
    await waitFor(async () => (await s.store.getRun(firstId))?.state === 'running', {
      what: 'the first run to hold the lake',
    });

    const refused = await medallion([...args, '--no-wait']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `run ${firstId} of items (manual, running) holds the lock on ${s.lakeA}`,
    );

    const second = startMedallionProcess([...args, '--json']);
    await waitFor(async () => second.output().includes(`waiting for run ${firstId}, which holds the lock`), {
      what: 'the second run to say it waits',
      detail: () => second.output(),
    });
    expect((await first.exited).code, first.output()).toBe(0);
    expect((await second.exited).code, second.output()).toBe(0);
    const secondRun = (await s.store.getRun((JSON.parse(second.stdout()) as { runId: string }).runId))!;
    const firstRun = (await s.store.getRun(firstId))!;
    expect(Date.parse(secondRun.startedAt!)).toBeGreaterThanOrEqual(Date.parse(firstRun.finishedAt!));
    // The file landed once, by the first run; the second found it already ingested.
    expect(await landed(s.lakeA)).toEqual(['items-a.csv']);
    expect(await rowsOf(s.lakeA, 'silver', 'items')).toBe(2);
    expect(await s.store.getLease(`items@${s.lakeA}`)).toBeUndefined();
  });
});
