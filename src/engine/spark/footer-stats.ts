/**
 * Delta file statistics read back from Parquet footers, for files medallion did not write itself (Spark's): the
 * same figures the DuckDB adapter takes from its COPY — rows, null counts of top-level primitive columns, and
 * bounds where they round-trip exactly (numbers, dates; never strings or timestamps, which readers would trust
 * truncated).
 */
import type { DeltaStructType, FileStats } from '../../table/delta-protocol.js';
import type { SqlRow } from '../engine.js';
import { statsBounds } from '../file-stats.js';

/** Runs a query on a local DuckDB session (the run's ingestion engine). */
export type LocalQuery = <T extends SqlRow>(sql: string) => Promise<T[]>;

interface FooterRow extends SqlRow {
  file_name: string;
  row_group_id: string | number;
  row_group_num_rows: string | number;
  path_in_schema: string;
  stats_min_value: string | null;
  stats_max_value: string | null;
  stats_null_count: string | number | null;
}

/** The stats of each file (by its local path), from one read of their footers. */
export async function footerStats(
  query: LocalQuery,
  files: readonly string[],
  schema: DeltaStructType,
): Promise<Map<string, FileStats>> {
  const result = new Map<string, FileStats>();
  if (files.length === 0) return result;
  const list = files.map((file) => `'${file.replaceAll("'", "''")}'`).join(', ');
  const rows = await query<FooterRow>(`
    SELECT file_name, row_group_id, row_group_num_rows, path_in_schema, stats_min_value, stats_max_value,
      stats_null_count
    FROM parquet_metadata([${list}])`);
  const types = new Map(schema.fields.map((field) => [field.name, field.type]));
  const byFile = new Map<string, FooterRow[]>();
  for (const row of rows) byFile.set(row.file_name, [...(byFile.get(row.file_name) ?? []), row]);
  for (const file of files) result.set(file, statsOf(byFile.get(file) ?? [], types));
  return result;
}

function statsOf(rows: readonly FooterRow[], types: ReadonlyMap<string, unknown>): FileStats {
  const rowGroups = new Map(rows.map((row) => [String(row.row_group_id), Number(row.row_group_num_rows)]));
  const stats: Required<FileStats> = {
    numRecords: [...rowGroups.values()].reduce((sum, rows) => sum + rows, 0),
    nullCount: {},
    minValues: {},
    maxValues: {},
  };
  const unbounded = new Set<string>();
  for (const row of rows) {
    const type = types.get(row.path_in_schema);
    // Nested columns' leaves are named "a, list, element": only top-level primitives get stats.
    if (typeof type !== 'string') continue;
    const column = row.path_in_schema;
    if (row.stats_null_count !== null) {
      stats.nullCount[column] = (stats.nullCount[column] ?? 0) + Number(row.stats_null_count);
    }
    const bounds = statsBounds(type, row.stats_min_value, row.stats_max_value);
    if (!bounds) {
      unbounded.add(column);
      continue;
    }
    const [low, high] = bounds;
    const min = stats.minValues[column];
    const max = stats.maxValues[column];
    if (min === undefined || low < min) stats.minValues[column] = low;
    if (max === undefined || high > max) stats.maxValues[column] = high;
  }
  // A bound is only true when every row group had one.
  for (const column of unbounded) {
    delete stats.minValues[column];
    delete stats.maxValues[column];
  }
  return stats;
}
