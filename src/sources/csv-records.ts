import { open } from 'node:fs/promises';
import path from 'node:path';
import { SourceFileError } from '../core/errors.js';

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

export interface CsvRecordCount {
  /** Data records after the header line. */
  records: number;
  lines: number;
}

/**
 * Counts a CSV file's records by scanning bytes with quote awareness, so that rows a CSV reader
 * silently drops (an unterminated quote swallowing the end of the file) are noticed, and the
 * reader's row count can be checked against the file's. A NUL byte refuses the file: it is valid
 * UTF-8, so only this scan sees it, and DuckDB would load it into the values unnoticed.
 */
export async function countCsvRecords(
  file: string,
  options: { displayName?: string; readBufferBytes?: number } = {},
): Promise<CsvRecordCount> {
  const handle = await open(file, 'r');
  const buffer = Buffer.allocUnsafe(options.readBufferBytes ?? 1 << 20);
  let inQuotes = false;
  let lines = 1;
  let records = 0;
  let recordHasBytes = false;
  let quoteOpenedAt = { line: 0, byte: 0 };
  let position = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      for (let i = 0; i < bytesRead; i++) {
        const byte = buffer[i];
        if (byte === QUOTE) {
          // A doubled quote inside a quoted field toggles twice: net effect none.
          inQuotes = !inQuotes;
          if (inQuotes) quoteOpenedAt = { line: lines, byte: position + i };
          recordHasBytes = true;
        } else if (byte === LF) {
          lines++;
          if (!inQuotes) {
            if (recordHasBytes) records++;
            recordHasBytes = false;
          }
        } else if (byte === NUL) {
          throw nulByte(options.displayName ?? path.basename(file), lines, position + i);
        } else if (byte !== CR) {
          recordHasBytes = true;
        }
      }
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
  if (inQuotes) {
    throw new SourceFileError('a quoted field is never closed: the rest of the file would be swallowed', {
      context: {
        file: options.displayName ?? path.basename(file),
        line: quoteOpenedAt.line,
        byte: quoteOpenedAt.byte,
      },
      hint: 'check that this line\'s quotes are balanced (a literal " inside a quoted field is written "")',
    });
  }
  if (recordHasBytes) records++;
  return { records: Math.max(records - 1, 0), lines };
}

function nulByte(file: string, line: number, byte: number): SourceFileError {
  return new SourceFileError('NUL byte (0x00): a text CSV holds none', {
    context: { file, line, byte },
    hint:
      'the file is binary, damaged or UTF-16 (whose ASCII characters each carry a NUL); ' +
      "re-export it as UTF-8, or remove the NUL bytes (tr -d '\\000' < in.csv > out.csv) if they are padding",
  });
}
