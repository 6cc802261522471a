/**
 * The Spark adapter of the engine port, through Spark Connect: each session is a Spark Connect session, table
 * versions are read by the executors from the lake's files, results are staged as Parquet by the executors and
 * committed by medallion. Spark reaches the files medallion names: a lake on a disk both share (file://) or on S3
 * (s3a://, with the S3 connection of the lake's stores given to the session), where it also stages its results.
 */
import { mkdir } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { ObjectStore } from '../../storage/object-store.js';
import { decodeDeltaPath, type TableSnapshot } from '../../table/delta-table.js';
import { joinKey } from '../../storage/object-store.js';
import { sparkDialect } from '../dialects/spark.js';
import {
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
import { SparkConnectClient } from './connect-client.js';
import { registerFileView, type ViewFile } from './file-views.js';
import type { LocalQuery } from './footer-stats.js';
import { sparkReach, type SparkReach } from './s3a.js';
import { stageWithSpark } from './staging.js';
import { scratchPlace, storePlace } from './staging-places.js';

export interface SparkEngineOptions {
  /** The Spark Connect endpoint, e.g. sc://127.0.0.1:15002. */
  remote: string;
  /**
   * Where staged files are written when the table's store is not one Spark reaches itself: a directory Spark's
   * executors can write and this process can read. Also holds the footers of files staged on S3 while they are read.
   */
  scratchDir: string;
  /** Reads staged files' footers (a local DuckDB session). */
  localQuery: LocalQuery;
  tracer?: StatementTracer;
}

/** Session settings every medallion session runs with: results must not depend on the server's defaults. */
export const SESSION_CONFIG: Readonly<Record<string, string>> = {
  'spark.sql.session.timeZone': 'UTC',
  'spark.sql.ansi.enabled': 'true',
  // Delta readers (and DuckDB) read INT96 timestamps poorly: microseconds, as the DuckDB adapter writes them.
  'spark.sql.parquet.outputTimestampType': 'TIMESTAMP_MICROS',
  'spark.sql.parquet.compression.codec': 'zstd',
  // Adaptive execution sizes shuffles by the data, cached (materialized) relations included, so that a small
  // table is not computed and staged as spark.sql.shuffle.partitions (200) tasks and files.
  'spark.sql.adaptive.enabled': 'true',
  'spark.sql.optimizer.canChangeCachedPlanOutputPartitioning': 'true',
  'spark.sql.adaptive.coalescePartitions.parallelismFirst': 'false',
};

export class SparkEngine implements Engine {
  readonly kind = 'spark' as const;
  readonly dialect = sparkDialect;
  /** The helper views each registered view reads from, dropped with it. */
  private readonly parts = new Map<string, string[]>();
  /** The store settings (s3a) this session was given, to give each once. */
  private readonly settings = new Map<string, string>();

  private constructor(
    private readonly client: SparkConnectClient,
    private readonly options: SparkEngineOptions,
  ) {}

  static async create(options: SparkEngineOptions): Promise<SparkEngine> {
    await mkdir(options.scratchDir, { recursive: true });
    const client = await SparkConnectClient.connect({
      remote: options.remote,
      config: { ...SESSION_CONFIG },
      // The port's BIGINTs are text, exact at any size, whatever the engine.
      int64As: 'string',
    });
    return new SparkEngine(client, options);
  }

  /** The endpoint, without secrets. */
  get endpoint(): string {
    return this.client.endpoint;
  }

  /** The Spark application this session runs in, and its UI. */
  applicationInfo(): ReturnType<SparkConnectClient['applicationInfo']> {
    return this.client.applicationInfo();
  }

  /** The Spark Connect session's id, which Spark tags this session's jobs with. */
  get sessionId(): string {
    return this.client.sessionId;
  }

  /** The ids of the Spark stages this session's statements ran, in order. */
  stageIds(): number[] {
    return this.client.stageIds();
  }

  connect(options: { scratchDir?: string; tracer?: StatementTracer } = {}): Promise<Engine> {
    return SparkEngine.create({
      ...this.options,
      scratchDir: options.scratchDir ?? this.options.scratchDir,
      ...(options.tracer && { tracer: options.tracer }),
    });
  }

  run(sql: string): Promise<void> {
    return traced(this.options.tracer, sql, () => this.client.sql(sql));
  }

  async all<T extends SqlRow = SqlRow>(sql: string): Promise<T[]> {
    const result = await traced(this.options.tracer, sql, () => this.client.query(sql));
    return result.rows as T[];
  }

  async one<T extends SqlRow = SqlRow>(sql: string): Promise<T> {
    const [row] = await this.all<T>(sql);
    if (!row) throw new Error(`query returned no row: ${sql.slice(0, 200)}`);
    return row;
  }

  async count(relation: string): Promise<number> {
    return Number((await this.one<{ n: string | number }>(`SELECT count(*) AS n FROM ${relation}`)).n);
  }

  async columns(relation: string): Promise<EngineColumn[]> {
    const result = await this.client.query(`SELECT * FROM ${relation} LIMIT 0`);
    return result.columns.map((column) => ({
      name: column.name,
      type: column.deltaType,
      engineType: column.type,
    }));
  }

  async registerSnapshot(
    name: string,
    snapshot: TableSnapshot,
    store: ObjectStore,
    root: string,
    options: SnapshotViewOptions = {},
  ): Promise<void> {
    const reach = await this.reach(store);
    const files = await Promise.all(
      snapshot.files.map(async (file) => ({
        uri: await reach.uri(joinKey(root, decodeDeltaPath(file.path))),
        partitionValues: file.partitionValues,
        deltaPath: file.path,
      })),
    );
    const count = snapshot.files.length;
    await traced(
      this.options.tracer,
      `-- ${name} := ${root} version ${snapshot.version} (${count} file${count === 1 ? '' : 's'})`,
      async () => {
        await this.dropParts(name);
        this.parts.set(
          name,
          await registerFileView(
            this.client,
            name,
            snapshot.schema,
            snapshot.partitionColumns,
            files,
            options.fileColumn,
          ),
        );
      },
    );
  }

  async materialize(name: string, query: string): Promise<void> {
    const view = this.dialect.quoteIdent(name);
    // Cached eagerly: later statements read the rows computed now (row_number over ties is not repeatable).
    await this.run(`UNCACHE TABLE IF EXISTS ${view}`);
    await this.run(`DROP VIEW IF EXISTS ${view}`);
    await this.run(`CACHE TABLE ${view} AS ${query}`);
  }

  async stage(
    relation: string,
    partitionBy: readonly string[],
    target?: StageTarget,
    options: StageOptions = {},
  ): Promise<StagedTable> {
    const columns = await this.columns(relation);
    const reach = target && (await this.reach(target.store));
    const place =
      target && reach?.remote
        ? await storePlace(target, reach, this.options.scratchDir)
        : await scratchPlace(this.options.scratchDir);
    return traced(this.options.tracer, `-- stage ${relation.slice(0, 200)} as Parquet in ${place.uri}`, () =>
      stageWithSpark(this.client, place, relation, columns, partitionBy, this.options.localQuery, options),
    );
  }

  async registerStaged(name: string, staged: StagedTable): Promise<void> {
    const partitionColumns = Object.keys(staged.files[0]?.partitionValues ?? {});
    const files = await this.stagedFiles(staged);
    await this.dropParts(name);
    this.parts.set(name, await registerFileView(this.client, name, staged.schema, partitionColumns, files));
  }

  interrupt(): void {
    void this.client.interrupt().catch(() => undefined);
  }

  async dropTemporaries(names?: readonly string[]): Promise<void> {
    const views =
      names ??
      (await this.client.query('SHOW VIEWS')).rows
        .filter((row) => row.isTemporary === true)
        .map((row) => String(row.viewName));
    for (const name of views) {
      const view = this.dialect.quoteIdent(name);
      await this.run(`UNCACHE TABLE IF EXISTS ${view}`);
      await this.run(`DROP VIEW IF EXISTS ${view}`);
      await this.dropParts(name);
    }
  }

  close(): void {
    void this.client.close();
  }

  /** Where Spark reads the staged files: in the target's store, or in the scratch area. */
  private async stagedFiles({ files, target }: StagedTable): Promise<ViewFile[]> {
    const reach = target && (await this.reach(target.store));
    return Promise.all(
      files.map(async (file) => {
        let uri: string;
        if ('localPath' in file) uri = pathToFileURL(file.localPath).href;
        else if (reach && target) uri = await reach.uri(joinKey(target.root, file.relativePath));
        else throw new Error(`staged file ${file.relativePath} is in a store the staged table does not name`);
        return { uri, partitionValues: file.partitionValues };
      }),
    );
  }

  /** How Spark reaches the store, once this session has the settings it needs for it. */
  private async reach(store: ObjectStore): Promise<SparkReach> {
    const reach = sparkReach(store);
    const missing = Object.entries(reach.settings).filter(([key, value]) => this.settings.get(key) !== value);
    if (missing.length > 0) {
      await this.client.setConfig(Object.fromEntries(missing));
      for (const [key, value] of missing) this.settings.set(key, value);
    }
    return reach;
  }

  private async dropParts(name: string): Promise<void> {
    for (const part of this.parts.get(name) ?? []) {
      await this.client.sql(`DROP VIEW IF EXISTS ${this.dialect.quoteIdent(part)}`);
    }
    this.parts.delete(name);
  }
}
