import { constants, createReadStream, statSync } from 'node:fs';
import {
  copyFile,
  link,
  mkdir,
  readFile,
  readdir,
  realpath,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  assertByteRange,
  ObjectExistsError,
  ObjectNotFoundError,
  type ByteRange,
  type CheckedListing,
  type CopiedObject,
  type DelimitedListing,
  type ObjectInfo,
  type ObjectStore,
  type RefusedEntry,
} from './object-store.js';
import { directoriesFrom, isInside, localEntry, type WalkPlace } from './local-links.js';
import { sha256File } from './sha256.js';

// Unique per call: two writers of one key in the same process and millisecond must not share a temp file.
const tempPathFor = (target: string): string => `${target}.${randomUUID().slice(0, 8)}.tmp`;
const isTemp = (name: string): boolean => name.endsWith('.tmp');
const isObject = (name: string): boolean => !isTemp(name);
/** Files a listing stats between two turns of the event loop (see `scan`). */
const STATS_PER_TURN = 256;

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
        // Dated now, as S3 dates an upload: a file staged long ago must not look like an old leftover to vacuum.
        const now = new Date();
        await utimes(localPath, now, now);
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
    return (await this.scan(prefix, isObject)).objects;
  }

  /** `list`, and the symbolic links it leaves out with why: see `localEntry`. */
  async listChecked(prefix: string): Promise<CheckedListing> {
    return this.scan(prefix, isObject);
  }

  /** The temp files of writes in progress, or of writes a killed process never finished. */
  async listUnfinished(prefix: string): Promise<ObjectInfo[]> {
    return (await this.scan(prefix, isTemp)).objects;
  }

  /**
   * Every file whose key starts with `prefix` and whose name is `wanted` (objects, or temp files), sorted by
   * key, and the symbolic links under the prefix the walk did not follow.
   */
  private async scan(prefix: string, wanted: (name: string) => boolean): Promise<CheckedListing> {
    const objects: ObjectInfo[] = [];
    const refused: RefusedEntry[] = [];
    const walk = async (dir: string, place: WalkPlace): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      // A Delta log of a thousand commits is a thousand files: each key is made from its directory's (no path
      // resolution per file), and each file is stat'ed in place, a turn of the event loop every STATS_PER_TURN —
      // a promise through the thread pool per file cost more than the rest of opening the table.
      const dirKey = this.keyOf(dir);
      let stats = 0;
      for (const entry of entries) {
        const full = path.join(dir, entry.name);
        const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
        const found = await localEntry(full, entry, place);
        if (found.kind === 'directory') {
          await walk(full, inside(place, found.real));
        } else if (found.kind === 'refused' && key.startsWith(prefix)) {
          refused.push({ key, reason: found.reason });
        } else if (found.kind === 'file' && wanted(entry.name) && key.startsWith(prefix)) {
          if (++stats % STATS_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
          // A file gone since the directory was read (a temp file renamed into place) is no longer there.
          const info = statSync(full, { throwIfNoEntry: false });
          if (info) objects.push({ key, size: info.size, lastModified: info.mtime });
        }
      }
    };
    // Walk only the directory the prefix names, not the whole store.
    const slash = prefix.lastIndexOf('/');
    const start = this.resolve(slash >= 0 ? prefix.slice(0, slash) : '.');
    const place = await this.placeOf(start);
    if (place && !isInside(place.root, place.parent)) {
      const key = this.keyOf(start);
      return {
        objects: [],
        refused: [{ key, reason: `symlink to ${place.parent} points outside ${this.location}` }],
      };
    }
    if (place) await walk(start, place);
    return { objects: objects.sort(byKey), refused: refused.sort(byKey) };
  }

  private keyOf(file: string): string {
    return path.relative(this.location, file).split(path.sep).join('/');
  }

  /** Where a walk of `dir` stands (see WalkPlace); undefined when `dir` does not exist. */
  private async placeOf(dir: string): Promise<WalkPlace | undefined> {
    try {
      const [root, real] = await Promise.all([realpath(this.location), realpath(dir)]);
      return { root, location: this.location, parent: real, within: directoriesFrom(root, real) };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async listDelimited(prefix: string): Promise<DelimitedListing> {
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash + 1) : '';
    const partial = prefix.slice(dirKey.length);
    const dir = this.resolve(dirKey || '.');
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR')
        return { objects: [], prefixes: [] };
      throw error;
    }
    const place = await this.placeOf(dir);
    const objects: ObjectInfo[] = [];
    const prefixes: string[] = [];
    if (!place || !isInside(place.root, place.parent)) return { objects, prefixes };
    for (const entry of entries) {
      if (!entry.name.startsWith(partial)) continue;
      const key = dirKey + entry.name;
      const full = this.resolve(key);
      const found = await localEntry(full, entry, place);
      if (found.kind === 'file' && isObject(entry.name)) {
        const info = await stat(full);
        objects.push({ key, size: info.size, lastModified: info.mtime });
      } else if (found.kind === 'directory' && (await holdsAnyObject(full, inside(place, found.real)))) {
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

async function holdsAnyObject(dir: string, place: WalkPlace): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
  const kinds = await Promise.all(
    entries.map(async (entry) => ({
      entry,
      kind: await localEntry(path.join(dir, entry.name), entry, place),
    })),
  );
  if (kinds.some(({ entry, kind }) => kind.kind === 'file' && isObject(entry.name))) return true;
  for (const { entry, kind } of kinds) {
    if (kind.kind !== 'directory') continue;
    if (await holdsAnyObject(path.join(dir, entry.name), inside(place, kind.real))) return true;
  }
  return false;
}

/** The place of a directory entered from `place`, whose real path is `real`. */
function inside(place: WalkPlace, real: string): WalkPlace {
  return { ...place, parent: real, within: new Set([...place.within, real]) };
}
