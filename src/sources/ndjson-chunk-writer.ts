import { open, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { RecordSink } from './json-record-scanner.js';

/** One NDJSON file of the split: records firstRecord … firstRecord + records - 1, one per line. */
export interface NdjsonChunk {
  path: string;
  firstRecord: number;
  records: number;
}

type PendingWrite = { kind: 'open'; chunk: NdjsonChunk } | { kind: 'data'; buffer: Buffer; length: number };

/**
 * Writes each record as `{"n":…,"line":…,"byte":…,"r":<record>}` on its own line, rolling over to
 * a new chunk file every `chunkRecords` records.
 *
 * The scanner calls the sink synchronously in the middle of a buffer, so writes cannot be awaited
 * there: bytes are copied into staging buffers and queued, and the caller awaits flush() between
 * reads. That bounds memory to about one read buffer's worth of output, whatever the record sizes.
 */
export class NdjsonChunkWriter implements RecordSink {
  readonly chunks: NdjsonChunk[] = [];
  private readonly pending: PendingWrite[] = [];
  private readonly spare: Buffer[] = [];
  private readonly stagingBytes: number;
  private staging: Buffer;
  private used = 0;
  private current: NdjsonChunk | undefined;
  private handle: FileHandle | undefined;

  constructor(
    private readonly outDir: string,
    private readonly chunkRecords: number,
    stagingBytes = 1 << 20,
  ) {
    // Large enough for any record prefix, so writeAscii never has to split one.
    this.stagingBytes = Math.max(stagingBytes, 256);
    this.staging = Buffer.allocUnsafe(this.stagingBytes);
  }

  startRecord(record: number, line: number, byte: number): void {
    let chunk = this.current;
    if (chunk === undefined || chunk.records === this.chunkRecords) {
      this.queueStaging();
      const name = `chunk-${String(this.chunks.length).padStart(5, '0')}.ndjson`;
      chunk = { path: path.join(this.outDir, name), firstRecord: record, records: 0 };
      this.chunks.push(chunk);
      this.pending.push({ kind: 'open', chunk });
      this.current = chunk;
    }
    chunk.records++;
    this.writeAscii(`{"n":${record},"line":${line},"byte":${byte},"r":`);
  }

  recordBytes(buffer: Buffer, start: number, end: number): void {
    while (start < end) {
      if (this.used === this.staging.length) this.queueStaging();
      const copied = buffer.copy(this.staging, this.used, start, end);
      this.used += copied;
      start += copied;
    }
  }

  endRecord(): void {
    this.writeAscii('}\n');
  }

  /** Writes everything queued so far. */
  async flush(): Promise<void> {
    for (const write of this.pending.splice(0)) {
      if (write.kind === 'open') {
        await this.handle?.close();
        this.handle = undefined;
        this.handle = await open(write.chunk.path, 'w');
      } else {
        await writeFully(this.handleOrThrow(), write.buffer, write.length);
        this.spare.push(write.buffer);
      }
    }
  }

  async finish(): Promise<NdjsonChunk[]> {
    this.queueStaging();
    await this.flush();
    await this.handle?.close();
    this.handle = undefined;
    return this.chunks;
  }

  /** Removes the chunks written so far, so a failed split never leaves a partial set to be loaded. */
  async abort(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await Promise.all(this.chunks.map((chunk) => rm(chunk.path, { force: true })));
  }

  private writeAscii(text: string): void {
    if (this.staging.length - this.used < text.length) this.queueStaging();
    // A plain loop: Buffer#write's native call costs more than these few dozen bytes.
    const staging = this.staging;
    let used = this.used;
    for (let k = 0; k < text.length; k++) staging[used++] = text.charCodeAt(k);
    this.used = used;
  }

  private queueStaging(): void {
    if (this.used === 0) return;
    this.pending.push({ kind: 'data', buffer: this.staging, length: this.used });
    this.staging = this.spare.pop() ?? Buffer.allocUnsafe(this.stagingBytes);
    this.used = 0;
  }

  private handleOrThrow(): FileHandle {
    if (this.handle === undefined)
      throw new Error('NdjsonChunkWriter: data queued before any chunk was opened');
    return this.handle;
  }
}

async function writeFully(handle: FileHandle, buffer: Buffer, length: number): Promise<void> {
  let offset = 0;
  while (offset < length) {
    const { bytesWritten } = await handle.write(buffer, offset, length - offset);
    offset += bytesWritten;
  }
}
