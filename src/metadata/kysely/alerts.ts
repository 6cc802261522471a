import type { Selectable } from 'kysely';
import { MedallionError } from '../../core/errors.js';
import type { AlertDecision, AlertFilter, AlertOccurrence, AlertRecord } from '../records.js';
import type { AlertsTable } from '../schema.js';
import { iso, type StoreCore } from './store-core.js';

export async function recordAlert(core: StoreCore, report: AlertOccurrence): Promise<AlertDecision> {
  const at = iso(report.at, 'at');
  if (!Number.isFinite(report.groupWindowMs) || report.groupWindowMs < 0) {
    throw new MedallionError(
      `groupWindowMs must be a number of milliseconds ≥ 0, not ${report.groupWindowMs}`,
    );
  }
  const latest = {
    kind: report.kind,
    pipeline: report.pipeline ?? null,
    severity: report.severity,
    title: report.title,
    text: report.text,
  };
  return core.write(async (trx) => {
    // The cause's row first (the occurrences reference it); a concurrent first report waits here on PostgreSQL.
    await trx
      .insertInto('medallion_alerts')
      .values({
        cause: report.cause,
        ...latest,
        first_at: at,
        last_at: at,
        occurrences: 0,
        sent_occurrences: 0,
        last_sent_at: null,
        last_run_id: report.runId ?? null,
        last_error: null,
        last_error_at: null,
      })
      .onConflict((conflict) => conflict.column('cause').doNothing())
      .execute();
    // Locked until commit, before anything else references the row (the occurrence's foreign key would take a
    // share lock, and two of those would deadlock): reports of one cause are decided one after the other.
    const row = await trx
      .selectFrom('medallion_alerts')
      .selectAll()
      .where('cause', '=', report.cause)
      .$if(core.dialect === 'postgres', (query) => query.forUpdate())
      .executeTakeFirstOrThrow();
    let repeat = false;
    if (report.occurrence !== undefined && report.occurrence !== null) {
      const counted = await trx
        .insertInto('medallion_alert_occurrences')
        .values({ cause: report.cause, occurrence: report.occurrence, at })
        .onConflict((conflict) => conflict.columns(['cause', 'occurrence']).doNothing())
        .returning('cause')
        .executeTakeFirst();
      repeat = counted === undefined;
    }
    const before = { occurrences: Number(row.occurrences), sent: Number(row.sent_occurrences) };
    if (repeat) {
      return {
        send: false,
        repeat,
        occurrences: before.occurrences,
        grouped: before.occurrences - before.sent,
        firstAt: row.first_at,
        previousSentAt: row.last_sent_at,
      };
    }
    const occurrences = before.occurrences + 1;
    const send =
      row.last_sent_at === null || Date.parse(at) - Date.parse(row.last_sent_at) >= report.groupWindowMs;
    const firstAt = before.occurrences === 0 || at < row.first_at ? at : row.first_at;
    await trx
      .updateTable('medallion_alerts')
      .set({
        ...(at >= row.last_at && { ...latest, last_at: at, last_run_id: report.runId ?? null }),
        first_at: firstAt,
        occurrences,
        ...(send && { last_sent_at: at, sent_occurrences: occurrences }),
      })
      .where('cause', '=', report.cause)
      .execute();
    return {
      send,
      repeat,
      occurrences,
      grouped: occurrences - before.sent,
      firstAt,
      previousSentAt: row.last_sent_at,
    };
  });
}

export async function recordAlertDelivery(
  core: StoreCore,
  cause: string,
  at: string,
  error: string | null,
): Promise<void> {
  await core.db
    .updateTable('medallion_alerts')
    .set({ last_error: error, last_error_at: error === null ? null : iso(at, 'at') })
    .where('cause', '=', cause)
    .execute();
}

export async function listAlerts(core: StoreCore, filter: AlertFilter = {}): Promise<AlertRecord[]> {
  const { pipeline, limit } = filter;
  const rows = await core.db
    .selectFrom('medallion_alerts')
    .selectAll()
    .where('occurrences', '>', 0)
    .$if(pipeline !== undefined, (query) => query.where('pipeline', '=', pipeline ?? ''))
    .orderBy('last_at', 'desc')
    .orderBy('cause')
    .$if(limit !== undefined, (query) => query.limit(limit ?? 0))
    .execute();
  return rows.map(toAlert);
}

function toAlert(row: Selectable<AlertsTable>): AlertRecord {
  return {
    cause: row.cause,
    kind: row.kind,
    pipeline: row.pipeline,
    severity: row.severity,
    title: row.title,
    text: row.text,
    firstAt: row.first_at,
    lastAt: row.last_at,
    occurrences: Number(row.occurrences),
    sentOccurrences: Number(row.sent_occurrences),
    lastSentAt: row.last_sent_at,
    lastRunId: row.last_run_id,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at,
  };
}
