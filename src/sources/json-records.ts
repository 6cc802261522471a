import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { JsonRecordScanner } from './json-record-scanner.js';
import { NdjsonChunkWriter, type NdjsonChunk } from './ndjson-chunk-writer.js';

export type { NdjsonChunk } from './ndjson-chunk-writer.js';

export interface JsonSplitOptions {
  /** Key of the top-level object that holds the record array; null when the document itself is the array. */
  recordsPath: string | null;
  /** Records per output chunk file (default 100_000). */
  chunkRecords?: number;
  /** Name used for the file in error messages (default: the path's basename). */
  displayName?: string;
  /** @internal Read buffer size; tests shrink it to push records across buffer boundaries. */
  readBufferBytes?: number;
}

export interface JsonSplitResult {
  chunks: NdjsonChunk[];
  records: number;
  bytes: number;
}

/** Where a record starts in the source file. */
export interface SourcePosition {
  record: number;
  line: number;
  byte: number;
}

const DEFAULT_CHUNK_RECORDS = 100_000;
const DEFAULT_READ_BUFFER_BYTES = 1 << 20;

/**
 * Splits the record array of a (possibly huge) JSON document into NDJSON chunk files
 * `outDir/chunk-00000.ndjson`, … without parsing it: DuckDB cannot load a 1 GB single document
 * within its memory limits, but reads NDJSON in parallel and streaming.
 *
 * Each line is `{"n":<record>,"line":<line>,"byte":<byte>,"r":<record's raw JSON>}`, so a parse
 * error reported on a chunk line can be traced back to the source (see describeNdjsonRecord).
 * Throws SourceFileError for empty, truncated or structurally broken documents; on failure the
 * chunks already written are removed.
 */
export async function splitJsonRecords(
  file: string,
  outDir: string,
  options: JsonSplitOptions,
): Promise<JsonSplitResult> {
  const chunkRecords = options.chunkRecords ?? DEFAULT_CHUNK_RECORDS;
  if (!Number.isInteger(chunkRecords) || chunkRecords < 1)
    throw new RangeError(`chunkRecords must be a positive integer, got ${chunkRecords}`);
  const bufferBytes = options.readBufferBytes ?? DEFAULT_READ_BUFFER_BYTES;

  await mkdir(outDir, { recursive: true });
  const writer = new NdjsonChunkWriter(outDir, chunkRecords, bufferBytes);
  const scanner = new JsonRecordScanner({
    recordsPath: options.recordsPath,
    displayName: options.displayName ?? path.basename(file),
    sink: writer,
  });

  const handle = await open(file, 'r');
  // Two read buffers and a background flush keep the disk busy while the scanner works: the next
  // read and the previous buffer's writes run on libuv's threads during each feed().
  const buffers = [Buffer.allocUnsafe(bufferBytes), Buffer.allocUnsafe(bufferBytes)] as const;
  let bytes = 0;
  let reading = handled(handle.read(buffers[0], 0, bufferBytes, 0));
  let flushing: Promise<void> = Promise.resolve();
  try {
    for (let turn = 1; ; turn++) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) break;
      reading = handled(handle.read(buffers[turn % 2]!, 0, bufferBytes, bytes + bytesRead));
      scanner.feed(buffer, bytesRead, bytes);
      bytes += bytesRead;
      await flushing;
      flushing = handled(writer.flush());
    }
    await flushing;
    scanner.finish(bytes);
    const chunks = await writer.finish();
    return { chunks, records: scanner.recordCount, bytes };
  } catch (error) {
    // Let in-flight I/O settle before closing the handles it uses.
    await Promise.allSettled([reading, flushing]);
    await writer.abort();
    throw error;
  } finally {
    await handle.close();
  }
}

/**
 * Marks an I/O promise as handled while it runs in the background: if it fails before the loop
 * gets to await it, Node would otherwise report an unhandled rejection and exit. Awaiting the
 * returned promise still throws the failure.
 */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

const CHUNK_LINE_PREFIX = /^\{"n":(\d+),"line":(\d+),"byte":(\d+),"r":/;
/** More than enough for the prefix the splitter writes. */
const PREFIX_BYTES = 96;

/**
 * Maps line `lineInChunk` (1-based) of a chunk file, as named in a DuckDB parse error, back to the
 * record's number and start position in the source file.
 */
export async function describeNdjsonRecord(chunk: NdjsonChunk, lineInChunk: number): Promise<SourcePosition> {
  if (!Number.isInteger(lineInChunk) || lineInChunk < 1 || lineInChunk > chunk.records) {
    throw new RangeError(
      `line ${lineInChunk} is outside ${path.basename(chunk.path)}, which holds ${chunk.records} records`,
    );
  }
  const handle = await open(chunk.path, 'r');
  try {
    const lineStart = await findLineStart(handle, lineInChunk);
    const head = Buffer.alloc(PREFIX_BYTES);
    const { bytesRead } = await handle.read(head, 0, PREFIX_BYTES, lineStart);
    const match = CHUNK_LINE_PREFIX.exec(head.toString('latin1', 0, bytesRead));
    if (match === null)
      throw new Error(`line ${lineInChunk} of ${chunk.path} was not written by splitJsonRecords`);
    return { record: Number(match[1]), line: Number(match[2]), byte: Number(match[3]) };
  } finally {
    await handle.close();
  }
}

/** Where record `record` (1-based) starts in the source, looked up through the split's chunks. */
export async function locateJsonRecord(
  chunks: readonly NdjsonChunk[],
  record: number,
): Promise<SourcePosition> {
  const chunk = chunks.find((c) => record >= c.firstRecord && record < c.firstRecord + c.records);
  if (chunk === undefined) throw new RangeError(`record ${record} is not in any chunk of this split`);
  return describeNdjsonRecord(chunk, record - chunk.firstRecord + 1);
}

async function findLineStart(handle: FileHandle, line: number): Promise<number> {
  if (line === 1) return 0;
  const buffer = Buffer.allocUnsafe(DEFAULT_READ_BUFFER_BYTES);
  let newlinesToSkip = line - 1;
  let position = 0;
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) throw new RangeError(`the chunk file has fewer than ${line} lines`);
    let i = buffer.indexOf(0x0a, 0);
    while (i !== -1 && i < bytesRead) {
      newlinesToSkip--;
      if (newlinesToSkip === 0) return position + i + 1;
      i = buffer.indexOf(0x0a, i + 1);
    }
    position += bytesRead;
  }
}
