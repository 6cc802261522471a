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
  const result = await table.commit({
    mode: options.mode,
    schema: staged.schema,
    partitionColumns: [...(options.partitionBy ?? [])],
    files: staged.files,
    readVersion: before?.version ?? -1,
    ...(options.txns ? { txns: options.txns } : {}),
    info: { runId: options.runId, task: options.task },
  });
  return { ...result, rows: staged.rows };
}
