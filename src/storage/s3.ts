import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type BucketLocationConstraint,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { mapConcurrently } from '../core/concurrency.js';
import { ContentCache } from './content-cache.js';
import {
  assertByteRange,
  ObjectExistsError,
  ObjectNotFoundError,
  ObjectStoreError,
  type ByteRange,
  type DelimitedListing,
  type ObjectInfo,
  type ObjectStore,
} from './object-store.js';
import { parseS3Url, s3ConfigFromEnv, type S3ConnectionConfig } from './s3-config.js';
import {
  describeS3Failure,
  isNetworkFailure,
  isNoSuchBucket,
  isNotFound,
  isPreconditionFailed,
  s3ErrorFacts,
} from './s3-errors.js';

const MiB = 1024 * 1024;
/** S3 rejects multipart parts under 5 MiB (except the last). */
const MIN_PART_SIZE = 5 * MiB;
/** DeleteObjects takes at most 1,000 keys a request. */
const DELETE_BATCH = 1000;

export interface S3ObjectStoreOptions {
  bucket: string;
  /** Key prefix inside the bucket that this store treats as its root ('' by default). */
  prefix?: string;
  /** Custom endpoint (MinIO…); omitted for AWS S3. */
  endpoint?: string;
  region?: string;
  /** `bucket` in the path instead of the host name; needed by MinIO and most self-hosted servers. */
  forcePathStyle?: boolean;
  /** Omitted: the AWS SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Multipart upload part size and parallel download range size (default 8 MiB, at least 5 MiB). */
  partSizeBytes?: number;
  /** Parts uploaded / ranges downloaded at once per transfer (default 4). */
  queueSize?: number;
  /** Local directory for `localPath` downloads. */
  cacheDir: string;
  /** Cap on that directory's size; least recently used files go first. */
  cacheMaxBytes: number;
  /** Attempts per request, with exponential backoff and jitter on 5xx, throttling, timeouts, resets (default 5). */
  maxAttempts?: number;
  /** Time allowed to open a TCP connection (default 5 s). */
  connectionTimeoutMs?: number;
  /** A socket idle this long, waiting for an answer or in the middle of a body, fails the attempt (default 60 s). */
  idleTimeoutMs?: number;
}

/** The ObjectStore over one S3 bucket (AWS S3, MinIO, or any S3-compatible server). */
export class S3ObjectStore implements ObjectStore {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  /** The endpoint named in error messages. */
  readonly endpoint: string;
  private readonly client: S3Client;
  private readonly region: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly maxAttempts: number;
  private readonly cache: ContentCache;
  /** Set once the bucket is known to exist, so a 404 on HEAD can only mean a missing object. */
  private bucketSeen = false;

  /** A store for an `s3://bucket/prefix` URL, connection settings from the environment (see s3ConfigFromEnv). */
  static fromUrl(
    url: string,
    options: Omit<S3ObjectStoreOptions, 'bucket' | 'prefix' | keyof S3ConnectionConfig> & {
      env?: NodeJS.ProcessEnv;
      connection?: S3ConnectionConfig;
    },
  ): S3ObjectStore {
    const { env, connection, ...rest } = options;
    return new S3ObjectStore({ ...parseS3Url(url), ...(connection ?? s3ConfigFromEnv(env)), ...rest });
  }

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    const prefix = (options.prefix ?? '').replace(/^\/+/, '');
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.location = `s3://${this.bucket}${this.prefix ? `/${this.prefix.replace(/\/$/, '')}` : ''}`;
    this.region = options.region ?? 'us-east-1';
    this.endpoint = options.endpoint ?? `https://s3.${this.region}.amazonaws.com`;
    this.partSize = Math.max(MIN_PART_SIZE, Math.floor(options.partSizeBytes ?? 8 * MiB));
    this.queueSize = Math.max(1, Math.floor(options.queueSize ?? 4));
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 5));
    this.cache = ContentCache.at(options.cacheDir, options.cacheMaxBytes);
    this.client = new S3Client({
      region: this.region,
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // The SDK's default flexible checksums make some S3-compatible servers store aws-chunked framing.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Standard retry strategy: exponential backoff with full jitter on 5xx, throttling, timeouts, resets.
      maxAttempts: this.maxAttempts,
      requestHandler: {
        connectionTimeout: options.connectionTimeoutMs ?? 5_000,
        socketTimeout: options.idleTimeoutMs ?? 60_000,
      },
    });
  }

  /** Closes the HTTP connections; the store is unusable afterwards. */
  destroy(): void {
    this.client.destroy();
  }

  private fullKey(key: string): string {
    if (key.startsWith('/'))
      throw new RangeError(`object keys are relative and never start with '/': ${key}`);
    return this.prefix + key;
  }

  private storeKey(fullKey: string): string {
    return fullKey.slice(this.prefix.length);
  }

  /** Runs one SDK call, turning failures into clear errors (missing objects into ObjectNotFoundError). */
  private async call<T>(operation: string, key: string | undefined, run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.bucketSeen = true;
      return result;
    } catch (error) {
      throw await this.failure(error, operation, key);
    }
  }

  private async failure(error: unknown, operation: string, key: string | undefined): Promise<Error> {
    if (error instanceof ObjectStoreError || error instanceof ObjectNotFoundError) return error;
    if (key !== undefined && isNotFound(error)) {
      // HEAD answers a bare 404 for a missing bucket too: tell the two apart once.
      if (!this.bucketSeen) await this.verify();
      return new ObjectNotFoundError(key, this.location, { cause: error });
    }
    if (isNoSuchBucket(error)) this.bucketSeen = false;
    return describeS3Failure(error, {
      operation,
      endpoint: this.endpoint,
      bucket: this.bucket,
      ...(key !== undefined ? { key: this.fullKey(key) } : {}),
    });
  }

  /** Checks that the endpoint answers, the credentials work and the bucket exists; one clear error if not. */
  async verify(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      this.bucketSeen = true;
    } catch (error) {
      const { status } = s3ErrorFacts(error);
      const named = status === 404 ? Object.assign(error as object, { name: 'NoSuchBucket' }) : error;
      throw describeS3Failure(named, {
        operation: 'HeadBucket',
        endpoint: this.endpoint,
        bucket: this.bucket,
      });
    }
  }

  /** Creates the bucket when it does not exist yet. */
  async ensureBucket(): Promise<void> {
    try {
      await this.verify();
      return;
    } catch (error) {
      if (!(error instanceof ObjectStoreError) || !isNoSuchBucket(error.cause)) throw error;
    }
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          // us-east-1 is the default location and must not be named.
          ...(this.region !== 'us-east-1'
            ? { CreateBucketConfiguration: { LocationConstraint: this.region as BucketLocationConstraint } }
            : {}),
        }),
      );
    } catch (error) {
      const { name } = s3ErrorFacts(error);
      // Another process created it first: fine.
      if (name !== 'BucketAlreadyOwnedByYou') {
        throw describeS3Failure(error, {
          operation: 'CreateBucket',
          endpoint: this.endpoint,
          bucket: this.bucket,
        });
      }
    }
    this.bucketSeen = true;
  }

  async get(key: string): Promise<Buffer> {
    return this.call('GetObject', key, async () => {
      const output = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }),
      );
      return Buffer.from(await bodyOf(output).transformToByteArray());
    });
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    if (range) assertByteRange(range, key);
    return this.call('GetObject', key, async () => {
      const output = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return bodyOf(output);
    });
  }

  /** Size and ETag of one object. */
  async head(key: string): Promise<{ size: number; etag: string; lastModified: Date }> {
    return this.call('HeadObject', key, async () => {
      const output = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.fullKey(key) }),
      );
      return {
        size: output.ContentLength ?? 0,
        etag: output.ETag ?? '',
        lastModified: output.LastModified ?? new Date(0),
      };
    });
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.head(key);
      return true;
    } catch (error) {
      if (error instanceof ObjectNotFoundError) return false;
      throw error;
    }
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    await this.putBytes(key, typeof body === 'string' ? Buffer.from(body) : body);
  }

  /** PutObject; returns the new object's ETag. */
  private async putBytes(key: string, bytes: Buffer): Promise<string | undefined> {
    const output = await this.call('PutObject', key, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          Body: bytes,
          ContentLength: bytes.length,
        }),
      ),
    );
    return output.ETag;
  }

  private cacheFile(key: string, etag: string): string {
    return this.cache.fileFor(`${this.endpoint}|${this.bucket}/${this.fullKey(key)}`, etag, key);
  }

  async putIfAbsent(key: string, body: Buffer | string): Promise<void> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(key),
          Body: bytes,
          ContentLength: bytes.length,
          IfNoneMatch: '*',
        }),
      );
      this.bucketSeen = true;
    } catch (error) {
      if (!isPreconditionFailed(error)) throw await this.failure(error, 'PutObject (If-None-Match)', key);
      // A retried attempt can find the object its own lost first attempt wrote: that is a win, not a conflict.
      if ((s3ErrorFacts(error).attempts ?? 1) > 1 && (await this.holds(key, bytes))) return;
      throw new ObjectExistsError(key, this.location);
    }
  }

  private async holds(key: string, bytes: Buffer): Promise<boolean> {
    try {
      return (await this.get(key)).equals(bytes);
    } catch {
      return false;
    }
  }

  async putFile(localPath: string, key: string, options: { move?: boolean } = {}): Promise<void> {
    const { size } = await stat(localPath); // a missing local file is a local error, not an S3 one
    const etag =
      size <= this.partSize
        ? // One request, and a buffer the SDK can send again on a retry.
          await this.putBytes(key, await readFile(localPath))
        : await this.call('multipart upload', key, async () => {
            const upload = new Upload({
              client: this.client,
              params: { Bucket: this.bucket, Key: this.fullKey(key), Body: createReadStream(localPath) },
              // Memory stays at about queueSize × partSize, whatever the file's size.
              partSize: this.partSize,
              queueSize: this.queueSize,
              leavePartsOnError: false,
            });
            return (await upload.done()).ETag;
          });
    if (!options.move) return;
    // The file just written is what a reader will ask for next (a table version read by the next
    // task): keep it in the download cache rather than fetch it back.
    if (etag) {
      await this.cache
        .obtain(this.cacheFile(key, etag), size, (temp) => moveFile(localPath, temp))
        .catch(() => undefined);
    }
    await rm(localPath, { force: true });
  }

  /** Server-side copy (CopyObject; objects up to 5 GB). */
  async copy(fromKey: string, toKey: string): Promise<void> {
    const source = `${this.bucket}/${encodeKey(this.fullKey(fromKey))}`;
    try {
      await this.client.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: this.fullKey(toKey), CopySource: source }),
      );
    } catch (error) {
      throw await this.failure(error, 'CopyObject', fromKey);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const { objects } = await this.listPages(prefix, undefined);
    return objects;
  }

  async listDelimited(prefix: string): Promise<DelimitedListing> {
    return this.listPages(prefix, '/');
  }

  private async listPages(prefix: string, delimiter: string | undefined): Promise<DelimitedListing> {
    const objects: ObjectInfo[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.call('ListObjectsV2', prefix, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.fullKey(prefix),
            ...(delimiter ? { Delimiter: delimiter } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue;
        objects.push({
          key: this.storeKey(item.Key),
          size: item.Size ?? 0,
          lastModified: item.LastModified ?? new Date(0),
        });
      }
      for (const common of page.CommonPrefixes ?? []) {
        if (common.Prefix !== undefined) prefixes.push(this.storeKey(common.Prefix));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { objects, prefixes: prefixes.sort() };
  }

  async delete(keys: readonly string[]): Promise<void> {
    const batches: string[][] = [];
    for (let i = 0; i < keys.length; i += DELETE_BATCH) batches.push(keys.slice(i, i + DELETE_BATCH));
    await mapConcurrently(batches, this.queueSize, async (batch) => {
      const output = await this.call('DeleteObjects', batch[0], () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.fullKey(key) })), Quiet: true },
          }),
        ),
      );
      const failed = output.Errors ?? [];
      if (failed.length > 0) {
        const sample = failed
          .slice(0, 3)
          .map((item) => `${item.Key ?? '?'} (${item.Code ?? 'error'}: ${item.Message ?? ''})`)
          .join(', ');
        throw new ObjectStoreError(
          `DeleteObjects in ${this.location} at ${this.endpoint} failed for ${failed.length} of ${batch.length} keys: ${sample}`,
          {
            context: { file: this.location },
            hint: 'check the key’s permissions (s3:DeleteObject) and retry',
          },
        );
      }
    });
  }

  /**
   * A local copy of the object for DuckDB: cached by key and ETag, downloaded in parallel ranges when large.
   * The file may be evicted by later calls once the cache exceeds its cap; read it before fetching much more.
   */
  async localPath(key: string): Promise<string> {
    for (let attempt = 1; ; attempt += 1) {
      const { size, etag } = await this.head(key);
      const file = this.cacheFile(key, etag);
      try {
        return await this.cache.obtain(file, size, (temp) => this.download(key, etag, size, temp));
      } catch (error) {
        // The object was replaced between HEAD and GET (If-Match failed): start again with the new version.
        if (attempt < 3 && error instanceof ObjectStoreError && isPreconditionFailed(error.cause)) continue;
        throw error;
      }
    }
  }

  private async download(key: string, etag: string, size: number, temp: string): Promise<void> {
    if (size <= this.partSize) {
      await this.downloadRange(key, etag, undefined, temp, 'w');
      return;
    }
    // Pre-size the file so each range writes at its own offset.
    const handle = await open(temp, 'w');
    try {
      await handle.truncate(size);
    } finally {
      await handle.close();
    }
    const ranges: ByteRange[] = [];
    for (let start = 0; start < size; start += this.partSize) {
      ranges.push({ start, end: Math.min(size, start + this.partSize) - 1 });
    }
    await mapConcurrently(ranges, this.queueSize, (range) =>
      this.downloadRange(key, etag, range, temp, 'r+'),
    );
  }

  /** GETs one range (pinned to `etag`) into `file` at its offset; a body cut mid-stream is fetched again. */
  private async downloadRange(
    key: string,
    etag: string,
    range: ByteRange | undefined,
    file: string,
    flags: 'w' | 'r+',
  ): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const output = await this.call('GetObject', key, () =>
        this.client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: this.fullKey(key),
            IfMatch: etag,
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        ),
      );
      try {
        await pipeline(bodyOf(output), createWriteStream(file, { flags, start: range?.start ?? 0 }));
        return;
      } catch (error) {
        // The SDK retries requests, not bodies: retry a broken body here, with the same backoff idea.
        if (attempt >= this.maxAttempts || !isNetworkFailure(error)) {
          throw describeS3Failure(error, {
            operation: `GetObject${range ? ` (bytes ${range.start}-${range.end})` : ''}`,
            endpoint: this.endpoint,
            bucket: this.bucket,
            key: this.fullKey(key),
          });
        }
        await sleep(Math.random() * Math.min(20_000, 100 * 2 ** attempt));
      }
    }
  }
}

function bodyOf(output: GetObjectCommandOutput): Readable & { transformToByteArray(): Promise<Uint8Array> } {
  const body = output.Body;
  if (!(body instanceof Readable)) throw new Error('S3 GetObject returned no Node.js stream body');
  return body as Readable & { transformToByteArray(): Promise<Uint8Array> };
}

/** CopySource is a URL path: encode each segment, keep the slashes. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Moves a file, copying when the two paths are on different file systems. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
  }
}
