/**
 * A DuckDB database for SQL that people write (`medallion query`, POST /api/query): a database of its own, not a
 * session of a shared one, because what guards it is database-wide. Table versions go in first, as views named
 * `layer.table`; `seal` then turns on DuckDB's own guards — no file may be opened but those views' and the one
 * result file, no extension installed or loaded, no setting changed again — and the statement must be one that
 * DuckDB's parser and then its binder both call a SELECT. The rules about what a query may name sit above this
 * (src/app/query.ts); these guards hold even when those rules miss something.
 */
import { rm } from 'node:fs/promises';
import {
  JsonDuckDBValueConverter,
  StatementType,
  type DuckDBPreparedStatement,
  type Json,
} from '@duckdb/node-api';
import { ConfigError } from '../../core/errors.js';
import type { DeltaTable, TableSnapshot } from '../../table/delta-table.js';
import { quoteIdent, sqlString } from '../dialects/duckdb.js';
import { DuckDbEngine, type EngineOptions } from './engine.js';
import { filesSql, localDataFiles } from './snapshot-sql.js';

export interface ParsedStatement {
  /** How many statements DuckDB's parser found. */
  statements: number;
  /** The parse tree (`json_serialize_sql`'s JSON text) when there is one statement and it is a SELECT. */
  select?: string;
}

export interface ResultColumn {
  name: string;
  /** DuckDB's type, e.g. `BIGINT`, `VARCHAR[]`. */
  type: string;
}

export interface ResultRows {
  columns: ResultColumn[];
  /** The first rows, each a list of JSON values in the columns' order (BIGINTs as text). */
  rows: Json[][];
  /** Rows the query returned in all. */
  total: number;
}

/** What `json_serialize_sql` answers. */
interface SerializedSql {
  error: boolean;
  error_type?: string;
  error_message?: string;
  statements?: unknown[];
}

/** What DuckDB says when a guard stops a statement from opening a file. */
const PERMISSION_ERROR = /^Permission Error: /;

/** DuckDB's error, as the refusal or the failure of what the person wrote (bad input: exit 2, HTTP 400). */
function userError(error: unknown, doing: string): ConfigError {
  const message = error instanceof Error ? error.message : String(error);
  if (PERMISSION_ERROR.test(message)) {
    return new ConfigError(
      `refused: the query reaches outside the lake's tables (${message.split('\n')[0]})`,
      {
        context: { field: 'sql' },
        hint: 'a query reads the lake’s tables as layer.table, e.g. gold.top_100_companies',
      },
    );
  }
  return new ConfigError(`the query ${doing}: ${message}`, { context: { field: 'sql' } });
}

export class QuerySandbox {
  /** The local files of the views: all that the query may read. */
  private readonly files = new Set<string>();

  private constructor(private readonly engine: DuckDbEngine) {}

  /** `scratchDir`: its own, removed by `close`. */
  static async create(options: EngineOptions): Promise<QuerySandbox> {
    return new QuerySandbox(await DuckDbEngine.create(options));
  }

  /** DuckDB's parse of `sql`, before anything is bound or run; a syntax error is the person's. */
  async parse(sql: string): Promise<ParsedStatement> {
    const { tree } = await this.engine.one<{ tree: string }>(
      `SELECT json_serialize_sql(${sqlString(sql)}) AS tree`,
    );
    // Only SELECT statements have a tree: any other comes back as an error, and is counted by the splitter.
    const parsed = JSON.parse(tree) as SerializedSql;
    if (parsed.error && parsed.error_type === 'parser')
      throw userError(parsed.error_message, 'does not parse');
    if (!parsed.error) {
      const statements = parsed.statements?.length ?? 0;
      return statements === 1 ? { statements, select: tree } : { statements };
    }
    try {
      return { statements: (await this.engine.extractStatements(sql)).count };
    } catch (error) {
      throw userError(error, 'does not parse');
    }
  }

  /** Makes a version of `table` the view `schema.<table's name>`, whose files the query may then read. */
  async addView(schema: string, table: DeltaTable, snapshot: TableSnapshot): Promise<void> {
    const files = await localDataFiles(snapshot, table.store, table.root);
    await this.engine.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await this.engine.run(
      `CREATE OR REPLACE VIEW ${quoteIdent(schema)}.${quoteIdent(table.root)} AS ` +
        filesSql(snapshot.schema, snapshot.partitionColumns, files),
    );
    for (const file of files) this.files.add(file.localPath);
  }

  /**
   * DuckDB's guards, for the rest of the database's life: only the views' files and `resultFile` can be opened
   * (no other file, no database attached, no extension installed or loaded), and no setting can change, so none
   * of this can be undone by the query.
   */
  async seal(resultFile?: string): Promise<void> {
    const allowed = [...this.files, ...(resultFile === undefined ? [] : [resultFile])];
    await this.engine.run(`SET allowed_paths = [${allowed.map(sqlString).join(', ')}]`);
    await this.engine.run('SET enable_external_access = false');
    await this.engine.run('SET lock_configuration = true');
  }

  /** The statement bound against the views, once DuckDB's binder has called it a SELECT without parameters. */
  private async prepare(sql: string): Promise<DuckDBPreparedStatement> {
    let prepared: DuckDBPreparedStatement;
    try {
      const extracted = await this.engine.extractStatements(sql);
      if (extracted.count !== 1) throw new Error(`${extracted.count} statements`);
      prepared = await extracted.prepare(0);
    } catch (error) {
      throw userError(error, 'cannot run');
    }
    const type = prepared.statementType;
    if (type !== StatementType.SELECT || prepared.parameterCount > 0) {
      prepared.destroySync();
      throw new ConfigError(
        type === StatementType.SELECT
          ? 'the query has parameters ($1, ?): write the values in it'
          : `refused: DuckDB binds the statement as ${StatementType[type]}, not a SELECT`,
        { context: { field: 'sql' } },
      );
    }
    return prepared;
  }

  /** Runs `sql`: its columns, its first `limit` rows, and how many rows it returned (the others are only counted). */
  async preview(sql: string, limit: number): Promise<ResultRows> {
    const prepared = await this.prepare(sql);
    try {
      const result = await prepared.stream();
      const rows: Json[][] = [];
      let total = 0;
      for (
        let chunk = await result.fetchChunk();
        chunk && chunk.rowCount > 0;
        chunk = await result.fetchChunk()
      ) {
        for (let row = 0; row < chunk.rowCount && rows.length < limit; row++) {
          rows.push(chunk.convertRowValues(row, JsonDuckDBValueConverter));
        }
        total += chunk.rowCount;
      }
      const columns = result.columnNames().map((name, index) => ({
        name,
        type: result.columnType(index).toString(),
      }));
      return { columns, rows, total };
    } catch (error) {
      throw userError(error, 'failed');
    } finally {
      prepared.destroySync();
    }
  }

  /**
   * Writes the result of the statement whose parse tree is `select` (see `parse`) to `file` — the one `seal`
   * allowed — with these COPY options; returns the rows written. The statement goes in as its tree, a string
   * literal, never as SQL text spliced into ours.
   */
  async copy(sql: string, select: string, file: string, options: string): Promise<number> {
    (await this.prepare(sql)).destroySync();
    try {
      const written = await this.engine.one<{ Count: string | number }>(
        `COPY (SELECT * FROM json_execute_serialized_sql(${sqlString(select)})) ` +
          `TO ${sqlString(file)} (${options}, USE_TMP_FILE false)`,
      );
      return Number(written.Count);
    } catch (error) {
      throw userError(error, 'failed');
    }
  }

  /** Stops the statement running: it fails with an interruption error. */
  interrupt(): void {
    this.engine.interrupt();
  }

  async close(): Promise<void> {
    this.engine.close();
    await rm(this.engine.scratchDir, { recursive: true, force: true });
  }
}
