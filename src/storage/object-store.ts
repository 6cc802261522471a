/**
 * The object-store port: the few operations medallion needs from local disk or S3.
 * Keys are '/'-separated and relative to the store's root; they never start with '/'.
 */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
}

export interface ObjectStore {
  /** Where this store points, for messages: a directory path or an s3:// URL. */
  readonly location: string;
  get(key: string): Promise<Buffer>;
  put(key: string, body: Buffer | string): Promise<void>;
  /** Writes only if no object exists at `key`; otherwise throws ObjectExistsError. Atomic. */
  putIfAbsent(key: string, body: Buffer | string): Promise<void>;
  /** Copies a local file to `key` (moves it when `move` and the store is on the same disk). */
  putFile(localPath: string, key: string, options?: { move?: boolean }): Promise<void>;
  /** A path on local disk holding the object's bytes, for DuckDB to read. */
  localPath(key: string): Promise<string>;
  exists(key: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(keys: readonly string[]): Promise<void>;
}

export class ObjectExistsError extends Error {
  constructor(readonly key: string) {
    super(`object already exists: ${key}`);
    this.name = 'ObjectExistsError';
  }
}

export function joinKey(...parts: string[]): string {
  return parts
    .flatMap((part) => part.split('/'))
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}
