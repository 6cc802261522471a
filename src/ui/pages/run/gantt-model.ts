/**
 * What the Gantt of a run draws, without drawing it: a row per task, a bar per try from its start to its end (a
 * running one to now), and before each the wait since it could have started — the run's start, the end of the tasks
 * it depends on, or its previous try's end, whichever came last — of which the last part, from when its task was
 * queued, is the wait for a worker.
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
  /** When its task was queued for it (between readyAt and start): from then on it waited for a worker; null: unknown. */
  queuedAt: number | null;
  start: number;
  end: number;
  /** The queue no live worker serves, which a queued task waits for (on its waiting bar only). */
  waitingForQueue: string | null;
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

/** `queued` within [readyAt, start] (clocks of two machines may disagree a little); null stays null. */
function queuedBetween(queued: string | null, readyAt: number, start: number): number | null {
  return queued === null ? null : Math.min(Math.max(time(queued), readyAt), start);
}

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
      const ready = readyAt(task, task.attempts[index - 1], start);
      bars.push({
        row,
        task: task.taskId,
        attempt,
        outcome: tryOutcome(task, attempt),
        readyAt: ready,
        queuedAt: queuedBetween(attempt.queuedAt, ready, start),
        start,
        end: attempt.finishedAt ? time(attempt.finishedAt) : Math.max(now, start),
        waitingForQueue: null,
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
        // A queued task was last changed when it was queued; one up for retry is not queued yet.
        queuedAt: task.state === 'queued' ? queuedBetween(task.updatedAt, since, now) : null,
        start: now,
        end: now,
        waitingForQueue: task.waitingForQueue,
      });
    }
  });
  const origin = Math.min(runStart, ...bars.map((bar) => bar.readyAt));
  return { rows: tasks.map((task) => task.taskId), bars, origin };
}
