/**
 * The whole metadata store as a snapshot of plain rows (for backups), and that snapshot loaded back into an
 * empty store of either kind. Every table is listed here, parents before children so that foreign keys hold
 * while rows are inserted; a table a new migration creates must be added (the conformance suite checks that
 * none is missing).
 */
import { sql, type Kysely } from 'kysely';
import { MedallionError } from '../../core/errors.js';
import { StoreNotEmptyError } from '../metadata-store.js';
import type { SnapshotRow, SnapshotTable, TableRows } from '../records.js';
import type { Database } from '../schema.js';
import { chunks, INSERT_CHUNK, type StoreCore } from './store-core.js';

type SnapshotTableName = Exclude<keyof Database, 'medallion_migrations'>;

/** Each table with the columns that order its rows (its key, or all it has), parents before children. */
export const SNAPSHOT_TABLES: readonly { name: SnapshotTableName; order: readonly string[] }[] = [
  { name: 'medallion_pipelines', order: ['name'] },
  { name: 'medallion_runs', order: ['id'] },
  { name: 'medallion_task_instances', order: ['run_id', 'task_id'] },
  { name: 'medallion_attempts', order: ['run_id', 'task_id', 'attempt'] },
  { name: 'medallion_task_logs', order: ['run_id', 'task_id', 'attempt', 'line_no'] },
  { name: 'medallion_alerts', order: ['cause'] },
  { name: 'medallion_alert_occurrences', order: ['cause', 'occurrence'] },
  { name: 'medallion_connections', order: ['name'] },
  { name: 'medallion_leases', order: ['key'] },
  { name: 'medallion_processes', order: ['id'] },
  { name: 'medallion_users', order: ['id'] },
  { name: 'medallion_sessions', order: ['id_hash'] },
  { name: 'medallion_api_tokens', order: ['id'] },
  { name: 'medallion_login_failures', order: ['key', 'at'] },
];

/** Rows per SELECT while a snapshot is read: a table of any size is never held in memory whole. */
const PAGE_ROWS = 5_000;

async function migrationOf(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('medallion_migrations')
    .select((eb) => eb.fn.max('version').as('version'))
    .executeTakeFirst();
  return Number(row?.version ?? 0);
}

async function* pagesOf(db: Kysely<Database>, spec: (typeof SNAPSHOT_TABLES)[number]) {
  const order = sql.join(spec.order.map((column) => sql.ref(column)));
  for (let offset = 0; ; offset += PAGE_ROWS) {
    const { rows } = await sql<SnapshotRow>`select * from ${sql.table(spec.name)} order by ${order}
      limit ${PAGE_ROWS} offset ${offset}`.execute(db);
    if (rows.length > 0) yield rows;
    if (rows.length < PAGE_ROWS) return;
  }
}

export async function readSnapshot(
  core: StoreCore,
  take: (table: SnapshotTable) => Promise<void>,
): Promise<{ migration: number }> {
  return core.readConsistently(async (trx) => {
    const migration = await migrationOf(trx);
    for (const spec of SNAPSHOT_TABLES) await take({ table: spec.name, pages: pagesOf(trx, spec) });
    return { migration };
  });
}

async function tablesWithRows(db: Kysely<Database>): Promise<TableRows[]> {
  const held: TableRows[] = [];
  for (const { name } of SNAPSHOT_TABLES) {
    const { rows } = await sql<{ rows: number | string }>`select count(*) as rows from ${sql.table(
      name,
    )}`.execute(db);
    const count = Number(rows[0]?.rows ?? 0);
    if (count > 0) held.push({ table: name, rows: count });
  }
  return held;
}

async function insertRows(db: Kysely<Database>, table: string, rows: SnapshotRow[]): Promise<void> {
  const columns = Object.keys(rows[0] ?? {});
  if (columns.length === 0) return;
  const values = rows.map((row) => sql`(${sql.join(columns.map((column) => row[column] ?? null))})`);
  await sql`insert into ${sql.table(table)} (${sql.join(columns.map((column) => sql.ref(column)))})
    values ${sql.join(values)}`.execute(db);
}

export async function loadSnapshot(
  core: StoreCore,
  migration: number,
  tables: AsyncIterable<SnapshotTable>,
  options: { replace?: boolean } = {},
): Promise<void> {
  await core.write(async (trx) => {
    const current = await migrationOf(trx);
    if (current !== migration) {
      throw new MedallionError(
        `the snapshot was read at migration ${migration}, the database is at migration ${current}`,
        { hint: 'load it with the medallion version that read it, into a database that version made' },
      );
    }
    if (options.replace) {
      for (const { name } of [...SNAPSHOT_TABLES].reverse())
        await sql`delete from ${sql.table(name)}`.execute(trx);
    } else {
      const held = await tablesWithRows(trx);
      if (held.length > 0) throw new StoreNotEmptyError(held);
    }
    let previous = -1;
    for await (const { table, pages } of tables) {
      const position = SNAPSHOT_TABLES.findIndex((spec) => spec.name === table);
      if (position <= previous) {
        throw new MedallionError(
          position < 0
            ? `the snapshot has a table the metadata database does not know: ${table}`
            : `the snapshot has ${table} out of order: each table once, before the tables that refer to it`,
          { context: { file: table } },
        );
      }
      previous = position;
      for await (const page of pages) {
        for (const chunk of chunks(page, INSERT_CHUNK)) await insertRows(trx, table, chunk);
      }
    }
  });
}
