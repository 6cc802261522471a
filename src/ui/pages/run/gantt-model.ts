/**
 * What the Gantt of a run draws, without drawing it: a row per task, a bar per try from its start to its end (a
 * running one to now), and before each the wait since it could have started — the run's start, the end of the tasks
 * it depends on, or its previous try's end, whichever came last.
 */
import type { RunDetail, TaskView } from '../../../app/runs.js';
import type { AttemptRecord } from '../../../metadata/metadata-store.js';

/** How a try ended, in the words (and colours) of task states. */
export type TryOutcome = 'running' | 'success' | 'skipped' | 'failed' | 'up_for_retry' | 'cancelled';

export interface GanttBar {
  row: number;
  task: string;
  /** null: no try yet, the task waits for one (queued, or a retry's delay). */
  attempt: AttemptRecord | null;
  outcome: TryOutcome | 'waiting';
  /** Epoch milliseconds. */
  readyAt: number;
  start: number;
  end: number;
}

export interface Gantt {
  rows: string[];
  bars: GanttBar[];
  /** Where the time axis starts: the run's start, or its first try's if earlier. */
  origin: number;
}

export function tryOutcome(task: TaskView, attempt: AttemptRecord): TryOutcome {
  if (attempt.state === 'running') return 'running';
  if (attempt.state === 'success') return attempt.reason?.startsWith('skipped') ? 'skipped' : 'success';
  const last = task.attempts.at(-1)?.attempt === attempt.attempt;
  if (!last || task.state === 'up_for_retry') return 'up_for_retry';
  return task.state === 'cancelled' ? 'cancelled' : 'failed';
}

const time = (iso: string): number => Date.parse(iso);

/** The latest of the instants that are not after `before` (undefined: none is). */
function latestUpTo(instants: number[], before: number): number | undefined {
  const eligible = instants.filter((instant) => instant <= before);
  return eligible.length > 0 ? Math.max(...eligible) : undefined;
}

export function buildGantt(detail: RunDetail, now: number): Gantt {
  const { run, tasks } = detail;
  const runStart = time(run.startedAt ?? run.createdAt);
  const ends = new Map(
    tasks.map((task) => [
      task.taskId,
      task.attempts.flatMap((attempt) => (attempt.finishedAt ? [time(attempt.finishedAt)] : [])),
    ]),
  );
  /** When the task could have started at `at`: what it waited for had all ended by then. */
  const readyAt = (task: TaskView, previous: AttemptRecord | undefined, at: number): number => {
    const candidates = [
      runStart,
      ...(previous?.finishedAt ? [time(previous.finishedAt)] : []),
      ...task.dependsOn.flatMap((upstream) => latestUpTo(ends.get(upstream) ?? [], at) ?? []),
    ];
    return latestUpTo(candidates, at) ?? at;
  };
  const bars: GanttBar[] = [];
  tasks.forEach((task, row) => {
    task.attempts.forEach((attempt, index) => {
      const start = time(attempt.startedAt);
      bars.push({
        row,
        task: task.taskId,
        attempt,
        outcome: tryOutcome(task, attempt),
        readyAt: readyAt(task, task.attempts[index - 1], start),
        start,
        end: attempt.finishedAt ? time(attempt.finishedAt) : Math.max(now, start),
      });
    });
    const waiting = task.state === 'queued' || task.state === 'up_for_retry';
    if (waiting && run.state === 'running') {
      const since = readyAt(task, task.attempts.at(-1), now);
      bars.push({
        row,
        task: task.taskId,
        attempt: null,
        outcome: 'waiting',
        readyAt: since,
        start: now,
        end: now,
      });
    }
  });
  const origin = Math.min(runStart, ...bars.map((bar) => bar.readyAt));
  return { rows: tasks.map((task) => task.taskId), bars, origin };
}
