import type { TableProfile } from './quality-check.js';
import type { Accounting } from './table-task.js';

export type TaskStatus = 'success' | 'failed' | 'skipped' | 'upstream_failed';

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
  accounting?: Accounting;
}

export interface RunSummary {
  pipeline: string;
  runId: string;
  logicalDate: string;
  status: 'success' | 'failed';
  error?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  lake: string;
  source: string;
  ingest: {
    landed: { source: string; file: string; bytes: number; sha256: string; landingKey: string }[];
    skipped: { source: string; file: string; status: string }[];
    unmatched: string[];
  };
  tasks: TaskSummary[];
  tables: TableSummary[];
  /** The pipeline's headline figures (e.g. companies, contracts, total value). */
  headline: Record<string, number | string | null> | null;
  quality: TableProfile[];
}
