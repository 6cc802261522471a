/**
 * Staging with DuckDB: a relation written as Parquet by one `COPY … RETURN_STATS`, whose answer describes each file
 * for the Delta log (rows, null counts, bounds, partition values).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DeltaStructType, FileStats } from '../../table/delta-protocol.js';
import type { LocalStagedFile } from '../../table/delta-table.js';
import { deltaSchema, type SqlRow, type SqlValue, type StagedTable, type StageOptions } from '../engine.js';
import { quoteIdent, sqlString } from '../dialects/duckdb.js';
import type { WritableColumn } from './types.js';
import { statsBounds } from '../file-stats.js';

interface CopiedFile extends SqlRow {
  filename: string;
  count: string | number;
  partition_keys: SqlValue;
  column_statistics: SqlValue;
}

/** Writes `relation` (of these columns) under `scratchDir`/stage with the statement runner of a session. */
export async function stageWith(
  all: (sql: string) => Promise<CopiedFile[]>,
  scratchDir: string,
  relation: string,
  columns: readonly WritableColumn[],
  partitionBy: readonly string[],
  options: StageOptions = {},
): Promise<StagedTable<LocalStagedFile>> {
  const schema = deltaSchema(columns.map((column) => ({ name: column.name, type: column.deltaType })));
  const dir = path.join(scratchDir, 'stage', `${Date.now()}-${Math.random().toString(36).slice(2)}`);
  await mkdir(dir, { recursive: true });
  const select = `SELECT ${columns.map((column) => `${column.expression} AS ${quoteIdent(column.name)}`).join(', ')} FROM ${relation}`;
  const partitioned = partitionBy.length > 0;
  // DuckDB rotates files only in an unpartitioned write: past any size, so one row group each (ROW_GROUPS_PER_FILE
  // lets a row group grow past ROW_GROUP_SIZE when the input's batches are larger).
  const rotated = !partitioned && options.maxRowsPerFile !== undefined;
  const target = partitioned || rotated ? dir : path.join(dir, 'part-00000.zstd.parquet');
  const copyOptions = [
    'FORMAT parquet',
    'COMPRESSION zstd',
    'RETURN_STATS',
    ...(partitioned ? [`PARTITION_BY (${partitionBy.map(quoteIdent).join(', ')})`] : []),
    ...(rotated ? [`ROW_GROUP_SIZE ${options.maxRowsPerFile}`, 'FILE_SIZE_BYTES 1'] : []),
    ...(partitioned || rotated ? ["FILENAME_PATTERN 'part-{uuid}'"] : []),
  ];
  const written = await all(`COPY (${select}) TO ${sqlString(target)} (${copyOptions.join(', ')})`);
  const files: LocalStagedFile[] = [];
  let rows = 0;
  for (const file of written) {
    const numRecords = Number(file.count);
    rows += numRecords;
    // An empty result still writes one empty file when unpartitioned; the table needs no file for it.
    if (numRecords === 0) continue;
    const relative = path.relative(dir, file.filename).split(path.sep).join('/');
    files.push({
      localPath: file.filename,
      relativePath: partitioned ? relative : `part-${randomUUID()}.zstd.parquet`,
      partitionValues: partitionValues(file.partition_keys, partitionBy),
      stats: fileStats(numRecords, file.column_statistics, schema),
      size: (await stat(file.filename)).size,
    });
  }
  return { schema, files, rows };
}

function partitionValues(keys: SqlValue, partitionBy: readonly string[]): Record<string, string | null> {
  const values: Record<string, string | null> = {};
  const entries = Array.isArray(keys) ? (keys as { key: string; value: string | null }[]) : [];
  for (const column of partitionBy) {
    const entry = entries.find((candidate) => candidate.key === column);
    values[column] = entry?.value ?? null;
  }
  return values;
}

type StatsEntry = { key: string; value: { key: string; value: string }[] };

/**
 * Delta file stats from DuckDB's RETURN_STATS: null counts of top-level primitive columns, and
 * min/max where the value round-trips exactly (numbers, dates). Strings and timestamps get no
 * bounds: a truncated bound would make other readers skip files wrongly.
 */
function fileStats(numRecords: number, columnStatistics: SqlValue, schema: DeltaStructType): FileStats {
  const stats: Required<FileStats> = { numRecords, nullCount: {}, minValues: {}, maxValues: {} };
  const entries = new Map(
    (Array.isArray(columnStatistics) ? (columnStatistics as unknown as StatsEntry[]) : []).map((entry) => [
      entry.key,
      new Map(entry.value.map((item) => [item.key, item.value])),
    ]),
  );
  for (const field of schema.fields) {
    if (typeof field.type !== 'string') continue;
    const values = entries.get(quoteIdent(field.name));
    if (!values) continue;
    const nulls = values.get('null_count');
    if (nulls !== undefined) stats.nullCount[field.name] = Number(nulls);
    const bounds = statsBounds(field.type, values.get('min'), values.get('max'), values.get('has_nan'));
    if (bounds) {
      stats.minValues[field.name] = bounds[0];
      stats.maxValues[field.name] = bounds[1];
    }
  }
  return stats;
}
