import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SourceFileError } from '../core/errors.js';
import { countCsvRecords } from './csv-records.js';

async function csv(content: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'csv-records-'));
  const file = path.join(dir, 'data.csv');
  await writeFile(file, content);
  return file;
}

/** The count the scan must give: byte by byte, as the file reads (no NUL bytes, quotes balanced). */
function reference(content: string): { records: number; lines: number } {
  let inQuotes = false;
  let lines = 1;
  let records = 0;
  let recordHasBytes = false;
  for (const char of content) {
    if (char === '"') {
      inQuotes = !inQuotes;
      recordHasBytes = true;
    } else if (char === '\n') {
      lines++;
      if (!inQuotes && recordHasBytes) records++;
      if (!inQuotes) recordHasBytes = false;
    } else if (char !== '\r') recordHasBytes = true;
  }
  if (recordHasBytes) records++;
  return { records: Math.max(records - 1, 0), lines };
}

describe('countCsvRecords', () => {
  it('counts as a byte-by-byte scan does, whatever the read size, on random quoting and line endings', async () => {
    let seed = 11;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pieces = ['a', 'b,', '"', '""', '\n', '\r\n', '\r', '\n\n', ',', 'xyz'];
    for (let round = 0; round < 40; round++) {
      let content = Array.from({ length: 20 + random(60) }, () => pieces[random(pieces.length)]).join('');
      // Quotes balanced: an unclosed one is another test's.
      if ((content.match(/"/g)?.length ?? 0) % 2 === 1) content += '"';
      const file = await csv(content);
      for (const readBufferBytes of [1, 2, 3, 7, 64])
        expect(await countCsvRecords(file, { readBufferBytes }), JSON.stringify(content)).toEqual(
          reference(content),
        );
    }
  });

  it('counts records after the header, with or without a final newline', async () => {
    expect((await countCsvRecords(await csv('a,b\n1,2\n3,4\n'))).records).toBe(2);
    expect((await countCsvRecords(await csv('a,b\r\n1,2\r\n3,4'))).records).toBe(2);
  });

  it('counts a quoted field holding newlines and doubled quotes as one record', async () => {
    const file = await csv('a,b\n"x\ny ""q""",2\n3,4\n');
    expect((await countCsvRecords(file, { readBufferBytes: 3 })).records).toBe(2);
  });

  it('ignores blank lines', async () => {
    expect((await countCsvRecords(await csv('a,b\n1,2\n\n3,4\n\n'))).records).toBe(2);
  });

  it('names the line where a quote is opened and never closed', async () => {
    const error = await countCsvRecords(await csv('a,b\n1,2\n3,"open\n5,6\n')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceFileError);
    expect((error as SourceFileError).context).toMatchObject({ file: 'data.csv', line: 3, byte: 10 });
  });

  it('refuses a NUL byte, naming the line and offset of the first, inside quotes or not', async () => {
    for (const [content, line, byte] of [
      ['a,b\n1,2\n3,\u00004\n5,\u0000\n', 3, 10],
      ['a,b\n"x\n\u0000",2\n', 3, 7],
      ['a\u0000,b\n1,2\n', 1, 1],
    ] as const) {
      const error = await countCsvRecords(await csv(content), { readBufferBytes: 4 }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SourceFileError);
      expect((error as SourceFileError).message).toContain('NUL byte');
      expect((error as SourceFileError).context).toMatchObject({ file: 'data.csv', line, byte });
    }
  });
});
