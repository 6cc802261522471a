import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SourceFileError } from '../core/errors.js';
import { inspectCsvHeader, normalizeHeaderName, splitFields, type CsvHeaderOptions } from './csv-header.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'csv-header-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NAF_COLUMN = 'Intitulés de la NAF rév. 2, version finale';

async function inspect(content: string | Buffer, options: Partial<CsvHeaderOptions> = {}) {
  const file = path.join(dir, 'naf.csv');
  await writeFile(file, content);
  return inspectCsvHeader(file, { delimiter: ';', requiredColumns: ['Code', NAF_COLUMN], ...options });
}

async function inspectError(
  content: string | Buffer,
  options: Partial<CsvHeaderOptions> = {},
): Promise<SourceFileError> {
  const error: unknown = await inspect(content, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SourceFileError);
  return error as SourceFileError;
}

describe('normalizeHeaderName', () => {
  it('trims, collapses inner whitespace runs and lowercases', () => {
    expect(normalizeHeaderName(' Intitulés de la  NAF rév. 2, version finale ')).toBe(
      'intitulés de la naf rév. 2, version finale',
    );
    expect(normalizeHeaderName('Code\t\u00a0 Postal')).toBe('code postal');
  });

  it('matches an accent written as a combining mark with the precomposed one', () => {
    expect(normalizeHeaderName('Libelle\u0301')).toBe(normalizeHeaderName('Libellé'));
  });
});

describe('splitFields', () => {
  it('honours quoted fields holding the delimiter, doubled quotes and line breaks', () => {
    expect(splitFields('"a;b";"say ""hi""";"two\nlines";plain;', ';')).toEqual([
      'a;b',
      'say "hi"',
      'two\nlines',
      'plain',
      '',
    ]);
  });
});

describe('inspectCsvHeader', () => {
  it('matches required columns despite a BOM, case, padding and doubled spaces', async () => {
    const header = await inspect('\ufeffCode; Intitulés de la  NAF rév. 2, version finale \n01;Culture\n');
    expect(header).toEqual({
      delimiter: ';',
      columns: ['Code', ' Intitulés de la  NAF rév. 2, version finale '],
      normalized: ['code', 'intitulés de la naf rév. 2, version finale'],
    });
  });

  it('accepts a header without a line break and with CRLF endings', async () => {
    expect((await inspect('Code;' + NAF_COLUMN)).columns).toEqual(['Code', NAF_COLUMN]);
    expect((await inspect(`Code;${NAF_COLUMN}\r\n01;x\r\n`)).columns).toEqual(['Code', NAF_COLUMN]);
  });

  it('removes the quotes around quoted header fields, even one spanning lines', async () => {
    const header = await inspect(`"Code";"${NAF_COLUMN}";"Note\non two lines"\n01;x;y\n`);
    expect(header.columns).toEqual(['Code', NAF_COLUMN, 'Note\non two lines']);
  });

  it('returns the one other delimiter that reveals all required columns', async () => {
    const header = await inspect('Code,Libellé,Niveau\n01,Culture,1\n', {
      requiredColumns: ['code', 'libellé'],
    });
    expect(header).toMatchObject({ delimiter: ',', columns: ['Code', 'Libellé', 'Niveau'] });
  });

  it('sniffs a tab delimiter', async () => {
    const header = await inspect('Code\tLibellé\n', { delimiter: ',', requiredColumns: ['Libellé'] });
    expect(header.delimiter).toBe('\t');
  });

  it('names the missing columns, the delimiter tried and the columns found', async () => {
    const error = await inspectError('Code;Libellé;Niveau\n01;Culture;1\n');
    expect(error.message).toBe(
      `missing column "${NAF_COLUMN}" in the header (read with delimiter ';'; 3 columns found: "Code", "Libellé", "Niveau")`,
    );
    expect(error.context).toEqual({ file: 'naf.csv', line: 1, byte: 0 });
    expect(error.hint).toBe(
      `expected column ${NAF_COLUMN} with delimiter ';'; check that this is the right file`,
    );
  });

  it('says which delimiter the header seems to use when the declared one finds nothing', async () => {
    const error = await inspectError('Code,Libellé,Niveau\n', {
      requiredColumns: ['Code', 'Intitulé'],
      displayName: 'naf-2008.csv',
    });
    expect(error.message).toBe(
      `missing columns "Code", "Intitulé" in the header (read with delimiter ';'; 1 column found: "Code,Libellé,Niveau")`,
    );
    expect(error.hint).toBe(
      "expected columns Code, Intitulé with delimiter ';'; the header seems to use ','",
    );
    expect(error.context.file).toBe('naf-2008.csv');
  });

  it('lists only the first ten columns found', async () => {
    const columns = Array.from({ length: 14 }, (_, k) => `c${k}`).join(';');
    const error = await inspectError(`${columns}\n`, { requiredColumns: ['x'] });
    expect(error.message).toContain(
      '14 columns found: "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9" and 4 more',
    );
  });

  it('rejects a header with an unnamed column', async () => {
    const error = await inspectError('Code;;Libellé\n', { requiredColumns: ['Code'] });
    expect(error.message).toBe('column 2 of the header has no name');
  });

  it('explains the unnamed column a trailing delimiter adds', async () => {
    const error = await inspectError('Code;Libellé;\n', { requiredColumns: ['Code'] });
    expect(error.message).toBe('column 3 of the header has no name');
    expect(error.hint).toContain("ends with ';'");
  });

  it('rejects two columns whose names differ only by case or spacing', async () => {
    const error = await inspectError('Code;Libellé;code \n', { requiredColumns: ['Code'] });
    expect(error.message).toBe('columns 1 and 3 of the header have the same name "code "');
  });

  it('reports an empty header line', async () => {
    const error = await inspectError('\n01;x\n', { requiredColumns: [] });
    expect(error.message).toBe('the header line is empty');
  });

  it('reports a file of zero bytes, or only a BOM, as empty', async () => {
    expect((await inspectError('')).message).toBe('file is empty');
    expect((await inspectError(Buffer.from([0xef, 0xbb, 0xbf]))).message).toBe('file is empty');
  });

  it('reports a header quote that is never closed', async () => {
    const error = await inspectError('"Code;Libellé\n01;x\n');
    expect(error.message).toBe('the header line has a quote that is never closed');
  });
});
