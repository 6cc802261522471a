/** The DuckDB SQL that reads a set of Delta data files (a table version, or files staged for one) from local disk. */
import path from 'node:path';
import type { DeltaStructType } from '../../table/delta-protocol.js';
import { duckdbSqlType, quoteIdent, sqlString } from '../dialects/duckdb.js';

/** A data file on local disk and its partition values, as the Delta log records them. */
export interface LocalDataFile {
  localPath: string;
  partitionValues: Record<string, string | null>;
}

/**
 * SQL reading the files as one relation: partition values taken from the log (not from directory names),
 * columns in the schema's order; no file gives an empty relation of the schema's columns.
 */
export function filesSql(
  schema: DeltaStructType,
  partitionColumns: readonly string[],
  files: readonly LocalDataFile[],
): string {
  const fields = schema.fields;
  const partitioned = new Set(partitionColumns);
  const sqlTypeOf = (name: string) =>
    duckdbSqlType(fields.find((candidate) => candidate.name === name)?.type ?? 'string');
  const typed = (name: string, value: string) => `CAST(${value} AS ${sqlTypeOf(name)})`;
  if (files.length === 0) {
    return `SELECT ${fields.map((field) => `${typed(field.name, 'NULL')} AS ${quoteIdent(field.name)}`).join(', ')} WHERE false`;
  }
  const columns = fields.map((field) => quoteIdent(field.name)).join(', ');
  if (partitionColumns.length === 0 || files.every(pathHoldsPartitionValues)) {
    // Hive-style paths that agree with the log: DuckDB reads partition values from them in one scan.
    const hiveTypes = partitionColumns.map((name) => `${sqlString(name)}: ${sqlTypeOf(name)}`);
    const hive = hiveTypes.length ? `, hive_partitioning = true, hive_types = {${hiveTypes.join(', ')}}` : '';
    return `SELECT ${columns} FROM read_parquet([${files.map((file) => sqlString(file.localPath)).join(', ')}], union_by_name = true${hive})`;
  }
  // Otherwise the partition values come from the log: one scan per distinct set of values.
  const groups = new Map<string, { values: Record<string, string | null>; paths: string[] }>();
  for (const file of files) {
    const key = JSON.stringify(file.partitionValues);
    const group = groups.get(key) ?? { values: file.partitionValues, paths: [] };
    group.paths.push(file.localPath);
    groups.set(key, group);
  }
  const selects = [...groups.values()].map(({ values, paths }) => {
    const list = `[${paths.map(sqlString).join(', ')}]`;
    const projection = fields.map((field) => {
      if (!partitioned.has(field.name)) return quoteIdent(field.name);
      const value = values[field.name];
      return `${typed(field.name, value === null || value === undefined ? 'NULL' : sqlString(value))} AS ${quoteIdent(field.name)}`;
    });
    return `SELECT ${projection.join(', ')} FROM read_parquet(${list}, union_by_name = true)`;
  });
  return selects.join('\nUNION ALL\n');
}

const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/**
 * True when the directories holding the local copy are exactly `column=value` for the file's
 * partition values, in order (a file from the lake on local disk; not a cached S3 download).
 */
function pathHoldsPartitionValues(file: LocalDataFile): boolean {
  const expected = Object.entries(file.partitionValues).map(
    ([column, value]) => `${column}=${value ?? HIVE_NULL}`,
  );
  const directories = file.localPath.split(path.sep).slice(0, -1).slice(-expected.length);
  return (
    directories.length === expected.length &&
    directories.every((segment, index) => segment === expected[index])
  );
}
