import path from 'node:path';
import { rm } from 'node:fs/promises';
import { describeError, MedallionError, SourceFileError } from '../core/errors.js';
import type { CsvFormat, JsonFormat, SourceDefinition } from '../core/pipeline.js';
import { duckdbSqlType, quoteIdent } from '../engine/delta-types.js';
import { sqlString } from '../engine/duckdb-engine.js';
import { countCsvRecords } from '../sources/csv-records.js';
import { inspectCsvHeader, normalizeHeaderName } from '../sources/csv-header.js';
import { describeNdjsonRecord, splitJsonRecords, type NdjsonChunk } from '../sources/json-records.js';
import { assertUtf8 } from '../sources/text-encoding.js';
import { appendToManifest, currentFiles, type ManifestEntry } from './landing-manifest.js';
import { QUARANTINE_COLUMNS } from './quarantine.js';
import type { RunContext } from './run-context.js';
import { writeTable } from './table-writer.js';

export interface BronzeReport {
  files: { fileName: string; records: number; quarantined: number }[];
  rowsIn: number;
  rowsOut: number;
  quarantined: number;
  version: number | null;
}

/** Relations (temp tables) holding one file's bronze rows and its per-row rejects. */
interface LoadedFile {
  entry: ManifestEntry;
  rows: string;
  rejects: string | undefined;
  records: number;
  quarantined: number;
}

/** Appends the records of newly landed files to the source's bronze table, all files or none. */
export async function loadBronze(
  context: RunContext,
  source: SourceDefinition,
  task: string,
): Promise<BronzeReport> {
  const pending = (await currentFiles(context)).filter(
    (entry) =>
      entry.source === source.name &&
      (entry.status === 'landed' || (context.retryRejected && entry.status === 'rejected')),
  );
  const report: BronzeReport = { files: [], rowsIn: 0, rowsOut: 0, quarantined: 0, version: null };
  if (pending.length === 0) return report;

  const loaded: LoadedFile[] = [];
  const failures: { entry: ManifestEntry; error: unknown }[] = [];
  for (const [index, entry] of pending.entries()) {
    context.progress({ type: 'task-progress', task, message: `reading ${entry.fileName}` });
    try {
      loaded.push(await readFile(context, source, entry, `__bronze_${source.bronzeTable}_${index}`));
    } catch (error) {
      failures.push({ entry, error });
    }
  }
  if (failures.length > 0) {
    await rejectFiles(context, failures);
    const [first] = failures;
    const others = failures.length > 1 ? ` (and ${failures.length - 1} more rejected file(s))` : '';
    throw new SourceFileError(`${describeError(first?.error)}${others}`, {
      hint: 'the file is kept in landing and recorded as rejected; fix the source and add it again, or rerun with --retry-rejected',
    });
  }

  const table = context.lake.table({ layer: 'bronze', table: source.bronzeTable });
  const union = loaded.map((file) => `SELECT * FROM ${file.rows}`).join(' UNION ALL BY NAME ');
  const rows = `__bronze_${source.bronzeTable}`;
  await context.engine.run(
    `CREATE OR REPLACE TEMP VIEW ${rows} AS ${await alignWithTable(context, union, table)}`,
  );
  const written = await writeTable(context.engine, rows, table, {
    mode: 'append',
    txns: loaded.map((file) => ({ appId: `medallion-landing-${file.entry.checksum}`, version: 0 })),
    runId: context.runId,
    task,
  });
  const rejects = loaded.flatMap((file) => (file.rejects ? [`SELECT * FROM ${file.rejects}`] : []));
  if (rejects.length > 0) {
    await writeTable(
      context.engine,
      `(${rejects.join(' UNION ALL ')})`,
      context.lake.quarantine({ layer: 'bronze', table: source.bronzeTable }),
      { mode: 'append', runId: context.runId, task },
    );
  }
  const now = new Date().toISOString();
  await appendToManifest(
    context,
    loaded.map((file) => ({
      ...file.entry,
      status: 'loaded',
      runId: context.runId,
      at: now,
      records: file.records,
    })),
  );
  for (const file of loaded) {
    report.files.push({
      fileName: file.entry.fileName,
      records: file.records,
      quarantined: file.quarantined,
    });
    report.rowsIn += file.records;
    report.quarantined += file.quarantined;
  }
  report.rowsOut = written.rows;
  report.version = written.version;
  return report;
}

async function rejectFiles(
  context: RunContext,
  failures: { entry: ManifestEntry; error: unknown }[],
): Promise<void> {
  const now = new Date().toISOString();
  await appendToManifest(
    context,
    failures.map(({ entry, error }) => ({
      ...entry,
      status: 'rejected',
      runId: context.runId,
      at: now,
      records: null,
      error: describeError(error),
    })),
  );
}

/** New rows first take the table's existing columns in order (NULL where absent), then any new ones. */
async function alignWithTable(
  context: RunContext,
  union: string,
  table: ReturnType<RunContext['lake']['table']>,
): Promise<string> {
  const snapshot = await table.snapshot();
  if (!snapshot) return union;
  const incoming = new Set((await context.engine.columns(`(${union})`)).map((column) => column.name));
  const existing = snapshot.schema.fields.map((field) => field.name);
  const projection = snapshot.schema.fields.map((field) =>
    incoming.has(field.name)
      ? quoteIdent(field.name)
      : `CAST(NULL AS ${duckdbSqlType(field.type)}) AS ${quoteIdent(field.name)}`,
  );
  const added = [...incoming].filter((name) => !existing.includes(name)).map(quoteIdent);
  return `SELECT ${[...projection, ...added].join(', ')} FROM (${union})`;
}

function lineage(context: RunContext, entry: ManifestEntry, rowNumber: string): string {
  return [
    `${sqlString(entry.at)}::TIMESTAMPTZ AS _ingested_at`,
    `${sqlString(entry.landingKey)} AS _source_object`,
    `${sqlString(entry.checksum)} AS _source_checksum`,
    `${sqlString(context.runId)} AS _run_id`,
    `${rowNumber}::BIGINT AS _row_number`,
  ].join(', ');
}

async function readFile(
  context: RunContext,
  source: SourceDefinition,
  entry: ManifestEntry,
  relation: string,
): Promise<LoadedFile> {
  const file = await context.lake.store.localPath(entry.landingKey);
  await assertUtf8(file, { displayName: entry.fileName });
  return source.format.type === 'csv'
    ? readCsv(context, source.format, entry, file, relation)
    : readJson(context, source.format, entry, file, relation);
}

/** Characters Delta does not allow in column names without column mapping. */
const INVALID_COLUMN_CHARS = /[ ,;{}()\n\t=]+/g;

function bronzeColumnName(header: string, format: CsvFormat, position: number): string {
  const rename = Object.entries(format.rename ?? {}).find(
    ([from]) => normalizeHeaderName(from) === normalizeHeaderName(header),
  );
  if (rename) return rename[1];
  const cleaned = header
    .trim()
    .replace(INVALID_COLUMN_CHARS, '_')
    .replace(/^_+|_+$/g, '');
  return cleaned === '' ? `column_${position + 1}` : cleaned;
}

async function readCsv(
  context: RunContext,
  format: CsvFormat,
  entry: ManifestEntry,
  file: string,
  relation: string,
): Promise<LoadedFile> {
  const displayName = entry.fileName;
  const header = await inspectCsvHeader(file, {
    delimiter: format.delimiter,
    requiredColumns: format.requiredColumns,
    displayName,
  });
  const { records } = await countCsvRecords(file, { displayName });
  const names = header.columns.map((column, position) => bronzeColumnName(column, format, position));
  const raw = `${relation}_raw`;
  const rejects = `${relation}_rejects`;
  const columns = `{${names.map((name) => `${sqlString(name)}: 'VARCHAR'`).join(', ')}}`;
  // The header was checked above; DuckDB's sniffer is kept out so the declared (or detected)
  // delimiter is the one used, and malformed rows are stored as rejects instead of failing the file.
  await context.engine.run(`
    CREATE OR REPLACE TEMP TABLE ${raw} AS
    SELECT * FROM read_csv(${sqlString(file)}, header = false, skip = 1, auto_detect = false,
      columns = ${columns}, delim = ${sqlString(header.delimiter)}, quote = '"', escape = '"',
      store_rejects = true, rejects_table = '${rejects}_errors', rejects_scan = '${rejects}_scans')`);
  const rows = await context.engine.count(raw);
  const rejected = await context.engine.count(`${rejects}_errors`);
  const rejectedRecords = Number(
    (
      await context.engine.one<{ n: number }>(
        `SELECT count(DISTINCT line)::BIGINT AS n FROM ${rejects}_errors`,
      )
    ).n,
  );
  if (rows + rejectedRecords !== records) {
    throw new SourceFileError(
      `read ${rows} rows and rejected ${rejectedRecords}, but the file holds ${records} records`,
      {
        context: { file: displayName },
        hint: 'the file may mix line endings or quoting styles; check it with a CSV linter',
      },
    );
  }
  await context.engine.run(`
    CREATE OR REPLACE TEMP VIEW ${relation} AS
    SELECT *, ${lineage(context, entry, 'rowid + 1')} FROM ${raw}`);
  if (rejected === 0) return { entry, rows: relation, rejects: undefined, records, quarantined: 0 };
  await context.engine.run(`
    CREATE OR REPLACE TEMP TABLE ${rejects} AS
    SELECT ${QUARANTINE_COLUMNS.runId(context)},
      'malformed_csv_row' AS reason,
      ${sqlString(entry.checksum)} || ':line:' || line AS record_id,
      any_value(csv_line) AS record,
      ${sqlString(entry.landingKey)} || ' line ' || line || ': ' || string_agg(error_type || ' ' || error_message, '; ') AS detail,
      ${QUARANTINE_COLUMNS.now()}
    FROM ${rejects}_errors GROUP BY line ORDER BY line`);
  return { entry, rows: relation, rejects, records: rows + rejectedRecords, quarantined: rejectedRecords };
}

async function readJson(
  context: RunContext,
  format: JsonFormat,
  entry: ManifestEntry,
  file: string,
  relation: string,
): Promise<LoadedFile> {
  const chunkDir = path.join(context.engine.scratchDir, 'ndjson', relation);
  try {
    const split = await splitJsonRecords(file, chunkDir, {
      recordsPath: format.recordsPath,
      displayName: entry.fileName,
    });
    const from =
      split.chunks.length === 0
        ? `(SELECT NULL::BIGINT AS n, NULL::JSON AS r WHERE false)`
        : `read_json([${split.chunks.map((chunk) => sqlString(chunk.path)).join(', ')}],
            format = 'newline_delimited', maximum_object_size = 33554432,
            columns = {n: 'BIGINT', line: 'BIGINT', byte: 'BIGINT', r: 'JSON'})`;
    const shape = sqlString(JSON.stringify(format.fields));
    try {
      await context.engine.run(`
        CREATE OR REPLACE TEMP TABLE ${relation} AS
        SELECT unnest(json_transform(r, ${shape})), r::VARCHAR AS _record, ${lineage(context, entry, 'n')}
        FROM ${from}`);
    } catch (error) {
      throw await jsonParseError(error, split.chunks, entry.fileName);
    }
    return { entry, rows: relation, rejects: undefined, records: split.records, quarantined: 0 };
  } finally {
    await rm(chunkDir, { recursive: true, force: true });
  }
}

/** Turns DuckDB's "Malformed JSON in file chunk-…, at byte B in line L" into the source's position. */
async function jsonParseError(
  error: unknown,
  chunks: NdjsonChunk[],
  fileName: string,
): Promise<MedallionError> {
  const message = describeError(error);
  const match = /file "([^"]+)", at byte \d+ in line (\d+): ?(.*)/s.exec(message);
  const chunk = match ? chunks.find((candidate) => candidate.path === match[1]) : undefined;
  if (!match || !chunk) {
    return new SourceFileError(`cannot be read as JSON: ${message}`, { context: { file: fileName } });
  }
  const position = await describeNdjsonRecord(chunk, Number(match[2]));
  return new SourceFileError(`malformed JSON: ${(match[3] ?? '').trim()}`, {
    context: { file: fileName, line: position.line, byte: position.byte, record: position.record },
    hint: 'fix or remove that record; the rest of the file was not loaded',
  });
}
