/**
 * Leases: one run of a pipeline writes a lake at a time. A lease is free when it has expired (nobody renewed it)
 * or when the run holding it has finished; a process that dies holding one blocks others for one TTL at most.
 */
import type { Kysely, Selectable } from 'kysely';
import type { LeaseRecord, LeaseRequest } from '../records.js';
import type { Database, LeasesTable } from '../schema.js';
import { iso, type StoreCore } from './store-core.js';

/**
 * Takes the lease for the run, or renews it when the run holds it already; inside the caller's transaction. Returns
 * the lease as it stands when another run holds it.
 */
export async function acquireLease(
  db: Kysely<Database>,
  runId: string,
  lease: LeaseRequest,
  now: string,
): Promise<LeaseRecord | undefined> {
  const at = iso(now, 'now');
  const values = {
    run_id: runId,
    holder: lease.holder,
    acquired_at: at,
    expires_at: new Date(Date.parse(at) + lease.ttlMs).toISOString(),
  };
  const taken = await db
    .insertInto('medallion_leases')
    .values({ key: lease.key, ...values })
    .onConflict((conflict) =>
      conflict
        .column('key')
        .doUpdateSet(values)
        .where((eb) =>
          eb.or([
            eb('medallion_leases.run_id', '=', runId),
            eb('medallion_leases.expires_at', '<', at),
            eb('medallion_leases.run_id', 'not in', (sub) =>
              sub.selectFrom('medallion_runs').select('id').where('state', 'in', ['queued', 'running']),
            ),
          ]),
        ),
    )
    .returning('run_id')
    .executeTakeFirst();
  if (taken) return undefined;
  const holder = await db
    .selectFrom('medallion_leases')
    .selectAll()
    .where('key', '=', lease.key)
    .executeTakeFirst();
  return holder && toLease(holder);
}

export async function renewLease(
  core: StoreCore,
  key: string,
  runId: string,
  holder: string,
  now: string,
  ttlMs: number,
): Promise<boolean> {
  return (await core.write((trx) => acquireLease(trx, runId, { key, holder, ttlMs }, now))) === undefined;
}

export async function releaseLeases(db: Kysely<Database>, runId: string): Promise<void> {
  await db.deleteFrom('medallion_leases').where('run_id', '=', runId).execute();
}

export async function getLease(core: StoreCore, key: string): Promise<LeaseRecord | undefined> {
  const row = await core.db
    .selectFrom('medallion_leases')
    .selectAll()
    .where('key', '=', key)
    .executeTakeFirst();
  return row && toLease(row);
}

function toLease(row: Selectable<LeasesTable>): LeaseRecord {
  return {
    key: row.key,
    runId: row.run_id,
    holder: row.holder,
    acquiredAt: row.acquired_at,
    expiresAt: row.expires_at,
  };
}
