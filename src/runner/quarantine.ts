import type { Dialect } from '../engine/dialect.js';
import type { Engine } from '../engine/engine.js';
import type { RunContext } from './run-context.js';

/**
 * Every quarantine table has the same columns, whatever layer it guards:
 * run_id, reason, record_id, record (the rejected record as text), detail, quarantined_at.
 */
export const QUARANTINE_COLUMNS = {
  runId: (dialect: Dialect, runId: string) => `${dialect.string(runId)} AS run_id`,
  now: () => `current_timestamp AS quarantined_at`,
};

/** The quarantine table's columns for rows of a relation carrying their reason in `__expectation`. */
export function quarantineColumns(context: RunContext, record: string, recordId: string): string {
  return `${QUARANTINE_COLUMNS.runId(context.engine.dialect, context.runId)}, __expectation AS reason,
    ${recordId} AS record_id, ${record} AS record, 'expectation' AS detail, ${QUARANTINE_COLUMNS.now()}`;
}

/** The row (without the expectation column) as JSON text. */
export async function rowAsJson(engine: Engine, relation: string): Promise<string> {
  const columns = (await engine.columns(relation)).filter((column) => column.name !== '__expectation');
  return engine.dialect.jsonObject(columns.map((column) => column.name));
}
