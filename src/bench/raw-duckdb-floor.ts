/**
 * The raw DuckDB floor: the pipeline's transformations as one plain DuckDB script over the three
 * source files, writing the same bronze, silver and gold tables as Parquet, with no orchestration
 * (no landing copy, no Delta log, no manifest, no accounting, no quarantine, no quality checks). It reuses the pipeline's macros and the table definitions'
 * SQL and refine rules, so it cannot drift from the business logic it is the floor of.
 */
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { buildTaskGraph } from '../core/graph.js';
import {
  macrosFor,
  type CsvFormat,
  type JsonFormat,
  type PipelineDefinition,
  type SourceDefinition,
  type SqlContext,
  type TableDefinition,
} from '../core/pipeline.js';
import { quoteIdent, sqlString } from '../engine/dialects/duckdb.js';
import { matchesPattern } from '../runner/ingest.js';
import { splitJsonRecords } from '../sources/json-records.js';
import { headlineFromRow, type Headline } from './headline.js';

/** How the floor reads the JSON document: whole (DuckDB parses one object), or split to NDJSON first. */
export type JsonReadMode = 'document' | 'split';

export interface FloorOptions {
  pipeline: PipelineDefinition;
  sourceDir: string;
  /** Where the silver and gold Parquet files go. */
  outDir: string;
  /** Spill directory and NDJSON chunks. */
  scratchDir: string;
  memoryLimit: string;
  /** YYYY-MM-DD, the same as medallion's run. */
  logicalDate: string;
  jsonMode: JsonReadMode;
  log?: (message: string) => void;
}

export interface FloorResult {
  durationMs: number;
  jsonMode: JsonReadMode;
  steps: { id: string; durationMs: number }[];
  rows: Record<string, number>;
  headline: Headline;
}

const name = (layer: string, table: string) => `${layer}__${table}`;

export async function runFloor(options: FloorOptions): Promise<FloorResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const steps: FloorResult['steps'] = [];
  const rows: Record<string, number> = {};
  const timed = async <T>(id: string, body: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const result = await body();
    const durationMs = Math.round(performance.now() - t0);
    steps.push({ id, durationMs });
    log(`  ✔ ${id} (${(durationMs / 1000).toFixed(2)} s)`);
    return result;
  };

  await mkdir(options.scratchDir, { recursive: true });
  await mkdir(options.outDir, { recursive: true });
  const { instance, connection } = await floorDatabase(options);
  try {
    const run = (sql: string) => connection.run(sql).then(() => undefined);
    await run("SET TimeZone = 'UTC'");
    for (const macro of macrosFor(options.pipeline, 'duckdb')) await run(macro);

    const context: SqlContext = {
      engine: 'duckdb',
      ref: (layer, table) => quoteIdent(name(layer, table)),
      logicalDate: `DATE ${sqlString(options.logicalDate)}`,
      runId: sqlString('floor'),
      dataIntervalStart: `TIMESTAMPTZ ${sqlString(options.logicalDate)}`,
      dataIntervalEnd: `TIMESTAMPTZ ${sqlString(options.logicalDate)}`,
      param: () => 'NULL',
    };

    // Bronze: each source file read straight into a relation with the columns the silver SQL uses.
    for (const source of options.pipeline.sources) {
      const file = await sourceFile(options.sourceDir, source);
      await timed(`read ${source.bronzeTable}`, async () => {
        const relation = quoteIdent(name('bronze', source.bronzeTable));
        const raw = quoteIdent(`${name('bronze', source.bronzeTable)}_raw`);
        const select =
          source.format.type === 'json'
            ? await jsonSelect(source, source.format, file, options)
            : csvSelect(source.format, file);
        // JSON is read as it is consumed (a view); CSV rows are numbered by their rowid, as in bronze.
        if (source.format.type === 'json') {
          await run(`CREATE OR REPLACE TEMP VIEW ${relation} AS ${select}`);
        } else {
          await run(`CREATE OR REPLACE TEMP TABLE ${raw} AS ${select}`);
          await run(
            `CREATE OR REPLACE TEMP VIEW ${relation} AS SELECT *, ${lineage(source, 'rowid + 1')} FROM ${raw}`,
          );
        }
        // Bronze is a table of the pipeline too: written as medallion writes it, then read back by silver.
        const target = path.join(options.outDir, 'bronze', `${source.bronzeTable}.zstd.parquet`);
        await mkdir(path.dirname(target), { recursive: true });
        await run(
          `COPY (SELECT * FROM ${relation}) TO ${sqlString(target)} (FORMAT parquet, COMPRESSION zstd)`,
        );
        await run(
          `CREATE OR REPLACE TEMP VIEW ${relation} AS SELECT * FROM read_parquet(${sqlString(target)})`,
        );
        await run(`DROP TABLE IF EXISTS ${raw}`);
      });
    }

    // Silver and gold, in the pipeline's dependency order, each written to Parquet (zstd).
    const definitions = buildTaskGraph(options.pipeline).flatMap((task) => {
      if (task.kind !== 'table' || !task.output) return [];
      const output = task.output;
      const found = options.pipeline.tables.find((t) => t.layer === output.layer && t.name === output.table);
      return found ? [found] : [];
    });
    for (const definition of definitions) {
      await timed(`${definition.layer}.${definition.name}`, async () => {
        const relation = quoteIdent(name(definition.layer, definition.name));
        await run(`CREATE OR REPLACE TEMP TABLE ${relation} AS ${tableSql(definition, context)}`);
        rows[`${definition.layer}.${definition.name}`] = await count(connection, relation);
        await mkdir(path.join(options.outDir, definition.layer), { recursive: true });
        await run(
          copyToParquet(relation, path.join(options.outDir, definition.layer, definition.name), definition),
        );
      });
    }

    const headlineSql = options.pipeline.headline;
    const headline = headlineSql ? headlineFromRow(await one(connection, headlineSql(context))) : null;
    return {
      durationMs: Math.round(performance.now() - started),
      jsonMode: options.jsonMode,
      steps,
      rows,
      headline,
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(options.scratchDir, { recursive: true, force: true });
  }
}

/** A database of its own for a floor, with the pipeline's memory limit, spilling under the scratch directory. */
export async function floorDatabase(options: {
  scratchDir: string;
  memoryLimit: string;
}): Promise<{ instance: DuckDBInstance; connection: DuckDBConnection }> {
  const instance = await DuckDBInstance.create(':memory:', {
    temp_directory: path.join(options.scratchDir, 'spill'),
    memory_limit: options.memoryLimit,
  });
  return { instance, connection: await instance.connect() };
}

/**
 * A table's SQL; for a refined table, the same dedupe and quarantine rules as the runner applies
 * (first by `orderBy` per key wins, records matching a quarantine rule are dropped), then its shape,
 * without the record id (medallion does not write it either).
 */
export function tableSql(definition: TableDefinition, context: SqlContext): string {
  const sql = definition.sql(context);
  const rules = definition.refine;
  if (!rules) return sql;
  const recordId = quoteIdent(rules.recordId);
  const groupKey = rules.dedupe
    ? `CASE WHEN (${rules.dedupe.key}) IS NULL THEN 'record:' || ${recordId} ELSE 'key:' || (${rules.dedupe.key})::VARCHAR END`
    : recordId;
  const order = rules.dedupe?.orderBy ?? recordId;
  const quarantined = (rules.quarantine ?? []).map((rule) => `(${rule.when}) IS TRUE`);
  const keep = quarantined.length ? ` AND NOT (${quarantined.join(' OR ')})` : '';
  const survivors = `
    SELECT * EXCLUDE (__rank) FROM (
      SELECT *, row_number() OVER (PARTITION BY ${groupKey} ORDER BY ${order}) AS __rank FROM __records
    ) WHERE __rank = 1${keep}`;
  const shaped = rules.shape ? rules.shape('__survivors', context) : 'SELECT * FROM __survivors';
  return `
    WITH __records AS (${sql}),
    __survivors AS (${survivors}),
    __shaped AS (${shaped})
    SELECT * EXCLUDE (${recordId}) FROM __shaped`;
}

function copyToParquet(relation: string, target: string, definition: TableDefinition): string {
  const partitionBy = definition.partitionBy ?? [];
  const options = ['FORMAT parquet', 'COMPRESSION zstd'];
  if (partitionBy.length > 0) {
    options.push(`PARTITION_BY (${partitionBy.map(quoteIdent).join(', ')})`, 'OVERWRITE_OR_IGNORE');
    return `COPY ${relation} TO ${sqlString(target)} (${options.join(', ')})`;
  }
  return `COPY ${relation} TO ${sqlString(`${target}.zstd.parquet`)} (${options.join(', ')})`;
}

/** The same lineage columns as medallion's bronze tables. */
function lineage(source: SourceDefinition, rowNumber: string): string {
  return [
    `TIMESTAMPTZ '2000-01-01 00:00:00+00' AS _ingested_at`,
    `${sqlString(source.name)} AS _source_object`,
    `${sqlString(source.bronzeTable)} AS _source_checksum`,
    `'floor' AS _run_id`,
    `${rowNumber}::BIGINT AS _row_number`,
  ].join(', ');
}

async function jsonSelect(
  source: SourceDefinition,
  format: JsonFormat,
  file: string,
  options: FloorOptions,
): Promise<string> {
  const shape = sqlString(JSON.stringify(format.fields));
  const project = (from: string) =>
    `SELECT unnest(json_transform(r, ${shape})), r::VARCHAR AS _record, ${lineage(source, 'n')} FROM ${from}`;
  if (options.jsonMode === 'split') {
    const dir = path.join(options.scratchDir, 'ndjson');
    const split = await splitJsonRecords(file, dir, { recordsPath: format.recordsPath });
    const files = `[${split.chunks.map((chunk) => sqlString(chunk.path)).join(', ')}]`;
    // DuckDB's default maximum_object_size (16 MB) bounds one record here, not the document.
    return project(`read_json(${files}, format = 'newline_delimited', columns = {n: 'BIGINT', r: 'JSON'})`);
  }
  return project(await jsonDocumentRecords(format, file));
}

/**
 * The records of a JSON document read whole by DuckDB (its read buffer is sized from maximum_object_size, so it is
 * the file's size): a relation of `r` (a record, JSON) and `n` (its 1-based number).
 */
export async function jsonDocumentRecords(format: JsonFormat, file: string): Promise<string> {
  const maximumObjectSize = (await stat(file)).size + 1024;
  const document = `read_json(${sqlString(file)}, format = 'unstructured', maximum_object_size = ${maximumObjectSize},
    columns = {${sqlString(format.recordsPath ?? 'json')}: 'JSON[]'})`;
  const list = quoteIdent(format.recordsPath ?? 'json');
  return `(SELECT unnest(${list}) AS r, unnest(range(1, len(${list}) + 1)) AS n FROM ${document})`;
}

/**
 * Every column as text, the declared delimiter, malformed rows skipped (medallion quarantines
 * them). Renamed headers take their bronze names by position.
 */
export function csvSelect(format: CsvFormat, file: string): string {
  const renamed = Object.values(format.rename ?? {});
  const names = renamed.length ? `, names = [${renamed.map(sqlString).join(', ')}]` : '';
  return `SELECT * FROM read_csv(${sqlString(file)}, header = true, all_varchar = true, delim = ${sqlString(format.delimiter)},
    quote = '"', escape = '"', ignore_errors = true${names})`;
}

export async function sourceFile(dir: string, source: SourceDefinition): Promise<string> {
  const matches = (await readdir(dir)).filter((file) => matchesPattern(file, source.pattern)).sort();
  const [first] = matches;
  if (!first || matches.length > 1) {
    throw new Error(
      `the floor expects one file matching ${source.pattern} in ${dir}, found ${matches.length}`,
    );
  }
  return path.join(dir, first);
}

async function count(connection: DuckDBConnection, relation: string): Promise<number> {
  return Number((await one(connection, `SELECT count(*)::BIGINT AS n FROM ${relation}`)).n);
}

async function one(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>> {
  const reader = await connection.runAndReadAll(sql);
  const [row] = reader.getRowObjectsJson();
  if (!row) throw new Error(`no row: ${sql.slice(0, 200)}`);
  return row as Record<string, unknown>;
}
