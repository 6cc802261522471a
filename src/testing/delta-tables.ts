import path from 'node:path';
import type { TableId } from '../core/graph.js';
import { DuckDbEngine } from '../engine/duckdb/engine.js';
import type { CommitResult, DeltaTable } from '../table/delta-table.js';
import { LakeLayout, type LakeStores } from '../table/lake-layout.js';
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

/** The rows of each layer table in two lakes: how many the first holds, and how many are in one and not the other. */
export async function compareLakeTables(
  scratchDir: string,
  tables: readonly TableId[],
  expected: LakeStores,
  actual: LakeStores,
): Promise<{ table: string; rows: number; different: number }[]> {
  const engine = await DuckDbEngine.create({ scratchDir });
  try {
    const results = [];
    for (const id of tables) {
      const sides = [
        ['expected', new LakeLayout(expected).table(id)],
        ['actual', new LakeLayout(actual).table(id)],
      ] as const;
      for (const [name, table] of sides) {
        const snapshot = await table.snapshot();
        if (!snapshot) throw new Error(`${id.layer}.${id.table} has no version in the ${name} lake`);
        await engine.registerSnapshot(name, snapshot, table.store, table.root);
      }
      const diff = await engine.one(`
        SELECT (SELECT count(*) FROM expected)::INTEGER AS rows,
          (SELECT count(*) FROM ((SELECT * FROM expected EXCEPT ALL SELECT * FROM actual)
            UNION ALL (SELECT * FROM actual EXCEPT ALL SELECT * FROM expected)))::INTEGER AS different`);
      results.push({
        table: `${id.layer}.${id.table}`,
        rows: Number(diff.rows),
        different: Number(diff.different),
      });
    }
    return results;
  } finally {
    engine.close();
  }
}
