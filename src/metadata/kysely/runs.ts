import { DEFAULT_QUEUE } from '../../core/queues.js';
import type { Kysely, Selectable } from 'kysely';
import { MedallionError } from '../../core/errors.js';
import type { RetentionSettings } from '../../core/retention.js';
import { isRunFinished, type RunState } from '../../core/run-state.js';
import type {
  LeaseRequest,
  NewRun,
  RunEnd,
  RunEngine,
  RunFilter,
  RunRecord,
  RunStop,
  RunTransitionFields,
  RunTrigger,
  StartRunResult,
} from '../records.js';
import type { Database, RunsTable } from '../schema.js';
import { failRunningAttempts } from './attempts.js';
import { acquireLease, releaseLeases } from './leases.js';
import { chunks, INSERT_CHUNK, iso, parseJsonObject, toJson, type StoreCore } from './store-core.js';
import { transitionAllTasks } from './tasks.js';

const ACTIVE: RunState[] = ['queued', 'running'];

export async function createRun(core: StoreCore, run: NewRun): Promise<{ run: RunRecord; created: boolean }> {
  const row: Selectable<RunsTable> = {
    id: run.id,
    pipeline: run.pipeline,
    logical_date: iso(run.logicalDate, 'logicalDate'),
    data_interval_start: iso(run.dataIntervalStart, 'dataIntervalStart'),
    data_interval_end: iso(run.dataIntervalEnd, 'dataIntervalEnd'),
    trigger: run.trigger,
    params: JSON.stringify(run.params),
    state: 'queued',
    created_at: core.now(),
    started_at: null,
    finished_at: null,
    summary: null,
    force: run.force ? 1 : 0,
    full_refresh: run.fullRefresh ? 1 : 0,
    source_location: run.locations?.source ?? null,
    lake_location: run.locations?.lake ?? null,
    engine: run.locations?.engine ? JSON.stringify(run.locations.engine) : null,
    retention: run.locations?.retention ? JSON.stringify(run.locations.retention) : null,
    definition_hash: run.definitionHash ?? null,
    owner: run.owner ?? null,
    stop_state: null,
    stop_reason: null,
    stop_requested_at: null,
  };
  const taskIds = new Set<string>();
  for (const task of run.tasks) {
    if (taskIds.has(task.taskId)) throw new MedallionError(`run ${run.id}: task ${task.taskId} listed twice`);
    taskIds.add(task.taskId);
  }
  return core.write(async (trx) => {
    // A conflict on the one-run-per-logical-date index (or on the id) inserts nothing. On PostgreSQL a
    // concurrent insert of the same key waits for the other transaction, then does nothing if it committed.
    const inserted = await trx
      .insertInto('medallion_runs')
      .values(row)
      .onConflict((conflict) => conflict.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) {
      for (const chunk of chunks(run.tasks, INSERT_CHUNK)) {
        await trx
          .insertInto('medallion_task_instances')
          .values(
            chunk.map((task) => ({
              run_id: run.id,
              task_id: task.taskId,
              state: 'scheduled' as const,
              try_number: 0,
              max_tries: task.maxTries,
              next_try_at: null,
              fingerprint: null,
              updated_at: row.created_at,
              queue: task.queue ?? DEFAULT_QUEUE,
            })),
          )
          .execute();
      }
      return { run: toRun(inserted), created: true };
    }
    const existing =
      run.trigger === 'manual'
        ? undefined
        : await trx
            .selectFrom('medallion_runs')
            .selectAll()
            .where('pipeline', '=', row.pipeline)
            .where('logical_date', '=', row.logical_date)
            .where('trigger', '<>', 'manual')
            .executeTakeFirst();
    if (!existing) throw new MedallionError(`a run with id ${run.id} already exists`);
    return { run: toRun(existing), created: false };
  });
}

export async function getRun(core: StoreCore, id: string): Promise<RunRecord | undefined> {
  const row = await core.db.selectFrom('medallion_runs').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRun(row);
}

export async function listRuns(core: StoreCore, filter: RunFilter = {}): Promise<RunRecord[]> {
  const { pipeline, states, limit } = filter;
  if (states && states.length === 0) return [];
  const rows = await core.db
    .selectFrom('medallion_runs')
    .selectAll()
    .$if(pipeline !== undefined, (query) => query.where('pipeline', '=', pipeline ?? ''))
    .$if(states !== undefined, (query) => query.where('state', 'in', states ?? []))
    .orderBy('logical_date', 'desc')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .$if(limit !== undefined, (query) => query.limit(limit ?? 0))
    .execute();
  return rows.map(toRun);
}

export async function latestLogicalDate(
  core: StoreCore,
  pipeline: string,
  triggers?: RunTrigger[],
): Promise<string | undefined> {
  if (triggers && triggers.length === 0) return undefined;
  const row = await core.db
    .selectFrom('medallion_runs')
    .select((eb) => eb.fn.max('logical_date').as('latest'))
    .where('pipeline', '=', pipeline)
    .$if(triggers !== undefined, (query) => query.where('trigger', 'in', triggers ?? []))
    .executeTakeFirst();
  return row?.latest ?? undefined;
}

export async function transitionRun(
  core: StoreCore,
  id: string,
  from: RunState[],
  to: RunState,
  fields: RunTransitionFields = {},
): Promise<boolean> {
  if (from.length === 0) return false;
  const transition = async (db: Kysely<Database>): Promise<boolean> => {
    const result = await db
      .updateTable('medallion_runs')
      .set({
        state: to,
        ...(fields.startedAt !== undefined && { started_at: iso(fields.startedAt, 'startedAt') }),
        ...(fields.finishedAt !== undefined && { finished_at: iso(fields.finishedAt, 'finishedAt') }),
        ...(fields.summary !== undefined && { summary: toJson(fields.summary) }),
      })
      .where('id', '=', id)
      .where('state', 'in', from)
      .executeTakeFirst();
    const changed = result.numUpdatedRows > 0n;
    if (changed && isRunFinished(to)) await releaseLeases(db, id);
    return changed;
  };
  return isRunFinished(to) ? core.write(transition) : transition(core.db);
}

export async function startRun(
  core: StoreCore,
  id: string,
  now: string,
  lease?: LeaseRequest,
): Promise<StartRunResult> {
  const at = iso(now, 'now');
  return core.write(async (trx) => {
    if (lease) {
      const heldBy = await acquireLease(trx, id, lease, at);
      if (heldBy) return { started: false, heldBy };
    }
    const result = await trx
      .updateTable('medallion_runs')
      .set({ state: 'running', started_at: at })
      .where('id', '=', id)
      .where('state', '=', 'queued')
      .executeTakeFirst();
    return { started: result.numUpdatedRows > 0n };
  });
}

export async function requestStop(
  core: StoreCore,
  id: string,
  stop: Omit<RunStop, 'requestedAt'>,
  now: string,
): Promise<RunRecord | undefined> {
  const at = iso(now, 'now');
  return core.write(async (trx) => {
    const fields = { stop_state: stop.state, stop_reason: stop.reason, stop_requested_at: at };
    const queued = await trx
      .updateTable('medallion_runs')
      .set({ ...fields, state: stop.state, finished_at: at })
      .where('id', '=', id)
      .where('state', '=', 'queued')
      .where('stop_state', 'is', null)
      .executeTakeFirst();
    if (queued.numUpdatedRows > 0n) {
      await transitionAllTasks(core, trx, id, ['scheduled', 'queued', 'up_for_retry'], 'cancelled');
      await releaseLeases(trx, id);
    } else {
      await trx
        .updateTable('medallion_runs')
        .set(fields)
        .where('id', '=', id)
        .where('state', '=', 'running')
        .where('stop_state', 'is', null)
        .execute();
    }
    const row = await trx.selectFrom('medallion_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRun(row);
  });
}

export async function endRun(core: StoreCore, id: string, end: RunEnd): Promise<boolean> {
  const at = iso(end.finishedAt, 'finishedAt');
  return core.write(async (trx) => {
    const run = await trx
      .selectFrom('medallion_runs')
      .select(['stop_state', 'stop_reason', 'stop_requested_at'])
      .where('id', '=', id)
      .where('state', 'in', ACTIVE)
      .executeTakeFirst();
    if (!run) return false;
    await trx
      .updateTable('medallion_runs')
      .set({
        state: end.state,
        finished_at: at,
        stop_state: run.stop_state ?? end.state,
        stop_reason: run.stop_reason ?? end.reason,
        stop_requested_at: run.stop_requested_at ?? at,
      })
      .where('id', '=', id)
      .execute();
    await transitionAllTasks(core, trx, id, ['scheduled', 'queued', 'up_for_retry'], 'cancelled');
    await transitionAllTasks(core, trx, id, ['running'], end.state === 'cancelled' ? 'cancelled' : 'failed');
    await failRunningAttempts(trx, id, end.reason, at);
    await releaseLeases(trx, id);
    return true;
  });
}

function toRun(row: Selectable<RunsTable>): RunRecord {
  return {
    id: row.id,
    pipeline: row.pipeline,
    logicalDate: row.logical_date,
    dataIntervalStart: row.data_interval_start,
    dataIntervalEnd: row.data_interval_end,
    trigger: row.trigger,
    params: parseJsonObject(row.params),
    state: row.state,
    force: Number(row.force) === 1,
    fullRefresh: Number(row.full_refresh) === 1,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    summary: row.summary === null ? null : (JSON.parse(row.summary) as unknown),
    locations:
      row.lake_location === null
        ? null
        : {
            source: row.source_location,
            lake: row.lake_location,
            ...(row.engine !== null && { engine: JSON.parse(row.engine) as RunEngine }),
            ...(row.retention !== null && { retention: JSON.parse(row.retention) as RetentionSettings }),
          },
    definitionHash: row.definition_hash,
    owner: row.owner,
    stop:
      row.stop_state === null
        ? null
        : {
            state: row.stop_state,
            reason: row.stop_reason ?? '',
            requestedAt: row.stop_requested_at ?? row.finished_at ?? row.created_at,
          },
  };
}
