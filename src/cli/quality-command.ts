import type { ExpectationResult } from '../core/expectations.js';
import { latestAttempts } from '../core/run-state.js';
import { MedallionError } from '../core/errors.js';
import type { AttemptRecord, MetadataStore, RunRecord } from '../metadata/metadata-store.js';
import { print, requireRun } from './output.js';
import { withStore, type StoreFlags } from './project-context.js';
import { table } from './render.js';

export interface QualityFlags extends StoreFlags {
  /** The latest finished run of this pipeline. */
  pipeline?: string;
}

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

async function latestFinishedRun(store: MetadataStore, pipeline: string | undefined): Promise<RunRecord> {
  const [run] = await store.listRuns({
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

function outcome(result: ExpectationResult): string {
  if (result.passed) return 'passed';
  return { warn: 'warned', quarantine: 'quarantined', fail: 'FAILED' }[result.action];
}

/** `medallion quality [RUN]`: what the expectations found in a run (default: the latest finished one). */
export async function qualityCommand(runId: string | undefined, flags: QualityFlags): Promise<void> {
  await withStore(flags, async (store) => {
    const run = runId ? await requireRun(store, runId) : await latestFinishedRun(store, flags.pipeline);
    const rows = expectationRows(await store.listAttempts(run.id));
    print(
      flags.json,
      { run: { id: run.id, pipeline: run.pipeline, state: run.state }, expectations: rows },
      () =>
        [
          `${run.pipeline} ${run.id}: ${run.state}, ${rows.length} expectation result(s), ${rows.filter((row) => !row.passed).length} not met`,
          rows.length === 0
            ? '  no expectation was checked in this run'
            : table(
                ['task', 'expectation', 'type', 'action', 'result', 'failing rows', 'observed', 'example'],
                rows.map((row) => [
                  row.task,
                  row.name,
                  row.type,
                  row.action,
                  outcome(row),
                  String(row.failingRows),
                  row.observed === undefined || row.observed === null ? '—' : String(row.observed),
                  row.samples[0] ? JSON.stringify(row.samples[0]).slice(0, 80) : '—',
                ]),
                ['task', 'expectation', 'type', 'action', 'result', 'observed', 'example'],
              ),
        ].join('\n'),
    );
  });
}
