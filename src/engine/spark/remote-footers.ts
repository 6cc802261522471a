/**
 * The footers of Parquet files in an object store, read without their data: DuckDB cannot reach S3 here (no
 * httpfs), so each footer is copied into a sparse local file of the object's size, zeros where the data is, which
 * DuckDB's parquet_metadata reads as it would read the object itself (it reads nothing but the footer).
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { mapConcurrently } from '../../core/concurrency.js';
import type { ByteRange, ObjectInfo, ObjectStore } from '../../storage/object-store.js';

/** A Parquet file ends with its footer, the footer's length (4 bytes, little-endian) and the magic "PAR1". */
const TAIL_BYTES = 8;
const MAGIC = 'PAR1';
/** Read at once from a file's end: most footers fit, a larger one takes a second read. */
const FIRST_READ_BYTES = 64 * 1024;
/** Files whose footers are read at once. */
const CONCURRENCY = 8;

/** Copies the footer of each object into `dir`; returns the local copies' paths, in the objects' order. */
export async function footerCopies(
  store: ObjectStore,
  objects: readonly Pick<ObjectInfo, 'key' | 'size'>[],
  dir: string,
): Promise<string[]> {
  return mapConcurrently(objects, CONCURRENCY, async (object, index) => {
    const footer = await footerOf(store, object);
    const copy = path.join(dir, `${index}.parquet-footer`);
    const file = await open(copy, 'w');
    try {
      await file.truncate(object.size);
      await file.write(footer, 0, footer.length, object.size - footer.length);
    } finally {
      await file.close();
    }
    return copy;
  });
}

/** The footer with its length and magic: the last bytes of the object. */
async function footerOf(store: ObjectStore, object: Pick<ObjectInfo, 'key' | 'size'>): Promise<Buffer> {
  const { key, size } = object;
  const tail = await readRange(store, key, { start: Math.max(0, size - FIRST_READ_BYTES), end: size - 1 });
  if (tail.length < TAIL_BYTES || tail.subarray(-MAGIC.length).toString('latin1') !== MAGIC) {
    throw new Error(`${store.location}/${key} is not a Parquet file: it does not end with ${MAGIC}`);
  }
  const length = tail.readUInt32LE(tail.length - TAIL_BYTES) + TAIL_BYTES;
  if (length > size) {
    throw new Error(`${store.location}/${key}: its footer length (${length} bytes) exceeds the file's size`);
  }
  if (length <= tail.length) return tail.subarray(tail.length - length);
  return readRange(store, key, { start: size - length, end: size - 1 });
}

async function readRange(store: ObjectStore, key: string, range: ByteRange): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getStream(key, range)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
