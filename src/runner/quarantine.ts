import type { Dialect } from '../engine/dialect.js';

/**
 * Every quarantine table has the same columns, whatever layer it guards:
 * run_id, reason, record_id, record (the rejected record as text), detail, quarantined_at.
 */
export const QUARANTINE_COLUMNS = {
  runId: (dialect: Dialect, runId: string) => `${dialect.string(runId)} AS run_id`,
  now: () => `current_timestamp AS quarantined_at`,
};
