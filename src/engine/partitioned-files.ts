/**
 * What every engine does to read a set of Delta data files as one relation: partition values come from the log
 * (never from directory names), so files are read one group of equal partition values at a time, the values added
 * as typed literals; no file at all is an empty relation of the schema's columns.
 */
import type { DeltaStructType } from '../table/delta-protocol.js';
import type { Dialect } from './dialect.js';

export type PartitionValues = Record<string, string | null>;

/** The files grouped by their partition values, in the order each set first appears. */
export function groupByPartitionValues<F extends { partitionValues: PartitionValues }>(
  files: readonly F[],
): { values: PartitionValues; files: F[] }[] {
  const groups = new Map<string, { values: PartitionValues; files: F[] }>();
  for (const file of files) {
    const key = JSON.stringify(file.partitionValues);
    const group = groups.get(key) ?? { values: file.partitionValues, files: [] };
    group.files.push(file);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/** The schema's columns in order, each partition column the group's value cast to its type. */
export function partitionProjection(
  dialect: Dialect,
  schema: DeltaStructType,
  partitionColumns: readonly string[],
  values: PartitionValues,
): string {
  const partitioned = new Set(partitionColumns);
  return schema.fields
    .map((field) => {
      const column = dialect.quoteIdent(field.name);
      if (!partitioned.has(field.name)) return column;
      const value = values[field.name];
      const literal = value === null || value === undefined ? 'NULL' : dialect.string(value);
      return `CAST(${literal} AS ${dialect.sqlType(field.type)}) AS ${column}`;
    })
    .join(', ');
}

/** A relation of the schema's columns and types, without rows. */
export function emptyRelation(dialect: Dialect, schema: DeltaStructType): string {
  const nulls = schema.fields.map(
    (field) => `CAST(NULL AS ${dialect.sqlType(field.type)}) AS ${dialect.quoteIdent(field.name)}`,
  );
  return `SELECT ${nulls.join(', ')} WHERE false`;
}
