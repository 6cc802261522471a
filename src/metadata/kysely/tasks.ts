import type { Kysely, Selectable, Updateable } from 'kysely';
import type { TaskState } from '../../core/run-state.js';
import type { TaskInstanceRecord, TaskTransitionFields } from '../records.js';
import type { Database, TaskInstancesTable } from '../schema.js';
import { chunks, compare, iso, TRANSITION_CHUNK, type StoreCore } from './store-core.js';

export async function listTaskInstances(core: StoreCore, runId: string): Promise<TaskInstanceRecord[]> {
  const rows = await core.db
    .selectFrom('medallion_task_instances')
    .selectAll()
    .where('run_id', '=', runId)
    .orderBy('task_id')
    .execute();
  return rows.map(toTaskInstance);
}

export async function listTaskInstancesOfRuns(
  core: StoreCore,
  runIds: readonly string[],
): Promise<TaskInstanceRecord[]> {
  const found: TaskInstanceRecord[] = [];
  for (const chunk of chunks([...runIds], TRANSITION_CHUNK)) {
    const rows = await core.db
      .selectFrom('medallion_task_instances')
      .selectAll()
      .where('run_id', 'in', chunk)
      .orderBy('run_id')
      .orderBy('task_id')
      .execute();
    found.push(...rows.map(toTaskInstance));
  }
  return found;
}

export async function getTaskInstance(
  core: StoreCore,
  runId: string,
  taskId: string,
): Promise<TaskInstanceRecord | undefined> {
  const row = await core.db
    .selectFrom('medallion_task_instances')
    .selectAll()
    .where('run_id', '=', runId)
    .where('task_id', '=', taskId)
    .executeTakeFirst();
  return row && toTaskInstance(row);
}

export async function transitionTask(
  core: StoreCore,
  runId: string,
  taskId: string,
  from: TaskState[],
  to: TaskState,
  fields: TaskTransitionFields = {},
): Promise<boolean> {
  if (from.length === 0) return false;
  const result = await core.db
    .updateTable('medallion_task_instances')
    .set(taskChanges(core, to, fields))
    .where('run_id', '=', runId)
    .where('task_id', '=', taskId)
    .where('state', 'in', from)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function transitionTasks(
  core: StoreCore,
  runId: string,
  taskIds: readonly string[],
  from: TaskState[],
  to: TaskState,
  fields: TaskTransitionFields = {},
  db: Kysely<Database> = core.db,
): Promise<string[]> {
  if (from.length === 0 || taskIds.length === 0) return [];
  const changes = taskChanges(core, to, fields);
  const changed: string[] = [];
  for (const chunk of chunks([...new Set(taskIds)], TRANSITION_CHUNK)) {
    const rows = await db
      .updateTable('medallion_task_instances')
      .set(changes)
      .where('run_id', '=', runId)
      .where('task_id', 'in', chunk)
      .where('state', 'in', from)
      .returning('task_id')
      .execute();
    changed.push(...rows.map((row) => row.task_id));
  }
  return changed.sort(compare);
}

/** Every task of the run in one of `from` moves to `to` (one statement, inside the caller's transaction). */
export async function transitionAllTasks(
  core: StoreCore,
  db: Kysely<Database>,
  runId: string,
  from: TaskState[],
  to: TaskState,
): Promise<void> {
  await db
    .updateTable('medallion_task_instances')
    .set(taskChanges(core, to, { nextTryAt: null }))
    .where('run_id', '=', runId)
    .where('state', 'in', from)
    .execute();
}

export async function rescheduleTasks(
  core: StoreCore,
  runId: string,
  tasks: readonly { taskId: string; from: TaskState; maxTries: number }[],
  options: { definitionHash?: string } = {},
): Promise<string[]> {
  if (tasks.length === 0) return [];
  return core.write(async (trx) => {
    const changed: string[] = [];
    for (const task of tasks) {
      const result = await trx
        .updateTable('medallion_task_instances')
        .set(taskChanges(core, 'scheduled', { nextTryAt: null, maxTries: task.maxTries }))
        .where('run_id', '=', runId)
        .where('task_id', '=', task.taskId)
        .where('state', '=', task.from)
        .executeTakeFirst();
      if (result.numUpdatedRows > 0n) changed.push(task.taskId);
    }
    if (changed.length > 0) {
      // A cleared run starts afresh: a stop asked of its earlier life does not carry over, and any scheduler may
      // run it (the `medallion run` process that drove it alone is gone).
      await trx
        .updateTable('medallion_runs')
        .set({
          state: 'queued',
          owner: null,
          stop_state: null,
          stop_reason: null,
          stop_requested_at: null,
          ...(options.definitionHash !== undefined && { definition_hash: options.definitionHash }),
        })
        .where('id', '=', runId)
        .where('state', 'in', ['failed', 'success', 'cancelled'])
        .execute();
    }
    return changed.sort(compare);
  });
}

/** The columns a task transition sets: the state, updatedAt, and the fields given. */
export function taskChanges(
  core: StoreCore,
  to: TaskState,
  fields: TaskTransitionFields,
): Updateable<TaskInstancesTable> {
  return {
    state: to,
    updated_at: core.now(),
    ...(to === 'queued' && { queued_at: core.now() }),
    ...(fields.nextTryAt !== undefined && {
      next_try_at: fields.nextTryAt === null ? null : iso(fields.nextTryAt, 'nextTryAt'),
    }),
    ...(fields.fingerprint !== undefined && { fingerprint: fields.fingerprint }),
    ...(fields.maxTries !== undefined && { max_tries: fields.maxTries }),
  };
}

export async function lastSuccessFingerprint(
  core: StoreCore,
  pipeline: string,
  taskId: string,
  lake?: string,
): Promise<string | undefined> {
  const row = await core.db
    .selectFrom('medallion_task_instances as task')
    .innerJoin('medallion_runs as run', 'run.id', 'task.run_id')
    .select('task.fingerprint')
    .where('run.pipeline', '=', pipeline)
    .$if(lake !== undefined, (query) => query.where('run.lake_location', '=', lake ?? ''))
    .where('task.task_id', '=', taskId)
    .where('task.state', '=', 'success')
    .where('task.fingerprint', 'is not', null)
    .orderBy('task.updated_at', 'desc')
    .orderBy('run.logical_date', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.fingerprint ?? undefined;
}

function toTaskInstance(row: Selectable<TaskInstancesTable>): TaskInstanceRecord {
  return {
    runId: row.run_id,
    taskId: row.task_id,
    state: row.state,
    tryNumber: Number(row.try_number),
    maxTries: Number(row.max_tries),
    nextTryAt: row.next_try_at,
    fingerprint: row.fingerprint,
    updatedAt: row.updated_at,
    queue: row.queue,
  };
}
