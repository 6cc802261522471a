import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type BucketLocationConstraint,
  type CompletedPart,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { mapConcurrently } from '../core/concurrency.js';
import { ContentCache } from './content-cache.js';
import {
  assertByteRange,
  ObjectExistsError,
  ObjectNotFoundError,
  ObjectStoreError,
  type ByteRange,
  type CheckedListing,
  type CopiedObject,
  type DelimitedListing,
  type ObjectInfo,
  type ObjectStore,
} from './object-store.js';
import { parseS3Url, s3ConfigFromEnv, type S3ConnectionConfig } from './s3-config.js';
import {
  backoffMs,
  describeS3Failure,
  isNetworkFailure,
  isNoSuchBucket,
  isNotFound,
  isPreconditionFailed,
  isTransient,
  s3ErrorFacts,
} from './s3-errors.js';
import { BackgroundSha256, sha256File } from './sha256.js';

// The SDK warns on every process under Node 20 that its releases after January 2027 will need Node 22: the
// version medallion's lock file pins supports Node 20, so the warning would only add noise to every command's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const MiB = 1024 * 1024;
/** S3 rejects multipart parts under 5 MiB (except the last). */
const MIN_PART_SIZE = 5 * MiB;
/** A multipart upload has at most 10,000 parts. */
const MAX_PARTS = 10_000;
/** CopyObject copies at most 5 GiB; larger objects are copied in parts (UploadPartCopy). */
const MAX_COPY_OBJECT_BYTES = 5 * 1024 * MiB;
/** Parts of a server-side copy: the bytes never leave the server, and fewer parts cost it less. */
const MIN_COPY_PART_SIZE = 64 * MiB;
/** DeleteObjects takes at most 1,000 keys a request. */
const DELETE_BATCH = 1000;
/** Server-side copies of an object replaced mid-copy start again this many times. */
const VERSION_ATTEMPTS = 3;

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
  /** Parts uploaded / ranges downloaded / parts copied at once per transfer (default 4). */
  queueSize?: number;
  /** Largest object copied with one CopyObject (default and S3's limit: 5 GiB); larger ones are copied in parts. */
  maxCopyObjectBytes?: number;
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
  /**
   * How this store reaches S3, secrets included: for an engine whose own workers must reach the same objects
   * (Spark's s3a). Never to be logged.
   */
  readonly connection: S3ConnectionConfig;
  private readonly client: S3Client;
  private readonly region: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly maxCopyObjectBytes: number;
  private readonly maxAttempts: number;
  /** Who the requests are signed as (a digest of the credentials): stores of one server and principal can copy between them. */
  private readonly principal: string;
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
    const { bucket, prefix } = parseS3Url(url);
    return new S3ObjectStore({ bucket, prefix, ...(connection ?? s3ConfigFromEnv(env)), ...rest });
  }

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    const prefix = (options.prefix ?? '').replace(/^\/+/, '');
    this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.location = `s3://${this.bucket}${this.prefix ? `/${this.prefix.replace(/\/$/, '')}` : ''}`;
    this.region = options.region ?? 'us-east-1';
    this.endpoint = options.endpoint ?? `https://s3.${this.region}.amazonaws.com`;
    this.connection = {
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      region: this.region,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      ...(options.credentials && { credentials: options.credentials }),
    };
    this.partSize = Math.max(MIN_PART_SIZE, Math.floor(options.partSizeBytes ?? 8 * MiB));
    this.queueSize = Math.max(1, Math.floor(options.queueSize ?? 4));
    this.maxCopyObjectBytes = Math.max(1, Math.floor(options.maxCopyObjectBytes ?? MAX_COPY_OBJECT_BYTES));
    const { accessKeyId = '', secretAccessKey = '', sessionToken = '' } = options.credentials ?? {};
    this.principal = options.credentials
      ? createHash('sha256').update(`${accessKeyId}\0${secretAccessKey}\0${sessionToken}`).digest('hex')
      : 'the default credential chain';
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 5));
    this.cache = ContentCache.at(options.cacheDir, options.cacheMaxBytes);
    this.client = new S3Client({
      region: this.region,
      ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
      forcePathStyle: this.connection.forcePathStyle,
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
      // Silent like the default logger, except that the default prints a console warning whenever a
      // request with a streamed body fails; uploadPart sends such a part again itself.
      logger: SILENT_LOGGER,
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
        : await this.uploadFile(localPath, key, size);
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

  /**
   * A multipart upload whose parts are read straight from ranges of the file, `queueSize` at once:
   * memory stays small whatever the part size. Returns the object's ETag.
   */
  private async uploadFile(localPath: string, key: string, size: number): Promise<string | undefined> {
    const partSize = Math.max(this.partSize, Math.ceil(size / MAX_PARTS));
    return this.multipart(key, byteRanges(size, partSize), (part) => this.uploadPart(localPath, key, part));
  }

  /**
   * Creates a multipart upload of `key`, sends its parts with `sendPart` (`queueSize` at once) and
   * completes it; aborts it (the server frees the parts) when any part fails. Returns the ETag.
   */
  private async multipart(
    key: string,
    ranges: ByteRange[],
    sendPart: (part: PartJob) => Promise<string | undefined>,
  ): Promise<string | undefined> {
    const Key = this.fullKey(key);
    const created = await this.call('CreateMultipartUpload', key, () =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key })),
    );
    const uploadId = created.UploadId;
    if (!uploadId)
      throw new ObjectStoreError(`CreateMultipartUpload ${this.location}/${key} returned no upload id`);
    // One failed part stops the others: no new part starts, those in flight are cancelled.
    const stop = new AbortController();
    try {
      const parts = await mapConcurrently(ranges, this.queueSize, async (range, index) => {
        stop.signal.throwIfAborted();
        const part = { uploadId, number: index + 1, range, signal: stop.signal };
        const etag = await sendPart(part).catch((error: unknown) => {
          stop.abort(error);
          throw error;
        });
        return { PartNumber: part.number, ETag: etag } satisfies CompletedPart;
      });
      const done = await this.call('CompleteMultipartUpload', key, () =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
          }),
        ),
      );
      return done.ETag;
    } catch (error) {
      stop.abort(error);
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: uploadId }))
        .catch(() => undefined);
      throw error;
    }
  }

  /**
   * UploadPart with the body streamed from the file's range. The SDK cannot send a stream twice, so
   * a failed attempt is retried here, re-reading the range, with backoff and jitter.
   */
  private async uploadPart(localPath: string, key: string, part: PartJob): Promise<string | undefined> {
    const { start, end } = part.range;
    for (let attempt = 1; ; attempt += 1) {
      const body = createReadStream(localPath, { start, end, highWaterMark: MiB });
      try {
        const output = await this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: this.fullKey(key),
            UploadId: part.uploadId,
            PartNumber: part.number,
            Body: body,
            ContentLength: end - start + 1,
          }),
          { abortSignal: part.signal },
        );
        this.bucketSeen = true;
        return output.ETag;
      } catch (error) {
        if (part.signal.aborted || attempt >= this.maxAttempts || !isTransient(error)) {
          throw await this.failure(
            attempt > 1 ? withAttempts(error, attempt) : error,
            `UploadPart (part ${part.number}, bytes ${start}-${end})`,
            key,
          );
        }
        await sleep(backoffMs(attempt));
      } finally {
        body.destroy();
      }
    }
  }

  /** Server-side copy (CopyObject; objects up to 5 GB). */
  async copy(fromKey: string, toKey: string): Promise<void> {
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: this.fullKey(toKey),
          CopySource: this.copySource(fromKey),
        }),
      );
    } catch (error) {
      throw await this.failure(error, 'CopyObject', fromKey);
    }
  }

  /** `bucket/key` of one of this store's objects, as CopyObject's CopySource (a URL path). */
  private copySource(key: string): string {
    return `${this.bucket}/${encodeKey(this.fullKey(key))}`;
  }

  /** Same endpoint, region and credentials: this store's requests can read `other`'s objects. */
  private sharesServerWith(other: S3ObjectStore): boolean {
    return (
      other.endpoint === this.endpoint && other.region === this.region && other.principal === this.principal
    );
  }

  /**
   * Server-side copy from another store of the same server and credentials (see ObjectStore.copyFrom),
   * pinned to the source version seen by HEAD. Up to maxCopyObjectBytes: one CopyObject that asks the
   * server for the SHA-256 of what it writes (S3 additional checksums); the bytes are read back and
   * hashed only when the server gives none. Larger: UploadPartCopy parts, beside a GET of the source
   * that hashes it.
   */
  async copyFrom(source: ObjectStore, fromKey: string, toKey: string): Promise<CopiedObject | undefined> {
    if (!(source instanceof S3ObjectStore) || !this.sharesServerWith(source)) return undefined;
    return onCurrentVersion(source, fromKey, async ({ size, etag }) => {
      const job = { source, fromKey, etag, size, toKey };
      return {
        bytes: size,
        sha256: size <= this.maxCopyObjectBytes ? await this.copyWhole(job) : await this.copyInParts(job),
      };
    });
  }

  /** CopyObject with a SHA-256 computed by the server; returns it (hex). */
  private async copyWhole({ source, fromKey, etag, size, toKey }: CopyJob): Promise<string> {
    const Key = this.fullKey(toKey);
    let copied;
    try {
      copied = await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key,
          CopySource: source.copySource(fromKey),
          CopySourceIfMatch: etag,
          ChecksumAlgorithm: 'SHA256',
        }),
      );
    } catch (error) {
      throw isNotFound(error)
        ? new ObjectNotFoundError(fromKey, source.location, { cause: error })
        : await this.failure(error, `CopyObject from ${source.location}/${fromKey}`, toKey);
    }
    const result = copied.CopyObjectResult;
    const returned = fullObjectSha256(result?.ChecksumSHA256, result?.ChecksumType);
    if (returned) return returned;
    // MinIO gives the checksum on HEAD only.
    const head = await this.call('HeadObject', toKey, () =>
      this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key, ChecksumMode: 'ENABLED' })),
    );
    if (head.ContentLength !== size) {
      throw new ObjectStoreError(
        `CopyObject ${source.location}/${fromKey} → ${this.location}/${toKey} at ${this.endpoint} wrote ${head.ContentLength} bytes, not ${size}`,
        { context: { file: `${this.location}/${toKey}` }, hint: 'retry; the S3 server misbehaved' },
      );
    }
    return (
      fullObjectSha256(head.ChecksumSHA256, head.ChecksumType) ??
      // A server without additional checksums: hash the copy itself.
      (await this.sha256Of(toKey, head.ETag))
    );
  }

  /** UploadPartCopy parts, while a GET of the same source version is hashed; returns the SHA-256 (hex). */
  private async copyInParts({ source, fromKey, etag, size, toKey }: CopyJob): Promise<string> {
    const partSize = Math.max(this.partSize, MIN_COPY_PART_SIZE, Math.ceil(size / MAX_PARTS));
    const copying = this.multipart(toKey, byteRanges(size, partSize), async (part) => {
      const { start, end } = part.range;
      const output = await this.call(
        `UploadPartCopy (part ${part.number}, bytes ${start}-${end})`,
        toKey,
        () =>
          this.client.send(
            new UploadPartCopyCommand({
              Bucket: this.bucket,
              Key: this.fullKey(toKey),
              UploadId: part.uploadId,
              PartNumber: part.number,
              CopySource: source.copySource(fromKey),
              CopySourceIfMatch: etag,
              CopySourceRange: `bytes=${start}-${end}`,
            }),
            { abortSignal: part.signal },
          ),
      );
      return output.CopyPartResult?.ETag;
    });
    const [copied, hashed] = await Promise.allSettled([copying, source.sha256Of(fromKey, etag)]);
    if (hashed.status === 'rejected') {
      if (copied.status === 'fulfilled') await this.delete([toKey]).catch(ignore);
      throw hashed.reason;
    }
    if (copied.status === 'rejected') throw copied.reason;
    return hashed.value;
  }

  /** The SHA-256 (hex) of one version of an object, streamed through the hash. */
  private async sha256Of(key: string, etag: string | undefined): Promise<string> {
    let digest = '';
    await this.readObject(key, etag, undefined, async (body) => {
      const hash = createHash('sha256');
      for await (const chunk of body) hash.update(chunk as Buffer);
      digest = hash.digest('hex');
    });
    return digest;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const { objects } = await this.listPages(prefix, undefined);
    return objects;
  }

  /**
   * None: a PUT or a completed multipart upload appears whole or not at all, and a failed multipart upload is
   * aborted. The parts of an upload a killed process left are the bucket's AbortIncompleteMultipartUpload
   * lifecycle rule's to remove.
   */
  async listUnfinished(): Promise<ObjectInfo[]> {
    return [];
  }

  /** `list`: a bucket has no links, and every object there can be read. */
  async listChecked(prefix: string): Promise<CheckedListing> {
    return { objects: await this.list(prefix), refused: [] };
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
    return onCurrentVersion(this, key, ({ size, etag }) =>
      this.cache.obtain(this.cacheFile(key, etag), size, (temp) =>
        this.download(key, etag, size, temp, false),
      ),
    );
  }

  async localPathAndSha256(key: string): Promise<{ path: string; sha256: string }> {
    let sha256: string | undefined;
    const file = await onCurrentVersion(this, key, ({ size, etag }) =>
      this.cache.obtain(this.cacheFile(key, etag), size, async (temp) => {
        sha256 = await this.download(key, etag, size, temp, true);
      }),
    );
    // Already cached (or fetched by a concurrent call): hash the file.
    return { path: file, sha256: sha256 ?? (await sha256File(file)) };
  }

  /**
   * Downloads one version of the object into `temp`, in `queueSize` parallel ranges when large. With
   * `hash`, returns the SHA-256 of the bytes: ranges are hashed in order on a worker thread as soon as
   * every earlier one has landed (read back from the page cache), while later ones still download.
   */
  private async download(key: string, etag: string, size: number, temp: string, hash: true): Promise<string>;
  private async download(key: string, etag: string, size: number, temp: string, hash: false): Promise<void>;
  private async download(
    key: string,
    etag: string,
    size: number,
    temp: string,
    hash: boolean,
  ): Promise<string | void> {
    if (size <= this.partSize) {
      await this.downloadRange(key, etag, undefined, temp, 'w');
      return hash ? sha256File(temp) : undefined;
    }
    // Pre-size the file so each range writes at its own offset.
    const handle = await open(temp, 'w');
    try {
      await handle.truncate(size);
    } finally {
      await handle.close();
    }
    const ranges = byteRanges(size, this.partSize);
    const hasher = hash ? new BackgroundSha256() : undefined;
    try {
      const landed = new Array<boolean>(ranges.length).fill(false);
      let queued = 0;
      await mapConcurrently(ranges, this.queueSize, async (range, index) => {
        await this.downloadRange(key, etag, range, temp, 'r+');
        if (!hasher) return;
        landed[index] = true;
        for (; landed[queued]; queued += 1) hasher.add(temp, ranges[queued] as ByteRange);
      });
      return await hasher?.digest();
    } finally {
      await hasher?.close();
    }
  }

  /** GETs one range (pinned to `etag`) into `file` at its offset. */
  private async downloadRange(
    key: string,
    etag: string,
    range: ByteRange | undefined,
    file: string,
    flags: 'w' | 'r+',
  ): Promise<void> {
    await this.readObject(key, etag, range, (body) =>
      pipeline(body, createWriteStream(file, { flags, start: range?.start ?? 0 })),
    );
  }

  /** GETs one version of the object (or a range of it) and hands the body to `consume`; a body cut mid-stream is fetched again. */
  private async readObject(
    key: string,
    etag: string | undefined,
    range: ByteRange | undefined,
    consume: (body: Readable) => Promise<void>,
  ): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const output = await this.call('GetObject', key, () =>
        this.client.send(
          new GetObjectCommand({
            Bucket: this.bucket,
            Key: this.fullKey(key),
            ...(etag ? { IfMatch: etag } : {}),
            ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
          }),
        ),
      );
      try {
        await consume(bodyOf(output));
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
        await sleep(backoffMs(attempt));
      }
    }
  }
}

/**
 * Runs `work` on the current version of `store`'s object (size and ETag from HEAD), and again on the
 * new version when the object is replaced before `work` is done (its pinned If-Match fails).
 */
async function onCurrentVersion<T>(
  store: S3ObjectStore,
  key: string,
  work: (version: { size: number; etag: string }) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const version = await store.head(key);
    try {
      return await work(version);
    } catch (error) {
      if (
        attempt < VERSION_ATTEMPTS &&
        error instanceof ObjectStoreError &&
        isPreconditionFailed(error.cause)
      ) {
        continue;
      }
      throw error;
    }
  }
}

/** A whole-object SHA-256 given as base64 (not a multipart upload's checksum of checksums), as hex. */
function fullObjectSha256(base64: string | undefined, type: string | undefined): string | undefined {
  if (!base64 || type === 'COMPOSITE' || base64.includes('-')) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : undefined;
}

/** One server-side copy: `fromKey` of `source` at version `etag` (`size` bytes) to `toKey`. */
interface CopyJob {
  source: S3ObjectStore;
  fromKey: string;
  etag: string;
  size: number;
  toKey: string;
}

interface PartJob {
  uploadId: string;
  /** 1-based. */
  number: number;
  range: ByteRange;
  /** Aborted when another part failed. */
  signal: AbortSignal;
}

/** `size` bytes cut into inclusive ranges of `partSize` (the last one shorter). */
function byteRanges(size: number, partSize: number): ByteRange[] {
  const ranges: ByteRange[] = [];
  for (let start = 0; start < size; start += partSize) {
    ranges.push({ start, end: Math.min(size, start + partSize) - 1 });
  }
  return ranges;
}

/** Records on an SDK error how many attempts our own retry loop made, for the message. */
function withAttempts(error: unknown, attempts: number): unknown {
  if (typeof error === 'object' && error !== null) {
    const shaped = error as { $metadata?: { attempts?: number } };
    shaped.$metadata = { ...shaped.$metadata, attempts };
  }
  return error;
}

const ignore = (): void => undefined;
const SILENT_LOGGER = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

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
