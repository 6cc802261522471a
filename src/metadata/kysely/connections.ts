import type { Selectable } from 'kysely';
import type { ConnectionRecord, NewConnection } from '../records.js';
import type { ConnectionsTable } from '../schema.js';
import { parseJsonObject, type StoreCore } from './store-core.js';

export async function putConnection(core: StoreCore, connection: NewConnection): Promise<void> {
  const now = core.now();
  const values = {
    kind: connection.kind,
    config: JSON.stringify(connection.config),
    secret: connection.secret,
    updated_at: now,
  };
  await core.db
    .insertInto('medallion_connections')
    .values({ name: connection.name, ...values, created_at: now })
    .onConflict((conflict) => conflict.column('name').doUpdateSet(values))
    .execute();
}

export async function getConnection(core: StoreCore, name: string): Promise<ConnectionRecord | undefined> {
  const row = await core.db
    .selectFrom('medallion_connections')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  return row && toConnection(row);
}

export async function listConnections(core: StoreCore): Promise<ConnectionRecord[]> {
  const rows = await core.db.selectFrom('medallion_connections').selectAll().orderBy('name').execute();
  return rows.map(toConnection);
}

export async function deleteConnection(core: StoreCore, name: string): Promise<boolean> {
  const result = await core.db
    .deleteFrom('medallion_connections')
    .where('name', '=', name)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

function toConnection(row: Selectable<ConnectionsTable>): ConnectionRecord {
  return {
    name: row.name,
    kind: row.kind,
    config: parseJsonObject(row.config),
    secret: row.secret,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
