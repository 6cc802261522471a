/**
 * A query people write (`medallion query`, POST /api/query): one SELECT over the lake's tables addressed as
 * `layer.table`, at their current versions or at those of a past time, its rows shown or written as CSV, JSON or
 * Parquet. Refused before anything runs, each with why: more than one statement; a statement DuckDB's parser does
 * not call a SELECT (writes, COPY, ATTACH, INSTALL/LOAD, SET/PRAGMA, CALL…); a table that is not the lake's (a
 * file, another schema or database); a table function, which could read files or the database's state. Only the
 * tables the query names are opened. Behind these rules, DuckDB's own guards (QuerySandbox) hold.
 */
import { rm } from 'node:fs/promises';
import type { Json } from '@duckdb/node-api';
import { ConfigError, NotFoundError } from '../core/errors.js';
import { queryReferences } from '../engine/duckdb/query-tree.js';
import type { QuerySandbox, ResultRows } from '../engine/duckdb/sandbox.js';
import { DeltaTable, type TableSnapshot } from '../table/delta-table.js';
import type { LakeLayout } from '../table/lake-layout.js';
import { commitTime, versionAsOf } from '../table/time-travel.js';
import type { LakeReader } from './lake-reader.js';
import { TABLE_LAYERS, TABLE_NAME, type TableLayer } from './tables.js';

export const QUERY_FORMATS = ['table', 'csv', 'json', 'parquet'] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];
export type FileFormat = Exclude<QueryFormat, 'table'>;

/** Table functions that read nothing but their arguments. */
const PURE_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);

const COPY_OPTIONS: Record<FileFormat, string> = {
  csv: 'FORMAT csv, HEADER true',
  json: 'FORMAT json, ARRAY true',
  parquet: 'FORMAT parquet, COMPRESSION zstd',
};

const INTEGER_TYPES = new Set(['BIGINT', 'UBIGINT', 'HUGEINT', 'UHUGEINT']);

export interface QueryRequest {
  /** The lake's location. */
  lake: string;
  sql: string;
  /** Read each table as it was then: its latest version committed at or before this time. */
  asOf?: Date;
}

/** A table version the query read. */
export interface TableRead {
  layer: TableLayer;
  table: string;
  version: number;
  committedAt: string;
}

export interface QueryRows extends ResultRows {
  tables: TableRead[];
}

export interface QueryFile {
  /** In the reader's scratch directory: move or send it, then `remove`. */
  path: string;
  rows: number;
  tables: TableRead[];
  remove(): Promise<void>;
}

const HOW_TO_NAME =
  `name the lake's tables as layer.table (layers: ${TABLE_LAYERS.join(', ')}), ` +
  'e.g. SELECT * FROM gold.top_100_companies';

function refused(message: string, hint = HOW_TO_NAME): ConfigError {
  return new ConfigError(`refused: ${message}`, { context: { field: 'sql' }, hint });
}

/** What a statement other than a SELECT would do, by its first word: for the message (DuckDB's parser decides). */
const EFFECTS: Record<string, string> = Object.fromEntries(
  Object.entries({
    'writes to the database': 'INSERT UPDATE DELETE MERGE TRUNCATE CREATE DROP ALTER COMMENT',
    'copies data to or from files': 'COPY EXPORT IMPORT',
    'attaches or switches databases': 'ATTACH DETACH USE',
    'installs or loads extensions': 'INSTALL LOAD FORCE',
    'changes settings': 'SET RESET',
    'runs a pragma, which may change settings': 'PRAGMA',
    'calls a procedure': 'CALL',
    'maintains the database': 'CHECKPOINT VACUUM ANALYZE',
    'controls transactions': 'BEGIN START COMMIT END ROLLBACK ABORT',
    'prepares or executes statements': 'PREPARE EXECUTE DEALLOCATE',
  }).flatMap(([effect, words]) => words.split(' ').map((word) => [word, effect])),
);

function notASelect(sql: string): ConfigError {
  const word = /^(?:\s|--[^\n]*|\/\*[\s\S]*?\*\/)*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase();
  const what = word ? `${word} ${EFFECTS[word] ?? 'is not a query'}` : 'the statement is not a query';
  return refused(
    `${what}: only a SELECT may run`,
    'SELECT … FROM layer.table (WITH, DESCRIBE and SUMMARIZE too)',
  );
}

const isLayer = (name: string): name is TableLayer => (TABLE_LAYERS as readonly string[]).includes(name);

/** The lake tables the SELECT (its parse tree) names, each once; a refusal for anything else it would read. */
function lakeTables(tree: string): { layer: TableLayer; table: string }[] {
  const references = queryReferences(tree);
  const unsafe = references.functions.find((name) => !PURE_TABLE_FUNCTIONS.has(name.toLowerCase()));
  if (unsafe !== undefined) {
    throw refused(
      `the table function ${unsafe}() can read files or the database's state`,
      `${HOW_TO_NAME}; of table functions, only ${[...PURE_TABLE_FUNCTIONS].join(', ')} may be called`,
    );
  }
  const ctes = new Set([...references.ctes].map((name) => name.toLowerCase()));
  const tables = new Map<string, { layer: TableLayer; table: string }>();
  for (const ref of references.tables) {
    if (!ref.catalog && !ref.schema && ctes.has(ref.table.toLowerCase())) continue;
    const name = [ref.catalog, ref.schema, ref.table].filter(Boolean).join('.');
    const layer = ref.schema.toLowerCase();
    if (ref.catalog || !isLayer(layer) || !TABLE_NAME.test(ref.table)) {
      throw refused(
        !ref.schema && /[./\\:]/.test(ref.table)
          ? `'${ref.table}' is a file outside the lake's tables`
          : `${name} is not a table of the lake`,
      );
    }
    if (ref.timeTravel) {
      throw new ConfigError(`${name} AT (…) is not supported`, {
        context: { field: 'sql' },
        hint: 'read the versions of a past time with --as-of TIME (asOf in the API)',
      });
    }
    tables.set(`${layer}.${ref.table}`, { layer, table: ref.table });
  }
  return [...tables.values()];
}

/** The layer's tables, for a hint. */
async function tablesOf(layout: LakeLayout, layer: TableLayer): Promise<string> {
  const tables = await layout.tablesIn(layer);
  const found = await Promise.all(tables.map(async (table) => ((await table.exists()) ? table.root : '')));
  const names = found.filter(Boolean);
  return names.length > 0 ? `the ${layer} tables: ${names.join(', ')}` : `the lake has no ${layer} table`;
}

/** The version the query reads: the latest, or the latest committed by `asOf`. */
async function versionRead(
  layout: LakeLayout,
  ref: { layer: TableLayer; table: string },
  asOf: Date | undefined,
): Promise<{ table: DeltaTable; snapshot: TableSnapshot }> {
  const table = new DeltaTable(layout.stores.store(ref.layer), ref.table);
  const name = `${ref.layer}.${ref.table}`;
  const versions = await table.versions();
  const first = versions[0];
  if (first === undefined) {
    throw new NotFoundError(`no table ${name} in ${layout.location}`, {
      context: { field: 'sql' },
      hint: await tablesOf(layout, ref.layer),
    });
  }
  const version = asOf === undefined ? versions.at(-1) : await versionAsOf(table, asOf);
  const snapshot = version === undefined ? undefined : await table.snapshot(version);
  if (!snapshot) {
    const created = new Date(await commitTime(table, first)).toISOString();
    throw new NotFoundError(`${name} did not exist at ${asOf?.toISOString()}`, {
      hint: `its first version was committed at ${created}`,
    });
  }
  return { table, snapshot };
}

/**
 * The statement checked, the versions it names registered and the sandbox sealed (allowing `resultFile`), then
 * `work` on it; the sandbox is gone after.
 */
async function prepared<T>(
  reader: LakeReader,
  request: QueryRequest,
  resultFile: string | undefined,
  work: (sandbox: QuerySandbox, select: string, tables: TableRead[]) => Promise<T>,
): Promise<T> {
  const sandbox = await reader.sandbox();
  try {
    const parsed = await sandbox.parse(request.sql);
    if (parsed.statements === 0) {
      throw new ConfigError('the query is empty', { context: { field: 'sql' }, hint: HOW_TO_NAME });
    }
    if (parsed.statements > 1) {
      throw refused(`${parsed.statements} statements: one SELECT at a time`, 'run each on its own');
    }
    if (parsed.select === undefined) throw notASelect(request.sql);
    const refs = lakeTables(parsed.select);
    const layout = await reader.lake(request.lake);
    const tables: TableRead[] = [];
    for (const ref of refs) {
      const { table, snapshot } = await versionRead(layout, ref, request.asOf);
      await sandbox.addView(ref.layer, table, snapshot);
      const committedAt = new Date(snapshot.timestamp).toISOString();
      tables.push({ ...ref, version: snapshot.version, committedAt });
    }
    await sandbox.seal(resultFile);
    return await work(sandbox, parsed.select, tables);
  } finally {
    await sandbox.close();
  }
}

/** BIGINTs come as text: numbers where they are exact, as the lake's other answers give them. */
function exactNumbers(result: ResultRows): Json[][] {
  const integers = result.columns.flatMap((column, index) => (INTEGER_TYPES.has(column.type) ? [index] : []));
  return result.rows.map((row) =>
    row.map((value, index) =>
      integers.includes(index) && typeof value === 'string' && Number.isSafeInteger(Number(value))
        ? Number(value)
        : value,
    ),
  );
}

/**
 * Runs the query: its columns, its first `limit` rows, how many it returned, and the versions it read. With a
 * `timeLimitMs`, a query still running then is stopped and refused (a server answers every caller in time).
 */
export async function queryRows(
  reader: LakeReader,
  request: QueryRequest,
  limit: number,
  timeLimitMs?: number,
): Promise<QueryRows> {
  return prepared(reader, request, undefined, async (sandbox, _select, tables) => {
    const result = await withinTimeLimit(sandbox, timeLimitMs, () => sandbox.preview(request.sql, limit));
    return { ...result, rows: exactNumbers(result), tables };
  });
}

async function withinTimeLimit<T>(
  sandbox: QuerySandbox,
  timeLimitMs: number | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (timeLimitMs === undefined) return work();
  let stopped = false;
  const timer = setTimeout(() => {
    stopped = true;
    sandbox.interrupt();
  }, timeLimitMs);
  try {
    return await work();
  } catch (error) {
    if (!stopped) throw error;
    throw new ConfigError(`the query ran longer than ${timeLimitMs / 1000} s and was stopped`, {
      context: { field: 'sql' },
      hint: 'narrow it (filter early, join fewer rows), or run it with `medallion query`, which has no time limit',
    });
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the query into one CSV, JSON (an array of objects) or Parquet file, written by DuckDB. */
export async function exportQuery(
  reader: LakeReader,
  request: QueryRequest,
  format: FileFormat,
): Promise<QueryFile> {
  const file = await reader.scratchFile(`.${format}`);
  const remove = () => rm(file, { force: true });
  try {
    return await prepared(reader, request, file, async (sandbox, select, tables) => {
      const rows = await sandbox.copy(request.sql, select, file, COPY_OPTIONS[format]);
      return { path: file, rows, tables, remove };
    });
  } catch (error) {
    await remove();
    throw error;
  }
}
