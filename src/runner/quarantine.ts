import { sqlString } from '../engine/duckdb-engine.js';
import type { RunContext } from './run-context.js';

/**
 * Every quarantine table has the same columns, whatever layer it guards:
 * run_id, reason, record_id, record (the rejected record as text), detail, quarantined_at.
 */
export const QUARANTINE_COLUMNS = {
  runId: (context: RunContext) => `${sqlString(context.runId)} AS run_id`,
  now: () => `now() AS quarantined_at`,
};
