import { MedallionError } from '../core/errors.js';
import { joinKey, type ObjectInfo, type ObjectStore } from '../storage/object-store.js';
import { LOG_DIR } from './delta-protocol.js';
import { decodeDeltaPath, DeltaTable } from './delta-table.js';
import type { LakeArea, LakeLayout } from './lake-layout.js';

/**
 * VACUUM: deletes the data files no version still within the retention window needs. Overwritten silver and
 * gold tables otherwise keep every old version's files forever. It also deletes the temp files of writes that
 * never finished (a process killed while writing).
 */
export interface VacuumOptions {
  /** How far back versions stay readable (time travel), in ms. */
  retainMs: number;
  /** vacuumLake: the areas whose versions stay readable for another time than `retainMs` (the quarantine's). */
  retainMsByArea?: Partial<Record<LakeArea, number>>;
  /**
   * Files written less than this long ago are never deleted, whatever versions reference them: a writer may be
   * about to commit them (default `retainMs`).
   */
  safetyMs?: number;
  now: Date;
  /** List what would be deleted, delete nothing. */
  dryRun?: boolean;
}

export interface VacuumResult {
  /** Store keys of the files deleted (or that would be, with dryRun), sorted. */
  deleted: string[];
  /** Their total size. */
  bytes: number;
  /** Data files left in place. */
  kept: number;
}

/** Keys deleted per store.delete call. */
const DELETE_BATCH = 1000;

/**
 * A temp file untouched this long belongs to no live write, whatever the retention: a writer touches its temp
 * file as the bytes land and renames it into place at once.
 */
export const STALE_TEMP_FILE_MS = 3_600_000;

/** A path in `add.path` that is a URI or an absolute path rather than a path relative to the table root. */
const ABSOLUTE_PATH = /^([a-z][a-z0-9+.-]*:|\/)/i;

/**
 * Deletes the Parquet files under the table root that (a) no retained version references — the current version,
 * every version committed after `now − retainMs`, and the latest one committed at or before it, so that time
 * travel to any instant within the window still works — and (b) were themselves last modified before
 * `now − safetyMs`, so that files a writer has uploaded but not yet committed are left alone. Files no version
 * ever referenced (those of a try that crashed before its commit) go by the same rule. The log and hidden
 * entries (`_…`, `.…`, partition directories excepted) are never touched.
 */
export async function vacuumTable(table: DeltaTable, options: VacuumOptions): Promise<VacuumResult> {
  const cutoff = options.now.getTime() - options.retainMs;
  const writtenBefore = options.now.getTime() - (options.safetyMs ?? options.retainMs);
  const referenced = await retainedFiles(table, cutoff);
  if (!referenced) return { deleted: [], bytes: 0, kept: 0 };
  const { keys, partitionColumns } = referenced;
  const prefix = `${joinKey(table.root)}/`;
  const candidates = (await table.store.list(prefix)).filter((object) =>
    isDataFile(object.key.slice(prefix.length), partitionColumns),
  );
  const doomed = candidates.filter(
    (object) => !keys.has(object.key) && object.lastModified.getTime() < writtenBefore,
  );
  const deleted = doomed.map((object) => object.key);
  if (!options.dryRun) await deleteAll(table.store, deleted);
  return { deleted, bytes: totalSize(doomed), kept: candidates.length - doomed.length };
}

async function deleteAll(store: ObjectStore, keys: readonly string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) await store.delete(keys.slice(i, i + DELETE_BATCH));
}

/** Store keys of every file a retained version references, or undefined when the table has no version. */
async function retainedFiles(
  table: DeltaTable,
  cutoff: number,
): Promise<{ keys: Set<string>; partitionColumns: string[] } | undefined> {
  const versions = await table.versions();
  const keys = new Set<string>();
  const partitionColumns = new Set<string>();
  // Newest first, down to (and including) the latest version committed at or before the cutoff.
  for (const version of [...versions].reverse()) {
    const snapshot = await table.snapshot(version);
    if (!snapshot) break;
    for (const column of snapshot.partitionColumns) partitionColumns.add(column);
    for (const file of snapshot.files) {
      if (ABSOLUTE_PATH.test(file.path)) {
        throw new MedallionError(
          `${table.root}: version ${version} names a data file by absolute path (${file.path}); vacuum only handles paths relative to the table`,
          {
            context: { file: joinKey(table.store.location, table.root) },
            hint: 'this table was written by another engine: vacuum it with that engine',
          },
        );
      }
      keys.add(joinKey(table.root, decodeDeltaPath(file.path)));
    }
    if (snapshot.timestamp <= cutoff) break;
  }
  return versions.length === 0 ? undefined : { keys, partitionColumns: [...partitionColumns] };
}

/**
 * A Parquet file of the table's data: not in the log, not hidden. As in Delta, a directory starting with `_` or
 * `.` is hidden unless it is a partition directory (`column=value`) of a partition column.
 */
function isDataFile(relativeKey: string, partitionColumns: readonly string[]): boolean {
  const segments = relativeKey.split('/');
  const name = segments.pop() ?? '';
  if (!name.endsWith('.parquet') || isHidden(name)) return false;
  if (segments[0] === LOG_DIR) return false;
  return segments.every(
    (segment) => !isHidden(segment) || partitionColumns.some((column) => segment.startsWith(`${column}=`)),
  );
}

function isHidden(name: string): boolean {
  return name.startsWith('_') || name.startsWith('.');
}

function totalSize(objects: readonly ObjectInfo[]): number {
  return objects.reduce((sum, object) => sum + object.size, 0);
}

export interface TableVacuumResult extends VacuumResult {
  area: LakeArea;
  /**
   * The table's directory in its area, e.g. `orders` or `_manifest`; for temp files outside any table, the
   * directory one level down they are under (a source's, in landing), `.` for the area's own.
   */
  table: string;
  /** The keys in `deleted` that are temp files of writes that never finished. */
  temporary: string[];
}

/** The table layers of a lake; landing holds one table, the manifest, and the system area the dedupe states. */
const TABLE_AREAS = ['bronze', 'silver', 'gold', 'quarantine'] as const satisfies readonly LakeArea[];

/**
 * Vacuums every Delta table of the lake: each directory one level down in bronze, silver, gold and quarantine
 * that has a `_delta_log`, the landing manifest and the incremental tables' dedupe states. Deletes every temp file of the lake untouched for
 * STALE_TEMP_FILE_MS, reported with the table it is in (or the directory, outside tables).
 */
export async function vacuumLake(lake: LakeLayout, options: VacuumOptions): Promise<TableVacuumResult[]> {
  const results: TableVacuumResult[] = [];
  for (const area of ['landing', ...TABLE_AREAS, 'system'] as const) {
    const tables = await tablesOf(lake, area);
    const store = lake.stores.store(area);
    const stale = await staleTempFiles(store, options.now);
    const retainMs = options.retainMsByArea?.[area] ?? options.retainMs;
    for (const table of tables) {
      const temporary = stale.filter((object) => object.key.startsWith(`${joinKey(table.root)}/`));
      if (temporary.length === 0 && !(await table.exists())) continue;
      const vacuumed = await vacuumTable(table, { ...options, retainMs });
      results.push(withTemporary(area, table.root, vacuumed, temporary));
    }
    const inTables = new Set(results.flatMap((result) => (result.area === area ? result.temporary : [])));
    for (const [directory, temporary] of byDirectory(stale.filter((object) => !inTables.has(object.key)))) {
      results.push(withTemporary(area, directory, { deleted: [], bytes: 0, kept: 0 }, temporary));
    }
    if (!options.dryRun)
      await deleteAll(
        store,
        stale.map((object) => object.key),
      );
  }
  return results;
}

async function tablesOf(lake: LakeLayout, area: LakeArea): Promise<DeltaTable[]> {
  if (area === 'landing') return [lake.manifest()];
  return area === 'system' ? lake.winnersTables() : lake.tablesIn(area);
}

async function staleTempFiles(store: ObjectStore, now: Date): Promise<ObjectInfo[]> {
  const staleBefore = now.getTime() - STALE_TEMP_FILE_MS;
  return (await store.listUnfinished('')).filter((object) => object.lastModified.getTime() < staleBefore);
}

function withTemporary(
  area: LakeArea,
  table: string,
  result: VacuumResult,
  temporary: readonly ObjectInfo[],
): TableVacuumResult {
  const keys = temporary.map((object) => object.key);
  return {
    area,
    table,
    deleted: [...result.deleted, ...keys].sort(),
    bytes: result.bytes + totalSize(temporary),
    kept: result.kept,
    temporary: keys,
  };
}

/** The objects grouped by the directory one level down they are under, `.` for those at the top. */
function byDirectory(objects: readonly ObjectInfo[]): Map<string, ObjectInfo[]> {
  const groups = new Map<string, ObjectInfo[]>();
  for (const object of objects) {
    const slash = object.key.indexOf('/');
    const directory = slash > 0 ? object.key.slice(0, slash) : '.';
    groups.set(directory, [...(groups.get(directory) ?? []), object]);
  }
  return groups;
}
