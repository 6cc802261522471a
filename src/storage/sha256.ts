import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { ByteRange } from './object-store.js';

/** The SHA-256 of a file's bytes, hex. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The worker of BackgroundSha256: hashes each range it is sent, in order; answers 'digest' with the hex digest. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const hash = createHash('sha256');
const buffer = Buffer.allocUnsafe(1 << 20);
parentPort.on('message', (message) => {
  if (message === 'digest') return parentPort.postMessage(hash.digest('hex'));
  const fd = openSync(message.path, 'r');
  try {
    for (let position = message.start; position <= message.end; ) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, message.end - position + 1), position);
      if (read === 0) throw new Error('unexpected end of ' + message.path + ' at byte ' + position);
      hash.update(buffer.subarray(0, read));
      position += read;
    }
  } finally {
    closeSync(fd);
  }
});
`;

/**
 * SHA-256 of ranges of a file, hashed in the order they are added, on a worker thread: the hashing
 * runs beside the event loop (busy with a download) instead of after it. One use: add…, then digest
 * or close.
 */
export class BackgroundSha256 {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private failure: Error | undefined;

  constructor() {
    this.worker.on('error', (error) => {
      this.failure ??= error;
    });
  }

  /** Queues the inclusive `range` of the file at `path`, to be hashed after every range added before. */
  add(path: string, range: ByteRange): void {
    this.worker.postMessage({ path, start: range.start, end: range.end });
  }

  /** The SHA-256 (hex) of all ranges added, in order; ends the worker. */
  async digest(): Promise<string> {
    try {
      if (this.failure) throw this.failure;
      return await new Promise<string>((resolve, reject) => {
        this.worker.once('message', resolve);
        this.worker.once('error', reject);
        this.worker.once('exit', (code) =>
          reject(new Error(`the hashing worker stopped (exit code ${code})`)),
        );
        this.worker.postMessage('digest');
      });
    } finally {
      await this.close();
    }
  }

  /** Ends the worker (nothing more to hash). */
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
