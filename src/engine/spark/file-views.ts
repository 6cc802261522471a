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
}

const { quoteIdent, sqlType } = sparkDialect;

/** Makes `files` (of a table with `schema`, partitioned by `partitionColumns`) queryable as the view `name`. */
export async function registerFileView(
  client: SparkConnectClient,
  name: string,
  schema: DeltaStructType,
  partitionColumns: readonly string[],
  files: readonly ViewFile[],
): Promise<string[]> {
  if (files.length === 0) {
    await client.sql(
      `CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS ${emptyRelation(sparkDialect, schema)}`,
    );
    return [];
  }
  const partitioned = new Set(partitionColumns);
  const dataSchema = schema.fields
    .filter((field) => !partitioned.has(field.name))
    .map((field) => `${quoteIdent(field.name)} ${sqlType(field.type)}`)
    .join(', ');
  const parts: string[] = [];
  const selects: string[] = [];
  for (const group of groupByPartitionValues(files)) {
    const part = `${name}__part${parts.length}`;
    const paths = group.files.map((file) => file.uri);
    await client.createFileView(part, { format: 'parquet', schema: dataSchema, paths });
    parts.push(part);
    const projection = partitionProjection(sparkDialect, schema, partitionColumns, group.values);
    selects.push(`SELECT ${projection} FROM ${quoteIdent(part)}`);
  }
  await client.sql(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS ${selects.join('\nUNION ALL\n')}`);
  return parts;
}
