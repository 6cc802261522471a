/**
 * Parquet files as Spark temporary views: a Delta table version (its files from the log) or staged files. Partition
 * values come from the log, not from directory names, and columns a file lacks read as NULL (the table's schema is
 * given to the reader), as the DuckDB adapter reads them.
 */
import type { DeltaStructType } from '../../table/delta-protocol.js';
import { sparkDialect } from '../dialects/spark.js';
import type { SparkConnectClient } from './connect-client.js';

export interface ViewFile {
  /** Where Spark reads it: file:///… on a disk Spark shares, s3a://… on S3. */
  uri: string;
  partitionValues: Record<string, string | null>;
}

const { quoteIdent, sqlType, string: literal } = sparkDialect;

/** Makes `files` (of a table with `schema`, partitioned by `partitionColumns`) queryable as the view `name`. */
export async function registerFileView(
  client: SparkConnectClient,
  name: string,
  schema: DeltaStructType,
  partitionColumns: readonly string[],
  files: readonly ViewFile[],
): Promise<string[]> {
  const partitioned = new Set(partitionColumns);
  const typed = (column: string, value: string): string =>
    `CAST(${value} AS ${sqlType(schema.fields.find((field) => field.name === column)?.type ?? 'string')})`;
  if (files.length === 0) {
    const nulls = schema.fields.map((field) => `${typed(field.name, 'NULL')} AS ${quoteIdent(field.name)}`);
    await client.sql(
      `CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS SELECT ${nulls.join(', ')} WHERE false`,
    );
    return [];
  }
  const dataSchema = schema.fields
    .filter((field) => !partitioned.has(field.name))
    .map((field) => `${quoteIdent(field.name)} ${sqlType(field.type)}`)
    .join(', ');
  const groups = new Map<string, { values: Record<string, string | null>; uris: string[] }>();
  for (const file of files) {
    const key = JSON.stringify(partitionColumns.map((column) => file.partitionValues[column] ?? null));
    const group = groups.get(key) ?? { values: file.partitionValues, uris: [] };
    group.uris.push(file.uri);
    groups.set(key, group);
  }
  const parts: string[] = [];
  const selects: string[] = [];
  for (const group of groups.values()) {
    const part = `${name}__part${parts.length}`;
    await client.createFileView(part, { format: 'parquet', schema: dataSchema, paths: group.uris });
    parts.push(part);
    const projection = schema.fields.map((field) => {
      if (!partitioned.has(field.name)) return quoteIdent(field.name);
      const value = group.values[field.name];
      return `${typed(field.name, value === null || value === undefined ? 'NULL' : literal(value))} AS ${quoteIdent(field.name)}`;
    });
    selects.push(`SELECT ${projection.join(', ')} FROM ${quoteIdent(part)}`);
  }
  await client.sql(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS ${selects.join('\nUNION ALL\n')}`);
  return parts;
}
