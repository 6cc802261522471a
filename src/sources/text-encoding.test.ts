import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SourceFileError } from '../core/errors.js';
import { assertUtf8, type Utf8CheckOptions } from './text-encoding.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'text-encoding-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function check(content: string | Buffer, options: Utf8CheckOptions = {}) {
  const file = path.join(dir, 'source.csv');
  await writeFile(file, content);
  return assertUtf8(file, options);
}

async function checkError(
  content: string | Buffer,
  options: Utf8CheckOptions = {},
): Promise<SourceFileError> {
  const error: unknown = await check(content, options).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SourceFileError);
  return error as SourceFileError;
}

describe('assertUtf8', () => {
  it('accepts valid UTF-8 and reports its size', async () => {
    const content = 'code;libellé\n01;Culture et production animale 日本 🍇\n';
    expect(await check(content)).toEqual({ bytes: Buffer.byteLength(content), hasBom: false });
  });

  it('reports a byte-order mark', async () => {
    expect(await check(Buffer.from('\ufeffa;b\n'))).toEqual({ bytes: 7, hasBom: true });
    expect(await check(Buffer.from('\ufeffa;b\n'), { readBufferBytes: 1 })).toEqual({
      bytes: 7,
      hasBom: true,
    });
    expect(await check('a;b\n')).toEqual({ bytes: 4, hasBom: false });
  });

  it('accepts multi-byte characters split across read boundaries', async () => {
    const content = 'é日🍇'.repeat(50);
    for (const readBufferBytes of [1, 2, 3, 5, 7]) {
      expect(await check(content, { readBufferBytes })).toEqual({
        bytes: Buffer.byteLength(content),
        hasBom: false,
      });
    }
  });

  it('names the latin1 byte, its offset and its line', async () => {
    const content = Buffer.concat([
      Buffer.from('code;nom\n01;ok\n02;caf'),
      Buffer.from([0xe9]),
      Buffer.from(' noir\n'),
    ]);
    const error = await checkError(content);
    expect(error.message).toBe('not valid UTF-8: byte 0xE9 at offset 21');
    expect(error.context).toEqual({ file: 'source.csv', line: 3, byte: 21 });
    expect(error.hint).toBe('re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)');
  });

  it('finds the invalid byte whatever the read size', async () => {
    const content = Buffer.concat([Buffer.from('é\n'.repeat(40)), Buffer.from([0x41, 0xc3, 0x28])]);
    for (const readBufferBytes of [1, 3, 4, 64]) {
      const error = await checkError(content, { readBufferBytes, displayName: 'naf.csv' });
      expect(error.message).toBe('not valid UTF-8: byte 0xC3 at offset 121');
      expect(error.context).toEqual({ file: 'naf.csv', line: 41, byte: 121 });
    }
  });

  it('rejects overlong encodings and surrogates as isUtf8 does', async () => {
    expect((await checkError(Buffer.from([0x61, 0xc0, 0xaf]))).context.byte).toBe(1);
    expect((await checkError(Buffer.from([0x61, 0x62, 0xed, 0xa0, 0x80]))).context.byte).toBe(2);
  });

  it('reports a file that ends in the middle of a multi-byte character', async () => {
    const error = await checkError(Buffer.from([0x61, 0x0a, 0xe6, 0x97]), { readBufferBytes: 2 });
    expect(error.message).toBe(
      'not valid UTF-8: byte 0xE6 at offset 2 (the file ends in the middle of a multi-byte character)',
    );
    expect(error.context).toMatchObject({ line: 2, byte: 2 });
  });

  it('reports a file of zero bytes as empty', async () => {
    const error = await checkError('');
    expect(error.message).toBe('file is empty');
    expect(error.context).toEqual({ file: 'source.csv', line: 1, byte: 0 });
  });
});
