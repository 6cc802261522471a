import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SourceFileError } from '../core/errors.js';
import {
  describeNdjsonRecord,
  locateJsonRecord,
  splitJsonRecords,
  type JsonSplitOptions,
} from './json-records.js';

interface ChunkLine {
  n: number;
  line: number;
  byte: number;
  r: unknown;
}

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'json-records-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function split(content: string | Buffer, options: Partial<JsonSplitOptions> = {}) {
  const file = path.join(dir, 'source.json');
  await writeFile(file, content);
  const outDir = path.join(dir, 'out');
  const result = await splitJsonRecords(file, outDir, { recordsPath: 'marches', ...options });
  const texts = await Promise.all(result.chunks.map((chunk) => readFile(chunk.path, 'utf8')));
  const rawLines = texts.flatMap((text) => text.split('\n').slice(0, -1));
  const lines = rawLines.map((line) => JSON.parse(line) as ChunkLine);
  return { result, lines, rawLines, outDir };
}

async function splitError(
  content: string | Buffer,
  options: Partial<JsonSplitOptions> = {},
): Promise<SourceFileError> {
  const error: unknown = await split(content, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SourceFileError);
  return error as SourceFileError;
}

/** Line (1-based) and byte (0-based) where `needle` first occurs in `text`. */
function positionOf(text: string, needle: string, from = 0): { line: number; byte: number } {
  const index = text.indexOf(needle, from);
  if (index === -1) throw new Error(`${needle} not in text`);
  const before = text.slice(0, index);
  return { line: before.split('\n').length, byte: Buffer.byteLength(before) };
}

const PRETTY = `{
  "source": "decp",
  "meta": {"tags": ["a", "]"], "nested": {"x": [1, {"y": "}"}]}, "quote": "\\"{["},
  "marches": [
    {
      "id": "m1",
      "montant": 1200.5,
      "titulaires": [{"nom": "Durand \\"et fils\\""}]
    },
    {
      "id": "m2",
      "objet": "lot } ] { [ , : \\\\",
      "notes": "line one\\nline two"
    }
  ],
  "count": 2,
  "done": true
}
`;

describe('splitJsonRecords', () => {
  it('splits the records array of a pretty-printed object with other keys before and after it', async () => {
    const { result, lines } = await split(PRETTY);
    expect(result.records).toBe(2);
    expect(result.bytes).toBe(Buffer.byteLength(PRETTY));
    expect(lines.map((line) => line.r)).toEqual((JSON.parse(PRETTY) as { marches: unknown[] }).marches);
    expect(lines.map((line) => line.n)).toEqual([1, 2]);
    const second = positionOf(PRETTY, '{\n      "id": "m2"');
    expect(lines[1]).toMatchObject({ line: second.line, byte: second.byte });
    expect(lines[0]).toMatchObject(positionOf(PRETTY, '{\n      "id": "m1"'));
  });

  it('copies record bytes unchanged except line breaks outside strings, which become spaces', async () => {
    const { rawLines } = await split(PRETTY);
    expect(rawLines[1]).toBe(
      '{"n":2,"line":10,"byte":' +
        Buffer.byteLength(PRETTY.slice(0, PRETTY.indexOf('{\n      "id": "m2"'))) +
        ',"r":{       "id": "m2",       "objet": "lot } ] { [ , : \\\\",       "notes": "line one\\nline two"     }}',
    );
  });

  it('turns CRLF line breaks into spaces and still counts lines', async () => {
    const content = '{\r\n "marches": [\r\n  {\r\n   "a": 1\r\n  },\r\n  {"a": 2}\r\n ]\r\n}\r\n';
    const { lines, rawLines } = await split(content);
    expect(rawLines[0]).toBe('{"n":1,"line":3,"byte":20,"r":{     "a": 1    }}');
    expect(lines[1]).toMatchObject({ line: 6, r: { a: 2 } });
  });

  it('finds the records key when keys hold escapes and non-ASCII characters', async () => {
    const content =
      '{"cl\\u00e9 \\"x\\"": [1], "données": {"a": "b"}, "march\\u00e9s": [{"k": "v"}], "日本": 3}';
    const { lines } = await split(content, { recordsPath: 'marchés' });
    expect(lines.map((line) => line.r)).toEqual([{ k: 'v' }]);
  });

  it('reassembles records that span many tiny read buffers', async () => {
    const expected = (await split(PRETTY)).rawLines;
    for (const readBufferBytes of [1, 2, 3, 7]) {
      await rm(path.join(dir, 'out'), { recursive: true });
      expect((await split(PRETTY, { readBufferBytes })).rawLines).toEqual(expected);
    }
  });

  it('keeps multi-byte characters and escapes intact across read buffer boundaries', async () => {
    const content = '{"marches": [{"s": "é\\\\\\"日本\\\\", "t": "\\u00e9"}]}';
    const { lines } = await split(content, { readBufferBytes: 1 });
    expect(lines[0]?.r).toEqual({ s: 'é\\"日本\\', t: 'é' });
  });

  it('starts a new chunk file every chunkRecords records', async () => {
    const content = JSON.stringify({ marches: [1, 2, 3, 4, 5].map((id) => ({ id })) });
    const { result, outDir } = await split(content, { chunkRecords: 2 });
    expect(
      result.chunks.map(({ path: file, firstRecord, records }) => [
        path.basename(file),
        firstRecord,
        records,
      ]),
    ).toEqual([
      ['chunk-00000.ndjson', 1, 2],
      ['chunk-00001.ndjson', 3, 2],
      ['chunk-00002.ndjson', 5, 1],
    ]);
    expect((await readdir(outDir)).sort()).toEqual([
      'chunk-00000.ndjson',
      'chunk-00001.ndjson',
      'chunk-00002.ndjson',
    ]);
  });

  it('reads a document that is itself the array when recordsPath is null, whatever the element types', async () => {
    const content =
      '[\n  {"a": [1, 2]},\n  "text, with ] comma",\n  -12.5e3,\n  true,\n  null,\n  [[], {}]\n]\n';
    const { lines, rawLines } = await split(content, { recordsPath: null });
    expect(lines.map((line) => line.r)).toEqual(JSON.parse(content));
    const third = positionOf(content, '-12.5e3');
    expect(rawLines[2]).toBe(`{"n":3,"line":${third.line},"byte":${third.byte},"r":-12.5e3}`);
  });

  it('accepts a UTF-8 byte-order mark before the document', async () => {
    const { lines } = await split(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"marches": [{"a": 1}]}')]),
    );
    expect(lines[0]).toMatchObject({ byte: 3 + '{"marches": ['.length, r: { a: 1 } });
  });

  it('writes no chunk for an empty records array', async () => {
    const { result } = await split('{"marches": [ ]}');
    expect(result).toMatchObject({ chunks: [], records: 0 });
  });

  it('creates the output directory when it is missing', async () => {
    const file = path.join(dir, 'source.json');
    await writeFile(file, '[1]');
    const outDir = path.join(dir, 'a', 'b');
    const result = await splitJsonRecords(file, outDir, { recordsPath: null });
    expect(await readdir(outDir)).toEqual(['chunk-00000.ndjson']);
    expect(result.records).toBe(1);
  });
});

describe('mapping a chunk line back to the source', () => {
  it('gives the record number, line and byte where the record starts in the source', async () => {
    const { result, lines } = await split(PRETTY, { chunkRecords: 1 });
    const chunk = result.chunks[1];
    if (chunk === undefined) throw new Error('expected two chunks');
    expect(await describeNdjsonRecord(chunk, 1)).toEqual({
      record: 2,
      line: lines[1]?.line,
      byte: lines[1]?.byte,
    });
  });

  it('finds any line of a chunk and any record of a split', async () => {
    const content = JSON.stringify({ marches: Array.from({ length: 50 }, (_, id) => ({ id })) }, null, 1);
    const { result, lines } = await split(content, { chunkRecords: 20 });
    const third = result.chunks[2];
    if (third === undefined) throw new Error('expected three chunks');
    expect(await describeNdjsonRecord(third, 7)).toEqual({
      record: 47,
      line: lines[46]?.line,
      byte: lines[46]?.byte,
    });
    expect(await locateJsonRecord(result.chunks, 33)).toEqual({
      record: 33,
      line: lines[32]?.line,
      byte: lines[32]?.byte,
    });
    await expect(describeNdjsonRecord(third, 11)).rejects.toThrow(RangeError);
    await expect(locateJsonRecord(result.chunks, 51)).rejects.toThrow(RangeError);
  });
});

describe('splitJsonRecords errors', () => {
  it('reports a file of zero bytes as empty', async () => {
    const error = await splitError('');
    expect(error.message).toBe('file is empty');
    expect(error.context).toMatchObject({ file: 'source.json', line: 1, byte: 0 });
  });

  it('reports a file holding only whitespace as empty', async () => {
    const error = await splitError('  \n\n ');
    expect(error.message).toBe('file is empty');
    expect(error.context).toMatchObject({ line: 3, byte: 5 });
  });

  it('names the file with displayName', async () => {
    const error = await splitError('', { displayName: 'decp-2024.json' });
    expect(error.context.file).toBe('decp-2024.json');
    expect(error.describe()).toContain('decp-2024.json (line 1, byte 0): file is empty');
  });

  it('says what the document starts with when it is not the expected object', async () => {
    const error = await splitError('\n  [{"a": 1}]');
    expect(error.message).toBe(
      `expected a JSON object holding a "marches" array, but the document starts with '['`,
    );
    expect(error.context).toMatchObject({ line: 2, byte: 3 });
    expect(error.hint).toContain('recordsPath to null');
  });

  it('says what the document starts with when recordsPath is null and it is not an array', async () => {
    const error = await splitError('{"marches": []}', { recordsPath: null });
    expect(error.message).toBe(`expected a JSON array of records, but the document starts with '{'`);
    expect(error.hint).toContain('set recordsPath');
  });

  it('lists the top-level keys found when the records key is missing', async () => {
    const keys = Array.from({ length: 12 }, (_, k) => `"k${k}": ${k}`).join(', ');
    const error = await splitError(`{"Marches": [], ${keys}}`);
    expect(error.message).toBe(
      'no "marches" array at the top level (keys found: "Marches", "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8" and 3 more)',
    );
    expect(error.hint).toContain('did you mean "Marches"');
  });

  it('rejects a records key whose value is not an array', async () => {
    const content = '{\n  "marches": {"id": 1}\n}';
    const error = await splitError(content);
    expect(error.message).toBe('"marches" at the top level holds an object, not an array');
    expect(error.context).toMatchObject(positionOf(content, '{"id"'));
  });

  it('names the record, line and byte where a file truncated mid-record ends', async () => {
    const content = PRETTY.slice(0, PRETTY.indexOf('"objet"'));
    const error = await splitError(content);
    expect(error.message).toBe('unexpected end of file inside record 2: the file looks truncated');
    expect(error.context).toMatchObject({ record: 2, line: 12, byte: Buffer.byteLength(content) });
    expect(error.hint).toContain('record 2 starts at line 10');
  });

  it('reports a file truncated inside a string', async () => {
    const content = PRETTY.slice(0, PRETTY.indexOf('et fils'));
    const error = await splitError(content, { readBufferBytes: 5 });
    expect(error.message).toBe(
      'unexpected end of file inside a string in record 1: the file looks truncated',
    );
    expect(error.context).toMatchObject({ record: 1, line: 8, byte: Buffer.byteLength(content) });
  });

  it('reports a file truncated between records', async () => {
    const error = await splitError('{"marches": [{"a": 1},\n');
    expect(error.message).toBe(
      'unexpected end of file inside the "marches" array, after record 1: the file looks truncated',
    );
    expect(error.context).toMatchObject({ line: 2, byte: 23 });
  });

  it("rejects a '}' that closes a '['", async () => {
    const content = '{"marches": [{"a": [1, 2}}]}';
    const error = await splitError(content);
    expect(error.message).toBe("'}' closes a '[' in record 1");
    expect(error.context).toMatchObject({ record: 1, byte: content.indexOf('}') });
  });

  it('reports a missing comma between records', async () => {
    const content = '{"marches": [\n {"a": 1}\n {"a": 2}\n]}';
    const error = await splitError(content);
    expect(error.message).toBe("expected ',' or ']' after record 1, found '{'");
    expect(error.context).toMatchObject({ record: 1, ...positionOf(content, '{"a": 2}') });
    expect(error.hint).toBe('a comma is probably missing between records 1 and 2');
  });

  it('rejects text after the end of the document', async () => {
    const content = '{"marches": [1]}\n\n{"marches": [2]}';
    const error = await splitError(content);
    expect(error.message).toBe("unexpected text after the end of the JSON document: '{'");
    expect(error.context).toMatchObject({ line: 3, byte: 18 });
  });

  it('reports a line break inside a string, where a quote is usually missing', async () => {
    const content = '{"marches": [{"a": "open,\n "b": 2}]}';
    const error = await splitError(content);
    expect(error.message).toBe('line break inside a string in record 1');
    expect(error.context).toMatchObject({ record: 1, line: 1, byte: content.indexOf('\n') });
  });

  it('rejects a records key that appears twice', async () => {
    const content = '{"marches": [1],\n "marches": [2]}';
    const error = await splitError(content);
    expect(error.message).toBe('"marches" appears twice at the top level');
    expect(error.context).toMatchObject({ line: 2, byte: content.lastIndexOf('"marches"') });
  });

  it('reports a file truncated inside another top-level value', async () => {
    const error = await splitError('{"meta": {"a": [1, 2');
    expect(error.message).toBe('unexpected end of file inside the value of "meta": the file looks truncated');
  });

  it('reports a trailing comma after the last record', async () => {
    const error = await splitError('{"marches": [1, 2,]}');
    expect(error.message).toBe("unexpected ']' after a ',' following record 2");
  });

  it('removes the chunks already written when the file turns out broken', async () => {
    const records = Array.from({ length: 10 }, (_, id) => JSON.stringify({ id })).join(',');
    await splitError(`{"marches": [${records}, {"id": `, { chunkRecords: 3, readBufferBytes: 16 });
    expect(await readdir(path.join(dir, 'out'))).toEqual([]);
  });
});
