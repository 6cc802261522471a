/**
 * Parquet files as Spark temporary views: a Delta table version (its files from the log) or staged files. Partition
 * values come from the log, not from directory names, and columns a file lacks read as NULL (the table's schema is
 * given to the reader), as the DuckDB adapter reads them.
 */
import type { DeltaStructType } from '../../table/delta-protocol.js';
import { sparkDialect } from '../dialects/spark.js';
import { emptyRelation, groupByPartitionValues, partitionProjection } from '../partitioned-files.js';
import type { SparkConnectClient } from './connect-client.js';

export interface ViewFile {
  /** Where Spark reads it: file:///… on a disk Spark shares, s3a://… on S3. */
  uri: string;
  partitionValues: Record<string, string | null>;
  /** The file as the Delta log names it: the value of the view's file column. */
  deltaPath?: string;
}

const { quoteIdent, sqlType } = sparkDialect;

/** Makes `files` (of a table with `schema`, partitioned by `partitionColumns`) queryable as the view `name`. */
export async function registerFileView(
  client: SparkConnectClient,
  name: string,
  schema: DeltaStructType,
  partitionColumns: readonly string[],
  files: readonly ViewFile[],
  fileColumn?: string,
): Promise<string[]> {
  if (files.length === 0) {
    const empty = emptyRelation(sparkDialect, schema);
    const relation = fileColumn
      ? empty.replace(' WHERE false', `, CAST(NULL AS STRING) AS ${quoteIdent(fileColumn)} WHERE false`)
      : empty;
    await client.sql(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS ${relation}`);
    return [];
  }
  const partitioned = new Set(partitionColumns);
  const dataSchema = schema.fields
    .filter((field) => !partitioned.has(field.name))
    .map((field) => `${quoteIdent(field.name)} ${sqlType(field.type)}`)
    .join(', ');
  const parts: string[] = [];
  const selects: string[] = [];
  // With a file column, one part per file: each part's file is then a literal, whatever URI form Spark reports.
  const groups = fileColumn
    ? files.map((file) => ({ values: file.partitionValues, files: [file] }))
    : groupByPartitionValues(files);
  for (const group of groups) {
    const part = `${name}__part${parts.length}`;
    const paths = group.files.map((file) => file.uri);
    await client.createFileView(part, { format: 'parquet', schema: dataSchema, paths });
    parts.push(part);
    const logged = fileColumn
      ? `, ${sparkDialect.string(group.files[0]?.deltaPath ?? '')} AS ${quoteIdent(fileColumn)}`
      : '';
    const projection = partitionProjection(sparkDialect, schema, partitionColumns, group.values) + logged;
    selects.push(`SELECT ${projection} FROM ${quoteIdent(part)}`);
  }
  await client.sql(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS ${selects.join('\nUNION ALL\n')}`);
  return parts;
}
