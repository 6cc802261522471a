import type { DuckDbEngine } from '../engine/duckdb-engine.js';
import type { DeltaTable } from '../table/delta-table.js';
import type { TxnAction } from '../table/delta-protocol.js';

export interface WriteOptions {
  mode: 'append' | 'overwrite';
  partitionBy?: readonly string[];
  txns?: TxnAction[];
  runId: string;
  task: string;
}

export interface WriteResult {
  version: number;
  rows: number;
  alreadyCommitted: boolean;
}

/** Stages a DuckDB relation as Parquet and commits it to a Delta table in one atomic step. */
export async function writeTable(
  engine: DuckDbEngine,
  relation: string,
  table: DeltaTable,
  options: WriteOptions,
): Promise<WriteResult> {
  const before = await table.snapshot();
  const staged = await engine.stage(relation, options.partitionBy ?? []);
  const txns = options.txns ?? replaceOnce(options);
  const result = await table.commit({
    mode: options.mode,
    schema: staged.schema,
    partitionColumns: [...(options.partitionBy ?? [])],
    files: staged.files,
    readVersion: before?.version ?? -1,
    ...(txns && { txns }),
    info: { runId: options.runId, task: options.task },
  });
  return { ...result, rows: staged.rows };
}

/** A retried or resumed task of the same run does not apply its new version twice. */
function replaceOnce(options: WriteOptions): TxnAction[] | undefined {
  return options.mode === 'overwrite'
    ? [{ appId: `medallion-task-${options.runId}-${options.task}`, version: 0 }]
    : undefined;
}
