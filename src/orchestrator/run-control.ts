import { createHash, randomBytes } from 'node:crypto';
import { MedallionError } from '../core/errors.js';
import { resolveParams } from '../core/params.js';
import type { PipelineDefinition } from '../core/pipeline.js';
import { intervalsBetween, type DataInterval, type Schedule } from '../core/schedule.js';
import { planTasks, type PlannedTask } from '../core/task-plan.js';
import type {
  MetadataStore,
  NewRun,
  RunLocations,
  RunRecord,
  RunTrigger,
} from '../metadata/metadata-store.js';

/**
 * What people (and the CLI) do to runs besides waiting for the schedule: trigger, backfill, clear, pause. Each
 * writes to the metadata store only; a scheduler process picks the runs up.
 */

export function newRunId(now: Date): string {
  return `run_${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')}_${randomBytes(3).toString('hex')}`;
}

/** A stable hash of the definition, code included: it changes when the pipeline's behaviour may. */
export function definitionHash(pipeline: PipelineDefinition): string {
  const text = JSON.stringify(pipeline, (_key, value: unknown) =>
    typeof value === 'function' ? value.toString() : value,
  );
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The lock two runs of one pipeline on one lake share: one of them writes the lake at a time. */
export function leaseKey(pipeline: string, lake: string): string {
  return `${pipeline}@${lake}`;
}

export async function registerPipelines(
  store: MetadataStore,
  pipelines: readonly PipelineDefinition[],
): Promise<void> {
  for (const pipeline of pipelines) await store.upsertPipeline(pipeline.name, definitionHash(pipeline));
}

/** The schedule of a pipeline in the form schedule.ts computes with; undefined for a pipeline without one. */
export function scheduleOf(pipeline: PipelineDefinition): Schedule | undefined {
  const schedule = pipeline.schedule;
  if (!schedule) return undefined;
  return {
    spec:
      schedule.every !== undefined
        ? { every: schedule.every }
        : { cron: schedule.cron ?? '', ...(schedule.timezone ? { timezone: schedule.timezone } : {}) },
    startDate: schedule.startDate,
    catchup: schedule.catchup ?? false,
    maxActiveRuns: schedule.maxActiveRuns ?? 1,
  };
}

/** Where and by whom a new run is run: fixed at its creation. */
export interface RunPlacement {
  /** Where it reads and writes (absent: only a runner that needs none can execute it). */
  locations?: RunLocations;
  /** The process that drives it alone (`medallion run`); absent: any scheduler. */
  owner?: string;
}

export interface RunRequest extends RunPlacement {
  trigger: RunTrigger;
  interval: DataInterval;
  /** The fingerprint of the definition (default: computed from it). */
  definitionHash?: string;
  params?: Record<string, unknown>;
  force?: boolean;
  fullRefresh?: boolean;
  /** Honour the tasks' retry policies (default true); false: one try each. */
  retries?: boolean;
  now: Date;
}

/** A new run of every task of the pipeline, parameters checked against its declarations. */
export function newRun(pipeline: PipelineDefinition, request: RunRequest): NewRun {
  return {
    id: newRunId(request.now),
    pipeline: pipeline.name,
    logicalDate: request.interval.start.toISOString(),
    dataIntervalStart: request.interval.start.toISOString(),
    dataIntervalEnd: request.interval.end.toISOString(),
    trigger: request.trigger,
    params: resolveParams(pipeline.params, request.params ?? {}),
    force: request.force ?? false,
    fullRefresh: request.fullRefresh ?? false,
    ...(request.locations && { locations: request.locations }),
    definitionHash: request.definitionHash ?? definitionHash(pipeline),
    ...(request.owner && { owner: request.owner }),
    tasks: planTasks(pipeline).map((task) => ({
      taskId: task.id,
      maxTries: request.retries === false ? 1 : task.retry.retries + 1,
      queue: task.queue,
    })),
  };
}

export interface TriggerOptions extends RunPlacement {
  params?: Record<string, unknown>;
  /** The instant the run stands for (default: now). */
  logicalDate?: Date;
  force?: boolean;
  fullRefresh?: boolean;
  retries?: boolean;
  now: Date;
}

/** A manual run, queued for a scheduler (or `medallion run`) to execute. */
export async function triggerRun(
  store: MetadataStore,
  pipeline: PipelineDefinition,
  options: TriggerOptions,
): Promise<RunRecord> {
  const at = options.logicalDate ?? options.now;
  const { run } = await store.createRun(
    newRun(pipeline, {
      trigger: 'manual',
      interval: { start: at, end: at },
      ...(options.params && { params: options.params }),
      ...(options.force !== undefined && { force: options.force }),
      ...(options.fullRefresh !== undefined && { fullRefresh: options.fullRefresh }),
      ...(options.retries !== undefined && { retries: options.retries }),
      ...(options.locations && { locations: options.locations }),
      ...(options.owner && { owner: options.owner }),
      now: options.now,
    }),
  );
  return run;
}

/**
 * The runs of every schedule interval starting in [from, to], created oldest first; an interval that already has
 * a scheduled or backfilled run keeps it (`created: false`). They start in logical-date order, at most the
 * pipeline's maxActiveRuns at once.
 */
export async function backfill(
  store: MetadataStore,
  pipeline: PipelineDefinition,
  from: Date,
  to: Date,
  now: Date,
  options: { params?: Record<string, unknown>; force?: boolean; locations?: RunLocations } = {},
): Promise<{ run: RunRecord; created: boolean }[]> {
  const schedule = scheduleOf(pipeline);
  if (!schedule) {
    throw new MedallionError(`pipeline ${pipeline.name} has no schedule to backfill`, {
      hint: 'add a schedule (cron or every) to its definition, or trigger runs one by one',
    });
  }
  if (from > to) throw new MedallionError(`--from ${from.toISOString()} is after --to ${to.toISOString()}`);
  const runs: { run: RunRecord; created: boolean }[] = [];
  for (const interval of intervalsBetween(schedule, from, to)) {
    runs.push(await store.createRun(newRun(pipeline, { trigger: 'backfill', interval, ...options, now })));
  }
  return runs;
}

/**
 * Makes the failed (or cancelled) tasks of a run, and those that did not run because of them, run again, each with
 * a fresh allowance of retries; the run is queued again when it had finished, planned from the pipeline's current
 * definition (its task list must not have changed). Returns the task ids cleared.
 */
export async function clearRun(
  store: MetadataStore,
  pipeline: PipelineDefinition,
  runId: string,
  options: { tasks?: readonly string[] } = {},
): Promise<string[]> {
  const run = await store.getRun(runId);
  if (!run) throw new MedallionError(`no run ${runId}`, { hint: 'list runs with `medallion runs`' });
  const plan = new Map(planTasks(pipeline).map((task) => [task.id, task]));
  for (const taskId of options.tasks ?? []) {
    if (!plan.has(taskId)) throw new MedallionError(`run ${runId} has no task ${taskId}`);
  }
  const instances = await store.listTaskInstances(runId);
  const hash = definitionHash(pipeline);
  if (run.definitionHash !== null && run.definitionHash !== hash) {
    const planned = [...plan.keys()].sort().join(',');
    if (
      planned !==
      instances
        .map((instance) => instance.taskId)
        .sort()
        .join(',')
    ) {
      throw new MedallionError(`the tasks of ${pipeline.name} changed since run ${runId} was planned`, {
        hint: `trigger a new run: \`medallion trigger ${pipeline.name}\``,
      });
    }
  }
  const chosen = new Set(
    instances
      .filter((instance) => instance.state === 'failed' || instance.state === 'cancelled')
      .map((instance) => instance.taskId)
      .filter((taskId) => options.tasks === undefined || options.tasks.includes(taskId)),
  );
  // What did not run because of the chosen tasks runs again with them; nothing else.
  const below = downstreamOf(chosen, [...plan.values()]);
  return store.rescheduleTasks(
    runId,
    instances
      .filter(
        (instance) =>
          chosen.has(instance.taskId) || (instance.state === 'upstream_failed' && below.has(instance.taskId)),
      )
      .map((instance) => ({
        taskId: instance.taskId,
        from: instance.state,
        maxTries: instance.tryNumber + (plan.get(instance.taskId)?.retry.retries ?? 0) + 1,
      })),
    { definitionHash: hash },
  );
}

/** Every task that depends, directly or not, on one of `roots`. */
function downstreamOf(roots: ReadonlySet<string>, tasks: readonly PlannedTask[]): Set<string> {
  const found = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const task of tasks) {
      if (found.has(task.id)) continue;
      if (task.dependsOn.some((dependency) => roots.has(dependency) || found.has(dependency))) {
        found.add(task.id);
        grew = true;
      }
    }
  }
  return found;
}
