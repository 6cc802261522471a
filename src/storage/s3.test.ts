import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteBucketCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../core/errors.js';
import { freshBucketName, testS3Server, type TestS3Server } from '../testing/minio.js';
import {
  describeObjectStoreConformance,
  sha256OfStream,
  writeRandomFile,
} from './object-store.conformance.js';
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
const cacheDirOf = new Map<S3ObjectStore, string>();

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
  cacheDirOf.set(store, cacheDir);
  return store;
}

/** A plain SDK client of the test server, for what the store does not expose. */
async function withClient<T>(work: (client: S3Client) => Promise<T>): Promise<T> {
  const s3 = requireServer();
  const client = new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    return await work(client);
  } finally {
    client.destroy();
  }
}

/** Empties and removes the test bucket, so repeated runs leave MinIO as they found it. */
async function dropBucket(store: S3ObjectStore): Promise<void> {
  const all = await store.list('');
  await store.delete(all.map((item) => item.key));
  await withClient((client) => client.send(new DeleteBucketCommand({ Bucket: store.bucket })));
}

/**
 * A tiny HTTP proxy in front of the test server that answers HTTP 500 instead of forwarding the
 * requests `fails` picks (it sees each request and how many it picked before). The Host header is
 * forwarded as sent, so signatures still match.
 */
async function failingProxy(
  fails: (request: IncomingMessage, failedSoFar: number) => boolean,
): Promise<{ endpoint: string; failed: () => number; close: () => Promise<void> }> {
  const target = new URL(requireServer().endpoint);
  let failed = 0;
  const proxy = createServer((request, response) => {
    if (fails(request, failed)) {
      failed += 1;
      request.resume();
      request.on('end', () => {
        const body = '<Error><Code>InternalError</Code><Message>injected by the test proxy</Message></Error>';
        response.writeHead(500, { 'content-type': 'application/xml', 'content-length': body.length });
        response.end(body);
      });
      return;
    }
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    failed: () => failed,
    close: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

const isUploadPart = (request: IncomingMessage): boolean =>
  request.method === 'PUT' && /[?&]partNumber=/.test(request.url ?? '');

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

  it('uploads a large file as a multipart upload of its ranges that comes back byte for byte', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'medallion-s3-'));
    scratchDirs.push(dir);
    const local = path.join(dir, 'twelve.bin');
    const digest = await writeRandomFile(local, 12 * MiB + 5);
    await store.putFile(local, 'multipart/twelve.bin');
    const { size, etag } = await store.head('multipart/twelve.bin');
    expect(size).toBe(12 * MiB + 5);
    // A multipart object's ETag ends in -<number of parts>: 5 + 5 + 2 MiB.
    expect(etag).toMatch(/-3"?$/);
    expect(await sha256OfStream(await store.getStream('multipart/twelve.bin'))).toBe(digest);
  });

  it('sends a part again when its upload fails once, and the object comes back byte for byte', async () => {
    const proxy = await failingProxy((request, failedSoFar) => isUploadPart(request) && failedSoFar === 0);
    try {
      const proxied = await openStore({ bucket: store.bucket, endpoint: proxy.endpoint, maxAttempts: 3 });
      const dir = await mkdtemp(path.join(tmpdir(), 'medallion-s3-'));
      scratchDirs.push(dir);
      const local = path.join(dir, 'retried.bin');
      const digest = await writeRandomFile(local, 11 * MiB);
      await proxied.putFile(local, 'multipart/retried.bin');
      expect(proxy.failed()).toBe(1);
      expect(await sha256OfStream(await store.getStream('multipart/retried.bin'))).toBe(digest);
    } finally {
      await proxy.close();
    }
  });

  it('aborts the multipart upload when a part keeps failing, naming the part and the attempts', async () => {
    const proxy = await failingProxy(
      (request) => isUploadPart(request) && /[?&]partNumber=2(&|$)/.test(request.url ?? ''),
    );
    try {
      const proxied = await openStore({ bucket: store.bucket, endpoint: proxy.endpoint, maxAttempts: 2 });
      const dir = await mkdtemp(path.join(tmpdir(), 'medallion-s3-'));
      scratchDirs.push(dir);
      const local = path.join(dir, 'doomed.bin');
      await writeRandomFile(local, 11 * MiB);
      const error = await failureOf(proxied.putFile(local, 'multipart/doomed.bin'));
      expect(error).toBeInstanceOf(ObjectStoreError);
      expect(error.message).toContain('UploadPart (part 2, bytes 5242880-10485759)');
      expect(error.message).toContain('after 2 attempts');
      expect(proxy.failed()).toBe(2);
      expect(await store.exists('multipart/doomed.bin')).toBe(false);
      const uploads = await withClient((client) =>
        client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket, Prefix: 'multipart/doomed' })),
      );
      expect(uploads.Uploads ?? []).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('copies a large object from a bucket of the same server without downloading it, with its SHA-256', async () => {
    const other = await openStore({ bucket: freshBucketName('copy-src') });
    await other.ensureBucket();
    try {
      const dir = await mkdtemp(path.join(tmpdir(), 'medallion-s3-'));
      scratchDirs.push(dir);
      const local = path.join(dir, 'source.bin');
      const digest = await writeRandomFile(local, 13 * MiB);
      await other.putFile(local, 'in/source file.bin');
      const landing = await openStore({ bucket: store.bucket });
      const copied = await landing.copyFrom(other, 'in/source file.bin', 'copied/source.bin');
      expect(copied).toEqual({ bytes: 13 * MiB, sha256: digest });
      expect(await sha256OfStream(await store.getStream('copied/source.bin'))).toBe(digest);
      // Nothing went through this process's download caches.
      for (const end of [other, landing]) {
        expect(await readdir(cacheDirOf.get(end) as string).catch(() => [])).toEqual([]);
      }
    } finally {
      await dropBucket(other);
    }
  });

  it('copies an object larger than maxCopyObjectBytes in parts, hashing a read of the source meanwhile', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'medallion-s3-'));
    scratchDirs.push(dir);
    const local = path.join(dir, 'parts.bin');
    const digest = await writeRandomFile(local, 12 * MiB + 1);
    await store.putFile(local, 'copy-parts/from.bin');
    const small = await openStore({ bucket: store.bucket, maxCopyObjectBytes: 5 * MiB });
    const copied = await small.copyFrom(store, 'copy-parts/from.bin', 'copy-parts/to.bin');
    expect(copied).toEqual({ bytes: 12 * MiB + 1, sha256: digest });
    expect(await sha256OfStream(await store.getStream('copy-parts/to.bin'))).toBe(digest);
    expect((await store.head('copy-parts/to.bin')).etag).toMatch(/-\d+"?$/);
  });

  it('declines to copy from a store on another endpoint or signed with other credentials', async () => {
    const s3 = requireServer();
    await store.put('decline/a.txt', 'a');
    const proxy = await failingProxy(() => false);
    try {
      const elsewhere = await openStore({ bucket: store.bucket, endpoint: proxy.endpoint });
      const otherKeys = await openStore({
        bucket: store.bucket,
        credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: `${s3.secretAccessKey}-other` },
      });
      expect(await store.copyFrom(elsewhere, 'decline/a.txt', 'decline/b.txt')).toBeUndefined();
      expect(await store.copyFrom(otherKeys, 'decline/a.txt', 'decline/b.txt')).toBeUndefined();
      expect(await store.exists('decline/b.txt')).toBe(false);
    } finally {
      await proxy.close();
    }
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
