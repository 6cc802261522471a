/**
 * Runs as people act on them: list and inspect them, trigger, backfill, clear and cancel. The CLI prints what these
 * return; the HTTP API sends it.
 */
import { NotFoundError } from '../core/errors.js';
import { buildTaskGraph } from '../core/graph.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import { latestAttempts, isRunFinished, type RunState, type TaskState } from '../core/run-state.js';
import { planTasks } from '../core/task-plan.js';
import { ago } from '../core/time-words.js';
import type {
  AttemptRecord,
  MetadataStore,
  RunRecord,
  TaskInstanceRecord,
} from '../metadata/metadata-store.js';
import { systemClock } from '../orchestrator/clock.js';
import { failAbandonedRuns, liveSchedulers } from '../orchestrator/liveness.js';
import { backfill, clearRun, triggerRun } from '../orchestrator/run-control.js';
import type { LocationFlags } from '../project/project.js';
import type { AppContext } from './context.js';
import { STALE_AFTER_MS, unservedQueuesOf } from './fleet.js';

export { STALE_AFTER_MS } from './fleet.js';

export const RUN_STATES = [
  'queued',
  'running',
  'success',
  'failed',
  'cancelled',
] as const satisfies readonly RunState[];

export async function requireRun(store: MetadataStore, runId: string): Promise<RunRecord> {
  const run = await store.getRun(runId);
  if (!run) {
    throw new NotFoundError(`no run ${runId}`, {
      context: { field: 'RUN' },
      hint: 'list runs with `medallion runs` (and check --db or the project file)',
    });
  }
  return run;
}

/** The pipeline of that name among the project's (or those `refs` load), or an error listing them. */
export async function findPipeline(
  ctx: AppContext,
  name: string,
  refs: readonly string[] = [],
): Promise<PipelineDefinition> {
  const pipelines = await ctx.project.pipelines(refs);
  const pipeline = pipelines.find((candidate) => candidate.name === name);
  if (!pipeline) {
    throw new NotFoundError(`no pipeline named ${name}`, {
      context: { field: 'PIPELINE' },
      hint: `known pipelines: ${pipelines.map((candidate) => candidate.name).join(', ') || 'none'} (load others with --pipeline FILE)`,
    });
  }
  return pipeline;
}

// ── reading ─────────────────────────────────────────────────────────────────────────────────────────────────

export interface TaskView extends TaskInstanceRecord {
  /** Every try, oldest first. */
  attempts: AttemptRecord[];
  latestAttempt: AttemptRecord | null;
  /** Why it is where it is, for people: the latest try's reason, what it waits for. */
  reason: string;
  /** The tasks it waits for, as the project defines the run's pipeline now (none when it is not known here). */
  dependsOn: string[];
  /** Queued in a queue no live worker serves: it waits for one to start. */
  waitingForQueue: string | null;
}

function taskReason(task: TaskInstanceRecord, attempt: AttemptRecord | null, unserved: boolean): string {
  const reasons = [
    unserved
      ? `waiting for queue ${task.queue}: no live worker serves it (start one with medallion worker --queues ${task.queue})`
      : undefined,
    attempt?.reason,
    task.state === 'upstream_failed' ? 'a task it depends on failed' : undefined,
    task.state === 'cancelled' && !attempt?.reason ? 'its run was stopped before it ran' : undefined,
    task.state === 'up_for_retry' && task.nextTryAt ? `next try at ${task.nextTryAt}` : undefined,
  ];
  return reasons.filter(Boolean).join('; ');
}

/** Each task with its tries, in the order they first started (those not started yet last). */
export function taskViews(
  instances: TaskInstanceRecord[],
  attempts: AttemptRecord[],
  dependencies: ReadonlyMap<string, string[]> = new Map(),
  unservedQueues: ReadonlySet<string> = new Set(),
): TaskView[] {
  const latest = latestAttempts(attempts);
  const firstStart = new Map<string, string>();
  for (const attempt of attempts) {
    const first = firstStart.get(attempt.taskId);
    if (!first || attempt.startedAt < first) firstStart.set(attempt.taskId, attempt.startedAt);
  }
  // ISO timestamps sort as text; '~' sorts after any of them.
  const order = (taskId: string): string => firstStart.get(taskId) ?? '~';
  return [...instances]
    .sort((a, b) => (order(a.taskId) < order(b.taskId) ? -1 : order(a.taskId) > order(b.taskId) ? 1 : 0))
    .map((instance) => {
      const latestAttempt = latest.get(instance.taskId) ?? null;
      const unserved = instance.state === 'queued' && unservedQueues.has(instance.queue);
      return {
        ...instance,
        attempts: attempts.filter((attempt) => attempt.taskId === instance.taskId),
        latestAttempt,
        reason: taskReason(instance, latestAttempt, unserved),
        dependsOn: dependencies.get(instance.taskId) ?? [],
        waitingForQueue: unserved ? instance.queue : null,
      };
    });
}

export interface RunDetail {
  run: RunRecord;
  tasks: TaskView[];
}

export async function runDetail(ctx: AppContext, runId: string): Promise<RunDetail> {
  const run = await requireRun(ctx.store, runId);
  const instances = await ctx.store.listTaskInstances(runId);
  return {
    run,
    tasks: taskViews(
      instances,
      await ctx.store.listAttempts(runId),
      await dependenciesOf(ctx, run.pipeline),
      await unservedQueuesOf(ctx.store, run, instances),
    ),
  };
}

/** Each task's upstream tasks in the project's definition of the pipeline (a Gantt shows what a try waited for). */
async function dependenciesOf(ctx: AppContext, pipeline: string): Promise<Map<string, string[]>> {
  const definition = (await ctx.project.pipelines()).find((candidate) => candidate.name === pipeline);
  return new Map(definition ? buildTaskGraph(definition).map((task) => [task.id, task.dependsOn]) : []);
}

/** The last runs of a pipeline × its tasks, as Airflow's grid shows them: oldest run first. */
export async function runGrid(
  ctx: AppContext,
  pipeline: string,
  limit: number,
): Promise<{
  tasks: string[];
  runs: (Pick<RunRecord, 'id' | 'state' | 'trigger' | 'logicalDate' | 'startedAt' | 'finishedAt'> & {
    cells: Record<string, TaskState>;
  })[];
}> {
  const definition = await findPipeline(ctx, pipeline);
  const runs = (await ctx.store.listRuns({ pipeline, limit })).reverse();
  const cells = new Map<string, Record<string, TaskState>>(runs.map((run) => [run.id, {}]));
  for (const task of await ctx.store.listTaskInstancesOfRuns(runs.map((run) => run.id))) {
    const row = cells.get(task.runId);
    if (row) row[task.taskId] = task.state;
  }
  return {
    tasks: planTasks(definition).map((task) => task.id),
    runs: runs.map(({ id, state, trigger, logicalDate, startedAt, finishedAt }) => ({
      id,
      state,
      trigger,
      logicalDate,
      startedAt,
      finishedAt,
      cells: cells.get(id) ?? {},
    })),
  };
}

// ── trigger, backfill ───────────────────────────────────────────────────────────────────────────────────────

export interface TriggerInput extends LocationFlags {
  params?: Record<string, unknown>;
  /** The instant the run stands for (default now). */
  logicalDate?: Date;
  force?: boolean;
  fullRefresh?: boolean;
  /** Pipeline modules to load besides the project's. */
  refs?: readonly string[];
}

/** A manual run of the pipeline on its locations (the project's, or those given), queued for a scheduler. */
export async function triggerPipeline(
  ctx: AppContext,
  name: string,
  input: TriggerInput,
): Promise<RunRecord> {
  const pipeline = await findPipeline(ctx, name, input.refs);
  return triggerRun(ctx.store, pipeline, {
    ...(input.params && { params: input.params }),
    ...(input.logicalDate && { logicalDate: input.logicalDate }),
    ...(input.force !== undefined && { force: input.force }),
    ...(input.fullRefresh !== undefined && { fullRefresh: input.fullRefresh }),
    now: new Date(),
    locations: ctx.project.requireLocations(pipeline, { ...ctx.locations, ...definedLocations(input) }),
  });
}

/** The locations the input names (those it leaves undefined fall back to the context's). */
function definedLocations(input: LocationFlags): LocationFlags {
  return {
    ...(input.lake && { lake: input.lake }),
    ...(input.source && { source: input.source }),
    ...(input.engine && { engine: input.engine }),
  };
}

export interface BackfillInput extends LocationFlags {
  from: Date;
  to: Date;
  params?: Record<string, unknown>;
  force?: boolean;
  refs?: readonly string[];
}

export async function backfillPipeline(
  ctx: AppContext,
  name: string,
  input: BackfillInput,
): Promise<{ pipeline: PipelineDefinition; runs: { run: RunRecord; created: boolean }[] }> {
  const pipeline = await findPipeline(ctx, name, input.refs);
  const runs = await backfill(ctx.store, pipeline, input.from, input.to, new Date(), {
    ...(input.params && { params: input.params }),
    ...(input.force !== undefined && { force: input.force }),
    locations: ctx.project.requireLocations(pipeline, { ...ctx.locations, ...definedLocations(input) }),
  });
  return { pipeline, runs };
}

// ── clear, cancel ───────────────────────────────────────────────────────────────────────────────────────────

export async function clearRunTasks(
  ctx: AppContext,
  runId: string,
  input: { tasks?: readonly string[]; refs?: readonly string[] } = {},
): Promise<{ run: RunRecord; cleared: string[] }> {
  const run = await requireRun(ctx.store, runId);
  const pipeline = await findPipeline(ctx, run.pipeline, input.refs);
  const cleared = await clearRun(
    ctx.store,
    pipeline,
    runId,
    input.tasks && input.tasks.length > 0 ? { tasks: input.tasks } : {},
  );
  return { run, cleared };
}

/**
 * Asks the run to stop, wherever it runs: its tries stop at their next heartbeat and its scheduler ends it
 * `cancelled`. When no live process will (its owner is gone, no scheduler runs its pipeline), ends it here.
 * Returns the run as it is then (`already`: it had finished before).
 */
export async function cancelRun(
  ctx: AppContext,
  runId: string,
): Promise<{ run: RunRecord; already: boolean }> {
  const before = await requireRun(ctx.store, runId);
  if (isRunFinished(before.state)) return { run: before, already: true };
  const reason = `cancelled by ${ctx.actor}`;
  const asked = await ctx.store.requestStop(runId, { state: 'cancelled', reason }, new Date().toISOString());
  let run = asked ?? before;
  if (!isRunFinished(run.state) && !(await someoneWillFinish(ctx.store, run))) {
    await ctx.store.endRun(runId, { state: 'cancelled', reason, finishedAt: new Date().toISOString() });
    run = await requireRun(ctx.store, runId);
  }
  return { run, already: false };
}

/** Whether a live process will bring the stopping run to its end. */
async function someoneWillFinish(store: MetadataStore, run: RunRecord): Promise<boolean> {
  const now = new Date();
  if (run.owner !== null) {
    return (await failAbandonedRuns(store, [run], { now, staleAfterMs: STALE_AFTER_MS })).length === 0;
  }
  return (await liveSchedulers(store, run.pipeline, now, STALE_AFTER_MS)).length > 0;
}

// ── waiting ─────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * Waits for the run to end. Tells `notice` at once when no live scheduler runs its pipeline (and again if the
 * last one goes), and when its queued tasks wait for a queue no live worker serves; ends runs abandoned by a dead
 * `medallion run` process that it comes across.
 */
export async function waitForRun(
  store: MetadataStore,
  runId: string,
  options: { pollMs: number; notice: (message: string) => void; signal?: AbortSignal },
): Promise<RunRecord> {
  let warned = false;
  let unservedSaid = '';
  for (;;) {
    const run = await requireRun(store, runId);
    if (isRunFinished(run.state) || options.signal?.aborted) return run;
    const now = new Date();
    await failAbandonedRuns(store, await store.listRuns({ states: ['queued', 'running'] }), {
      now,
      staleAfterMs: STALE_AFTER_MS,
    });
    const live = run.owner === null && (await liveSchedulers(store, run.pipeline, now, STALE_AFTER_MS));
    if (live && live.length === 0 && !warned) {
      options.notice(await noSchedulerMessage(store, run.pipeline));
      warned = true;
    } else if (live && live.length > 0) warned = false;
    const unserved = [...(await unservedQueuesOf(store, run, await store.listTaskInstances(run.id)))].join(
      ', ',
    );
    if (unserved !== '' && unserved !== unservedSaid) {
      options.notice(
        `tasks of ${run.id} wait for queue ${unserved}: no live worker serves it; start one with ` +
          `\`medallion worker --queues ${unserved.replaceAll(' ', '')}\` (still waiting: Ctrl-C to stop)`,
      );
    }
    unservedSaid = unserved;
    await systemClock.sleep(options.pollMs, options.signal);
  }
}

async function noSchedulerMessage(store: MetadataStore, pipeline: string): Promise<string> {
  const last = (await store.listProcesses({ includeStopped: true })).find(
    (record) =>
      (record.kind === 'scheduler' || record.kind === 'serve') &&
      record.pipelines.some((loaded) => loaded.name === pipeline),
  );
  const seen = last
    ? `no scheduler running ${pipeline} has been seen for ${ago(last.stoppedAt ?? last.heartbeatAt)}`
    : `no scheduler has ever run ${pipeline} on this database`;
  return `${seen}; start one with \`medallion scheduler\` or use \`medallion run\` (still waiting: Ctrl-C to stop)`;
}
