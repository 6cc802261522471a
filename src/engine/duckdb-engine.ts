import { randomUUID } from 'node:crypto';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBConnection, DuckDBInstance, type DuckDBType } from '@duckdb/node-api';
import type { ObjectStore } from '../storage/object-store.js';
import type { TableSnapshot, StagedFile } from '../table/delta-table.js';
import { decodeDeltaPath } from '../table/delta-table.js';
import type { DeltaStructType, FileStats } from '../table/delta-protocol.js';
import { joinKey } from '../storage/object-store.js';
import { deltaSchema, duckdbSqlType, quoteIdent, writableColumn } from './delta-types.js';

export interface EngineOptions {
  /** Where DuckDB spills and where staged files are written. */
  scratchDir: string;
  /** e.g. '1GB'; DuckDB's default is 80% of RAM. */
  memoryLimit?: string;
  threads?: number;
}

export type SqlValue = string | number | boolean | null | SqlValue[] | { [key: string]: SqlValue };
export type SqlRow = Record<string, SqlValue>;

/** One statement a session ran: what, how long, and the error when it failed. */
export interface StatementTrace {
  sql: string;
  ms: number;
  error?: string;
}

export type StatementTracer = (trace: StatementTrace) => void;

export interface StagedTable {
  schema: DeltaStructType;
  files: StagedFile[];
  rows: number;
}

/** The DuckDB engine: runs SQL over local files, stages query results as Parquet for a Delta commit. */
export class DuckDbEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly scratchDir: string,
    /** Connections made by `connect()` share their parent's instance and leave it open on close. */
    private readonly ownsInstance = true,
    /** Hears of every statement this session runs (a try's log). */
    private readonly tracer?: StatementTracer,
  ) {}

  static async create(options: EngineOptions): Promise<DuckDbEngine> {
    await mkdir(options.scratchDir, { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', {
      temp_directory: path.join(options.scratchDir, 'spill'),
      ...(options.memoryLimit ? { memory_limit: options.memoryLimit } : {}),
      ...(options.threads ? { threads: String(options.threads) } : {}),
    });
    return new DuckDbEngine(instance, await utcConnection(instance), options.scratchDir);
  }

  /**
   * Another session on the same database and memory budget, for a task running beside others: its temporary
   * views and macros are its own, and `close()` ends only the session. `tracer` hears of each statement it runs.
   */
  async connect(options: { scratchDir?: string; tracer?: StatementTracer } = {}): Promise<DuckDbEngine> {
    const scratchDir = options.scratchDir ?? this.scratchDir;
    await mkdir(scratchDir, { recursive: true });
    return new DuckDbEngine(
      this.instance,
      await utcConnection(this.instance),
      scratchDir,
      false,
      options.tracer,
    );
  }

  /** Runs one statement, timed and told to the tracer (with its error when it fails). */
  private async traced<T>(sql: string, execute: () => Promise<T>): Promise<T> {
    if (!this.tracer) return execute();
    const started = performance.now();
    try {
      const result = await execute();
      this.tracer({ sql, ms: performance.now() - started });
      return result;
    } catch (error) {
      this.tracer({ sql, ms: performance.now() - started, error: (error as Error).message });
      throw error;
    }
  }

  /** Stops the query running on this session (it fails with an interruption error). */
  interrupt(): void {
    this.connection.interrupt();
  }

  async run(sql: string): Promise<void> {
    await this.traced(sql, () => this.connection.run(sql));
  }

  /** Small results only: every row becomes a JS object (BIGINT as number when it fits, else string). */
  async all<T extends SqlRow = SqlRow>(sql: string): Promise<T[]> {
    const reader = await this.traced(sql, () => this.connection.runAndReadAll(sql));
    return reader.getRowObjectsJson() as unknown as T[];
  }

  async one<T extends SqlRow = SqlRow>(sql: string): Promise<T> {
    const [row] = await this.all<T>(sql);
    if (!row) throw new Error(`query returned no row: ${sql.slice(0, 200)}`);
    return row;
  }

  async count(relation: string): Promise<number> {
    const row = await this.one<{ n: string | number }>(`SELECT count(*)::BIGINT AS n FROM ${relation}`);
    return Number(row.n);
  }

  async columns(relation: string): Promise<{ name: string; type: DuckDBType }[]> {
    const reader = await this.connection.runAndReadAll(`SELECT * FROM ${relation} LIMIT 0`);
    const names = reader.columnNames();
    const types = reader.columnTypes();
    return names.map((name, index) => ({ name, type: types[index] as DuckDBType }));
  }

  /** Makes a Delta table version queryable as a view called `name`. */
  async registerSnapshot(
    name: string,
    snapshot: TableSnapshot,
    store: ObjectStore,
    root: string,
  ): Promise<void> {
    const sql = `CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS ${await snapshotSql(snapshot, store, root)}`;
    // Traced as what it means (its statement lists every data file of the version).
    const files = snapshot.files.length;
    await this.traced(
      `-- ${name} := ${root} version ${snapshot.version} (${files} file${files === 1 ? '' : 's'})`,
      () => this.connection.run(sql),
    );
  }

  /**
   * Writes a relation as Parquet files under the scratch dir, partitioned as asked,
   * and describes them for a Delta commit. Nothing is visible to readers until the commit.
   */
  async stage(relation: string, partitionBy: readonly string[]): Promise<StagedTable> {
    const columns = (await this.columns(relation)).map((column) => writableColumn(column.name, column.type));
    const schema = deltaSchema(columns);
    const dir = path.join(this.scratchDir, 'stage', `${Date.now()}-${Math.random().toString(36).slice(2)}`);
    await mkdir(dir, { recursive: true });
    const select = `SELECT ${columns.map((column) => `${column.expression} AS ${quoteIdent(column.name)}`).join(', ')} FROM ${relation}`;
    const partitioned = partitionBy.length > 0;
    const target = partitioned ? dir : path.join(dir, 'part-00000.zstd.parquet');
    const options = [
      'FORMAT parquet',
      'COMPRESSION zstd',
      'RETURN_STATS',
      ...(partitioned
        ? [`PARTITION_BY (${partitionBy.map(quoteIdent).join(', ')})`, "FILENAME_PATTERN 'part-{uuid}'"]
        : []),
    ];
    const written = await this.all<{
      filename: string;
      count: string | number;
      partition_keys: SqlValue;
      column_statistics: SqlValue;
    }>(`COPY (${select}) TO '${escapeSqlString(target)}' (${options.join(', ')})`);
    const files: StagedFile[] = [];
    let rows = 0;
    for (const file of written) {
      const numRecords = Number(file.count);
      rows += numRecords;
      // An empty result still writes one empty file when unpartitioned; the table needs no file for it.
      if (numRecords === 0) continue;
      const relative = path.relative(dir, file.filename).split(path.sep).join('/');
      files.push({
        localPath: file.filename,
        relativePath: partitioned ? relative : `part-${randomUUID()}.zstd.parquet`,
        partitionValues: partitionValues(file.partition_keys, partitionBy),
        stats: fileStats(numRecords, file.column_statistics, schema),
        size: (await stat(file.filename)).size,
      });
    }
    return { schema, files, rows };
  }

  /** Drops every temporary table and view, so one task's intermediate data does not outlive it. */
  async dropTemporaries(): Promise<void> {
    const objects = await this.all<{ name: string; kind: string }>(`
      SELECT view_name AS name, 'VIEW' AS kind FROM duckdb_views() WHERE temporary AND NOT internal
      UNION ALL SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary`);
    for (const object of objects)
      await this.run(`DROP ${object.kind} IF EXISTS temp.${quoteIdent(object.name)}`);
  }

  close(): void {
    this.connection.closeSync();
    if (this.ownsInstance) this.instance.closeSync();
  }
}

async function utcConnection(instance: DuckDBInstance): Promise<DuckDBConnection> {
  const connection = await instance.connect();
  // Naive timestamps in sources are read as UTC, and results must not depend on the host's zone.
  await connection.run("SET TimeZone = 'UTC'");
  return connection;
}

function partitionValues(keys: SqlValue, partitionBy: readonly string[]): Record<string, string | null> {
  const values: Record<string, string | null> = {};
  const entries = Array.isArray(keys) ? (keys as { key: string; value: string | null }[]) : [];
  for (const column of partitionBy) {
    const entry = entries.find((candidate) => candidate.key === column);
    values[column] = entry?.value ?? null;
  }
  return values;
}

type StatsEntry = { key: string; value: { key: string; value: string }[] };

/**
 * Delta file stats from DuckDB's RETURN_STATS: null counts of top-level primitive columns, and
 * min/max where the value round-trips exactly (numbers, dates). Strings and timestamps get no
 * bounds: a truncated bound would make other readers skip files wrongly.
 */
function fileStats(numRecords: number, columnStatistics: SqlValue, schema: DeltaStructType): FileStats {
  const stats: Required<FileStats> = { numRecords, nullCount: {}, minValues: {}, maxValues: {} };
  const entries = new Map(
    (Array.isArray(columnStatistics) ? (columnStatistics as unknown as StatsEntry[]) : []).map((entry) => [
      entry.key,
      new Map(entry.value.map((item) => [item.key, item.value])),
    ]),
  );
  for (const field of schema.fields) {
    if (typeof field.type !== 'string') continue;
    const values = entries.get(quoteIdent(field.name));
    if (!values) continue;
    const nulls = values.get('null_count');
    if (nulls !== undefined) stats.nullCount[field.name] = Number(nulls);
    const bounds = statsBounds(field.type, values.get('min'), values.get('max'), values.get('has_nan'));
    if (bounds) {
      stats.minValues[field.name] = bounds[0];
      stats.maxValues[field.name] = bounds[1];
    }
  }
  return stats;
}

function statsBounds(
  type: string,
  min: string | undefined,
  max: string | undefined,
  hasNan: string | undefined,
): [number | string, number | string] | undefined {
  if (min === undefined || max === undefined) return undefined;
  if (type === 'date') return [min, max];
  if (!['long', 'integer', 'short', 'byte', 'double'].includes(type) || hasNan === 'true') return undefined;
  const [low, high] = [Number(min), Number(max)];
  const exact = (value: number) =>
    Number.isFinite(value) && (Number.isSafeInteger(value) || !/^(long|integer|short|byte)$/.test(type));
  return exact(low) && exact(high) ? [low, high] : undefined;
}

export function escapeSqlString(value: string): string {
  return value.replaceAll("'", "''");
}

export function sqlString(value: string): string {
  return `'${escapeSqlString(value)}'`;
}

/** A run parameter's value as a SQL literal. */
export function sqlLiteral(value: string | number | boolean | undefined): string {
  if (value === undefined) return 'NULL';
  if (typeof value === 'string') return sqlString(value);
  return String(value).toUpperCase();
}

/**
 * SQL that reads one table version: its files grouped by partition values, the values taken from
 * the log (not from directory names), columns in the table schema's order.
 */
async function snapshotSql(snapshot: TableSnapshot, store: ObjectStore, root: string): Promise<string> {
  const fields = snapshot.schema.fields;
  const partitioned = new Set(snapshot.partitionColumns);
  const sqlTypeOf = (name: string) =>
    duckdbSqlType(fields.find((candidate) => candidate.name === name)?.type ?? 'string');
  const typed = (name: string, value: string) => `CAST(${value} AS ${sqlTypeOf(name)})`;
  if (snapshot.files.length === 0) {
    return `SELECT ${fields.map((field) => `${typed(field.name, 'NULL')} AS ${quoteIdent(field.name)}`).join(', ')} WHERE false`;
  }
  const paths = await Promise.all(
    snapshot.files.map((file) => store.localPath(joinKey(root, decodeDeltaPath(file.path)))),
  );
  const columns = fields.map((field) => quoteIdent(field.name)).join(', ');
  const hiveStyle = snapshot.files.every((file, index) =>
    pathHoldsPartitionValues(paths[index] as string, file),
  );
  if (snapshot.partitionColumns.length === 0 || hiveStyle) {
    // Hive-style paths that agree with the log: DuckDB reads partition values from them in one scan.
    const hiveTypes = snapshot.partitionColumns.map((name) => `${sqlString(name)}: ${sqlTypeOf(name)}`);
    const hive = hiveTypes.length ? `, hive_partitioning = true, hive_types = {${hiveTypes.join(', ')}}` : '';
    return `SELECT ${columns} FROM read_parquet([${paths.map(sqlString).join(', ')}], union_by_name = true${hive})`;
  }
  // Otherwise the partition values come from the log: one scan per distinct set of values.
  const groups = new Map<string, { values: Record<string, string | null>; paths: string[] }>();
  snapshot.files.forEach((file, index) => {
    const key = JSON.stringify(file.partitionValues);
    const group = groups.get(key) ?? { values: file.partitionValues, paths: [] };
    group.paths.push(paths[index] as string);
    groups.set(key, group);
  });
  const selects = [...groups.values()].map(({ values, paths: groupPaths }) => {
    const list = `[${groupPaths.map(sqlString).join(', ')}]`;
    const projection = fields.map((field) => {
      if (!partitioned.has(field.name)) return quoteIdent(field.name);
      const value = values[field.name];
      return `${typed(field.name, value === null || value === undefined ? 'NULL' : sqlString(value))} AS ${quoteIdent(field.name)}`;
    });
    return `SELECT ${projection.join(', ')} FROM read_parquet(${list}, union_by_name = true)`;
  });
  return selects.join('\nUNION ALL\n');
}

const HIVE_NULL = '__HIVE_DEFAULT_PARTITION__';

/**
 * True when the directories holding the local copy are exactly `column=value` for the file's
 * partition values, in order (a file from the lake on local disk; not a cached S3 download).
 */
function pathHoldsPartitionValues(localPath: string, file: TableSnapshot['files'][number]): boolean {
  const expected = Object.entries(file.partitionValues).map(
    ([column, value]) => `${column}=${value ?? HIVE_NULL}`,
  );
  const directories = localPath.split(path.sep).slice(0, -1).slice(-expected.length);
  return (
    directories.length === expected.length &&
    directories.every((segment, index) => segment === expected[index])
  );
}
