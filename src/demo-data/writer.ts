/**
 * Batched, backpressure-aware file writing. Records are joined into ~1 MB chunks: one write per
 * record would drown in stream overhead, one write per file would hold the file in memory.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';

const CHUNK_CHARS = 1 << 20;

export class ChunkedWriter {
  private readonly stream: WriteStream;
  private parts: string[] = [];
  private size = 0;
  private failure: Error | undefined;

  constructor(path: string) {
    this.stream = createWriteStream(path);
    // Without a listener an open/write error would crash the process instead of rejecting.
    this.stream.on('error', (error) => {
      this.failure = error;
    });
  }

  /** Buffers text; true when a chunk is ready and the caller should `await flush()`. */
  add(text: string): boolean {
    this.parts.push(text);
    this.size += text.length;
    return this.size >= CHUNK_CHARS;
  }

  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.parts.length === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await once(this.stream, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await finished(this.stream);
  }

  /** Stops writing after a failure so the file handle is released. */
  destroy(): void {
    this.stream.destroy();
  }
}

/** Runs `body` with a writer and always releases the file, even when generation throws. */
export async function withWriter(path: string, body: (w: ChunkedWriter) => Promise<void>): Promise<void> {
  const writer = new ChunkedWriter(path);
  try {
    await body(writer);
    await writer.close();
  } catch (error) {
    writer.destroy();
    throw error;
  }
}
