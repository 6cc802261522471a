import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  DuckDBConnection,
  DuckDBInstance,
  type DuckDBExtractedStatements,
  type DuckDBType,
} from '@duckdb/node-api';
import type { ObjectStore } from '../../storage/object-store.js';
import type { LocalStagedFile, TableSnapshot } from '../../table/delta-table.js';
import {
  localStagedFiles,
  traced,
  type Engine,
  type EngineColumn,
  type SqlRow,
  type StagedTable,
  type SnapshotViewOptions,
  type StageOptions,
  type StageTarget,
  type StatementTracer,
} from '../engine.js';
import { duckdbDialect, quoteIdent } from '../dialects/duckdb.js';
import { filesSql, localDataFiles, loggedFilesSql } from './snapshot-sql.js';
import { stageWith } from './staging.js';
import { deltaTypeOf, writableColumn } from './types.js';

export interface EngineOptions {
  /** Where DuckDB spills and where staged files are written. */
  scratchDir: string;
  /** e.g. '1GB'; DuckDB's default is 80% of RAM. */
  memoryLimit?: string;
  threads?: number;
}

/**
 * The DuckDB adapter of the engine port: runs SQL over local files, stages query results as Parquet for a Delta
 * commit. Beyond the port, ingestion uses what only DuckDB offers here: its scratch directory (NDJSON chunks), its
 * own column types, and its file readers in the SQL it is given.
 */
export class DuckDbEngine implements Engine {
  readonly kind = 'duckdb';
  readonly dialect = duckdbDialect;

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

  /** Stops the query running on this session (it fails with an interruption error). */
  interrupt(): void {
    this.connection.interrupt();
  }

  async run(sql: string): Promise<void> {
    await traced(this.tracer, sql, () => this.connection.run(sql));
  }

  /** Small results only: every row becomes a JS object (see SqlValue: BIGINT as text). */
  async all<T extends SqlRow = SqlRow>(sql: string): Promise<T[]> {
    const reader = await traced(this.tracer, sql, () => this.connection.runAndReadAll(sql));
    return reader.getRowObjectsJson() as unknown as T[];
  }

  async one<T extends SqlRow = SqlRow>(sql: string): Promise<T> {
    const [row] = await this.all<T>(sql);
    if (!row) throw new Error(`query returned no row: ${sql.slice(0, 200)}`);
    return row;
  }

  async count(relation: string): Promise<number> {
    const row = await this.one<{ n: string | number }>(`SELECT count(*) AS n FROM ${relation}`);
    return Number(row.n);
  }

  async columns(relation: string): Promise<EngineColumn[]> {
    return (await this.duckdbColumns(relation)).map(({ name, type }) => ({
      name,
      type: deltaTypeOf(type, name),
      engineType: type.toString(),
    }));
  }

  /** The columns with DuckDB's own types. */
  private async duckdbColumns(relation: string): Promise<{ name: string; type: DuckDBType }[]> {
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
    options: SnapshotViewOptions = {},
  ): Promise<void> {
    const files = await localDataFiles(snapshot, store, root);
    const { schema, partitionColumns } = snapshot;
    const read = options.fileColumn
      ? loggedFilesSql(schema, partitionColumns, files, options.fileColumn)
      : filesSql(schema, partitionColumns, files);
    const sql = `CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS ${read}`;
    // Traced as what it means (its statement lists every data file of the version).
    await traced(
      this.tracer,
      `-- ${name} := ${root} version ${snapshot.version} (${files.length} file${files.length === 1 ? '' : 's'})`,
      () => this.connection.run(sql),
    );
  }

  /** DuckDB's own split of `sql` into statements, each of which can be prepared (and so classified) alone. */
  extractStatements(sql: string): Promise<DuckDBExtractedStatements> {
    return this.connection.extractStatements(sql);
  }

  async materialize(name: string, query: string): Promise<void> {
    await this.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdent(name)} AS ${query}`);
  }

  async stage(
    relation: string,
    partitionBy: readonly string[],
    _target?: StageTarget,
    options: StageOptions = {},
  ): Promise<StagedTable<LocalStagedFile>> {
    const columns = (await this.duckdbColumns(relation)).map((column) =>
      writableColumn(column.name, column.type),
    );
    return stageWith((sql) => this.all(sql), this.scratchDir, relation, columns, partitionBy, options);
  }

  async registerStaged(name: string, staged: StagedTable): Promise<void> {
    const partitionColumns = Object.keys(staged.files[0]?.partitionValues ?? {});
    const sql = filesSql(staged.schema, partitionColumns, localStagedFiles(staged));
    await this.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS ${sql}`);
  }

  /** Drops temporary tables and views (all of them by default), so a task's intermediate data does not outlive it. */
  async dropTemporaries(names?: readonly string[]): Promise<void> {
    const objects = await this.all<{ name: string; kind: string }>(`
      SELECT view_name AS name, 'VIEW' AS kind FROM duckdb_views() WHERE temporary AND NOT internal
      UNION ALL SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary`);
    const wanted = names && new Set(names);
    for (const object of objects.filter((candidate) => !wanted || wanted.has(candidate.name)))
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
