import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../core/errors.js';
import { freshBucketName, testS3Server, type TestS3Server } from '../testing/minio.js';
import { describeObjectStoreConformance, writeRandomFile } from './object-store.conformance.js';
import { ObjectStoreError, type ObjectStore } from './object-store.js';
import { S3ObjectStore, type S3ObjectStoreOptions } from './s3.js';

const MiB = 1024 * 1024;
const server = testS3Server();
const inCi = process.env.CI === 'true';
const available = !('reason' in server);
if (!available && !inCi) console.warn(`S3 suites skipped: ${server.reason}`);
// Under CI a missing server fails the suites (in beforeAll) instead of skipping them.
const describeS3 = available || inCi ? describe : describe.skip;

function requireServer(): TestS3Server {
  if ('reason' in server) throw new Error(`CI=true but ${server.reason}`);
  return server;
}

const scratchDirs: string[] = [];
const stores: S3ObjectStore[] = [];

async function openStore(overrides: Partial<S3ObjectStoreOptions> = {}): Promise<S3ObjectStore> {
  const s3 = requireServer();
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'medallion-s3-cache-'));
  scratchDirs.push(cacheDir);
  const store = new S3ObjectStore({
    bucket: freshBucketName(),
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    partSizeBytes: 5 * MiB,
    queueSize: 4,
    cacheDir,
    cacheMaxBytes: 512 * MiB,
    ...overrides,
  });
  stores.push(store);
  return store;
}

/** Empties and removes the test bucket, so repeated runs leave MinIO as they found it. */
async function dropBucket(store: S3ObjectStore): Promise<void> {
  const s3 = requireServer();
  const all = await store.list('');
  await store.delete(all.map((item) => item.key));
  const client = new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    await client.send(new DeleteBucketCommand({ Bucket: store.bucket }));
  } finally {
    client.destroy();
  }
}

afterAll(async () => {
  for (const store of stores) store.destroy();
  await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function failureOf(work: Promise<unknown>): Promise<Error> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error('expected the call to fail');
  return error;
}

describeS3('S3 on MinIO', () => {
  describeObjectStoreConformance('S3ObjectStore', {
    open: async () => {
      const store = await openStore();
      await store.ensureBucket();
      return store;
    },
    close: (store: ObjectStore) => dropBucket(store as S3ObjectStore),
  });
});

describeS3('S3ObjectStore on MinIO', () => {
  let store: S3ObjectStore;

  beforeAll(async () => {
    store = await openStore();
    await store.ensureBucket();
    await store.ensureBucket(); // idempotent
  });

  afterAll(async () => {
    if (store) await dropBucket(store);
  });

  it('uploads a large file as a multipart upload with the configured part size', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'medallion-s3-'));
    scratchDirs.push(dir);
    const local = path.join(dir, 'twelve.bin');
    await writeRandomFile(local, 12 * MiB);
    await store.putFile(local, 'multipart/twelve.bin');
    const { size, etag } = await store.head('multipart/twelve.bin');
    expect(size).toBe(12 * MiB);
    // A multipart object's ETag ends in -<number of parts>: 5 + 5 + 2 MiB.
    expect(etag).toMatch(/-3"?$/);
  });

  it('keeps its objects under the configured key prefix', async () => {
    const prefixed = await openStore({ bucket: store.bucket, prefix: 'lake/bronze' });
    expect(prefixed.location).toBe(`s3://${store.bucket}/lake/bronze`);
    await prefixed.put('t/a.txt', 'under the prefix');
    expect((await store.get('lake/bronze/t/a.txt')).toString()).toBe('under the prefix');
    expect((await prefixed.list('t/')).map((item) => item.key)).toEqual(['t/a.txt']);
    expect((await prefixed.listDelimited('')).prefixes).toEqual(['t/']);
  });

  it('reuses the cached local file while the object is unchanged and fetches a new one when it changes', async () => {
    await store.put('cache/reuse.json', '{"v":1}');
    const first = await store.localPath('cache/reuse.json');
    const firstInode = (await stat(first)).ino;
    const again = await store.localPath('cache/reuse.json');
    expect(again).toBe(first);
    expect((await stat(again)).ino).toBe(firstInode);

    await store.put('cache/reuse.json', '{"v":2}');
    const changed = await store.localPath('cache/reuse.json');
    expect(changed).not.toBe(first);
    expect(await readFile(changed, 'utf8')).toBe('{"v":2}');
  });

  it('keeps a file it moved to S3 in the download cache, so reading it back needs no download', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'medallion-s3-'));
    scratchDirs.push(dir);
    for (const [name, size] of [
      ['small.bin', 1024],
      ['large.bin', 12 * MiB],
    ] as const) {
      const local = path.join(dir, name);
      await writeRandomFile(local, size);
      const inode = (await stat(local)).ino;
      await store.putFile(local, `moved/${name}`, { move: true });
      await expect(stat(local)).rejects.toThrow();
      // The cache holds the moved file itself (a rename keeps its inode): nothing was downloaded.
      expect((await stat(await store.localPath(`moved/${name}`))).ino).toBe(inode);
    }
  });

  it('downloads a large object in parallel ranges into one correct local file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'medallion-s3-'));
    scratchDirs.push(dir);
    const local = path.join(dir, 'ranges.bin');
    const digest = await writeRandomFile(local, 17 * MiB + 3);
    await store.putFile(local, 'ranges/ranges.bin');
    const cached = await store.localPath('ranges/ranges.bin');
    expect(
      createHash('sha256')
        .update(await readFile(cached))
        .digest('hex'),
    ).toBe(digest);
  });

  it('evicts the least recently used cache files once the cache exceeds its cap, never the one it returns', async () => {
    const small = await openStore({ bucket: store.bucket, cacheMaxBytes: 250_000 });
    const body = (fill: string): Buffer => Buffer.alloc(100_000, fill);
    await Promise.all(['a', 'b', 'c', 'd'].map((name) => small.put(`lru/${name}.bin`, body(name))));

    const a = await small.localPath('lru/a.bin');
    const b = await small.localPath('lru/b.bin');
    await small.localPath('lru/a.bin'); // a is now more recent than b
    const c = await small.localPath('lru/c.bin'); // 300 kB > 250 kB: b goes
    const exists = async (file: string): Promise<boolean> =>
      stat(file).then(
        () => true,
        () => false,
      );
    expect(await exists(a)).toBe(true);
    expect(await exists(b)).toBe(false);
    expect(await exists(c)).toBe(true);
    expect((await readFile(c)).equals(body('c'))).toBe(true);

    // A file larger than the whole cap is still returned (and everything else is evicted).
    await small.put('lru/huge.bin', Buffer.alloc(300_000, 'h'));
    const huge = await small.localPath('lru/huge.bin');
    expect((await stat(huge)).size).toBe(300_000);
    const left = (await readdir(path.dirname(huge))).filter((name) => !name.startsWith('.tmp-'));
    expect(left).toEqual([path.basename(huge)]);
  });

  it('names the endpoint and bucket and blames the credentials when they are wrong', async () => {
    const s3 = requireServer();
    const wrong = await openStore({
      bucket: store.bucket,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: `${s3.secretAccessKey}-wrong` },
    });
    for (const attempt of [
      () => wrong.get('any.json'),
      () => wrong.put('any.json', 'x'),
      () => wrong.list(''),
      () => wrong.verify(),
    ]) {
      const error = await failureOf(attempt());
      expect(error).toBeInstanceOf(ObjectStoreError);
      expect(error.message).toContain(s3.endpoint);
      expect(error.message).toContain(store.bucket);
      expect(describeError(error)).toMatch(/credentials|access denied/i);
      expect(describeError(error)).toContain('MEDALLION_S3_SECRET_KEY');
    }
    const error = await failureOf(wrong.get('any.json'));
    expect(error.message).toContain(`s3://${store.bucket}/any.json`);
    expect(error.message).toMatch(/rejected the credentials \((SignatureDoesNotMatch|InvalidAccessKeyId)\)/);
  });

  it('says that the bucket does not exist, naming it and the endpoint', async () => {
    const s3 = requireServer();
    const missing = await openStore({ bucket: freshBucketName('missing') });
    for (const attempt of [
      () => missing.get('a.json'),
      () => missing.put('a.json', 'x'),
      () => missing.list(''),
      () => missing.exists('a.json'),
      () => missing.localPath('a.json'),
      () => missing.verify(),
    ]) {
      const error = await failureOf(attempt());
      expect(error).toBeInstanceOf(ObjectStoreError);
      expect(error.message).toContain(`the bucket "${missing.bucket}" does not exist`);
      expect(error.message).toContain(s3.endpoint);
    }
    await missing.ensureBucket();
    expect(await missing.exists('a.json')).toBe(false);
    await dropBucket(missing);
  });
});

describe('S3ObjectStore faults without a server', () => {
  it('says it cannot reach an unreachable endpoint, naming the endpoint, bucket and object', async () => {
    const cacheDir = await mkdtemp(path.join(tmpdir(), 'medallion-s3-cache-'));
    scratchDirs.push(cacheDir);
    const store = new S3ObjectStore({
      bucket: 'lake',
      endpoint: 'http://127.0.0.1:1',
      credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
      maxAttempts: 2,
      cacheDir,
      cacheMaxBytes: MiB,
    });
    stores.push(store);
    const error = await failureOf(store.get('landing/file.csv'));
    expect(error).toBeInstanceOf(ObjectStoreError);
    expect(error.message).toBe(
      'GetObject s3://lake/landing/file.csv at http://127.0.0.1:1 failed: cannot reach the S3 endpoint (ECONNREFUSED after 2 attempts)',
    );
    expect(describeError(error)).toContain('MEDALLION_S3_ENDPOINT');
    const verify = await failureOf(store.verify());
    expect(verify.message).toContain('http://127.0.0.1:1');
    expect(verify.message).toContain('s3://lake/');
  });
});
