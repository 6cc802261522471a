/**
 * The run and task state machine, without I/O: given the graph and the tasks' states, what happens
 * next. The scheduler applies these decisions to the metadata store.
 */
export type TaskState =
  | 'scheduled'
  | 'queued'
  | 'running'
  | 'success'
  | 'failed'
  | 'up_for_retry'
  | 'skipped'
  | 'upstream_failed'
  /** Never ran (or its retry never came) because its run was stopped. */
  | 'cancelled';

export type RunState = 'queued' | 'running' | 'success' | 'failed' | 'cancelled';

/** How a stopped run ends: `failed` when its process was interrupted, `cancelled` when someone cancelled it. */
export type StopState = 'failed' | 'cancelled';

const DONE: ReadonlySet<TaskState> = new Set([
  'success',
  'failed',
  'skipped',
  'upstream_failed',
  'cancelled',
]);
const SATISFIES_DOWNSTREAM: ReadonlySet<TaskState> = new Set(['success', 'skipped']);
const BLOCKS_DOWNSTREAM: ReadonlySet<TaskState> = new Set(['failed', 'upstream_failed', 'cancelled']);
/** Task states that wait for a try which a stopped run will never give them. */
const AWAITING_A_TRY: ReadonlySet<TaskState> = new Set(['scheduled', 'queued', 'up_for_retry']);
const RUN_DONE: ReadonlySet<RunState> = new Set(['success', 'failed', 'cancelled']);

export function isDone(state: TaskState): boolean {
  return DONE.has(state);
}

export function isRunFinished(state: RunState): boolean {
  return RUN_DONE.has(state);
}

export interface TaskView {
  id: string;
  dependsOn: readonly string[];
  state: TaskState;
  /** For up_for_retry: when the next try may start. */
  nextTryAt?: Date;
}

export interface Decisions {
  /** Tasks whose upstream all succeeded (or were skipped), or whose retry delay has passed. */
  queue: string[];
  /** Tasks that cannot run because something upstream failed. */
  upstreamFailed: string[];
  /** Tasks that will not run because the run was stopped. */
  cancel: string[];
  /** The run's state once these decisions are applied, when it is over. */
  runOutcome?: 'success' | 'failed' | 'cancelled';
}

/**
 * What to do next with a run's tasks at `now`. A run being stopped (`stop`) starts nothing more: what waits for
 * a try is cancelled, and once its running tries have ended it ends in the stop's state.
 */
export function decide(tasks: readonly TaskView[], now: Date, stop?: StopState): Decisions {
  if (stop) return decideStopping(tasks, stop);
  const states = new Map(tasks.map((task) => [task.id, task.state]));
  // Upstream failure propagates through the whole graph in one decision.
  let changed = true;
  while (changed) {
    changed = false;
    for (const task of tasks) {
      if (states.get(task.id) !== 'scheduled') continue;
      if (task.dependsOn.some((dependency) => BLOCKS_DOWNSTREAM.has(states.get(dependency) ?? 'scheduled'))) {
        states.set(task.id, 'upstream_failed');
        changed = true;
      }
    }
  }
  const decisions: Decisions = { queue: [], upstreamFailed: [], cancel: [] };
  for (const task of tasks) {
    const state = states.get(task.id);
    if (state === 'upstream_failed' && task.state !== 'upstream_failed')
      decisions.upstreamFailed.push(task.id);
    const ready =
      state === 'scheduled' &&
      task.dependsOn.every((dependency) => SATISFIES_DOWNSTREAM.has(states.get(dependency) ?? 'scheduled'));
    const retryDue = state === 'up_for_retry' && (!task.nextTryAt || task.nextTryAt <= now);
    if (ready || retryDue) decisions.queue.push(task.id);
  }
  const finalStates = [...states.values()];
  if (decisions.queue.length === 0 && finalStates.every((state) => DONE.has(state))) {
    decisions.runOutcome = finalStates.every((state) => SATISFIES_DOWNSTREAM.has(state))
      ? 'success'
      : 'failed';
  }
  return decisions;
}

function decideStopping(tasks: readonly TaskView[], stop: StopState): Decisions {
  const cancel = tasks.filter((task) => AWAITING_A_TRY.has(task.state)).map((task) => task.id);
  const running = tasks.some((task) => task.state === 'running');
  return { queue: [], upstreamFailed: [], cancel, ...(!running && { runOutcome: stop }) };
}

/** Each task's latest try (the highest attempt number), by task id. */
export function latestAttempts<A extends { taskId: string; attempt: number }>(
  attempts: readonly A[],
): Map<string, A> {
  const latest = new Map<string, A>();
  for (const attempt of attempts) {
    const seen = latest.get(attempt.taskId);
    if (!seen || attempt.attempt > seen.attempt) latest.set(attempt.taskId, attempt);
  }
  return latest;
}
