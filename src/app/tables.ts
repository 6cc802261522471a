/**
 * The lake's tables as people look at them (the Lake page of the UI, and `medallion tables`): which lakes the
 * project's pipelines write, their tables per layer (and which are stale), a table's schema, partitions and
 * history at any version or time. Its rows (`table-rows.ts`), the difference between two versions
 * (`table-diff.ts`), a version as CSV or Parquet (`table-export.ts`) and a restore (`table-restore.ts`) start from
 * the tables and versions opened here. Nothing here writes.
 */
import { ConfigError, NotFoundError } from '../core/errors.js';
import { staleInputs } from '../core/staleness.js';
import { commitFacts, versionChanges, type VersionChange } from '../table/delta-history.js';
import { commitTime, versionAsOf as versionAsOfTime } from '../table/time-travel.js';
import { parseStats, type DeltaStructField, type DeltaType } from '../table/delta-protocol.js';
import { DeltaTable, snapshotRows, type TableSnapshot } from '../table/delta-table.js';
import type { AppContext } from './context.js';
import type { LakeReader } from './lake-reader.js';
import { tableReads } from './table-lineage.js';

/** What reading the lake needs of the application context: the project and the locations that stand in for its. */
export type LakeContext = Pick<AppContext, 'project' | 'locations'>;

/** The areas of a lake that hold Delta tables (landing: its manifest). */
export const TABLE_LAYERS = ['landing', 'bronze', 'silver', 'gold', 'quarantine'] as const;
export type TableLayer = (typeof TABLE_LAYERS)[number];

/** A table's directory name: no dot, no slash, so never a way out of its layer. */
export const TABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,199}$/;

export interface LakeInfo {
  /** Its position in the list: what a request may name it by. */
  index: number;
  location: string;
  /** The pipelines that write it. */
  pipelines: string[];
}

/** The lakes of the project's pipelines (as the server's --lake, if any, overrides them), each once. */
export async function listLakes(ctx: LakeContext): Promise<LakeInfo[]> {
  const lakes = new Map<string, string[]>();
  // By name: loading the pipelines' definitions (their SQL, schedules, checks) is not needed to know where they write.
  for (const name of ctx.project.pipelineNames()) {
    const lake = ctx.project.lakeOf(name, ctx.locations);
    if (lake) lakes.set(lake, [...(lakes.get(lake) ?? []), name]);
  }
  return [...lakes].map(([location, pipelines], index) => ({ index, location, pipelines }));
}

/** The lake a request names by its index or its location as `listLakes` gives them; the first when it names none. */
export async function findLake(ctx: LakeContext, ref: string | undefined): Promise<LakeInfo> {
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

export function columnInfo(field: DeltaStructField): ColumnInfo {
  return {
    name: field.name,
    type: typeName(field.type),
    nullable: field.nullable,
    sortable: typeof field.type === 'string',
  };
}

/** The table a request names, in its lake (names checked: never a way out of the layer). */
export async function openTable(
  ctx: LakeContext,
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

/** Which version a request asks for: a number, or the newest committed at or before a time; else the latest. */
export interface VersionChoice {
  version?: number;
  asOf?: Date;
}

/** `layer.table`, as commands and messages name a table. */
export function tableName(ref: Pick<TableRef, 'layer' | 'table'>): string {
  return `${ref.layer}.${ref.table}`;
}

/**
 * The version asked for (default the latest) and every version a reader can open, from one listing of the log
 * (time by time, a second); a NotFoundError saying which versions there are when it is not one of them.
 */
export async function openVersion(
  table: DeltaTable,
  ref: TableRef,
  choice: VersionChoice = {},
): Promise<{ snapshot: TableSnapshot; versions: number[] }> {
  const name = tableName(ref);
  if (choice.version !== undefined && choice.asOf !== undefined) {
    throw new ConfigError(`give a version of ${name} or a time, not both`, { context: { field: 'asOf' } });
  }
  let { versions, snapshot } = await table.open(choice.version);
  if (versions.length === 0) {
    throw new NotFoundError(`no table ${name}`, {
      context: { field: 'table' },
      hint: 'the lake’s tables: `medallion tables` (GET /api/lake/tables)',
    });
  }
  if (choice.asOf)
    ({ versions, snapshot } = await table.open(await versionAsOf(table, name, versions, choice.asOf)));
  if (!snapshot) {
    throw new NotFoundError(`${name} has no version ${choice.version}`, {
      context: { field: 'version' },
      hint: `its versions: ${versions[0]} to ${versions.at(-1)}`,
    });
  }
  return { snapshot, versions };
}

/** `openVersion`'s snapshot. */
export async function requireSnapshot(
  table: DeltaTable,
  ref: TableRef,
  choice: VersionChoice = {},
): Promise<TableSnapshot> {
  return (await openVersion(table, ref, choice)).snapshot;
}

/** The newest readable version committed at or before `asOf`; a NotFoundError when the table did not exist then. */
async function versionAsOf(table: DeltaTable, name: string, versions: number[], asOf: Date): Promise<number> {
  const found = await versionAsOfTime(table, asOf);
  if (found !== undefined) return found;
  const [first] = versions;
  throw new NotFoundError(`${name} has no version as of ${asOf.toISOString()}`, {
    context: { field: 'asOf' },
    ...(first !== undefined && {
      hint: `its ${first === 0 ? 'first' : 'oldest readable'} version, ${first}, was committed at ${new Date(await commitTime(table, first)).toISOString()}`,
    }),
  });
}

function summary(layer: TableLayer, table: DeltaTable, snapshot: TableSnapshot): TableSummary {
  // What the version's commit says of itself (nothing when the log keeps only its checkpoint).
  const facts = commitFacts(snapshot.commitInfo ? [{ commitInfo: snapshot.commitInfo }] : []);
  return {
    layer,
    table: table.root,
    version: snapshot.version,
    rows: snapshotRows(snapshot),
    bytes: snapshot.files.reduce((sum, file) => sum + file.size, 0),
    files: snapshot.files.length,
    committedAt: new Date(snapshot.timestamp).toISOString(),
    operation: facts.operation,
    runId: facts.runId,
    task: facts.task,
    partitionColumns: snapshot.partitionColumns,
  };
}

export interface ListedTable extends TableSummary {
  /** The tables it reads that have a commit newer than its own (see core/staleness.ts): stale when any. */
  staleInputs: string[];
}

export interface TableListing {
  lake: LakeInfo;
  /** Layer by layer, each's tables by name. */
  tables: ListedTable[];
  /** Tables whose log cannot be read, and why. */
  unreadable: { layer: TableLayer; table: string; error: string }[];
}

/** Every table of the lake, layer by layer (directories without a Delta log are not tables). */
export async function listTables(
  ctx: LakeContext,
  reader: LakeReader,
  lakeRef?: string,
): Promise<TableListing> {
  const lake = await findLake(ctx, lakeRef);
  const layout = await reader.lake(lake.location);
  const found: TableSummary[] = [];
  const unreadable: TableListing['unreadable'] = [];
  for (const layer of TABLE_LAYERS) {
    const inLayer = await Promise.all(
      (await layout.tablesIn(layer)).map(async (table) => {
        try {
          const snapshot = await table.snapshot();
          return snapshot && summary(layer, table, snapshot);
        } catch (error) {
          unreadable.push({ layer, table: table.root, error: (error as Error).message });
          return undefined;
        }
      }),
    );
    found.push(...inLayer.filter((table) => table !== undefined));
  }
  const stale = staleInputs(
    new Map(found.map((table) => [tableName(table), Date.parse(table.committedAt)])),
    await tableReads(ctx, lake),
  );
  const tables = found.map((table) => ({ ...table, staleInputs: stale.get(tableName(table)) ?? [] }));
  return { lake, tables, unreadable };
}

/** A table at a version (default the latest; or as of a time): its schema, partitions, and what made that version. */
export async function describeTable(
  ctx: LakeContext,
  reader: LakeReader,
  ref: TableRef,
  choice: VersionChoice = {},
): Promise<TableDetail> {
  const { lake, table } = await openTable(ctx, reader, ref);
  const { snapshot, versions } = await openVersion(table, ref, choice);
  return detailOf(lake, ref.layer, table, snapshot, versions);
}

/** What `describeTable` tells of a version already open. */
export function detailOf(
  lake: LakeInfo,
  layer: TableLayer,
  table: DeltaTable,
  snapshot: TableSnapshot,
  versions: number[],
): TableDetail {
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
    ...summary(layer, table, snapshot),
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
  ctx: LakeContext,
  reader: LakeReader,
  ref: TableRef,
  options: { limit?: number } = {},
): Promise<{ versions: VersionEntry[] }> {
  const { table } = await openTable(ctx, reader, ref);
  const { snapshot: latest, versions: readable } = await openVersion(table, ref);
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
