import { constants, createReadStream, type Stats } from 'node:fs';
import { copyFile, link, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  assertByteRange,
  ObjectExistsError,
  ObjectNotFoundError,
  type ByteRange,
  type CopiedObject,
  type DelimitedListing,
  type ObjectInfo,
  type ObjectStore,
} from './object-store.js';
import { sha256File } from './sha256.js';

// Unique per call: two writers of one key in the same process and millisecond must not share a temp file.
const tempPathFor = (target: string): string => `${target}.${randomUUID().slice(0, 8)}.tmp`;
const isTemp = (name: string): boolean => name.endsWith('.tmp');
const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';
const byKey = (a: { key: string }, b: { key: string }): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

/**
 * Writes `target` through a private temp file beside it: `write` fills the temp file, `place` puts it where it
 * belongs (rename, link). The temp file never outlives the call, whichever step fails (a full disk, a target
 * that cannot be replaced): a failed write leaves nothing behind.
 */
async function viaTempFile(
  target: string,
  write: (temp: string) => Promise<void>,
  place: (temp: string) => Promise<void>,
): Promise<void> {
  const temp = tempPathFor(target);
  try {
    await write(temp);
    await place(temp);
  } finally {
    await rm(temp, { force: true });
  }
}

/** The embedded default: objects are files under one root directory. */
export class LocalDiskStore implements ObjectStore {
  readonly location: string;

  constructor(root: string) {
    this.location = path.resolve(root);
  }

  private resolve(key: string): string {
    const resolved = path.resolve(this.location, key);
    if (resolved !== this.location && !resolved.startsWith(this.location + path.sep)) {
      throw new Error(`object key escapes the store root: ${key}`);
    }
    return resolved;
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.resolve(key));
    } catch (error) {
      throw isMissing(error) ? new ObjectNotFoundError(key, this.location, { cause: error }) : error;
    }
  }

  async getStream(key: string, range?: ByteRange): Promise<Readable> {
    if (range) assertByteRange(range, key);
    const file = await this.localPath(key);
    // createReadStream's `end` is inclusive, like the port's range.
    return createReadStream(file, range ? { start: range.start, end: range.end } : {});
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const target = this.resolve(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Write beside the target then rename, so a reader never sees half an object.
    await viaTempFile(
      target,
      (temp) => writeFile(temp, body),
      (temp) => rename(temp, target),
    );
  }

  async putIfAbsent(key: string, body: Buffer | string): Promise<void> {
    const target = this.resolve(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Write the bytes under a private name, then link it into place: link(2) fails when the
    // target exists, so the object appears whole or not at all, and only one writer wins.
    await viaTempFile(
      target,
      (temp) => writeFile(temp, body),
      async (temp) => {
        try {
          await link(temp, target);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST')
            throw new ObjectExistsError(key, this.location);
          throw error;
        }
      },
    );
  }

  async putFile(localPath: string, key: string, options: { move?: boolean } = {}): Promise<void> {
    const target = this.resolve(key);
    await mkdir(path.dirname(target), { recursive: true });
    if (options.move) {
      try {
        await rename(localPath, target);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      }
    }
    await viaTempFile(
      target,
      (temp) => copyFile(localPath, temp, constants.COPYFILE_FICLONE),
      (temp) => rename(temp, target),
    );
    if (options.move) await rm(localPath, { force: true });
  }

  async copy(fromKey: string, toKey: string): Promise<void> {
    const source = await this.localPath(fromKey);
    await this.putFile(source, toKey);
  }

  /** Never: the bytes of a local file always pass through this process. */
  async copyFrom(): Promise<CopiedObject | undefined> {
    return undefined;
  }

  async localPathAndSha256(key: string): Promise<{ path: string; sha256: string }> {
    const file = await this.localPath(key);
    return { path: file, sha256: await sha256File(file) };
  }

  async localPath(key: string): Promise<string> {
    const target = this.resolve(key);
    try {
      const info = await stat(target);
      if (!info.isFile()) throw Object.assign(new Error(`not a file: ${target}`), { code: 'ENOENT' });
    } catch (error) {
      throw isMissing(error) ? new ObjectNotFoundError(key, this.location, { cause: error }) : error;
    }
    return target;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await stat(this.resolve(key));
      return true;
    } catch {
      return false;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    return this.scan(prefix, (name) => !isTemp(name));
  }

  /** The temp files of writes in progress, or of writes a killed process never finished. */
  async listUnfinished(prefix: string): Promise<ObjectInfo[]> {
    return this.scan(prefix, isTemp);
  }

  /** Every file whose key starts with `prefix` and whose name is `wanted` (objects, or temp files), sorted by key. */
  private async scan(prefix: string, wanted: (name: string) => boolean): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
          await walk(full);
        } else if (entry.isFile() && wanted(entry.name)) {
          const key = path.relative(this.location, full).split(path.sep).join('/');
          // A file gone since the directory was read (a temp file renamed into place) is no longer there.
          const info = key.startsWith(prefix) ? await statIfPresent(full) : undefined;
          if (info) found.push({ key, size: info.size, lastModified: info.mtime });
        }
      }
    };
    // Walk only the directory the prefix names, not the whole store.
    const slash = prefix.lastIndexOf('/');
    await walk(this.resolve(slash >= 0 ? prefix.slice(0, slash) : '.'));
    return found.sort(byKey);
  }

  async listDelimited(prefix: string): Promise<DelimitedListing> {
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash + 1) : '';
    const partial = prefix.slice(dirKey.length);
    let entries;
    try {
      entries = await readdir(this.resolve(dirKey || '.'), { withFileTypes: true });
    } catch (error) {
      if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
        return { objects: [], prefixes: [] };
      throw error;
    }
    const objects: ObjectInfo[] = [];
    const prefixes: string[] = [];
    for (const entry of entries) {
      if (!entry.name.startsWith(partial)) continue;
      const key = dirKey + entry.name;
      const full = this.resolve(key);
      if (entry.isFile() && !isTemp(entry.name)) {
        const info = await stat(full);
        objects.push({ key, size: info.size, lastModified: info.mtime });
      } else if (entry.isDirectory() && (await holdsAnyObject(full))) {
        // S3 has no empty directories: a prefix exists only while some object lives under it.
        prefixes.push(`${key}/`);
      }
    }
    return { objects: objects.sort(byKey), prefixes: prefixes.sort() };
  }

  async delete(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.resolve(key), { force: true })));
  }
}

async function statIfPresent(file: string): Promise<Stats | undefined> {
  try {
    return await stat(file);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

async function holdsAnyObject(dir: string): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
  for (const entry of entries) {
    if (entry.isFile() && !isTemp(entry.name)) return true;
  }
  for (const entry of entries) {
    if (entry.isDirectory() && (await holdsAnyObject(path.join(dir, entry.name)))) return true;
  }
  return false;
}
