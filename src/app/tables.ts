/**
 * The lake's tables as people look at them (the Lake page of the UI, and `medallion tables` to come): which lakes
 * the project's pipelines write, their tables per layer, a table's schema, partitions and history, its rows at any
 * version (paginated and sorted), the difference between two versions, a version as CSV or Parquet. Read-only: the
 * only SQL run is a SELECT over registered versions (or a COPY of one into the reader's scratch directory), and the
 * column names in it are the table schema's, never text from a request.
 */
import { stat, rm } from 'node:fs/promises';
import { ConfigError, NotFoundError } from '../core/errors.js';
import { quoteIdent, sqlString } from '../engine/dialects/duckdb.js';
import type { DuckDbEngine } from '../engine/duckdb/engine.js';
import type { SqlRow, SqlValue } from '../engine/engine.js';
import { commitFacts, versionChanges, type CommitFacts, type VersionChange } from '../table/delta-history.js';
import { parseStats, type DeltaStructField, type DeltaType } from '../table/delta-protocol.js';
import { DeltaTable, snapshotRows, type TableSnapshot } from '../table/delta-table.js';
import type { AppContext } from './context.js';
import type { LakeReader } from './lake-reader.js';

/** The areas of a lake that hold Delta tables (landing: its manifest). */
export const TABLE_LAYERS = ['landing', 'bronze', 'silver', 'gold', 'quarantine'] as const;
export type TableLayer = (typeof TABLE_LAYERS)[number];

/** A table's directory name: no dot, no slash, so never a way out of its layer. */
export const TABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,199}$/;

export const MAX_PREVIEW_ROWS = 500;
/** Rows shown of each side of a difference. */
export const DIFF_SAMPLE_ROWS = 20;

export interface LakeInfo {
  /** Its position in the list: what a request may name it by. */
  index: number;
  location: string;
  /** The pipelines that write it. */
  pipelines: string[];
}

/** The lakes of the project's pipelines (as the server's --lake, if any, overrides them), each once. */
export async function listLakes(ctx: AppContext): Promise<LakeInfo[]> {
  const lakes = new Map<string, string[]>();
  for (const pipeline of await ctx.project.pipelines()) {
    const lake = ctx.project.locations(pipeline, ctx.locations)?.lake;
    if (lake) lakes.set(lake, [...(lakes.get(lake) ?? []), pipeline.name]);
  }
  return [...lakes].map(([location, pipelines], index) => ({ index, location, pipelines }));
}

/** The lake a request names by its index or its location as `listLakes` gives them; the first when it names none. */
export async function findLake(ctx: AppContext, ref: string | undefined): Promise<LakeInfo> {
  const lakes = await listLakes(ctx);
  const found =
    ref === undefined ? lakes[0] : lakes.find((lake) => String(lake.index) === ref || lake.location === ref);
  if (found) return found;
  throw new NotFoundError(ref === undefined ? 'the project has no lake' : `no lake ${ref} in this project`, {
    context: { field: 'lake' },
    hint:
      lakes.length > 0
        ? `its lakes: ${lakes.map((lake) => `${lake.index} (${lake.location})`).join(', ')}`
        : 'give its pipelines a lake in the project file (`lake`), or start the server with --lake',
  });
}

export interface TableRef {
  /** See `findLake`. */
  lake?: string;
  layer: TableLayer;
  table: string;
}

export interface ColumnInfo {
  name: string;
  /** The Delta type, nested ones written out: `array<string>`, `struct<id: string, nom: string>`. */
  type: string;
  nullable: boolean;
  /** Rows can be sorted by it (a column of a primitive type). */
  sortable: boolean;
}

export interface TableSummary {
  layer: TableLayer;
  table: string;
  version: number;
  rows: number;
  bytes: number;
  files: number;
  /** When the version was committed. */
  committedAt: string;
  operation: string | null;
  runId: string | null;
  task: string | null;
  partitionColumns: string[];
}

export interface PartitionInfo {
  values: Record<string, string | null>;
  files: number;
  rows: number;
  bytes: number;
}

export interface TableDetail extends TableSummary {
  lake: LakeInfo;
  latestVersion: number;
  /** Every version a reader can open, oldest first. */
  versions: number[];
  columns: ColumnInfo[];
  partitions: PartitionInfo[];
}

export function typeName(type: DeltaType): string {
  if (typeof type === 'string') return type;
  switch (type.type) {
    case 'array':
      return `array<${typeName(type.elementType)}>`;
    case 'map':
      return `map<${typeName(type.keyType)}, ${typeName(type.valueType)}>`;
    case 'struct':
      return `struct<${type.fields.map((field) => `${field.name}: ${typeName(field.type)}`).join(', ')}>`;
  }
}

function columnInfo(field: DeltaStructField): ColumnInfo {
  return {
    name: field.name,
    type: typeName(field.type),
    nullable: field.nullable,
    sortable: typeof field.type === 'string',
  };
}

async function openTable(
  ctx: AppContext,
  reader: LakeReader,
  ref: TableRef,
): Promise<{ lake: LakeInfo; table: DeltaTable }> {
  if (!(TABLE_LAYERS as readonly string[]).includes(ref.layer)) {
    throw new ConfigError(`no layer ${ref.layer}`, {
      context: { field: 'layer' },
      hint: `one of ${TABLE_LAYERS.join(', ')}`,
    });
  }
  if (!TABLE_NAME.test(ref.table)) {
    throw new ConfigError(`"${ref.table}" is not a table name`, {
      context: { field: 'table' },
      hint: 'letters, digits, _ and -, e.g. top_100_companies',
    });
  }
  const lake = await findLake(ctx, ref.lake);
  const layout = await reader.lake(lake.location);
  return { lake, table: new DeltaTable(layout.stores.store(ref.layer), ref.table) };
}

/** The version asked for (default the latest), or a NotFoundError saying which versions there are. */
async function requireSnapshot(table: DeltaTable, ref: TableRef, version?: number): Promise<TableSnapshot> {
  const versions = await table.versions();
  const name = `${ref.layer}.${ref.table}`;
  if (versions.length === 0) {
    throw new NotFoundError(`no table ${name}`, {
      context: { field: 'table' },
      hint: 'list the tables of the lake (GET /api/lake/tables)',
    });
  }
  if (version !== undefined && !versions.includes(version)) {
    throw new NotFoundError(`${name} has no version ${version}`, {
      context: { field: 'version' },
      hint: `its versions: ${versions[0]} to ${versions.at(-1)}`,
    });
  }
  const snapshot = await table.snapshot(version);
  if (!snapshot) throw new NotFoundError(`no table ${name}`, { context: { field: 'table' } });
  return snapshot;
}

/** What the commit of the snapshot's version says of itself (nothing when the log no longer holds it). */
async function factsOf(table: DeltaTable, snapshot: TableSnapshot): Promise<CommitFacts | undefined> {
  const [commit] = await table.commits(snapshot.version, snapshot.version);
  return commit && commitFacts(commit.actions);
}

function summary(layer: TableLayer, table: DeltaTable, snapshot: TableSnapshot, facts?: CommitFacts) {
  return {
    layer,
    table: table.root,
    version: snapshot.version,
    rows: snapshotRows(snapshot),
    bytes: snapshot.files.reduce((sum, file) => sum + file.size, 0),
    files: snapshot.files.length,
    committedAt: new Date(snapshot.timestamp).toISOString(),
    operation: facts?.operation ?? null,
    runId: facts?.runId ?? null,
    task: facts?.task ?? null,
    partitionColumns: snapshot.partitionColumns,
  } satisfies TableSummary;
}

export interface TableListing {
  lake: LakeInfo;
  /** Layer by layer, each's tables by name. */
  tables: TableSummary[];
  /** Tables whose log cannot be read, and why. */
  unreadable: { layer: TableLayer; table: string; error: string }[];
}

/** Every table of the lake, layer by layer (directories without a Delta log are not tables). */
export async function listTables(
  ctx: AppContext,
  reader: LakeReader,
  lakeRef?: string,
): Promise<TableListing> {
  const lake = await findLake(ctx, lakeRef);
  const layout = await reader.lake(lake.location);
  const listing: TableListing = { lake, tables: [], unreadable: [] };
  for (const layer of TABLE_LAYERS) {
    const found = await Promise.all(
      (await layout.tablesIn(layer)).map(async (table) => {
        try {
          const snapshot = await table.snapshot();
          return snapshot && summary(layer, table, snapshot, await factsOf(table, snapshot));
        } catch (error) {
          listing.unreadable.push({ layer, table: table.root, error: (error as Error).message });
          return undefined;
        }
      }),
    );
    listing.tables.push(...found.filter((table) => table !== undefined));
  }
  return listing;
}

/** A table at a version (default the latest): its schema, partitions, and what made that version. */
export async function describeTable(
  ctx: AppContext,
  reader: LakeReader,
  ref: TableRef,
  version?: number,
): Promise<TableDetail> {
  const { lake, table } = await openTable(ctx, reader, ref);
  const snapshot = await requireSnapshot(table, ref, version);
  const versions = await table.versions();
  const partitions = new Map<string, PartitionInfo>();
  for (const file of snapshot.files) {
    const key = JSON.stringify(file.partitionValues);
    const partition = partitions.get(key) ?? { values: file.partitionValues, files: 0, rows: 0, bytes: 0 };
    partition.files += 1;
    partition.rows += parseStats(file)?.numRecords ?? 0;
    partition.bytes += file.size;
    partitions.set(key, partition);
  }
  return {
    ...summary(ref.layer, table, snapshot, await factsOf(table, snapshot)),
    lake,
    latestVersion: versions.at(-1) ?? snapshot.version,
    versions,
    columns: snapshot.schema.fields.map(columnInfo),
    partitions: snapshot.partitionColumns.length > 0 ? [...partitions.values()] : [],
  };
}

export type VersionEntry = Omit<VersionChange, 'timestamp'> & { committedAt: string };

/** The table's versions, newest first (at most `limit`): when, what, which run, rows added and removed. */
export async function tableHistory(
  ctx: AppContext,
  reader: LakeReader,
  ref: TableRef,
  options: { limit?: number } = {},
): Promise<{ versions: VersionEntry[] }> {
  const { table } = await openTable(ctx, reader, ref);
  const latest = await requireSnapshot(table, ref);
  const readable = await table.versions();
  const from = Math.max(0, latest.version - (options.limit ?? 100) + 1);
  // The files of the version before the first shown: those its first commit may remove.
  const before = from > 0 && readable.includes(from - 1) ? await table.snapshot(from - 1) : undefined;
  const changes = versionChanges(before?.files ?? [], await table.commits(from, latest.version));
  return {
    versions: changes.reverse().map(({ timestamp, ...change }) => ({
      ...change,
      committedAt: new Date(timestamp).toISOString(),
    })),
  };
}

export type Row = Record<string, SqlValue>;
export type SortOrder = 'asc' | 'desc';

export interface RowsQuery {
  version?: number;
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
function jsonRows(rows: SqlRow[], fields: readonly DeltaStructField[]): Row[] {
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
function register(session: DuckDbEngine, name: string, table: DeltaTable, snapshot: TableSnapshot) {
  return session.registerSnapshot(name, snapshot, table.store, table.root);
}

/** A page of the rows of a version (default the latest), in the order asked. */
export async function previewRows(
  ctx: AppContext,
  reader: LakeReader,
  ref: TableRef,
  query: RowsQuery = {},
): Promise<RowsPage> {
  const offset = wholeNumber(query.offset ?? 0, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const limit = wholeNumber(query.limit ?? 50, 'limit', 1, MAX_PREVIEW_ROWS);
  const order = query.order ?? 'asc';
  const { table } = await openTable(ctx, reader, ref);
  const snapshot = await requireSnapshot(table, ref, query.version);
  const fields = snapshot.schema.fields;
  const sorted = orderBy(fields, query.sort, order);
  return reader.session(async (session) => {
    await register(session, 'version', table, snapshot);
    const rows = await session.all(`SELECT * FROM "version"${sorted} LIMIT ${limit} OFFSET ${offset}`);
    return {
      version: snapshot.version,
      columns: fields.map(columnInfo),
      rows: jsonRows(rows, fields),
      total: await session.count('"version"'),
      offset,
      limit,
      sort: query.sort ?? null,
      order,
    };
  });
}

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
  ctx: AppContext,
  reader: LakeReader,
  ref: TableRef,
  versions: { from: number; to: number },
): Promise<VersionDiff> {
  const { table } = await openTable(ctx, reader, ref);
  const from = await requireSnapshot(table, ref, versions.from);
  const to = await requireSnapshot(table, ref, versions.to);
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

export const EXPORT_FORMATS = ['csv', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportedVersion {
  /** The file, in the reader's scratch directory: `remove` it once sent. */
  path: string;
  /** What to call it: `gold.top_100_companies.v3.csv`. */
  fileName: string;
  contentType: string;
  bytes: number;
  remove(): Promise<void>;
}

const COPY_OPTIONS: Record<ExportFormat, { options: string; contentType: string }> = {
  csv: { options: 'FORMAT csv, HEADER true', contentType: 'text/csv; charset=utf-8' },
  parquet: { options: 'FORMAT parquet, COMPRESSION zstd', contentType: 'application/vnd.apache.parquet' },
};

/** A version (default the latest) written as one CSV or Parquet file, to be sent and then removed. */
export async function exportVersion(
  ctx: AppContext,
  reader: LakeReader,
  ref: TableRef,
  options: { version?: number; format: ExportFormat },
): Promise<ExportedVersion> {
  const { table } = await openTable(ctx, reader, ref);
  const snapshot = await requireSnapshot(table, ref, options.version);
  const copy = COPY_OPTIONS[options.format];
  const file = await reader.scratchFile(`.${options.format}`);
  const remove = () => rm(file, { force: true });
  try {
    await reader.session(async (session) => {
      await register(session, 'version', table, snapshot);
      await session.run(`COPY (SELECT * FROM "version") TO ${sqlString(file)} (${copy.options})`);
    });
    return {
      path: file,
      fileName: `${ref.layer}.${ref.table}.v${snapshot.version}.${options.format}`,
      contentType: copy.contentType,
      bytes: (await stat(file)).size,
      remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}
