/**
 * Where Spark stages a relation's Parquet files: a fresh directory of the scratch area (on a disk the executors
 * share with this process), or a fresh directory under the table's root in its own store (S3, which the executors
 * reach through s3a), whose files are committed where they are. That directory is named `spark-<time>-<id>`, not
 * hidden: until a commit names its files they are invisible to Delta readers, and vacuum removes them as the
 * leftovers of a try that never committed.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { joinKey } from '../../storage/object-store.js';
import type { FileStats } from '../../table/delta-protocol.js';
import type { StagedFile } from '../../table/delta-table.js';
import type { StageTarget } from '../engine.js';
import { footerCopies } from './remote-footers.js';
import type { SparkReach } from './s3a.js';

/** A file Spark wrote: its path below the place's directory and its size. */
export interface WrittenFile {
  relativePath: string;
  size: number;
}

export interface StagingPlace {
  /** The directory Spark writes into. */
  uri: string;
  /** The table whose store holds the staged files, when they are written there. */
  target?: StageTarget;
  /** The Parquet files Spark wrote, sorted. */
  written(): Promise<WrittenFile[]>;
  /** Calls `read` with a local path holding each file's footer (in order), removed afterwards. */
  readFooters<T>(files: readonly WrittenFile[], read: (paths: string[]) => Promise<T>): Promise<T>;
  staged(
    file: WrittenFile,
    facts: { partitionValues: Record<string, string | null>; stats: FileStats },
  ): StagedFile;
  /** Removes the named files, or everything written there. */
  remove(relativePaths?: readonly string[]): Promise<void>;
}

/** A new directory of the scratch area: the commit moves its files into the table. */
export async function scratchPlace(scratchDir: string): Promise<StagingPlace> {
  const dir = path.join(scratchDir, 'stage', uniqueName());
  await mkdir(path.dirname(dir), { recursive: true });
  const local = (file: WrittenFile): string => path.join(dir, ...file.relativePath.split('/'));
  return {
    uri: pathToFileURL(dir).href,
    async written() {
      const entries = await readdir(dir, { recursive: true, withFileTypes: true });
      const files = entries
        .filter((entry) => entry.isFile() && entry.name.endsWith('.parquet'))
        .map((entry) => path.join(entry.parentPath, entry.name))
        .sort();
      return Promise.all(
        files.map(async (file) => ({
          relativePath: path.relative(dir, file).split(path.sep).join('/'),
          size: (await stat(file)).size,
        })),
      );
    },
    readFooters: (files, read) => read(files.map(local)),
    staged: (file, facts) => ({
      ...facts,
      localPath: local(file),
      relativePath: file.relativePath,
      size: file.size,
    }),
    async remove(relativePaths) {
      if (!relativePaths) await rm(dir, { recursive: true, force: true });
      else await Promise.all(relativePaths.map((relative) => rm(local({ relativePath: relative, size: 0 }))));
    },
  };
}

/**
 * A new directory under the table's root in its store, which Spark reaches itself: nothing passes through this
 * process but the files' footers (`scratchDir` holds their sparse copies while DuckDB reads them).
 */
export async function storePlace(
  target: StageTarget,
  reach: SparkReach,
  scratchDir: string,
): Promise<StagingPlace> {
  const name = uniqueName();
  const dirKey = joinKey(target.root, name);
  const keyOf = (relativePath: string): string => joinKey(dirKey, relativePath);
  const listed = async () => target.store.list(`${dirKey}/`);
  return {
    uri: await reach.uri(dirKey),
    target,
    async written() {
      return (await listed())
        .map((object) => ({ relativePath: object.key.slice(dirKey.length + 1), size: object.size }))
        .filter(
          (file) => file.relativePath.endsWith('.parquet') && !file.relativePath.split('/').some(isHidden),
        );
    },
    async readFooters(files, read) {
      await mkdir(scratchDir, { recursive: true });
      const dir = await mkdtemp(path.join(scratchDir, 'footers-'));
      try {
        const objects = files.map((file) => ({ key: keyOf(file.relativePath), size: file.size }));
        return await read(await footerCopies(target.store, objects, dir));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    staged: (file, facts) => ({
      ...facts,
      inStore: true,
      relativePath: `${name}/${file.relativePath}`,
      size: file.size,
    }),
    async remove(relativePaths) {
      const keys = relativePaths ? relativePaths.map(keyOf) : (await listed()).map((object) => object.key);
      if (keys.length > 0) await target.store.delete(keys);
    },
  };
}

/** `spark-<ms since epoch>-<8 hex digits>`: unique per staging, and sorted by time. */
function uniqueName(): string {
  return `spark-${Date.now()}-${randomUUID().slice(0, 8)}`;
}

/** Spark's work in progress (`_temporary/`) is not data; a partition directory (`_col=…`) is. */
function isHidden(segment: string): boolean {
  return (segment.startsWith('_') || segment.startsWith('.')) && !segment.includes('=');
}
