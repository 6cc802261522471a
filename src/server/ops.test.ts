/**
 * The API of the Quality and Monitoring pages, over a real project: the example pipeline run on sample data (twice,
 * then once more with a truncated file that fails it) and the layer check, in a real SQLite store and a local lake.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuality } from '../app/quality.js';
import { addUser, createToken } from '../app/users.js';
import { latestAttempts } from '../core/run-state.js';
import { generateDemoData } from '../demo-data/generate.js';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import type { MonitoringSeries } from '../app/monitoring.js';
import type { QualityTrend } from '../app/quality.js';
import type { QuarantineSummary } from '../app/quarantine.js';
import type { MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import { openMetadataStore } from '../metadata/open.js';
import checks from '../pipelines/data_quality_checks/pipeline.js';
import dataPipeline from '../pipelines/medallion_data_pipeline/pipeline.js';
import { runPipeline } from '../runner/run-pipeline.js';
import { LocalDiskStore } from '../storage/local-disk.js';
import { apiOver, callerWith } from '../testing/api.js';
import { exportWithDeltaRs, skipWithoutDeltaRs } from '../testing/delta-rs.js';
import { localLake } from '../table/lake-layout.js';

const PIPELINE = 'medallion_data_pipeline';
let dir: string;
let store: MetadataStore;
let call: ReturnType<typeof callerWith>;
/** The example pipeline's finished runs, oldest first. */
let runs: RunRecord[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'medallion-ops-api-'));
  await writeFile(
    path.join(dir, 'medallion.config.json'),
    JSON.stringify({ lake: 'lake', source: 'source' }),
  );
  await generateDemoData({ scale: 0.02, seed: 7, outDir: path.join(dir, 'source') });
  await quarantineSomeContracts(path.join(dir, 'source', 'aws-marchespublics-annee-2022.json'));
  store = await openMetadataStore(`sqlite:${path.join(dir, 'metadata.db')}`);
  const source = new LocalDiskStore(path.join(dir, 'source'));
  const lake = localLake(path.join(dir, 'lake'));
  const run = (pipeline = dataPipeline) => runPipeline({ pipeline, store, source, lake, force: true });
  await run();
  await run();
  const contracts = await readFile(path.join(dir, 'source', 'aws-marchespublics-annee-2022.json'), 'utf8');
  await writeFile(path.join(dir, 'source', 'aws-marchespublics-annee-2023.json'), contracts.slice(0, 500));
  expect((await run()).status).toBe('failed');
  await run(checks);
  runs = (await store.listRuns({ pipeline: PIPELINE })).reverse();

  await addUser(store, { name: 'vera', role: 'viewer', password: 'a viewer password' });
  const token = (await createToken(store, { user: 'vera', name: 'test' })).token;
  call = callerWith(await apiOver(store, dir), token);
}, 120_000);

/** Contracts the pipeline quarantines for two reasons, in unequal numbers: 3 without titulaire, 1 below zero. */
async function quarantineSomeContracts(file: string): Promise<void> {
  const document = JSON.parse(await readFile(file, 'utf8')) as { marches: Record<string, unknown>[] };
  document.marches.slice(0, 3).forEach((contract) => (contract.titulaires = []));
  document.marches.slice(3, 4).forEach((contract) => (contract.montant = '-5'));
  await writeFile(file, JSON.stringify(document, null, 2));
}

afterAll(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

async function get<T>(url: string, status = 200): Promise<T> {
  const answer = await call<T>('GET', url);
  expect(answer.status, url).toBe(status);
  return answer.body;
}

describe('GET /api/pipelines/{name}/quality', () => {
  it('gives each of the last runs its count of results not met, and each expectation’s failing rows per run', async () => {
    const trend = await get<QualityTrend>(`/api/pipelines/${PIPELINE}/quality`);
    expect(trend.runs.map((run) => run.id)).toEqual(runs.map((run) => run.id));
    for (const [index, run] of runs.entries()) {
      const { expectations } = await runQuality(
        { store, project: {} as never, actor: 't' },
        { runId: run.id },
      );
      const notMet = expectations.filter((row) => !row.passed);
      expect(trend.runs[index]).toMatchObject({
        state: run.state,
        results: expectations.length,
        warned: notMet.filter((row) => row.action === 'warn').length,
        failed: notMet.filter((row) => row.action === 'fail').length,
      });
      for (const series of trend.expectations) {
        const result = expectations.find((row) => row.task === series.task && row.name === series.name);
        expect(series.failingRows[index], `${series.task} ${series.name}`).toBe(result?.failingRows ?? null);
      }
    }
    // The sample data breaks some warn-only expectations (as the README says), in both runs that built tables.
    const warned = trend.expectations.filter((series) => series.action === 'warn');
    expect(warned.some((series) => (series.failingRows[0] ?? 0) > 0)).toBe(true);
    expect(trend.runs[0]?.warned).toBeGreaterThan(0);
  });

  it('keeps to the last `limit` runs, and names what is wrong with a request', async () => {
    const last = await get<QualityTrend>(`/api/pipelines/${PIPELINE}/quality?limit=1`);
    expect(last.runs.map((run) => run.id)).toEqual([runs.at(-1)?.id]);
    expect(last.expectations.every((series) => series.failingRows.length === 1)).toBe(true);
    const bad = await get<{ error: string }>(`/api/pipelines/${PIPELINE}/quality?limit=0`, 400);
    expect(bad.error).toContain('query parameter limit');
    expect((await get<{ error: string }>('/api/pipelines/nope/quality', 404)).error).toContain('nope');
  });
});

describe.skipIf(skipWithoutDeltaRs())('GET /api/pipelines/{name}/quarantine', () => {
  /** Rows per reason of a quarantine table, read by delta-rs (another Delta reader) and counted by DuckDB. */
  async function reasonsOf(table: string): Promise<{ reason: string; rows: number }[]> {
    const out = path.join(dir, `${table}.parquet`);
    exportWithDeltaRs(path.join(dir, 'lake', 'quarantine', table), out);
    const engine = await DuckDbEngine.create({ scratchDir: path.join(dir, 'duckdb') });
    try {
      const rows = await engine.all<{ reason: string; n: number }>(
        `SELECT reason, count(*)::INTEGER AS n FROM read_parquet('${out}') GROUP BY reason ORDER BY n DESC, reason`,
      );
      return rows.map((row) => ({ reason: row.reason, rows: row.n }));
    } finally {
      engine.close();
    }
  }

  it('counts each quarantine table’s rows by reason and shows the newest samples', async () => {
    const summary = await get<QuarantineSummary>(`/api/pipelines/${PIPELINE}/quarantine`);
    expect(summary.lake).toBe(path.join(dir, 'lake'));
    expect(summary.tables.map((table) => table.table)).toEqual(
      expect.arrayContaining(['silver_codes_naf', 'silver_marches_publics']),
    );
    for (const table of summary.tables) {
      expect(table.reasons, table.table).toEqual(await reasonsOf(table.table));
      expect(table.rows).toBe(table.reasons.reduce((sum, reason) => sum + reason.rows, 0));
      expect(table.samples.length).toBe(Math.min(table.rows, 20));
    }
    const contracts = summary.tables.find((table) => table.table === 'silver_marches_publics');
    expect(contracts?.reasons.map((reason) => reason.reason)).toEqual([
      'no_titulaire',
      'montant_not_negative',
    ]);
    // The newest first. The table is incremental: a record stays quarantined under the run that took it, so the
    // newest is of a run that succeeded (the failed one committed nothing), not necessarily the last one.
    const times = (contracts?.samples ?? []).map((sample) => String(sample.quarantined_at));
    expect(times).toEqual([...times].sort().reverse());
    const built = runs.filter((run) => run.state === 'success').map((run) => run.id);
    expect(built).toContain(contracts?.samples[0]?.run_id);
    expect(contracts?.samples[0]).toMatchObject({ record: expect.any(String) });
  });

  it('shows samples of one reason when asked, and reads a reason as a value, never as SQL', async () => {
    const summary = await get<QuarantineSummary>(`/api/pipelines/${PIPELINE}/quarantine?reason=section_row`);
    const samples = summary.tables.flatMap((table) => table.samples);
    expect(samples.length).toBeGreaterThan(0);
    expect(new Set(samples.map((sample) => sample.reason))).toEqual(new Set(['section_row']));
    const injected = encodeURIComponent("x' OR '1'='1");
    const none = await get<QuarantineSummary>(`/api/pipelines/${PIPELINE}/quarantine?reason=${injected}`);
    expect(none.tables.length).toBe(summary.tables.length);
    expect(none.tables.flatMap((table) => table.samples)).toEqual([]);
  });
});

describe('GET /api/pipelines/{name}/monitoring', () => {
  it('draws each run’s rows and bytes per layer, its tasks’ durations and peak memory, and the success rate', async () => {
    const series = await get<MonitoringSeries>(`/api/pipelines/${PIPELINE}/monitoring`);
    expect(series.runs.map((run) => run.id)).toEqual(runs.map((run) => run.id));
    expect(series.layers.map((layer) => layer.layer)).toEqual(['bronze', 'silver', 'gold']);
    for (const [index, run] of runs.entries()) {
      const tries = latestAttempts(await store.listAttempts(run.id));
      for (const task of series.tasks) {
        const metrics = tries.get(task.task)?.metrics;
        expect(task.durationMs[index]).toBe(metrics?.durationMs ?? null);
        expect(task.peakRssBytes[index]).toBe(metrics?.peakRssBytes ?? null);
      }
      const succeeded = runs.slice(0, index + 1).filter((earlier) => earlier.state === 'success').length;
      expect(series.successRate[index]).toBeCloseTo(succeeded / (index + 1));
    }
    expect(series.successRate.at(-1)).toBeCloseTo(2 / 3);

    // The layer check measured the lake after the last run that built it: the same rows per layer.
    const health = series.layerHealth;
    expect(health?.pipeline).toBe('data_quality_checks');
    expect(health?.warnings.length).toBeGreaterThan(0);
    const lastBuilt = runs.findLastIndex((run) => run.state === 'success');
    for (const layer of series.layers) {
      const measured = health?.layers.find((candidate) => candidate.layer === layer.layer);
      expect(layer.rows[lastBuilt], layer.layer).toBe(measured?.rows);
      expect(layer.bytes[lastBuilt]).toBeGreaterThan(0);
    }
  });

  it('looks back on the last `limit` runs only, and draws a layer check’s own runs from what it measured', async () => {
    const last = await get<MonitoringSeries>(`/api/pipelines/${PIPELINE}/monitoring?limit=2`);
    expect(last.runs.map((run) => run.id)).toEqual(runs.slice(-2).map((run) => run.id));
    expect(last.tasks.every((task) => task.durationMs.length === 2)).toBe(true);
    const checked = await get<MonitoringSeries>('/api/pipelines/data_quality_checks/monitoring');
    expect(checked.layers.map((layer) => layer.layer)).toEqual(['landing', 'bronze', 'silver', 'gold']);
    expect(checked.layers.map((layer) => layer.bytes[0])).toEqual(
      checked.layerHealth?.layers.map((layer) => layer.bytes),
    );
    expect(
      (await get<{ error: string }>('/api/pipelines/data_quality_checks/monitoring?limit=501', 400)).error,
    ).toContain('limit');
  });
});
