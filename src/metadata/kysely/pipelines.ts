import type { Selectable } from 'kysely';
import type { PipelineRecord } from '../records.js';
import type { PipelinesTable } from '../schema.js';
import type { StoreCore } from './store-core.js';

export async function upsertPipeline(core: StoreCore, name: string, definitionHash: string): Promise<void> {
  const now = core.now();
  await core.db
    .insertInto('medallion_pipelines')
    .values({ name, definition_hash: definitionHash, paused: 0, created_at: now, updated_at: now })
    .onConflict((conflict) =>
      conflict.column('name').doUpdateSet({ definition_hash: definitionHash, updated_at: now }),
    )
    .execute();
}

export async function getPipeline(core: StoreCore, name: string): Promise<PipelineRecord | undefined> {
  const row = await core.db
    .selectFrom('medallion_pipelines')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  return row && toPipeline(row);
}

export async function listPipelines(core: StoreCore): Promise<PipelineRecord[]> {
  const rows = await core.db.selectFrom('medallion_pipelines').selectAll().orderBy('name').execute();
  return rows.map(toPipeline);
}

export async function setPaused(core: StoreCore, name: string, paused: boolean): Promise<boolean> {
  const result = await core.db
    .updateTable('medallion_pipelines')
    .set({ paused: paused ? 1 : 0, updated_at: core.now() })
    .where('name', '=', name)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function isPaused(core: StoreCore, name: string): Promise<boolean> {
  const row = await core.db
    .selectFrom('medallion_pipelines')
    .select('paused')
    .where('name', '=', name)
    .executeTakeFirst();
  return row?.paused === 1;
}

function toPipeline(row: Selectable<PipelinesTable>): PipelineRecord {
  return {
    name: row.name,
    definitionHash: row.definition_hash,
    paused: Number(row.paused) === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
