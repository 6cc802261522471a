/**
 * The behaviour every ObjectStore adapter must share, as a vitest suite any adapter's test file runs:
 * `describeObjectStoreConformance('local disk', { open })`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectExistsError, ObjectNotFoundError, type ObjectStore } from './object-store.js';

export interface ConformanceTarget {
  /** Opens a store over an empty root (fresh directory, fresh bucket); may throw to fail the suite. */
  open(): Promise<ObjectStore>;
  /** Releases what `open` made. */
  close?(store: ObjectStore): Promise<void>;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export async function sha256OfStream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

/** Writes `bytes` pseudo-random bytes to `file` chunk by chunk; returns their sha256. */
export async function writeRandomFile(file: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  for (let written = 0; written < bytes;) {
    const chunk = randomBytes(Math.min(1024 * 1024, bytes - written));
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
    written += chunk.length;
  }
  out.end();
  await finished(out);
  return hash.digest('hex');
}

/** Runs `work` over `items` in batches of `size`, each batch in parallel. */
export async function inBatches<T>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

export function describeObjectStoreConformance(name: string, target: ConformanceTarget): void {
  describe(`${name}: object-store conformance`, () => {
    let store: ObjectStore;
    let scratch: string;
    let counter = 0;
    // Each test writes under its own prefix, so tests never see each other's objects.
    const area = (): string => `case-${++counter}/`;
    const ready = (): ObjectStore => {
      if (!store) throw new Error(`${name}: the store did not open (see beforeAll)`);
      return store;
    };

    beforeAll(async () => {
      store = await target.open();
      scratch = await mkdtemp(path.join(tmpdir(), 'medallion-conformance-'));
    });

    afterAll(async () => {
      if (store) await target.close?.(store);
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('returns the bytes that were put, for Buffer and string bodies', async () => {
      const s = ready();
      const dir = area();
      await s.put(`${dir}a.bin`, Buffer.from([0, 1, 2, 255]));
      await s.put(`${dir}b.txt`, 'héllo, wörld');
      await s.put(`${dir}empty`, '');
      expect(await s.get(`${dir}a.bin`)).toEqual(Buffer.from([0, 1, 2, 255]));
      expect((await s.get(`${dir}b.txt`)).toString('utf8')).toBe('héllo, wörld');
      expect((await s.get(`${dir}empty`)).length).toBe(0);
      expect(await s.exists(`${dir}a.bin`)).toBe(true);
      expect(await s.exists(`${dir}missing`)).toBe(false);
      await s.put(`${dir}a.bin`, 'replaced');
      expect((await s.get(`${dir}a.bin`)).toString()).toBe('replaced');
    });

    it('fails a get of a missing key with an error naming the key and the store', async () => {
      const s = ready();
      const key = `${area()}no/such/object.json`;
      const error = await s.get(key).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ObjectNotFoundError);
      expect((error as Error).message).toContain(key);
      expect((error as Error).message).toContain(s.location);
      await expect(s.getStream(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
      await expect(s.localPath(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('streams an object whole and streams inclusive byte ranges of it', async () => {
      const s = ready();
      const key = `${area()}stream.bin`;
      const bytes = randomBytes(100_000);
      await s.put(key, bytes);
      expect((await readAll(await s.getStream(key))).equals(bytes)).toBe(true);
      expect(await readAll(await s.getStream(key, { start: 0, end: 0 }))).toEqual(bytes.subarray(0, 1));
      expect(await readAll(await s.getStream(key, { start: 1000, end: 1999 }))).toEqual(
        bytes.subarray(1000, 2000),
      );
      expect(await readAll(await s.getStream(key, { start: 99_990, end: 99_999 }))).toEqual(
        bytes.subarray(99_990),
      );
      await expect(s.getStream(key, { start: 5, end: 4 })).rejects.toThrow(/invalid byte range/);
    });

    it('lists more than 1,000 keys, sorted, and lists one level with a delimiter', async () => {
      const s = ready();
      const dir = area();
      const keys = Array.from({ length: 1100 }, (_, i) => `${dir}many/${String(i).padStart(5, '0')}.txt`);
      await inBatches(keys, 50, (key) => s.put(key, key));
      await s.put(`${dir}many-sibling.txt`, 'not under many/');

      const listed = await s.list(`${dir}many/`);
      expect(listed.map((item) => item.key)).toEqual(keys);
      expect(listed[0]?.size).toBe(keys[0]?.length);
      expect(listed[0]?.lastModified).toBeInstanceOf(Date);
      expect((await s.list(`${dir}many`)).length).toBe(1101);

      await s.put(`${dir}tree/top.txt`, '1');
      await s.put(`${dir}tree/sub-a/x.txt`, '2');
      await s.put(`${dir}tree/sub-a/deeper/y.txt`, '3');
      await s.put(`${dir}tree/sub-b/z.txt`, '4');
      const level = await s.listDelimited(`${dir}tree/`);
      expect(level.objects.map((item) => item.key)).toEqual([`${dir}tree/top.txt`]);
      expect(level.prefixes).toEqual([`${dir}tree/sub-a/`, `${dir}tree/sub-b/`]);
      const partial = await s.listDelimited(`${dir}tree/sub-`);
      expect(partial.objects).toEqual([]);
      expect(partial.prefixes).toEqual([`${dir}tree/sub-a/`, `${dir}tree/sub-b/`]);
      const root = await s.listDelimited(dir);
      expect(root.prefixes).toEqual([`${dir}many/`, `${dir}tree/`]);
      expect(root.objects.map((item) => item.key)).toEqual([`${dir}many-sibling.txt`]);
      expect(await s.list(`${dir}nothing-here/`)).toEqual([]);
      expect(await s.listDelimited(`${dir}nothing-here/`)).toEqual({ objects: [], prefixes: [] });
      // What a store can hold through its own port, it serves: listChecked refuses none of it.
      expect(await s.listChecked(`${dir}tree/`)).toEqual({
        objects: await s.list(`${dir}tree/`),
        refused: [],
      });
      expect(await s.listUnfinished(dir)).toEqual([]);
    });

    it('deletes a batch of more than 1,000 keys, ignoring keys that do not exist', async () => {
      const s = ready();
      const dir = area();
      const keys = Array.from({ length: 1050 }, (_, i) => `${dir}doomed/${i}`);
      await inBatches(keys, 50, (key) => s.put(key, 'x'));
      await s.put(`${dir}kept`, 'y');
      await s.delete([...keys, `${dir}never-existed`]);
      expect(await s.list(`${dir}doomed/`)).toEqual([]);
      expect((await s.listDelimited(dir)).prefixes).toEqual([]);
      expect((await s.list(dir)).map((item) => item.key)).toEqual([`${dir}kept`]);
      await s.delete([]);
    });

    it('copies an object to a new key and leaves the source in place', async () => {
      const s = ready();
      const dir = area();
      await s.put(`${dir}from/a b+c.txt`, 'copied bytes');
      await s.copy(`${dir}from/a b+c.txt`, `${dir}to/copy.txt`);
      expect((await s.get(`${dir}to/copy.txt`)).toString()).toBe('copied bytes');
      expect((await s.get(`${dir}from/a b+c.txt`)).toString()).toBe('copied bytes');
      await expect(s.copy(`${dir}from/missing`, `${dir}to/x`)).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('uploads a 20 MB file from disk whose bytes come back identical by sha256', async () => {
      const s = ready();
      const key = `${area()}big/file.bin`;
      const local = path.join(scratch, 'big.bin');
      const digest = await writeRandomFile(local, 20 * 1024 * 1024 + 12_345);
      await s.putFile(local, key);
      expect((await stat(local)).isFile()).toBe(true);
      expect(await sha256OfStream(await s.getStream(key))).toBe(digest);
      expect(await sha256OfStream(createReadStream(await s.localPath(key)))).toBe(digest);
      expect((await s.list(key))[0]?.size).toBe(20 * 1024 * 1024 + 12_345);
    });

    it('moves a file into the store when putFile is asked to move, dated when it was put (not when written)', async () => {
      const s = ready();
      const key = `${area()}moved.txt`;
      const local = path.join(scratch, 'to-move.txt');
      await writeRandomFile(local, 1000);
      const bytes = await readFile(local);
      // A file staged long before its commit: vacuum must not take it for an old leftover once it is put.
      const longAgo = new Date(Date.now() - 86_400_000);
      await utimes(local, longAgo, longAgo);
      const before = Date.now();
      await s.putFile(local, key, { move: true });
      await expect(stat(local)).rejects.toThrow();
      expect((await s.get(key)).equals(bytes)).toBe(true);
      // S3 dates objects to the second.
      expect((await s.list(key))[0]?.lastModified.getTime()).toBeGreaterThanOrEqual(before - 1000);
    });

    it('lets exactly one of two concurrent putIfAbsent writers win, the other gets ObjectExistsError', async () => {
      const s = ready();
      const dir = area();
      for (let round = 0; round < 10; round += 1) {
        const key = `${dir}_delta_log/${String(round).padStart(20, '0')}.json`;
        const bodies = [`writer A round ${round}`, `writer B round ${round}`];
        const results = await Promise.allSettled(bodies.map((body) => s.putIfAbsent(key, body)));
        const winners = results.filter((result) => result.status === 'fulfilled');
        const losers = results.filter((result) => result.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(1);
        expect((losers[0] as PromiseRejectedResult).reason).toBeInstanceOf(ObjectExistsError);
        const stored = (await s.get(key)).toString();
        expect(stored).toBe(bodies[results.indexOf(winners[0] as PromiseFulfilledResult<void>)]);
      }
      await expect(s.putIfAbsent(`${dir}_delta_log/${'0'.repeat(20)}.json`, 'late')).rejects.toBeInstanceOf(
        ObjectExistsError,
      );
    });

    it('gives a local file path and the SHA-256 of the object’s bytes, small or large, downloaded or cached', async () => {
      const s = ready();
      const dir = area();
      const local = path.join(scratch, 'hashed.bin');
      const digest = await writeRandomFile(local, 12 * 1024 * 1024 + 7);
      await s.putFile(local, `${dir}large.bin`);
      await s.put(`${dir}small.txt`, 'a;b\n');
      for (let round = 1; round <= 2; round += 1) {
        const large = await s.localPathAndSha256(`${dir}large.bin`);
        expect(large.sha256, `round ${round}`).toBe(digest);
        expect(await sha256OfStream(createReadStream(large.path))).toBe(digest);
        const small = await s.localPathAndSha256(`${dir}small.txt`);
        expect(small.sha256).toBe(createHash('sha256').update('a;b\n').digest('hex'));
        expect(await readFile(small.path, 'utf8')).toBe('a;b\n');
      }
      await expect(s.localPathAndSha256(`${dir}missing`)).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('copies from itself server-side with the SHA-256 of the bytes, or declines and writes nothing', async () => {
      const s = ready();
      const dir = area();
      const bytes = randomBytes(300_000);
      await s.put(`${dir}from.bin`, bytes);
      const copied = await s.copyFrom(s, `${dir}from.bin`, `${dir}to.bin`);
      if (copied === undefined) {
        expect(await s.exists(`${dir}to.bin`)).toBe(false);
        return;
      }
      expect(copied).toEqual({
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
      expect((await s.get(`${dir}to.bin`)).equals(bytes)).toBe(true);
      await expect(s.copyFrom(s, `${dir}missing`, `${dir}x`)).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    it('gives a local file path holding the object’s bytes', async () => {
      const s = ready();
      const key = `${area()}data/part-0001.csv`;
      await s.put(key, 'a;b\n1;2\n');
      const file = await s.localPath(key);
      expect(path.isAbsolute(file)).toBe(true);
      expect(file.endsWith('.csv')).toBe(true);
      expect(await readFile(file, 'utf8')).toBe('a;b\n1;2\n');
    });
  });
}
