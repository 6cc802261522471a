import { DEFAULT_COMPACTION, planRewrite } from '../core/compaction.js';
import type { Engine, StagedTable } from '../engine/engine.js';
import type { CommitResult, DeltaTable, TableSnapshot } from '../table/delta-table.js';
import { parseStats } from '../table/delta-protocol.js';
import { discardStaged, STAGED_VIEW, type WriteResult } from './table-writer.js';

export interface MergeOptions {
  /** The columns that identify a row: a current row whose key is in `removeKeys` is replaced. */
  key: readonly string[];
  /** A relation of the keys (the `key` columns) whose current rows go. */
  removeKeys: string;
  /** A relation of the rows to add, with the table's columns. */
  insert: string;
  partitionBy: readonly string[];
  runId: string;
  task: string;
  /** More commitInfo fields (an increment's marks). */
  info?: Record<string, string>;
  /** Write–audit–publish over the whole new version (see WriteOptions.audit); `changed`: the staged rows. */
  audit?: (version: string, changed?: string) => Promise<void>;
  log?: (message: string) => void;
}

/** The merge's working views, one set per session: a task merges one table at a time. */
const CURRENT = '__merge_current';
const NEXT = '__merge_next';
const REWRITE = '__merge_rewrite';
const UNTOUCHED = '__merge_untouched';
const FILE = '__file';

/**
 * Merges rows into a Delta table by key, copy-on-write in one commit: the data files holding a replaced key are
 * rewritten without it (with the small files src/core/compaction.ts coalesces), the new rows are written in files
 * of their own, and every other file stays as it is. The commit
 * lands on `snapshot`'s version or fails with a CommitConflictError: never on another writer's newer version.
 */
export async function mergeTable(
  engine: Engine,
  table: DeltaTable,
  snapshot: TableSnapshot,
  options: MergeOptions,
): Promise<WriteResult> {
  const { dialect } = engine;
  const log = options.log ?? (() => {});
  const started = performance.now();
  await engine.registerSnapshot(CURRENT, snapshot, table.store, table.root, { fileColumn: FILE });
  const current = dialect.quoteIdent(CURRENT);
  const file = dialect.quoteIdent(FILE);
  const matches = (row: string, keys: string): string =>
    options.key
      .map(
        (column) =>
          `${row}.${dialect.quoteIdent(column)} IS NOT DISTINCT FROM ${keys}.${dialect.quoteIdent(column)}`,
      )
      .join(' AND ');
  const replaced = `EXISTS (SELECT 1 FROM ${options.removeKeys} AS gone WHERE ${matches('cur', 'gone')})`;
  const affected = (
    await engine.all<{ file: string }>(
      `SELECT DISTINCT cur.${file} AS file FROM ${current} AS cur WHERE ${replaced}`,
    )
  ).map((found) => found.file);
  const columns = (await engine.columns(options.insert)).map((column) => dialect.quoteIdent(column.name));
  // Small files coalesce with the rewritten ones (they hold no replaced key: all their rows are kept).
  const plan = planRewrite(
    snapshot.files.map((add) => ({
      path: add.path,
      partition: JSON.stringify(Object.entries(add.partitionValues).sort()),
      rows: parseStats(add)?.numRecords ?? Infinity,
    })),
    new Set(affected),
  );
  const removed = new Set(plan.groups.flat());
  const untouchedPaths = new Set(snapshot.files.map((add) => add.path).filter((path) => !removed.has(path)));
  // Each set of files gets a view of its own: a scan reads those files only.
  const view = async (name: string, paths: ReadonlySet<string>): Promise<string> => {
    const files = snapshot.files.filter((add) => paths.has(add.path));
    await engine.registerSnapshot(name, { ...snapshot, files }, table.store, table.root);
    return dialect.quoteIdent(name);
  };
  const kept = (from: string, where: string): string =>
    `SELECT ${columns.map((column) => `cur.${column}`).join(', ')} FROM ${from} AS cur WHERE ${where}`;
  // The new rows are staged apart from the kept ones, in files of their own: a later merge replacing some of
  // them (republications follow publications closely) rewrites those small files rather than all the rows that
  // happened to be rewritten beside them. Each part is typed as the union of both.
  const union = (keptRows: string, insertWhere: string): string =>
    `(${keptRows} UNION ALL SELECT ${columns.join(', ')} FROM ${options.insert} WHERE ${insertWhere})`;
  const parts: string[] = [];
  for (const [index, group] of plan.groups.entries()) {
    const from = await view(`${REWRITE}_${index}`, new Set(group));
    parts.push(union(kept(from, `NOT ${replaced}`), 'false'));
  }
  parts.push(union(kept(current, 'false'), 'true'));
  const staged = await stageParts(engine, table, parts, options.partitionBy);
  log(
    `merge: ${affected.length} of ${snapshot.files.length} file(s) hold replaced keys, ${plan.coalesced.length} more ` +
      `coalesced; staged ${staged.rows} row(s) in ${staged.files.length} file(s) (${staged.rows - staged.newRows} kept)`,
  );
  if (options.audit) {
    try {
      await engine.registerStaged(STAGED_VIEW, staged);
      await engine.run(
        `CREATE OR REPLACE TEMP VIEW ${dialect.quoteIdent(NEXT)} AS ${kept(await view(UNTOUCHED, untouchedPaths), 'true')}
        UNION ALL SELECT ${columns.join(', ')} FROM ${dialect.quoteIdent(STAGED_VIEW)}`,
      );
      await options.audit(dialect.quoteIdent(NEXT), dialect.quoteIdent(STAGED_VIEW));
    } catch (error) {
      await discardStaged(staged);
      throw error;
    }
  }
  const result: CommitResult = await table.commit({
    mode: 'rewrite',
    schema: staged.schema,
    partitionColumns: [...options.partitionBy],
    files: staged.files,
    removes: [...removed],
    readVersion: snapshot.version,
    operation: 'MERGE',
    parameters: { key: JSON.stringify(options.key) },
    info: { runId: options.runId, task: options.task, ...options.info },
  });
  const untouched = snapshot.files
    .filter((candidate) => untouchedPaths.has(candidate.path))
    .reduce((sum, candidate) => sum + (parseStats(candidate)?.numRecords ?? 0), 0);
  log(
    `committed version ${result.version} of ${table.root} (merge, ${(performance.now() - started).toFixed(0)} ms)`,
  );
  return { ...result, rows: untouched + staged.rows };
}

/** The parts staged one after the other as one staged table (all discarded when one fails); `newRows`: the last's. */
async function stageParts(
  engine: Engine,
  table: DeltaTable,
  parts: readonly string[],
  partitionBy: readonly string[],
): Promise<StagedTable & { newRows: number }> {
  const stagings: StagedTable[] = [];
  try {
    // Into the table's own store where the engine can write there (Spark on S3), else the scratch area.
    for (const part of parts) {
      stagings.push(
        await engine.stage(part, partitionBy, table, { maxRowsPerFile: DEFAULT_COMPACTION.maxRows }),
      );
    }
  } catch (error) {
    await Promise.all(stagings.map(discardStaged));
    throw error;
  }
  const last = stagings.at(-1)!;
  const target = stagings.find((part) => part.target)?.target;
  return {
    schema: last.schema,
    files: stagings.flatMap((part) => part.files),
    rows: stagings.reduce((sum, part) => sum + part.rows, 0),
    newRows: last.rows,
    ...(target && { target }),
  };
}
