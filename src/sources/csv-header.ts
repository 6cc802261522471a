import { open } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, SourceFileError } from '../core/errors.js';

export interface CsvHeaderOptions {
  delimiter: string;
  requiredColumns: readonly string[];
  /** Name used for the file in error messages (default: the path's basename). */
  displayName?: string;
}

export interface CsvHeader {
  /** The delimiter to read the file with: the declared one, or the only candidate that finds every required column. */
  delimiter: string;
  /** Column names as written, without the BOM and the quotes. */
  columns: string[];
  /** normalizeHeaderName of each column. */
  normalized: string[];
}

/** Delimiters tried when the declared one does not reveal the required columns. */
export const CANDIDATE_DELIMITERS: readonly string[] = [',', ';', '\t', '|'];

/** Longest header line read; past it the file is surely not the CSV it claims to be. */
const MAX_HEADER_BYTES = 1 << 20;
const READ_STEP = 64 * 1024;
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;
const MAX_COLUMNS_LISTED = 10;

/**
 * How header names are compared: exports of the same table differ in case, padding and
 * doubled spaces between releases, and none of those make it a different column.
 * NFC first, so an accent typed as a combining mark matches the precomposed one.
 */
export function normalizeHeaderName(name: string): string {
  return name.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * Reads a CSV file's header line and checks that it names every required column with the
 * declared delimiter. A file exported with another common delimiter is accepted when exactly
 * one candidate delimiter reveals all the required columns; the returned delimiter says which.
 */
export async function inspectCsvHeader(file: string, options: CsvHeaderOptions): Promise<CsvHeader> {
  if (options.delimiter === '')
    throw new ConfigError('the CSV delimiter must not be empty', { context: { field: 'delimiter' } });
  const displayName = options.displayName ?? path.basename(file);
  const line = await readHeaderLine(file, displayName);
  const required = options.requiredColumns;

  const declared = splitHeader(line, options.delimiter, required);
  if (declared.missing.length === 0) return checkNames(declared, displayName);

  const alternatives = CANDIDATE_DELIMITERS.filter((candidate) => candidate !== options.delimiter).map(
    (candidate) => splitHeader(line, candidate, required),
  );
  const matching = alternatives.filter((alternative) => alternative.missing.length === 0);
  if (matching.length === 1 && matching[0] !== undefined) return checkNames(matching[0], displayName);

  throw new SourceFileError(
    `missing ${plural(declared.missing.length, 'column')} ${declared.missing.map(quote).join(', ')} in the header ` +
      `(read with delimiter ${showDelimiter(options.delimiter)}; ${listColumns(declared.columns)})`,
    { context: { file: displayName, line: 1, byte: 0 }, hint: missingHint(declared, alternatives, matching) },
  );
}

interface HeaderSplit extends CsvHeader {
  /** Required columns (as declared) that no header column matches. */
  missing: string[];
}

function splitHeader(line: string, delimiter: string, required: readonly string[]): HeaderSplit {
  const columns = splitFields(line, delimiter);
  const normalized = columns.map(normalizeHeaderName);
  const present = new Set(normalized);
  const missing = required.filter((column) => !present.has(normalizeHeaderName(column)));
  return { delimiter, columns, normalized, missing };
}

function checkNames(header: HeaderSplit, displayName: string): CsvHeader {
  const { delimiter, columns, normalized } = header;
  const context = { file: displayName, line: 1, byte: 0 };
  if (normalized.every((name) => name === '')) {
    throw new SourceFileError('the header line is empty', {
      context,
      hint: 'the first line of a CSV file must name its columns',
    });
  }
  const firstIndexOf = new Map<string, number>();
  for (const [index, name] of normalized.entries()) {
    if (name === '') {
      const last = index === columns.length - 1;
      throw new SourceFileError(`column ${index + 1} of the header has no name`, {
        context,
        hint: last
          ? `the header line ends with ${showDelimiter(delimiter)}, which adds an unnamed column; remove it or name the column`
          : 'every column needs a name in the header line',
      });
    }
    const first = firstIndexOf.get(name);
    if (first !== undefined) {
      throw new SourceFileError(
        `columns ${first + 1} and ${index + 1} of the header have the same name ${quote(columns[index] ?? name)}`,
        {
          context,
          hint: 'rename one of them; names are compared ignoring case and repeated spaces',
        },
      );
    }
    firstIndexOf.set(name, index);
  }
  return { delimiter, columns, normalized };
}

function missingHint(declared: HeaderSplit, alternatives: HeaderSplit[], matching: HeaderSplit[]): string {
  const expected = `expected ${plural(declared.missing.length, 'column')} ${declared.missing.join(', ')} with delimiter ${showDelimiter(declared.delimiter)}`;
  if (matching.length > 1) {
    return `${expected}; delimiters ${matching.map((m) => showDelimiter(m.delimiter)).join(' and ')} would both find them: declare the right one`;
  }
  // The delimiter that cuts the header into the most columns is the one the file most likely uses.
  const likely = alternatives.reduce<HeaderSplit | undefined>(
    (best, alternative) =>
      alternative.columns.length > (best?.columns.length ?? declared.columns.length) ? alternative : best,
    undefined,
  );
  if (likely !== undefined) return `${expected}; the header seems to use ${showDelimiter(likely.delimiter)}`;
  return `${expected}; check that this is the right file`;
}

/** Splits one CSV line on `delimiter`, honouring "quoted" fields with "" for a quote. */
export function splitFields(line: string, delimiter: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    let start = i;
    while (line[start] === ' ') start++;
    if (line[start] === '"') {
      i = start + 1;
      for (;;) {
        const close = line.indexOf('"', i);
        if (close === -1) {
          field += line.slice(i);
          i = line.length;
          break;
        }
        field += line.slice(i, close);
        if (line[close + 1] === '"') {
          field += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
    }
    const next = line.indexOf(delimiter, i);
    const stop = next === -1 ? line.length : next;
    // Text after a closing quote is kept, as lenient CSV readers do.
    field += line.slice(i, stop);
    fields.push(field);
    if (next === -1) return fields;
    i = next + delimiter.length;
  }
}

/** The first record of the file (a quoted field may span lines), without BOM and line ending. */
async function readHeaderLine(file: string, displayName: string): Promise<string> {
  const context = { file: displayName, line: 1, byte: 0 };
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(MAX_HEADER_BYTES + 1);
    let length = 0;
    let start = -1;
    let inQuotes = false;
    for (;;) {
      const { bytesRead } = await handle.read(
        buffer,
        length,
        Math.min(READ_STEP, buffer.length - length),
        length,
      );
      length += bytesRead;
      if (start === -1) {
        start = length >= 3 && UTF8_BOM.every((byte, k) => buffer[k] === byte) ? 3 : 0;
        if (length === start) {
          throw new SourceFileError('file is empty', {
            context,
            hint: 'the source produced an empty file; check the download or export',
          });
        }
      }
      for (let i = length - bytesRead; i < length; i++) {
        const byte = buffer[i];
        if (byte === 0x22) inQuotes = !inQuotes;
        else if ((byte === 0x0a || byte === 0x0d) && !inQuotes) return buffer.toString('utf8', start, i);
      }
      if (bytesRead === 0 || length === buffer.length) break;
    }
    if (length > MAX_HEADER_BYTES) {
      throw new SourceFileError(`no end of the header line within the first ${MAX_HEADER_BYTES} bytes`, {
        context,
        hint: inQuotes
          ? 'a quote in the header is probably never closed'
          : 'this does not look like a CSV file',
      });
    }
    if (inQuotes) {
      throw new SourceFileError('the header line has a quote that is never closed', {
        context,
        hint: 'check the quoting of the first line',
      });
    }
    return buffer.toString('utf8', start, length);
  } finally {
    await handle.close();
  }
}

function listColumns(columns: readonly string[]): string {
  const shown = columns.slice(0, MAX_COLUMNS_LISTED).map(quote).join(', ');
  const more = columns.length > MAX_COLUMNS_LISTED ? ` and ${columns.length - MAX_COLUMNS_LISTED} more` : '';
  return `${columns.length} ${plural(columns.length, 'column')} found: ${shown}${more}`;
}

function showDelimiter(delimiter: string): string {
  return delimiter === '\t' ? "'\\t' (tab)" : `'${delimiter}'`;
}

function quote(text: string): string {
  return JSON.stringify(text);
}

function plural(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`;
}
