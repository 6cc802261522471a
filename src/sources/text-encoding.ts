import { isUtf8 } from 'node:buffer';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { SourceFileError } from '../core/errors.js';

export interface Utf8CheckOptions {
  /** Name used for the file in error messages (default: the path's basename). */
  displayName?: string;
  /** @internal Read size; tests shrink it to split multi-byte characters across reads. */
  readBufferBytes?: number;
  /** Fed every byte of the file as it is read, so a checksum costs no second pass. */
  hash?: { update(data: Uint8Array): unknown };
}

const DEFAULT_READ_BUFFER_BYTES = 4 << 20;
/** The longest UTF-8 sequence, hence the most a read can end in the middle of. */
const MAX_SEQUENCE = 4;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const REENCODE_HINT = 're-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)';

/**
 * Checks that a whole file is valid UTF-8, reading it in large chunks validated natively.
 * Throws SourceFileError naming the first invalid byte, its offset and its line.
 */
export async function assertUtf8(
  file: string,
  options: Utf8CheckOptions = {},
): Promise<{ bytes: number; hasBom: boolean }> {
  const displayName = options.displayName ?? path.basename(file);
  const readBytes = options.readBufferBytes ?? DEFAULT_READ_BUFFER_BYTES;
  // Room before the read area for the unfinished sequence carried over from the previous read.
  const buffer = Buffer.allocUnsafe(MAX_SEQUENCE + readBytes);
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(UTF8_BOM.length);
    const { bytesRead: headBytes } = await handle.read(head, 0, head.length, 0);
    if (headBytes === 0) {
      throw new SourceFileError('file is empty', {
        context: { file: displayName, line: 1, byte: 0 },
        hint: 'the source produced an empty file; check the download or export',
      });
    }
    const hasBom = head.equals(UTF8_BOM);
    let position = 0;
    let carried = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, carried, readBytes, position);
      options.hash?.update(buffer.subarray(carried, carried + bytesRead));
      const end = carried + bytesRead;
      const chunkStart = position - carried;
      if (bytesRead === 0) {
        if (carried > 0) {
          await throwInvalid(
            handle,
            displayName,
            chunkStart,
            buffer[0]!,
            'the file ends in the middle of a multi-byte character',
          );
        }
        return { bytes: position, hasBom };
      }
      const complete = end - incompleteTail(buffer, end);
      if (!isUtf8(buffer.subarray(0, complete))) {
        const bad = firstInvalidByte(buffer, complete);
        await throwInvalid(handle, displayName, chunkStart + bad, buffer[bad]!);
      }
      carried = end - complete;
      buffer.copyWithin(0, complete, end);
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** How many bytes at the end of buffer[0, end) start a sequence that the next read may complete. */
function incompleteTail(buffer: Buffer, end: number): number {
  for (let back = 1; back <= Math.min(MAX_SEQUENCE - 1, end); back++) {
    const byte = buffer[end - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    return sequenceLength(byte) > back ? back : 0;
  }
  return 0;
}

/** Length announced by a lead byte; 0 for bytes that cannot start a sequence. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * Offset of the byte that starts the first ill-formed sequence in buffer[0, end), following
 * the Unicode well-formed byte sequence table (no overlongs, surrogates or code points past U+10FFFF),
 * as isUtf8 does. Only runs once isUtf8 has already said there is one.
 */
function firstInvalidByte(buffer: Buffer, end: number): number {
  let i = 0;
  while (i < end) {
    const lead = buffer[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    const length = sequenceLength(lead);
    if (length === 0 || i + length > end) return i;
    // The second byte's range depends on the lead byte; later ones are plain continuations.
    const second = buffer[i + 1]!;
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    if (second < low || second > high) return i;
    for (let k = 2; k < length; k++) if ((buffer[i + k]! & 0xc0) !== 0x80) return i;
    i += length;
  }
  return end;
}

async function throwInvalid(
  handle: FileHandle,
  displayName: string,
  offset: number,
  byte: number,
  detail?: string,
): Promise<never> {
  const line = await lineAt(handle, offset);
  throw new SourceFileError(
    `not valid UTF-8: ${describeHex(byte)} at offset ${offset}${detail ? ` (${detail})` : ''}`,
    {
      context: { file: displayName, line, byte: offset },
      hint: REENCODE_HINT,
    },
  );
}

function describeHex(byte: number): string {
  return `byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** 1-based line holding `offset`: only computed on failure, so the fast path never counts lines. */
async function lineAt(handle: FileHandle, offset: number): Promise<number> {
  const buffer = Buffer.allocUnsafe(1 << 20);
  let line = 1;
  let position = 0;
  while (position < offset) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, offset - position), position);
    if (bytesRead === 0) break;
    for (let i = buffer.indexOf(0x0a, 0); i !== -1 && i < bytesRead; i = buffer.indexOf(0x0a, i + 1)) line++;
    position += bytesRead;
  }
  return line;
}
