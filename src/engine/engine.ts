/**
 * The engine port: what a refined-table task (silver and gold SQL, deduplication, quarantine rules, row
 * accounting, expectations, quality checks) needs from the engine that runs it. DuckDB (src/engine/duckdb) is its
 * first adapter; a Spark Connect adapter is the second. Landing and bronze ingestion are not behind it: they use
 * DuckDB's file readers and run on the DuckDB adapter whatever engine runs the refined tables.
 */
import type { EngineKind } from '../core/pipeline.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { DeltaStructType, DeltaType } from '../table/delta-protocol.js';
import type { LocalStagedFile, StagedFile, TableSnapshot } from '../table/delta-table.js';
import type { Dialect } from './dialect.js';

export type { EngineKind };

/**
 * A value of a result row as every engine returns it: BIGINTs (count(*) among them) as text, exact at any size
 * (callers convert with Number), smaller integers and doubles as numbers, decimals as numbers or text, dates as
 * 'YYYY-MM-DD', timestamps as text, nested values as arrays and objects.
 */
export type SqlValue = string | number | boolean | null | SqlValue[] | { [key: string]: SqlValue };
export type SqlRow = Record<string, SqlValue>;

/** A column of a relation, described without the engine's own types. */
export interface EngineColumn {
  name: string;
  /** The Delta type `stage` writes it as; null when no Delta type can hold it (it must be cast or dropped). */
  type: DeltaType | null;
  /** The type as the engine names it, for messages. */
  engineType: string;
}

/** One statement a session ran: what, how long, and the error when it failed. */
export interface StatementTrace {
  sql: string;
  ms: number;
  error?: string;
}

export type StatementTracer = (trace: StatementTrace) => void;

/** The Delta table a relation is staged for (a DeltaTable is one). */
export interface StageTarget {
  store: ObjectStore;
  root: string;
}

/** A relation written as Parquet files, described for a Delta commit. */
export interface StagedTable<File extends StagedFile = StagedFile> {
  schema: DeltaStructType;
  files: File[];
  rows: number;
  /** The table whose store already holds the files (StoredStagedFile), when the engine wrote them there. */
  target?: StageTarget;
}

export interface StageOptions {
  /**
   * About how many rows a file holds at most (DuckDB rounds up to 2,048 and cannot bound the files of a
   * partitioned write): a copy-on-write merge replacing one row rewrites its whole file.
   */
  maxRowsPerFile?: number;
}

export interface SnapshotViewOptions {
  fileColumn?: string;
}

/** A SQL session of an engine: its temporary views and tables are its own. */
export interface Engine {
  readonly kind: EngineKind;
  /** How medallion writes the SQL it generates for this engine. */
  readonly dialect: Dialect;
  /**
   * Another session on the same engine (and memory budget), for a task running beside others; `close()` ends
   * only that session. `tracer` hears of each statement it runs (a try's log).
   */
  connect(options?: { scratchDir?: string; tracer?: StatementTracer }): Promise<Engine>;
  run(sql: string): Promise<void>;
  /** Small results only: every row becomes a JS object (see SqlValue). */
  all<T extends SqlRow = SqlRow>(sql: string): Promise<T[]>;
  /** The first row; fails when there is none. */
  one<T extends SqlRow = SqlRow>(sql: string): Promise<T>;
  count(relation: string): Promise<number>;
  columns(relation: string): Promise<EngineColumn[]>;
  /**
   * Makes a Delta table version queryable as the temporary view `name` (unquoted); with `fileColumn`, the view
   * has one more column of that name holding each row's data file as the log names it (`add.path`): what a
   * copy-on-write merge needs to know which files hold the keys it replaces.
   */
  registerSnapshot(
    name: string,
    snapshot: TableSnapshot,
    store: ObjectStore,
    root: string,
    options?: SnapshotViewOptions,
  ): Promise<void>;
  /**
   * Computes `query` once into the temporary relation `name` (replacing one so named): every later statement
   * sees the same rows, even when the query is not deterministic (row_number over ties).
   */
  materialize(name: string, query: string): Promise<void>;
  /**
   * Writes a relation as Parquet files, partitioned as asked, and describes them for a Delta commit (row counts,
   * null counts and bounds, partition values, sizes): in the scratch area, or, for an engine whose own workers
   * reach `target`'s store (Spark on an S3 lake), under the target table's root in that store, to be committed
   * where they are. Nothing is visible until the commit.
   */
  stage(
    relation: string,
    partitionBy: readonly string[],
    target?: StageTarget,
    options?: StageOptions,
  ): Promise<StagedTable>;
  /** Makes staged files queryable as the temporary view `name` (write–audit–publish audits them). */
  registerStaged(name: string, staged: StagedTable): Promise<void>;
  /** Stops the statement running on this session: it fails with an interruption error. */
  interrupt(): void;
  /** Drops the named temporary views and tables, or every one when no name is given. */
  dropTemporaries(names?: readonly string[]): Promise<void>;
  close(): void;
}

/** The Delta schema of columns as staged: every column nullable, as Delta readers expect of Parquet. */
export function deltaSchema(columns: readonly { name: string; type: DeltaType }[]): DeltaStructType {
  return {
    type: 'struct',
    fields: columns.map((column) => ({ name: column.name, type: column.type, nullable: true, metadata: {} })),
  };
}

/** The staged files of an engine that reads them from local disk: every one must be there. */
export function localStagedFiles(staged: StagedTable): LocalStagedFile[] {
  return staged.files.map((file) => {
    if ('localPath' in file) return file;
    throw new Error(
      `staged file ${file.relativePath} is in ${staged.target?.store.location}, not on local disk`,
    );
  });
}

/** Runs one statement, timed and told to the tracer (with its error when it fails). */
export async function traced<T>(
  tracer: StatementTracer | undefined,
  sql: string,
  execute: () => Promise<T>,
): Promise<T> {
  if (!tracer) return execute();
  const started = performance.now();
  try {
    const result = await execute();
    tracer({ sql, ms: performance.now() - started });
    return result;
  } catch (error) {
    tracer({ sql, ms: performance.now() - started, error: (error as Error).message });
    throw error;
  }
}
