/**
 * What the Monitoring page draws: for a pipeline's last runs, rows and bytes per layer, each task's duration and
 * peak memory, the success rate; and the lake's latest layer check with its warnings. All of it from the metadata
 * store (the runs' summaries and their tries' metrics and outputs): nothing reads the lake.
 */
import { latestAttempts } from '../core/run-state.js';
import type { AttemptRecord, RunRecord } from '../metadata/metadata-store.js';
import type { LayerHealth } from '../runner/layer-health.js';
import type { RunSummary, TableSummary } from '../runner/run-summary.js';
import type { AppContext } from './context.js';
import { lastFinishedRuns } from './quality.js';

/** Finished runs looked back on for each point of the success rate. */
export const SUCCESS_WINDOW = 10;

export interface MonitoredRun extends Pick<
  RunRecord,
  'id' | 'state' | 'logicalDate' | 'startedAt' | 'finishedAt'
> {
  durationMs: number | null;
}

/** A series per layer or task; every array is aligned with the runs (null: nothing measured in that run). */
export interface LayerSeries {
  layer: string;
  rows: (number | null)[];
  bytes: (number | null)[];
}

export interface TaskSeries {
  task: string;
  durationMs: (number | null)[];
  peakRssBytes: (number | null)[];
}

export interface LayerCheck extends LayerHealth {
  pipeline: string;
  runId: string;
  finishedAt: string | null;
}

export interface MonitoringSeries {
  pipeline: string;
  /** The last finished runs, in the order they finished. */
  runs: MonitoredRun[];
  layers: LayerSeries[];
  tasks: TaskSeries[];
  /** At each run, the share of the last `successWindow` finished runs that succeeded (cancelled ones left out). */
  successRate: (number | null)[];
  successWindow: number;
  /** The latest layer check of any pipeline (the shipped data_quality_checks' layer_health), if one ran. */
  layerHealth: LayerCheck | null;
}

export async function monitoringSeries(
  ctx: AppContext,
  input: { pipeline: string; limit: number },
): Promise<MonitoringSeries> {
  const runs = (await lastFinishedRuns(ctx, input)).sort((a, b) =>
    (a.finishedAt ?? '').localeCompare(b.finishedAt ?? ''),
  );
  const tries = await Promise.all(
    runs.map(async (run) => [...latestAttempts(await ctx.store.listAttempts(run.id)).values()]),
  );
  return {
    pipeline: input.pipeline,
    runs: runs.map(({ id, state, logicalDate, startedAt, finishedAt }) => ({
      id,
      state,
      logicalDate,
      startedAt,
      finishedAt,
      durationMs: startedAt && finishedAt ? Date.parse(finishedAt) - Date.parse(startedAt) : null,
    })),
    layers: layerSeries(layerVolumes(runs, tries)),
    tasks: taskSeries(tries),
    successRate: successRate(runs),
    successWindow: SUCCESS_WINDOW,
    layerHealth: await latestLayerCheck(ctx),
  };
}

type Volumes = Map<string, { rows: number | null; bytes: number }>;

/**
 * Rows and bytes per layer after each run: the tables its summary reports, on top of those earlier runs reported (a
 * run that fails half way reports only the tables it wrote); for a pipeline without tables, what a layer check of
 * the run measured.
 */
function layerVolumes(runs: readonly RunRecord[], tries: readonly (readonly AttemptRecord[])[]): Volumes[] {
  const tables = new Map<string, TableSummary>();
  return runs.map((run, index) => {
    const volumes: Volumes = new Map();
    const reported = (run.summary as Partial<RunSummary> | null)?.tables;
    for (const table of Array.isArray(reported) ? reported : [])
      tables.set(`${table.layer}.${table.table}`, table);
    for (const table of tables.values()) {
      const sum = volumes.get(table.layer) ?? { rows: 0, bytes: 0 };
      volumes.set(table.layer, { rows: (sum.rows ?? 0) + table.rows, bytes: sum.bytes + (table.bytes ?? 0) });
    }
    if (tables.size > 0) return volumes;
    for (const attempt of tries[index] ?? []) {
      for (const layer of layerHealthOf(attempt)?.layers ?? []) {
        volumes.set(layer.layer, { rows: layer.rows, bytes: layer.bytes });
      }
    }
    return volumes;
  });
}

function layerSeries(perRun: readonly Volumes[]): LayerSeries[] {
  const layers = [...new Set(perRun.flatMap((volumes) => [...volumes.keys()]))];
  const order = ['landing', 'bronze', 'silver', 'gold'];
  layers.sort((a, b) => order.indexOf(a) - order.indexOf(b) || a.localeCompare(b));
  return layers.map((layer) => ({
    layer,
    rows: perRun.map((volumes) => volumes.get(layer)?.rows ?? null),
    bytes: perRun.map((volumes) => volumes.get(layer)?.bytes ?? null),
  }));
}

function taskSeries(tries: readonly (readonly AttemptRecord[])[]): TaskSeries[] {
  const tasks = [...new Set(tries.flatMap((attempts) => attempts.map((attempt) => attempt.taskId)))].sort();
  return tasks.map((task) => {
    const metrics = tries.map((attempts) => attempts.find((attempt) => attempt.taskId === task)?.metrics);
    return {
      task,
      durationMs: metrics.map((figures) => figures?.durationMs ?? null),
      peakRssBytes: metrics.map((figures) => figures?.peakRssBytes ?? null),
    };
  });
}

function successRate(runs: readonly RunRecord[]): (number | null)[] {
  const outcomes: boolean[] = [];
  return runs.map((run) => {
    if (run.state === 'success' || run.state === 'failed') outcomes.push(run.state === 'success');
    const window = outcomes.slice(-SUCCESS_WINDOW);
    return window.length === 0 ? null : window.filter(Boolean).length / window.length;
  });
}

/** The layer health a try reported (data_quality_checks' layer_health returns it as its data). */
function layerHealthOf(attempt: AttemptRecord): LayerHealth | undefined {
  const data = (attempt.output as { data?: Partial<LayerHealth> } | null)?.data;
  if (attempt.state !== 'success' || !Array.isArray(data?.layers)) return undefined;
  return { layers: data.layers, warnings: Array.isArray(data.warnings) ? data.warnings : [] };
}

/** The newest layer check among the latest successful run of each pipeline. */
async function latestLayerCheck(ctx: AppContext): Promise<LayerCheck | null> {
  let latest: LayerCheck | null = null;
  for (const { name } of await ctx.store.listPipelines()) {
    const [run] = await ctx.store.listRuns({ pipeline: name, states: ['success'], limit: 1 });
    if (!run || (latest && (latest.finishedAt ?? '') >= (run.finishedAt ?? ''))) continue;
    for (const attempt of latestAttempts(await ctx.store.listAttempts(run.id)).values()) {
      const health = layerHealthOf(attempt);
      if (health) latest = { pipeline: name, runId: run.id, finishedAt: run.finishedAt, ...health };
    }
  }
  return latest;
}
