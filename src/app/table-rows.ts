/**
 * A table version's rows as people page through them (the Lake page's grid, `medallion tables show`): sorted by a
 * column of its schema, ties broken so that pages never overlap, values as JSON carries them without loss. Read by
 * DuckDB over the registered version; the column names in the SQL are the schema's, never text from a request.
 */
import { ConfigError } from '../core/errors.js';
import { quoteIdent } from '../engine/dialects/duckdb.js';
import type { DuckDbEngine } from '../engine/duckdb/engine.js';
import type { SqlRow, SqlValue } from '../engine/engine.js';
import { parseStats, type DeltaStructField } from '../table/delta-protocol.js';
import { snapshotRows, type DeltaTable, type TableSnapshot } from '../table/delta-table.js';
import type { LakeReader } from './lake-reader.js';
import {
  columnInfo,
  detailOf,
  openTable,
  openVersion,
  requireSnapshot,
  typeName,
  type ColumnInfo,
  type LakeContext,
  type TableDetail,
  type TableRef,
  type VersionChoice,
} from './tables.js';

export const MAX_PREVIEW_ROWS = 500;

export type Row = Record<string, SqlValue>;
export type SortOrder = 'asc' | 'desc';

export interface RowsQuery extends VersionChoice {
  offset?: number;
  limit?: number;
  /** A column of the table's schema (a sortable one). */
  sort?: string;
  order?: SortOrder;
}

export interface RowsPage {
  version: number;
  columns: ColumnInfo[];
  rows: Row[];
  /** Rows in the version. */
  total: number;
  offset: number;
  limit: number;
  sort: string | null;
  order: SortOrder;
}

/**
 * Values as JSON carries them without loss: DuckDB gives BIGINTs as text, which become numbers where they are
 * exact (larger ones stay text); dates and timestamps are ISO text already.
 */
export function jsonRows(rows: SqlRow[], fields: readonly DeltaStructField[]): Row[] {
  const longs = fields.filter((field) => field.type === 'long').map((field) => field.name);
  for (const row of rows) {
    for (const name of longs) {
      const value = row[name];
      if (typeof value === 'string' && Number.isSafeInteger(Number(value))) row[name] = Number(value);
    }
  }
  return rows;
}

/** ORDER BY for the sort asked, ties broken by the other sortable columns so that pages do not overlap. */
function orderBy(fields: readonly DeltaStructField[], sort: string | undefined, order: SortOrder): string {
  if (sort === undefined) return '';
  const column = fields.find((field) => field.name === sort);
  if (!column || typeof column.type !== 'string') {
    throw new ConfigError(
      column ? `column ${sort} cannot be sorted (it is a ${typeName(column.type)})` : `no column ${sort}`,
      {
        context: { field: 'sort' },
        hint: `sortable columns: ${fields
          .filter((field) => typeof field.type === 'string')
          .map((field) => field.name)
          .join(', ')}`,
      },
    );
  }
  const ties = fields.filter((field) => field !== column && typeof field.type === 'string');
  const terms = [
    `${quoteIdent(column.name)} ${order === 'desc' ? 'DESC' : 'ASC'} NULLS LAST`,
    ...ties.map((field) => `${quoteIdent(field.name)} ASC NULLS LAST`),
  ];
  return ` ORDER BY ${terms.join(', ')}`;
}

function wholeNumber(value: number, field: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${field} must be a whole number from ${min} to ${max}, got ${value}`, {
      context: { field },
    });
  }
  return value;
}

/** Registers the version as the view `name` of the session. */
export function register(session: DuckDbEngine, name: string, table: DeltaTable, snapshot: TableSnapshot) {
  return session.registerSnapshot(name, snapshot, table.store, table.root);
}

/** A page of the rows of a version (default the latest; or as of a time), in the order asked. */
export async function previewRows(
  ctx: LakeContext,
  reader: LakeReader,
  ref: TableRef,
  query: RowsQuery = {},
): Promise<RowsPage> {
  const { table } = await openTable(ctx, reader, ref);
  return pageOf(reader, table, await requireSnapshot(table, ref, query), query);
}

/** `tables show`: a version's description and its first rows, from one reading of the log. */
export async function showTable(
  ctx: LakeContext,
  reader: LakeReader,
  ref: TableRef,
  choice: VersionChoice & { limit?: number },
): Promise<{ table: TableDetail; rows: RowsPage }> {
  const { lake, table } = await openTable(ctx, reader, ref);
  const { snapshot, versions } = await openVersion(table, ref, choice);
  return {
    table: detailOf(lake, ref.layer, table, snapshot, versions),
    rows: await pageOf(reader, table, snapshot, {
      ...(choice.limit !== undefined && { limit: choice.limit }),
    }),
  };
}

async function pageOf(
  reader: LakeReader,
  table: DeltaTable,
  snapshot: TableSnapshot,
  query: RowsQuery,
): Promise<RowsPage> {
  const offset = wholeNumber(query.offset ?? 0, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const limit = wholeNumber(query.limit ?? 50, 'limit', 1, MAX_PREVIEW_ROWS);
  const order = query.order ?? 'asc';
  const fields = snapshot.schema.fields;
  const sorted = orderBy(fields, query.sort, order);
  return reader.session(async (session) => {
    await register(session, 'version', table, snapshot);
    const rows = await session.all(`SELECT * FROM "version"${sorted} LIMIT ${limit} OFFSET ${offset}`);
    return {
      version: snapshot.version,
      columns: fields.map(columnInfo),
      rows: jsonRows(rows, fields),
      // The log's statistics count the rows of every file a Delta writer describes: DuckDB counts only the others.
      total: snapshot.files.every((file) => parseStats(file)?.numRecords !== undefined)
        ? snapshotRows(snapshot)
        : await session.count('"version"'),
      offset,
      limit,
      sort: query.sort ?? null,
      order,
    };
  });
}
