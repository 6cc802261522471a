/** What the expectations found in a run: each result with its task and try. */
import type { ExpectationResult } from '../core/expectations.js';
import { MedallionError } from '../core/errors.js';
import { latestAttempts } from '../core/run-state.js';
import type { AttemptRecord, RunRecord } from '../metadata/metadata-store.js';
import type { AppContext } from './context.js';
import { requireRun } from './runs.js';

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
    states: ['success', 'failed', 'cancelled'],
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
