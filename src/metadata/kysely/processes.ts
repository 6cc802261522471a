import type { Selectable } from 'kysely';
import type { NewProcess, ProcessRecord } from '../records.js';
import type { ProcessesTable } from '../schema.js';
import { iso, type StoreCore } from './store-core.js';

export async function recordProcess(core: StoreCore, process: NewProcess, now: string): Promise<void> {
  const at = iso(now, 'now');
  const values = {
    kind: process.kind,
    host: process.host,
    pid: process.pid,
    started_at: iso(process.startedAt, 'startedAt'),
    heartbeat_at: at,
    stopped_at: null,
    pipelines: JSON.stringify(process.pipelines),
    queues: process.queues ? JSON.stringify(process.queues) : null,
    slots: process.slots ?? null,
  };
  await core.db
    .insertInto('medallion_processes')
    .values({ id: process.id, ...values })
    .onConflict((conflict) => conflict.column('id').doUpdateSet(values))
    .execute();
}

export async function stopProcess(core: StoreCore, id: string, now: string): Promise<void> {
  await core.db
    .updateTable('medallion_processes')
    .set({ stopped_at: iso(now, 'now') })
    .where('id', '=', id)
    .execute();
}

export async function getProcess(core: StoreCore, id: string): Promise<ProcessRecord | undefined> {
  const row = await core.db
    .selectFrom('medallion_processes')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return row && toProcess(row);
}

export async function listProcesses(
  core: StoreCore,
  options: { includeStopped?: boolean } = {},
): Promise<ProcessRecord[]> {
  const rows = await core.db
    .selectFrom('medallion_processes')
    .selectAll()
    .$if(!options.includeStopped, (query) => query.where('stopped_at', 'is', null))
    .orderBy('heartbeat_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toProcess);
}

function toProcess(row: Selectable<ProcessesTable>): ProcessRecord {
  return {
    id: row.id,
    kind: row.kind,
    host: row.host,
    pid: Number(row.pid),
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    stoppedAt: row.stopped_at,
    pipelines: JSON.parse(row.pipelines) as ProcessRecord['pipelines'],
    queues: row.queues === null ? null : (JSON.parse(row.queues) as string[]),
    slots: row.slots === null ? null : Number(row.slots),
  };
}
