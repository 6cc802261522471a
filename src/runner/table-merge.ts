import type { Engine } from '../engine/engine.js';
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
  /** Write–audit–publish over the whole new version (see WriteOptions.audit). */
  audit?: (version: string) => Promise<void>;
  log?: (message: string) => void;
}

/** The merge's working views, one set per session: a task merges one table at a time. */
const CURRENT = '__merge_current';
const NEXT = '__merge_next';
const FILE = '__file';

/**
 * Merges rows into a Delta table by key, copy-on-write in one commit: the data files holding a replaced key are
 * rewritten without it, the new rows are written beside them, and every other file stays as it is. The commit
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
  const inFiles = (files: readonly string[]): string =>
    files.length ? `cur.${file} IN (${files.map((path) => dialect.string(path)).join(', ')})` : 'false';
  const kept = (where: string): string =>
    `SELECT ${columns.map((column) => `cur.${column}`).join(', ')} FROM ${current} AS cur WHERE ${where}`;
  const rewritten = `(${kept(`${inFiles(affected)} AND NOT ${replaced}`)} UNION ALL SELECT ${columns.join(', ')} FROM ${options.insert})`;
  // Into the table's own store where the engine can write there (Spark on S3), else the scratch area.
  const staged = await engine.stage(rewritten, options.partitionBy, table);
  log(
    `merge: ${affected.length} of ${snapshot.files.length} file(s) hold replaced keys; staged ${staged.rows} row(s) ` +
      `in ${staged.files.length} file(s)`,
  );
  if (options.audit) {
    try {
      await engine.registerStaged(STAGED_VIEW, staged);
      await engine.run(
        `CREATE OR REPLACE TEMP VIEW ${dialect.quoteIdent(NEXT)} AS ${kept(`NOT (${inFiles(affected)})`)}
        UNION ALL SELECT ${columns.join(', ')} FROM ${dialect.quoteIdent(STAGED_VIEW)}`,
      );
      await options.audit(dialect.quoteIdent(NEXT));
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
    removes: affected,
    readVersion: snapshot.version,
    operation: 'MERGE',
    parameters: { key: JSON.stringify(options.key) },
    info: { runId: options.runId, task: options.task, ...options.info },
  });
  const untouched = snapshot.files
    .filter((candidate) => !affected.includes(candidate.path))
    .reduce((sum, candidate) => sum + (parseStats(candidate)?.numRecords ?? 0), 0);
  log(
    `committed version ${result.version} of ${table.root} (merge, ${(performance.now() - started).toFixed(0)} ms)`,
  );
  return { ...result, rows: untouched + staged.rows };
}
