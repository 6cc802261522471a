import path from 'node:path';
import type { DuckDbEngine } from '../engine/duckdb-engine.js';
import type { CommitResult, DeltaTable } from '../table/delta-table.js';
import { exportWithDeltaRs, type DeltaRsRead } from './delta-rs.js';

/** Test helper: commits the rows of a query to a table on top of its current version. */
export async function commitQuery(
  engine: DuckDbEngine,
  table: DeltaTable,
  sql: string,
  mode: 'append' | 'overwrite',
  partitionBy: string[] = [],
): Promise<CommitResult> {
  const before = await table.snapshot();
  const staged = await engine.stage(`(${sql})`, partitionBy);
  return table.commit({
    mode,
    schema: staged.schema,
    partitionColumns: partitionBy,
    files: staged.files,
    readVersion: before?.version ?? -1,
  });
}

/**
 * Reads the table's current version with delta-rs (to `outParquet`, on local disk) and with medallion: what
 * delta-rs read, and how many rows are in one reading and not in the other (0 when they agree).
 */
export async function compareWithDeltaRs(
  engine: DuckDbEngine,
  table: DeltaTable,
  outParquet: string,
): Promise<{ read: DeltaRsRead; different: number }> {
  const read = exportWithDeltaRs(path.join(table.store.location, table.root), outParquet);
  const snapshot = await table.snapshot();
  if (!snapshot) throw new Error(`${table.root}: no table to compare`);
  await engine.registerSnapshot('mine', snapshot, table.store, table.root);
  const theirs = `(SELECT COLUMNS(c -> true) FROM read_parquet('${outParquet}'))`;
  const [diff] = await engine.all<{ n: number }>(`
    SELECT count(*)::INTEGER AS n FROM (
      (SELECT * FROM mine EXCEPT ALL SELECT * FROM ${theirs})
      UNION ALL
      (SELECT * FROM ${theirs} EXCEPT ALL SELECT * FROM mine))`);
  return { read, different: diff?.n ?? -1 };
}
