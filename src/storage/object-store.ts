import type { Readable } from 'node:stream';
import { MedallionError } from '../core/errors.js';

/**
 * The object-store port: the few operations medallion needs from local disk or S3.
 * Keys are '/'-separated and relative to the store's root; they never start with '/'.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
}

/** One level of a listing: objects directly under the prefix, and the "sub-directories" below it. */
export interface DelimitedListing {
  /** Objects whose key has no '/' after the prefix, sorted by key. */
  objects: ObjectInfo[];
  /** Distinct `prefix + name + '/'` for every deeper key, sorted. */
  prefixes: string[];
}

/** An entry under a prefix the store will not serve, and why. */
export interface RefusedEntry {
  key: string;
  reason: string;
}

/** Every object under a prefix, and the entries there the store refused to serve. */
export interface CheckedListing {
  objects: ObjectInfo[];
  /** Sorted by key. */
  refused: RefusedEntry[];
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

/** An object copied by `copyFrom`: its size and the SHA-256 of its bytes (hex). */
export interface CopiedObject {
  bytes: number;
  sha256: string;
}

export interface ObjectStore {
  /** Where this store points, for messages: a directory path or an s3:// URL. */
  readonly location: string;
  /** Throws ObjectNotFoundError when there is no object at `key`. */
  get(key: string): Promise<Buffer>;
  /** The object's bytes (or the inclusive `range` of them) as a stream; ObjectNotFoundError when missing. */
  getStream(key: string, range?: ByteRange): Promise<Readable>;
  put(key: string, body: Buffer | string): Promise<void>;
  /** Writes only if no object exists at `key`; otherwise throws ObjectExistsError. Atomic. */
  putIfAbsent(key: string, body: Buffer | string): Promise<void>;
  /** Copies a local file to `key` (moves it when `move`: the local file is gone afterwards). Streamed. */
  putFile(localPath: string, key: string, options?: { move?: boolean }): Promise<void>;
  /** Server-side copy of one object; overwrites `toKey`. */
  copy(fromKey: string, toKey: string): Promise<void>;
  /**
   * Copies `fromKey` of `source` to `toKey` in this store without the bytes passing through this process
   * (a server-side copy), and gives the SHA-256 of the bytes copied. Undefined when the two stores
   * cannot do that (another server or other credentials, local disk): the caller copies the bytes itself.
   */
  copyFrom(source: ObjectStore, fromKey: string, toKey: string): Promise<CopiedObject | undefined>;
  /** A path on local disk holding the object's bytes, for DuckDB to read. */
  localPath(key: string): Promise<string>;
  /** localPath, and the SHA-256 of the bytes (hex), computed while they are downloaded when they are. */
  localPathAndSha256(key: string): Promise<{ path: string; sha256: string }>;
  exists(key: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /**
   * `list`, and the entries under `prefix` that are not listed for a reason worth telling: on local disk, a
   * symbolic link whose target is outside the store's root, missing, or a directory it is in. For listing
   * sources, whose user must learn why a file there was not read.
   */
  listChecked(prefix: string): Promise<CheckedListing>;
  /**
   * The leftovers of writes under `prefix` that are not objects (yet), which `list` never shows: the temp
   * files of a local store, each with when it was last written to. Their keys may be passed to `delete`.
   */
  listUnfinished(prefix: string): Promise<ObjectInfo[]>;
  /** One level below `prefix`, split at '/' (S3's ListObjectsV2 with `Delimiter: '/'`). */
  listDelimited(prefix: string): Promise<DelimitedListing>;
  /** Deletes every listed key; keys that do not exist are ignored. */
  delete(keys: readonly string[]): Promise<void>;
}

export class ObjectExistsError extends MedallionError {
  constructor(
    readonly key: string,
    location?: string,
  ) {
    super(`object already exists: ${key}`, { context: { file: location ? `${location}/${key}` : key } });
  }
}

export class ObjectNotFoundError extends MedallionError {
  constructor(
    readonly key: string,
    location: string,
    options: { cause?: unknown } = {},
  ) {
    super(`no object at key "${key}" in ${location}`, {
      context: { file: `${location}/${key}` },
      hint: 'check the key and the store location (lake or source URL); list the prefix to see what exists',
      ...options,
    });
  }
}

/** A storage operation failed for a reason other than a missing or existing object (access, network, server). */
export class ObjectStoreError extends MedallionError {}

export function joinKey(...parts: string[]): string {
  return parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

export function assertByteRange(range: ByteRange, key: string): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`invalid byte range ${start}-${end} for ${key}: need integers 0 <= start <= end`);
  }
}
