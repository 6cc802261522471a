/** The DuckDB SQL that reads a set of Delta data files (a table version, or files staged for one) from local disk. */
import path from 'node:path';
import { joinKey, type ObjectStore } from '../../storage/object-store.js';
import type { DeltaStructType } from '../../table/delta-protocol.js';
import { decodeDeltaPath, type TableSnapshot } from '../../table/delta-table.js';
import { duckdbDialect, duckdbSqlType, quoteIdent, sqlString } from '../dialects/duckdb.js';
import { emptyRelation, groupByPartitionValues, partitionProjection } from '../partitioned-files.js';

/** A data file on local disk and its partition values, as the Delta log records them. */
export interface LocalDataFile {
  localPath: string;
  partitionValues: Record<string, string | null>;
}

/** A table's data file: its local copy, and its path as the Delta log names it. */
export interface LoggedDataFile extends LocalDataFile {
  deltaPath: string;
}

/** The data files of a table version on local disk (downloaded first when the store is remote). */
export function localDataFiles(
  snapshot: TableSnapshot,
  store: ObjectStore,
  root: string,
): Promise<LoggedDataFile[]> {
  return Promise.all(
    snapshot.files.map(async (file) => ({
      localPath: await store.localPath(joinKey(root, decodeDeltaPath(file.path))),
      partitionValues: file.partitionValues,
      deltaPath: file.path,
    })),
  );
}

/**
 * SQL reading the files as one relation: partition values taken from the log (not from directory names),
 * columns in the schema's order; no file gives an empty relation of the schema's columns.
 */
export function filesSql(
  schema: DeltaStructType,
  partitionColumns: readonly string[],
  files: readonly LocalDataFile[],
  fileColumn?: string,
): string {
  if (files.length === 0) {
    const empty = emptyRelation(duckdbDialect, schema);
    return fileColumn
      ? empty.replace(' WHERE false', `, CAST(NULL AS VARCHAR) AS ${quoteIdent(fileColumn)} WHERE false`)
      : empty;
  }
  const file = fileColumn ? `, filename = ${sqlString(fileColumn)}` : '';
  const columns =
    schema.fields.map((field) => quoteIdent(field.name)).join(', ') +
    (fileColumn ? `, ${quoteIdent(fileColumn)}` : '');
  if (partitionColumns.length === 0 || files.every(pathHoldsPartitionValues)) {
    // Hive-style paths that agree with the log: DuckDB reads partition values from them in one scan.
    const sqlTypeOf = (name: string) =>
      duckdbSqlType(schema.fields.find((candidate) => candidate.name === name)?.type ?? 'string');
    const hiveTypes = partitionColumns.map((name) => `${sqlString(name)}: ${sqlTypeOf(name)}`);
    const hive = hiveTypes.length ? `, hive_partitioning = true, hive_types = {${hiveTypes.join(', ')}}` : '';
    return `SELECT ${columns} FROM read_parquet([${files.map((file) => sqlString(file.localPath)).join(', ')}], union_by_name = true${hive}${file})`;
  }
  // Otherwise the partition values come from the log: one scan per distinct set of values.
  return groupByPartitionValues(files)
    .map(({ values, files: group }) => {
      const list = `[${group.map((file) => sqlString(file.localPath)).join(', ')}]`;
      const projection =
        partitionProjection(duckdbDialect, schema, partitionColumns, values) +
        (fileColumn ? `, ${quoteIdent(fileColumn)}` : '');
      return `SELECT ${projection} FROM read_parquet(${list}, union_by_name = true${file})`;
    })
    .join('\nUNION ALL\n');
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

/**
 * Like `filesSql`, with `fileColumn` holding each row's file as the Delta log names it (DuckDB gives the local
 * path it read, which for a lake on S3 is a cached copy).
 */
export function loggedFilesSql(
  schema: DeltaStructType,
  partitionColumns: readonly string[],
  files: readonly LoggedDataFile[],
  fileColumn: string,
): string {
  const read = filesSql(schema, partitionColumns, files, fileColumn);
  if (files.length === 0) return read;
  const column = quoteIdent(fileColumn);
  const paths = files
    .map((file) => `(${sqlString(file.localPath)}, ${sqlString(file.deltaPath)})`)
    .join(', ');
  return `SELECT read.* REPLACE (logged.delta_path AS ${column})
    FROM (${read}) AS read JOIN (VALUES ${paths}) AS logged(local_path, delta_path) ON read.${column} = logged.local_path`;
}
