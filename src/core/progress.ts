/** Events a run emits while it works, for the CLI's progress lines (or a UI later). */
export type ProgressEvent =
  | { type: 'run-created'; runId: string; pipeline: string; logicalDate: string; trigger: string }
  | { type: 'run-started'; runId: string; pipeline: string; tasks: string[] }
  | { type: 'task-started'; task: string }
  | { type: 'task-progress'; task: string; message: string }
  | {
      type: 'task-finished';
      task: string;
      status: 'success' | 'failed' | 'skipped';
      durationMs: number;
      detail: string;
    }
  | { type: 'run-finished'; runId: string; status: 'success' | 'failed' | 'cancelled'; durationMs: number }
  /** A run this process does not start or execute for now, and why (a lock, another definition…). */
  | { type: 'run-waiting'; runId: string; pipeline: string; reason: string }
  /** A run whose process is gone, ended as failed. */
  | { type: 'run-abandoned'; runId: string; pipeline: string; reason: string };

export type ProgressListener = (event: ProgressEvent) => void;
