/** What the expectations found in a run: each result with its task and try. */
import type { ExpectationResult } from '../core/expectations.js';
import { MedallionError } from '../core/errors.js';
import { latestAttempts } from '../core/run-state.js';
import type { AttemptRecord, RunRecord } from '../metadata/metadata-store.js';
import type { AppContext } from './context.js';
import { findPipeline, requireRun } from './runs.js';

const FINISHED = ['success', 'failed', 'cancelled'] as const;

export interface QualityRow extends ExpectationResult {
  task: string;
  attempt: number;
}

/** The expectation results each task's latest try kept: with its table on success, in its failure otherwise. */
export function expectationRows(attempts: readonly AttemptRecord[]): QualityRow[] {
  const rows: QualityRow[] = [];
  for (const attempt of latestAttempts(attempts).values()) {
    const data = (
      attempt.output as { data?: { table?: { expectations?: unknown }; expectations?: unknown } } | null
    )?.data;
    const results = data?.table?.expectations ?? data?.expectations;
    if (!Array.isArray(results)) continue;
    for (const result of results as ExpectationResult[])
      rows.push({ task: attempt.taskId, attempt: attempt.attempt, ...result });
  }
  return rows.sort((a, b) => a.task.localeCompare(b.task) || a.name.localeCompare(b.name));
}

async function latestFinishedRun(ctx: AppContext, pipeline: string | undefined): Promise<RunRecord> {
  const [run] = await ctx.store.listRuns({
    ...(pipeline && { pipeline }),
    states: [...FINISHED],
    limit: 1,
  });
  if (!run) {
    throw new MedallionError(`no finished run${pipeline ? ` of ${pipeline}` : ''} yet`, {
      hint: 'run the pipeline first (`medallion run`), or name a run',
    });
  }
  return run;
}

/** The results of a run (default: the latest finished one, of the pipeline if named). */
export async function runQuality(
  ctx: AppContext,
  input: { runId?: string; pipeline?: string },
): Promise<{ run: RunRecord; expectations: QualityRow[] }> {
  const run = input.runId
    ? await requireRun(ctx.store, input.runId)
    : await latestFinishedRun(ctx, input.pipeline);
  return { run, expectations: expectationRows(await ctx.store.listAttempts(run.id)) };
}

/** A finished run as the quality trend shows it: how many results it has and how many were not met, by action. */
export interface QualityRunBrief extends Pick<RunRecord, 'id' | 'state' | 'logicalDate' | 'finishedAt'> {
  results: number;
  warned: number;
  quarantined: number;
  failed: number;
}

/** One expectation across runs: its failing rows in each run (null where the run has no result for it). */
export interface ExpectationTrend extends Pick<QualityRow, 'task' | 'name' | 'type' | 'action'> {
  failingRows: (number | null)[];
}

export interface QualityTrend {
  pipeline: string;
  /** The last finished runs, oldest first. */
  runs: QualityRunBrief[];
  /** Aligned with `runs`. */
  expectations: ExpectationTrend[];
}

function runBrief(run: RunRecord, rows: readonly QualityRow[]): QualityRunBrief {
  const notMet = (action: QualityRow['action']) =>
    rows.filter((row) => !row.passed && row.action === action).length;
  return {
    id: run.id,
    state: run.state,
    logicalDate: run.logicalDate,
    finishedAt: run.finishedAt,
    results: rows.length,
    warned: notMet('warn'),
    quarantined: notMet('quarantine'),
    failed: notMet('fail'),
  };
}

/** A pipeline's last `limit` finished runs, newest logical date first; a NotFoundError for an unknown pipeline. */
export async function lastFinishedRuns(
  ctx: AppContext,
  input: { pipeline: string; limit: number },
): Promise<RunRecord[]> {
  await findPipeline(ctx, input.pipeline);
  return ctx.store.listRuns({ pipeline: input.pipeline, states: [...FINISHED], limit: input.limit });
}

/** What the expectations of a pipeline's last `limit` finished runs found: a line per run, a series per expectation. */
export async function qualityTrend(
  ctx: AppContext,
  input: { pipeline: string; limit: number },
): Promise<QualityTrend> {
  const runs = (await lastFinishedRuns(ctx, input)).reverse();
  const results = await Promise.all(
    runs.map(async (run) => expectationRows(await ctx.store.listAttempts(run.id))),
  );
  const series = new Map<string, ExpectationTrend>();
  results.forEach((rows, index) => {
    for (const { task, name, type, action, failingRows } of rows) {
      const key = `${task}\u0000${name}`;
      let trend = series.get(key);
      if (!trend) {
        trend = { task, name, type, action, failingRows: runs.map(() => null) };
        series.set(key, trend);
      }
      trend.failingRows[index] = failingRows;
    }
  });
  return {
    pipeline: input.pipeline,
    runs: runs.map((run, index) => runBrief(run, results[index] ?? [])),
    expectations: [...series.values()].sort(
      (a, b) => a.task.localeCompare(b.task) || a.name.localeCompare(b.name),
    ),
  };
}
