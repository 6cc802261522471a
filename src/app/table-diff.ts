/**
 * What changed from one version of a table to another: the rows one added and the other removed, counted and
 * sampled, by DuckDB over both versions registered side by side (EXCEPT ALL, so duplicates count).
 */
import { ConfigError } from '../core/errors.js';
import { quoteIdent } from '../engine/dialects/duckdb.js';
import type { DuckDbEngine } from '../engine/duckdb/engine.js';
import type { DeltaStructField } from '../table/delta-protocol.js';
import type { LakeReader } from './lake-reader.js';
import { jsonRows, register, type Row } from './table-rows.js';
import {
  columnInfo,
  openTable,
  requireSnapshot,
  type ColumnInfo,
  type LakeContext,
  type TableRef,
} from './tables.js';

/** Rows shown of each side of a difference. */
export const DIFF_SAMPLE_ROWS = 20;

export interface VersionDiff {
  from: number;
  to: number;
  /** The columns compared: those both versions have. */
  columns: ColumnInfo[];
  /** Columns only `to` has (added) or only `from` had (removed). */
  schemaChanges: { added: string[]; removed: string[] };
  added: { rows: number; sample: Row[] };
  removed: { rows: number; sample: Row[] };
}

const COUNT_COLUMN = '__medallion_rows';

/** Rows of `left` that `right` lacks (as many times as they are missing): how many, and the first few. */
async function exceptAll(
  session: DuckDbEngine,
  left: string,
  right: string,
  fields: readonly DeltaStructField[],
): Promise<{ rows: number; sample: Row[] }> {
  const columns = fields.map((field) => quoteIdent(field.name)).join(', ');
  const found = await session.all(
    `SELECT *, count(*) OVER () AS ${quoteIdent(COUNT_COLUMN)} FROM ` +
      `(SELECT ${columns} FROM ${left} EXCEPT ALL SELECT ${columns} FROM ${right}) LIMIT ${DIFF_SAMPLE_ROWS}`,
  );
  const rows = Number(found[0]?.[COUNT_COLUMN] ?? 0);
  for (const row of found) delete row[COUNT_COLUMN];
  return { rows, sample: jsonRows(found, fields) };
}

/** What changed from one version to another: rows added and removed (counted, and a sample of each). */
export async function diffVersions(
  ctx: LakeContext,
  reader: LakeReader,
  ref: TableRef,
  versions: { from: number; to: number },
): Promise<VersionDiff> {
  const { table } = await openTable(ctx, reader, ref);
  const from = await requireSnapshot(table, ref, { version: versions.from });
  const to = await requireSnapshot(table, ref, { version: versions.to });
  const before = new Set(from.schema.fields.map((field) => field.name));
  const after = new Set(to.schema.fields.map((field) => field.name));
  const common = to.schema.fields.filter((field) => before.has(field.name));
  if (common.length === 0) {
    throw new ConfigError(`versions ${from.version} and ${to.version} have no column in common`, {
      context: { field: 'from' },
    });
  }
  return reader.session(async (session) => {
    await register(session, 'from_version', table, from);
    await register(session, 'to_version', table, to);
    return {
      from: from.version,
      to: to.version,
      columns: common.map(columnInfo),
      schemaChanges: {
        added: [...after].filter((name) => !before.has(name)),
        removed: [...before].filter((name) => !after.has(name)),
      },
      added: await exceptAll(session, '"to_version"', '"from_version"', common),
      removed: await exceptAll(session, '"from_version"', '"to_version"', common),
    };
  });
}
