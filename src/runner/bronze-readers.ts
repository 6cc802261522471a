import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describeError, MedallionError, SourceFileError } from '../core/errors.js';
import type { CsvFormat, JsonFormat, SourceDefinition } from '../core/pipeline.js';
import { duckdbDialect, sqlString } from '../engine/dialects/duckdb.js';
import { countCsvRecords } from '../sources/csv-records.js';
import { inspectCsvHeader, normalizeHeaderName } from '../sources/csv-header.js';
import { describeNdjsonRecord, splitJsonRecords, type NdjsonChunk } from '../sources/json-records.js';
import { assertUtf8 } from '../sources/text-encoding.js';
import type { ManifestEntry } from './landing-manifest.js';
import { QUARANTINE_COLUMNS } from './quarantine.js';
import type { RunContext } from './run-context.js';

/**
 * One landed file, checked and exposed as a view of its bronze rows (records as read plus lineage).
 * The view streams from the file: nothing is materialised until the rows are staged as Parquet.
 */
export interface PreparedFile {
  entry: ManifestEntry;
  view: string;
  /** Records the file holds, counted independently of DuckDB's reader. */
  records: number;
  /** After staging: rows DuckDB rejected (CSV rows with the wrong number of fields), as quarantine rows. */
  rejects?: { table: string; quarantine: string };
  /** Turns an error raised while the view is read into one that names the file and position. */
  explain(error: unknown): Promise<MedallionError>;
  cleanup(): Promise<void>;
}

export async function prepareFile(
  context: RunContext,
  source: SourceDefinition,
  entry: ManifestEntry,
  view: string,
): Promise<PreparedFile> {
  const file = await context.lake.landing().localPath(entry.landingKey);
  const hash = createHash('sha256');
  await assertUtf8(file, { displayName: entry.fileName, hash });
  // The bytes must still be those that landed: a changed or corrupted object is not loaded.
  const checksum = hash.digest('hex');
  if (checksum !== entry.checksum) {
    throw new SourceFileError(
      `the landing copy's SHA-256 is ${checksum.slice(0, 12)}…, not the ${entry.checksum.slice(0, 12)}… recorded when it landed`,
      {
        context: { file: entry.fileName },
        hint: `the object landing/${entry.landingKey} was changed or damaged in the lake; add the source file again`,
      },
    );
  }
  return source.format.type === 'csv'
    ? prepareCsv(context, source.format, entry, file, view)
    : prepareJson(context, source.format, entry, file, view);
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

function asSourceError(error: unknown, fileName: string): MedallionError {
  return error instanceof MedallionError
    ? error
    : new SourceFileError(`cannot be read: ${describeError(error)}`, { context: { file: fileName } });
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

async function prepareCsv(
  context: RunContext,
  format: CsvFormat,
  entry: ManifestEntry,
  file: string,
  view: string,
): Promise<PreparedFile> {
  const displayName = entry.fileName;
  // Counted first: the count refuses NUL bytes, which in the header would be reported as a missing column.
  const { records } = await countCsvRecords(file, { displayName });
  const header = await inspectCsvHeader(file, {
    delimiter: format.delimiter,
    requiredColumns: format.requiredColumns,
    displayName,
  });
  const names = header.columns.map((column, position) => bronzeColumnName(column, format, position));
  const rejects = `${view}_rejects`;
  const columns = `{${names.map((name) => `${sqlString(name)}: 'VARCHAR'`).join(', ')}}`;
  // The header was checked above; DuckDB's sniffer is kept out so the declared (or detected)
  // delimiter is the one used, and malformed rows are stored as rejects instead of failing the file.
  // row_number() OVER () streams in file order, so rows need not be materialised to be numbered.
  await context.ingestEngine.run(`
    CREATE OR REPLACE TEMP VIEW ${view} AS
    SELECT *, ${lineage(context, entry, 'row_number() OVER ()')}
    FROM read_csv(${sqlString(file)}, header = false, skip = 1, auto_detect = false,
      columns = ${columns}, delim = ${sqlString(header.delimiter)}, quote = '"', escape = '"',
      store_rejects = true, rejects_table = '${rejects}_errors', rejects_scan = '${rejects}_scans')`);
  return {
    entry,
    view,
    records,
    rejects: {
      table: `${rejects}_errors`,
      quarantine: `
        SELECT ${QUARANTINE_COLUMNS.runId(duckdbDialect, context.runId)},
          'malformed_csv_row' AS reason,
          ${sqlString(entry.checksum)} || ':line:' || line AS record_id,
          any_value(csv_line) AS record,
          ${sqlString(entry.landingKey)} || ' line ' || line || ': ' || string_agg(error_type || ' ' || error_message, '; ') AS detail,
          ${QUARANTINE_COLUMNS.now()}
        FROM ${rejects}_errors GROUP BY line`,
    },
    explain: async (error) => asSourceError(error, displayName),
    cleanup: async () => {},
  };
}

async function prepareJson(
  context: RunContext,
  format: JsonFormat,
  entry: ManifestEntry,
  file: string,
  view: string,
): Promise<PreparedFile> {
  const chunkDir = path.join(context.ingestEngine.scratchDir, 'ndjson', view);
  const cleanup = () => rm(chunkDir, { recursive: true, force: true });
  try {
    const split = await splitJsonRecords(file, chunkDir, {
      recordsPath: format.recordsPath,
      displayName: entry.fileName,
    });
    // One record at a time is parsed, so DuckDB's buffer is sized for the largest record, not the file.
    const from =
      split.chunks.length === 0
        ? `(SELECT NULL::BIGINT AS n, NULL::JSON AS r WHERE false)`
        : `read_json([${split.chunks.map((chunk) => sqlString(chunk.path)).join(', ')}],
            format = 'newline_delimited', maximum_object_size = 33554432,
            columns = {n: 'BIGINT', line: 'BIGINT', byte: 'BIGINT', r: 'JSON'})`;
    const shape = sqlString(JSON.stringify(format.fields));
    await context.ingestEngine.run(`
      CREATE OR REPLACE TEMP VIEW ${view} AS
      SELECT unnest(json_transform(r, ${shape})), r::VARCHAR AS _record, ${lineage(context, entry, 'n')}
      FROM ${from}`);
    return {
      entry,
      view,
      records: split.records,
      explain: (error) => jsonParseError(error, split.chunks, entry.fileName),
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
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
  if (!match || !chunk) return asSourceError(error, fileName);
  const position = await describeNdjsonRecord(chunk, Number(match[2]));
  return new SourceFileError(`malformed JSON: ${(match[3] ?? '').trim()}`, {
    context: { file: fileName, line: position.line, byte: position.byte, record: position.record },
    hint: 'fix or remove that record; the rest of the file was not loaded',
  });
}
