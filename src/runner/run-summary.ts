import type { ExpectationResult } from '../core/expectations.js';
import { latestAttempts } from '../core/run-state.js';
import type { AttemptRecord, RunRecord, TaskInstanceRecord } from '../metadata/metadata-store.js';
import type { TaskData } from './pipeline-tasks.js';
import type { TableProfile } from './quality-check.js';
import type { Accounting } from './refine.js';

export type TaskStatus = 'success' | 'failed' | 'skipped' | 'upstream_failed' | 'cancelled';

export interface TaskSummary {
  id: string;
  status: TaskStatus;
  durationMs: number;
  error?: string;
}

export interface TableSummary {
  table: string;
  layer: string;
  /** The table's version after the run (unchanged when nothing was written). */
  version: number | null;
  /** Rows in the table's current version. */
  rows: number;
  /** Rows this run wrote (bronze: appended; silver, gold: the whole new version). */
  rowsWritten: number;
  /** Size of the table's current version's data files. */
  bytes: number;
  /** What the table's expectations found on the version this run published. */
  expectations?: ExpectationResult[];
  accounting?: Accounting;
  /** An incremental table: merged from the new input rows, or rebuilt (and why). */
  refresh?: { kind: 'full' | 'increment'; reason?: string };
}

export interface RunSummary {
  pipeline: string;
  runId: string;
  logicalDate: string;
  status: 'success' | 'failed' | 'cancelled';
  error?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  lake: string;
  /** null for a pipeline without sources. */
  source: string | null;
  ingest: {
    landed: { source: string; file: string; bytes: number; sha256: string; landingKey: string }[];
    skipped: { source: string; file: string; status: string }[];
    unmatched: string[];
    /** Source entries skipped unread, with why (a symbolic link leading out of the source…). */
    refused: { file: string; reason: string }[];
  };
  tasks: TaskSummary[];
  tables: TableSummary[];
  /** The pipeline's headline figures (e.g. companies, contracts, total value). */
  headline: Record<string, number | string | null> | null;
  quality: TableProfile[];
}

export interface SummaryInputs {
  pipeline: string;
  run: RunRecord;
  /** The run's task instances; the summary lists them in this order. */
  tasks: readonly TaskInstanceRecord[];
  attempts: readonly AttemptRecord[];
  lake: string;
  source: string | null;
  now?: Date;
}

/** The run's summary, from what its tasks' latest tries reported. */
export function assembleSummary(inputs: SummaryInputs): RunSummary {
  const { run } = inputs;
  const latest = latestAttempts(inputs.attempts);
  const finishedAt = inputs.now ?? new Date();
  const startedAt = run.startedAt ?? run.createdAt;
  const summary: RunSummary = {
    pipeline: inputs.pipeline,
    runId: run.id,
    logicalDate: run.logicalDate.slice(0, 10),
    status: run.stop?.state ?? 'success',
    ...(run.stop && { error: run.stop.reason }),
    startedAt,
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - new Date(startedAt).getTime(),
    lake: inputs.lake,
    source: inputs.source,
    ingest: { landed: [], skipped: [], unmatched: [], refused: [] },
    tasks: [],
    tables: [],
    headline: null,
    quality: [],
  };
  for (const task of inputs.tasks) {
    const attempt = latest.get(task.taskId);
    const status = task.state as TaskStatus;
    summary.tasks.push({
      id: task.taskId,
      status,
      durationMs: attempt?.metrics?.durationMs ?? 0,
      ...(status === 'failed' && attempt?.reason ? { error: attempt.reason } : {}),
    });
    if ((status === 'failed' || status === 'upstream_failed') && summary.status === 'success')
      summary.status = 'failed';
    if (status === 'failed') summary.error ??= `${task.taskId}: ${attempt?.reason ?? 'failed'}`;
    const data = (attempt?.state === 'success' ? (attempt.output as { data?: TaskData } | null) : null)?.data;
    // Tries recorded before `refused` was reported have none.
    if (data?.ingest) summary.ingest = { ...data.ingest, refused: data.ingest.refused ?? [] };
    if (data?.table) summary.tables.push(data.table);
    if (data?.quality) summary.quality = data.quality;
    if (data?.headline !== undefined) summary.headline = data.headline;
  }
  return summary;
}
